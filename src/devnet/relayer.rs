//! The devnet's relayer: its files under `DIR/relayer/` and its process.
//!
//! On every start the devnet (re)writes `DIR/relayer/relayer.toml` for the chains it just
//! deployed, makes sure the INSECURE dev proving key is in `DIR/keys/` (derived from a public
//! seed in about a second; it matches the committed `LightClientVerifier` the contracts use) and
//! starts `trestle relayer run` with every role. Its store is kept across runs while every chain
//! resumed with its contracts, so it continues where it stopped; when any chain's contracts were
//! deployed anew, the store describes contracts that are gone and is removed first (the relayer
//! then asks the network where each chain's block records continue).
//!
//! The relayer pays for `LightClient.update` and `Mailbox.deliver` with anvil's public dev
//! account 1 ([`RELAYER_EVM_KEY`]), and signs its submissions to the network with the devnet's
//! namespace owner key `DIR/relayer/owner.toml`.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Child,
};

use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context as _, bail};
use trestle_circuits::setup::{
    DEVNET_CAPACITY, INSECURE_DEV_SEED, insecure_dev_key_paths, read_proving_key,
    write_insecure_dev_keys,
};

use super::files::{DevnetFile, DevnetRelayer, free_port};

/// Secret key of anvil's dev account 1 (public test mnemonic): the devnet relayer's EVM key.
/// A DEV FIXTURE known to everyone; it only ever holds anvil's play money.
pub const RELAYER_EVM_KEY: &str =
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/// Secret key of anvil's dev account 2 (public test mnemonic): sends the devnet's demo message.
/// A DEV FIXTURE, like [`RELAYER_EVM_KEY`].
pub const DEMO_SENDER_KEY: &str =
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

/// How often the devnet relayer polls the chains and the network (ms): a devnet is for
/// watching messages move, so it polls eagerly.
const POLL_MS: u64 = 200;

/// `DIR/relayer/`.
pub fn relayer_dir(dir: &Path) -> PathBuf {
    dir.join("relayer")
}

/// `DIR/keys/`: the INSECURE dev proving and verifying keys.
pub fn keys_dir(dir: &Path) -> PathBuf {
    dir.join("keys")
}

