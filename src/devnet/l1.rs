//! The devnet's L1 (unless `trestle devnet --no-l1`): a third anvil, chain [`DEVNET_L1_CHAIN_ID`],
//! mining a block every second, holding the StakeTable the committee comes from, and (deployed
//! later with the rollups' contracts, see [`super::chains`]) a LightClient and a Mailbox of its own.
//!
//! Like the other chains it keeps its state across runs (see [`super::chains`]): a resumed L1
//! holds the table, its registrations and every block the network referred to. On a fresh L1
//! (the first run, or a lost state) the table is deployed by anvil's dev account 0 at its first
//! nonce, so at the address the genesis names, and every genesis validator registers with its
//! keys from its L1 account (a DEV FIXTURE derived from its index).

use std::{
    path::{Path, PathBuf},
    process::Child,
};

use alloy::{
    primitives::{Address, U256, keccak256},
    providers::{Provider as _, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use anyhow::{Context as _, bail};
use trestle_api::ValidatorKeys;
use trestle_node::service::NodeConfig;

use super::{
    DevnetFile,
    chains::{self, ANVIL_DEV_KEY, ChainPlan},
};
use crate::stake_table::{SenderArgs, TableArgs, mined, submit_registration};

/// The devnet L1's chain id.
pub const DEVNET_L1_CHAIN_ID: u64 = 900;
/// Heights per epoch of a devnet with an L1 (about 10 s at the devnet's pace).
pub const DEVNET_L1_EPOCH_LENGTH: u64 = 50;
/// `StakeTable`'s minimum deposit on the devnet L1 (1 ether).
pub const DEVNET_MINIMUM_STAKE: u128 = 1_000_000_000_000_000_000;
/// Each genesis validator's deposit (32 ether).
pub const DEVNET_GENESIS_STAKE: u128 = 32 * DEVNET_MINIMUM_STAKE;
/// `StakeTable`'s exit delay on the devnet L1 (seconds).
pub const DEVNET_EXIT_DELAY: u64 = 60;
/// What each validator's L1 account is funded with at every start (100 ether).
const FUNDING: u128 = 100 * DEVNET_MINIMUM_STAKE;

/// The StakeTable's address: the first contract anvil's dev account 0 creates.
pub fn stake_table_address() -> anyhow::Result<Address> {
    let deployer = ANVIL_DEV_KEY.parse::<PrivateKeySigner>().context("the dev key")?.address();
    Ok(deployer.create(0))
}

/// The L1 account of the devnet's validator `index` (a DEV FIXTURE: the key is derived from a
/// public string).
pub fn validator_l1_key(index: usize) -> anyhow::Result<PrivateKeySigner> {
    let seed = keccak256(format!("trestle devnet L1 account {index}"));
    PrivateKeySigner::from_bytes(&seed).context("deriving a devnet L1 key")
}

/// The L1 endpoint the devnet's node configurations name, if it has an L1.
pub fn configured_url(devnet: &DevnetFile) -> anyhow::Result<Option<String>> {
    let Some(first) = devnet.validators.first() else { return Ok(None) };
    Ok(NodeConfig::load(&first.config)?.l1.map(|l1| l1.rpc))
}

/// The L1 chain at `url` (a loopback URL with a port, as the devnet writes it).
pub fn plan(url: &str) -> anyhow::Result<ChainPlan> {
    let port = url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .with_context(|| format!("the L1 url {url} names no port"))?;
    Ok(ChainPlan { chain_id: DEVNET_L1_CHAIN_ID, port })
}

/// Starts the L1 of the devnet in `dir` at `url` and, unless its saved state holds the
/// StakeTable already, deploys the table and registers every genesis validator; returns the
/// anvil and its log.
pub async fn start(
    dir: &Path,
    solidity: &Path,
    devnet: &DevnetFile,
    url: &str,
) -> anyhow::Result<(Child, PathBuf)> {
    let plan = plan(url)?;
    chains::ensure_foundry(solidity)?;
    let (child, log) = chains::spawn_anvil(solidity, dir, &plan, Some(1))?;
    chains::wait_for_anvil(&plan, &log).await?;
    let expected = stake_table_address()?;
    let provider = ProviderBuilder::new().connect_http(url.parse()?);
    let code = provider.get_code_at(expected).await.context("reading the L1")?;
    if !code.is_empty() {
        eprintln!("  L1 resumed with its StakeTable and registrations");
        return Ok((child, log));
    }
    let address = deploy_stake_table(solidity, url)?;
    if address != expected {
        bail!("the StakeTable was deployed at {address}, the genesis names {expected}");
    }
    let table = TableArgs { l1_rpc: url.to_owned(), stake_table: address };
    // All registrations are sent before any is mined: they share the next block, in index
    // order (equal stakes rank by registration order, so the committee keeps genesis order).
    let mut pending = Vec::with_capacity(devnet.validators.len());
    for validator in &devnet.validators {
        let keys_path = validator.config.with_file_name("keys.toml");
        let keys = ValidatorKeys::load(&keys_path)?;
        let account = validator_l1_key(validator.index)?;
        fund(url, account.address()).await?;
        let sender =
            SenderArgs { table: table.clone(), private_key: Some(account.to_bytes().to_string()) };
        let sent = submit_registration(
            &sender,
            &keys,
            validator.p2p.into(),
            U256::from(DEVNET_GENESIS_STAKE),
        )
        .await
        .with_context(|| format!("registering validator {}", validator.index))?;
        pending.push((validator.index, sent));
    }
    for (index, sent) in pending {
        mined(sent).await.with_context(|| format!("registering validator {index}"))?;
    }
    Ok((child, log))
}

/// Sets the balance of `account` to [`FUNDING`] with anvil's `anvil_setBalance` (no
/// transaction: the L1 mines a block a second, and a transfer would wait for one; nor does it
/// use a nonce of dev account 0, which deploys the contracts at fixed addresses).
pub async fn fund(url: &str, account: Address) -> anyhow::Result<()> {
    let provider = ProviderBuilder::new().connect_http(url.parse()?);
    let () = provider
        .raw_request("anvil_setBalance".into(), (account, U256::from(FUNDING)))
        .await
        .with_context(|| format!("anvil_setBalance for {account}"))?;
    Ok(())
}

/// `forge create StakeTable(DEVNET_MINIMUM_STAKE, DEVNET_EXIT_DELAY)` from anvil's dev account
/// 0 on the chain at `url`; returns its address.
pub fn deploy_stake_table(solidity: &Path, url: &str) -> anyhow::Result<Address> {
    let output = std::process::Command::new(solidity.join("tools/forge"))
        .current_dir(solidity)
        .args(["create", "src/StakeTable.sol:StakeTable", "--broadcast", "--json"])
        .args(["--rpc-url", url, "--private-key", ANVIL_DEV_KEY])
        .args(["--constructor-args", &DEVNET_MINIMUM_STAKE.to_string()])
        .arg(DEVNET_EXIT_DELAY.to_string())
        .output()
        .context("running forge create")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "forge create StakeTable failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // The JSON report is the output's last object (compilation notes may precede it).
    let start = stdout.rfind("{\n").or_else(|| stdout.find('{')).context("no JSON report")?;
    let report: serde_json::Value = serde_json::from_str(stdout[start..].trim())?;
    report["deployedTo"]
        .as_str()
        .context("no deployedTo in forge's report")?
        .parse()
        .context("deployedTo is not an address")
}
