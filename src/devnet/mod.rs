//! A local network in one directory: keys, genesis and node configurations generated on first
//! run, validator processes on loopback, and `devnet.json` describing what runs where.
//!
//! Layout of `DIR`:
//!
//! ```text
//! DIR/genesis.json              the network's genesis (shared by every validator)
//! DIR/devnet.json               what is running: chain id, every validator's endpoints and pid,
//!                               the EVM chains with their contracts and namespaces
//! DIR/node{i}/keys.toml         validator i's secret keys (DEV ONLY, generated locally)
//! DIR/node{i}/node.toml         validator i's configuration (ports fixed at first run)
//! DIR/node{i}/data/             validator i's storage (journal, archives)
//! DIR/node{i}/node.log          validator i's log
//! DIR/relayer/owner.toml        the relayer's key (DEV ONLY; `trestle keygen` format): owner of
//!                               every devnet chain's message and block namespace
//! DIR/relayer/relayer.toml      the relayer's configuration (rewritten on every start)
//! DIR/relayer/relayer.redb      its store; DIR/relayer/relayer.log its log
//! DIR/keys/                     the INSECURE dev proving key of the light-client circuit
//! DIR/chains.json               the EVM chains' ids and anvil ports (fixed at first run)
//! DIR/chains/<id>/anvil.log     chain <id>'s anvil log
//! DIR/chains/<id>/state.json    its anvil's state (blocks, accounts), saved every few seconds
//!                               and when stopped, loaded when the devnet runs again
//! DIR/chains/<id>/verifier      which light-client keys its contracts verify with
//! DIR/chains/<id>/deployment.json, light-client-genesis.json   its contracts and their genesis
//!                               (written by forge under solidity/deployments/, then moved here)
//! ```
//!
//! With the EVM chains deployed, the devnet starts the relayer ([`relayer`]; restarted if it
//! exits) and sends a demo message from the first chain's `Mailbox` to the second chain's
//! `Counter`, printing its delivery ([`messages`]).
//!
//! Running again with the same directory resumes every validator from its storage, every EVM
//! chain from its saved state with its contracts (see [`chains`]), and the relayer from its
//! store: messages sent before are not sent again, and new ones are delivered. A devnet that was
//! not stopped cleanly (`kill -9`) may have lost chain blocks the network recorded; it is then
//! refused with the reason, since those chains could never post again.

pub mod chains;
mod demo;
mod files;
pub mod l1;
pub mod messages;
mod processes;
pub mod relayer;
mod settlement;
mod supervision;
pub mod verifier;

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::Context as _;
use trestle_api::Genesis;

use self::{
    chains::DevnetChain,
    processes::{Processes, Signals},
    supervision::monitor,
};
pub use self::{
    files::{
        DEVNET_BLOCK_INTERVAL_MS, DEVNET_CHAIN_ID, DevnetFile, DevnetRelayer, DevnetValidator,
        NAMESPACE_CONVENTION, describe, init, init_with, relayer_key_path,
    },
    processes::{reap, spawn_logged, spawn_validator, terminate},
};

/// The `solidity/` directory of the source tree this binary was built from (the devnet runs
/// from a checkout: `cargo run -- devnet`).
pub fn default_solidity_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("solidity")
}

/// What `trestle devnet` runs besides the validators.
#[derive(Clone, Debug)]
pub struct Options {
    /// The EVM chains with trestle's contracts and the relayer.
    pub evm: bool,
    /// When creating the devnet: a committee that follows a StakeTable on an L1 ([`l1`]).
    pub l1: bool,
    /// Light-client keys from outside (a ceremony's) instead of the INSECURE dev keys
    /// ([`verifier`]).
    pub keys: Option<PathBuf>,
}