/// Writes the relayer's configuration for the chains of `devnet`, removes its store unless
/// `keep_store` (every chain kept its contracts) and makes sure the proving key exists: the one in `keys` (`trestle devnet --keys`, already
/// checked), else the INSECURE dev key in [`keys_dir`] (made if missing). `capacity` is the
/// network's committee capacity: the contracts verify proofs of the committed verifier, which
/// is for [`DEVNET_CAPACITY`], so any other capacity is refused with the reason.
pub fn prepare(
    dir: &Path,
    devnet: &DevnetFile,
    capacity: usize,
    keys: Option<&Path>,
    keep_store: bool,
) -> anyhow::Result<DevnetRelayer> {
    if capacity != DEVNET_CAPACITY {
        bail!(
            "the deployed LightClientVerifier is for committees of up to {DEVNET_CAPACITY}; this \
             network's capacity is {capacity} (run the devnet with --validators \
             {DEVNET_CAPACITY} or fewer to relay messages)"
        );
    }
    let owner = devnet.relayer_key.clone().context("the devnet has no relayer key")?;
    // Every validator, in order: the relayer fails over to the next when one does not answer.
    if devnet.validators.is_empty() {
        bail!("no validator");
    }
    let network_rpc = devnet
        .validators
        .iter()
        .map(|v| format!("\"{}\"", v.rpc_url))
        .collect::<Vec<_>>()
        .join(", ");
    let home = relayer_dir(dir);
    fs::create_dir_all(&home).with_context(|| format!("creating {}", home.display()))?;

    let keys = match keys {
        Some(keys) => keys.to_path_buf(),
        None => {
            let keys = keys_dir(dir);
            let (proving_key, _) = insecure_dev_key_paths(&keys, capacity);
            if read_proving_key(&proving_key, capacity).is_err() {
                eprintln!(
                    "  generating the INSECURE dev proving key (capacity {capacity}) in {}…",
                    keys.display()
                );
                write_insecure_dev_keys(&keys, capacity, INSECURE_DEV_SEED)
                    .context("INSECURE dev setup")?;
            }
            keys
        }
    };

    let store = home.join("relayer.redb");
    if store.exists() && !keep_store {
        fs::remove_file(&store).with_context(|| format!("removing {}", store.display()))?;
    }
    let key_path = home.join("evm-key.INSECURE-DEV");
    fs::write(&key_path, format!("{RELAYER_EVM_KEY}\n"))
        .with_context(|| format!("writing {}", key_path.display()))?;
    let metrics = format!("127.0.0.1:{}", free_port()?);
    let mut text = format!(
        "# Written by `trestle devnet` on every start, for the chains it deployed. DEV ONLY: the EVM\n\
         # key is anvil's public dev account 1 and the proving key derives from a public seed.\n\
         network_rpc = [{network_rpc}]\n\
         store = \"relayer.redb\"\n\
         metrics = \"{metrics}\"\n\
         roles = [\"post\", \"prove\", \"deliver\"]\n\n\
         [poll]\nevm_ms = {POLL_MS}\nnetwork_ms = {POLL_MS}\n\n\
         [retry]\ninitial_ms = 200\nmax_ms = 5000\n\n\
         [prover]\nkeys_dir = \"{}\"\ncapacity = {capacity}\n",
        toml_path(&keys)?,
    );
    for chain in &devnet.chains {
        text.push_str(&format!(
            "\n[[chains]]\n\
             name = \"{}\"\n\
             chain_id = {}\n\
             rpc = \"{}\"\n\
             mailbox = \"{}\"\n\
             light_client = \"{}\"\n\
             message_namespace = {}\n\
             block_namespace = {}\n\
             owner_key = \"{}\"\n\
             evm_key_file = \"{}\"\n\
             max_gas_price_wei = 1000000000000\n\
             # anvil mines each transaction at once and never reorganizes; its `finalized`\n\
             # block lags 64 blocks, which an on-demand chain may never mine.\n\
             head = \"latest\"\n\
             confirmations = 0\n\
             start_block = 0\n",
            chain.name,
            chain.chain_id,
            chain.rpc_url,
            chain.contracts.mailbox,
            chain.contracts.light_client,
            chain.message_namespace,
            chain.block_namespace,
            toml_path(&owner)?,
            toml_path(&key_path)?,
        ));
    }
    let config = home.join("relayer.toml");
    fs::write(&config, text).with_context(|| format!("writing {}", config.display()))?;
    trestle_relayer::config::Config::load(&config)
        .with_context(|| format!("the relayer configuration {} is invalid", config.display()))?;
    let evm_address =
        RELAYER_EVM_KEY.parse::<PrivateKeySigner>().context("the relayer's dev key")?.address();
    Ok(DevnetRelayer {
        pid: 0,
        config,
        log: home.join("relayer.log"),
        store,
        metrics_url: format!("http://{metrics}/metrics"),
        status_url: format!("http://{metrics}/status"),
        evm_address,
        restarts: 0,
    })
}

/// An absolute path as a TOML string body (quotes and backslashes escaped).
fn toml_path(path: &Path) -> anyhow::Result<String> {
    let absolute =
        std::path::absolute(path).with_context(|| format!("resolving {}", path.display()))?;
    let text = absolute.to_str().with_context(|| format!("{} is not UTF-8", path.display()))?;
    Ok(text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Starts `exe relayer run --config …` with its output appended to the relayer's log.
pub fn spawn(exe: &Path, relayer: &DevnetRelayer) -> anyhow::Result<Child> {
    super::spawn_logged(exe, &["relayer", "run", "--config"], &relayer.config, &relayer.log)
        .context("starting the relayer")
}