/// `trestle devnet`: init (or resume) `dir`, start its L1 if it has one, every validator, then
/// (unless `options.evm` is false) the EVM chains with trestle's contracts deployed from
/// `solidity`; print endpoints and a live status line until Ctrl-C / SIGTERM, then stop
/// everything cleanly.
pub fn run(
    dir: &Path,
    validators: usize,
    options: &Options,
    solidity: &Path,
) -> anyhow::Result<()> {
    let evm = options.evm;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the status runtime")?;
    let mut signals = {
        let _context = runtime.enter();
        Signals::register()?
    };
    let mut devnet = init_with(dir, validators, DEVNET_BLOCK_INTERVAL_MS, options.l1)?;
    // Checked before anything starts: a bad key directory is a usage error.
    let external_keys = match &options.keys {
        Some(keys) => {
            let capacity = Genesis::load(&devnet.genesis)?.0.committee_capacity;
            let loaded = verifier::load(solidity, keys, capacity)?;
            eprintln!("light-client keys from {} ({})", loaded.dir.display(), loaded.origin);
            Some(loaded)
        }
        None => None,
    };
    let exe = std::env::current_exe().context("locating the trestle executable")?;
    let mut processes = Processes::default();
    let l1_url = l1::configured_url(&devnet)?;
    // The L1 first: validators read the stake table from it (they would wait for it anyway).
    if let Some(url) = &l1_url {
        let (child, log) = runtime.block_on(l1::start(dir, solidity, &devnet, url))?;
        eprintln!(
            "  L1 chain {}  rpc {url}  stakeTable {}  log {}",
            l1::DEVNET_L1_CHAIN_ID,
            l1::stake_table_address()?,
            log.display()
        );
        processes.l1 = Some(child);
    }
    for validator in &mut devnet.validators {
        let child = spawn_validator(&exe, validator)?;
        validator.pid = child.id();
        processes.validators.push(child);
    }
    // It follows devnet.json, so it shows the chains and the relayer once they are up.
    let rpc = devnet.validators.iter().map(|v| v.rpc_url.clone()).collect();
    devnet.explorer_url = crate::explorer::spawn_for_devnet(rpc, &dir.join("devnet.json"))
        .inspect_err(|e| eprintln!("  no explorer: {e}"))
        .ok();
    devnet.save(dir)?;
    eprintln!(
        "trestle devnet: {} validators, chain id {}",
        devnet.validators.len(),
        devnet.chain_id
    );
    for v in &devnet.validators {
        eprintln!(
            "  node{}  rpc {}  ws {}  metrics {}  log {}",
            v.index,
            v.rpc_url,
            v.ws_url,
            v.metrics_url,
            v.log.display()
        );
    }
    if let Some(url) = &devnet.explorer_url {
        eprintln!("  explorer {url}");
    }
    let mut interrupted = false;
    let mut keep_relayer_store = false;
    if evm {
        let started = Instant::now();
        // A signal while deploying stops the devnet right after (blocking tool runs finish
        // first); the signal is consumed here, so the status loop is skipped.
        match runtime.block_on(async {
            tokio::select! {
                chains = start_chains(
                    dir,
                    solidity,
                    &devnet,
                    l1_url.as_deref(),
                    external_keys.as_ref(),
                    &mut processes,
                ) => {
                    chains.map(Some)
                }
                _ = signals.recv() => Ok(None),
            }
        })? {
            Some(started) => {
                devnet.chains = started.chains;
                keep_relayer_store = !started.deployed;
            }
            None => interrupted = true,
        }
        devnet.save(dir)?;
        for chain in &devnet.chains {
            eprintln!(
                "  {}  rpc {}  lightClient {}  mailbox {}  counter {}  namespaces msg {} / blocks {}",
                chain.name,
                chain.rpc_url,
                chain.contracts.light_client,
                chain.contracts.mailbox,
                chain.contracts.counter,
                chain.message_namespace,
                chain.block_namespace
            );
        }
        if !interrupted {
            eprintln!("  EVM chains ready in {:.1} s", started.elapsed().as_secs_f64());
            let capacity = Genesis::load(&devnet.genesis)?.0.committee_capacity;
            let keys = external_keys.as_ref().map(|k| k.dir.as_path());
            match relayer::prepare(dir, &devnet, capacity, keys, keep_relayer_store) {
                Ok(mut described) => {
                    let child = relayer::spawn(&exe, &described)?;
                    described.pid = child.id();
                    processes.relayer = Some(child);
                    eprintln!(
                        "  relayer  pid {}  metrics {}  log {}  (pays from {})",
                        described.pid,
                        described.metrics_url,
                        described.log.display(),
                        described.evm_address
                    );
                    eprintln!(
                        "           status: trestle relayer status --config {}  \
                         (also `messages [--failed]`, `retry HASH`)",
                        described.config.display()
                    );
                    devnet.relayer = Some(described);
                }
                Err(e) => eprintln!("  no relayer: {e:#}"),
            }
            devnet.save(dir)?;
        }
    }
    eprintln!("  described in {}", dir.join("devnet.json").display());
    let outcome = if interrupted {
        Ok(())
    } else {
        runtime.block_on(monitor(dir, &exe, &mut devnet, &mut processes, &mut signals))
    };
    eprintln!("\nstopping validators and chains…");
    processes.stop();
    for validator in &mut devnet.validators {
        validator.pid = 0;
    }
    for chain in &mut devnet.chains {
        chain.pid = 0;
    }
    if let Some(relayer) = &mut devnet.relayer {
        relayer.pid = 0;
    }
    devnet.save(dir)?;
    eprintln!("stopped; run the same command again to resume from {}", dir.display());
    outcome
}

/// What [`start_chains`] started.
struct StartedChains {
    /// Every chain, the L1 last.
    chains: Vec<DevnetChain>,
    /// Whether any chain got its contracts deployed (anew): the relayer's store then describes
    /// contracts that are gone.
    deployed: bool,
}

/// Starts every rollup chain of the devnet in `dir` (resuming its saved state) and, on each of
/// them and on the L1 at `l1_url` (already running), keeps the contracts of an earlier run or
/// deploys trestle's contracts, with the light clients starting at the network's current state.
/// A chain that lost blocks the network recorded is refused ([`chains::check_recorded_blocks`]).
/// The L1 comes last in the list.
async fn start_chains(
    dir: &Path,
    solidity: &Path,
    devnet: &DevnetFile,
    l1_url: Option<&str>,
    keys: Option<&verifier::ExternalKeys>,
    processes: &mut Processes,
) -> anyhow::Result<StartedChains> {
    chains::ensure_foundry(solidity)?;
    let mut plans = chains::plan(dir)?;
    let mut logs = Vec::with_capacity(plans.len() + 1);
    let mut pids = Vec::with_capacity(plans.len() + 1);
    for plan in &plans {
        let (child, log) = chains::spawn_anvil(solidity, dir, plan, None)?;
        pids.push(child.id());
        processes.anvils.push(child);
        logs.push(log);
    }
    for (plan, log) in plans.iter().zip(&logs) {
        chains::wait_for_anvil(plan, log).await?;
    }
    if let Some(url) = l1_url {
        let plan = l1::plan(url)?;
        logs.push(plan.dir(dir).join("anvil.log"));
        pids.push(processes.l1.as_ref().map(|child| child.id()).unwrap_or(0));
        plans.push(plan);
    }
    let rpc = devnet.validators.first().map(|v| v.rpc_url.clone()).context("no validator")?;
    // Waits for the network to finalize a block, so that it also answers what it recorded.
    let mut genesis = chains::light_client_genesis(&rpc).await?;
    // The light clients follow the network's epochs (hand-offs at each epoch's last height).
    genesis.epoch_length = Genesis::load(&devnet.genesis)?.1.epoch_length.get();
    for plan in &plans {
        chains::check_recorded_blocks(&rpc, dir, plan).await?;
    }
    let verifier_code = keys.map(|k| k.creation_code.as_str());
    let mut described = Vec::with_capacity(plans.len());
    let mut deployed = false;
    for ((plan, log), pid) in plans.iter().zip(logs).zip(pids) {
        let deployment = match chains::resume(dir, plan, verifier_code).await? {
            Some(kept) => {
                eprintln!(
                    "  chain {} resumed with its contracts (light client from trestle height {})",
                    plan.chain_id, kept.genesis_height
                );
                kept
            }
            None => {
                eprintln!(
                    "  deploying on chain {} (light client from trestle height {})…",
                    plan.chain_id, genesis.state.height
                );
                deployed = true;
                let settles_rollups = plan.chain_id == l1::DEVNET_L1_CHAIN_ID;
                chains::deploy(
                    solidity,
                    dir,
                    plan,
                    &plans,
                    &genesis,
                    settles_rollups,
                    verifier_code,
                )?
            }
        };
        described.push(DevnetChain {
            name: match plan.chain_id {
                l1::DEVNET_L1_CHAIN_ID => format!("l1-{}", plan.chain_id),
                id => format!("evm-{id}"),
            },
            chain_id: plan.chain_id,
            rpc_url: plan.rpc_url(),
            pid,
            message_namespace: chains::message_namespace(plan.chain_id),
            block_namespace: chains::block_namespace(plan.chain_id),
            contracts: deployment.contracts,
            genesis_height: deployment.genesis_height,
            deployer: deployment.deployer,
            log,
            deployment: deployment.record,
        });
    }
    Ok(StartedChains { chains: described, deployed })
}
