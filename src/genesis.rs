//! `trestle genesis create | verify`: a network's genesis from its operators' public entries.
//!
//! The operator flow: each operator runs `trestle keygen --out keys.toml` on its own machine
//! (the secret never leaves it) and shares the printed entry, which carries both public keys
//! and both proofs of possession. One operator assembles the genesis from everyone's entries
//! with `trestle genesis create`; every operator checks the file it receives with
//! `trestle genesis verify` and compares the genesis hash both print: equal hashes mean the same
//! chain id, parameters, committee and genesis block.
//!
//! Both commands refuse an entry without valid proofs of possession (a key whose secret its
//! operator does not hold, or keys paired by someone else) and duplicates (a consensus key, a
//! light-client key or a p2p address twice), on top of everything [`Genesis::resolve`] checks.

use std::path::{Path, PathBuf};

use trestle_api::{
    files::FileError,
    genesis::{Genesis, GenesisLimits, GenesisValidator, ResolvedGenesis},
};
use trestle_light_client::B256;
use trestle_node::rules::{self, ChainParams};

/// `trestle genesis …`.
#[derive(Clone, Debug, clap::Subcommand)]
pub enum GenesisCommand {
    /// Assemble a genesis file from the operators' entries (as `trestle keygen` prints them) and
    /// print its hash.
    Create {
        /// An operator's entry (JSON); once per validator, in slot order.
        #[arg(long = "validator", required = true)]
        validators: Vec<PathBuf>,
        /// The network id.
        #[arg(long)]
        chain_id: u64,
        /// Slots of the light-client circuit (at least the number of validators; the default).
        #[arg(long)]
        capacity: Option<usize>,
        /// Heights per epoch (at least 2); one endless epoch if absent.
        #[arg(long)]
        epoch_length: Option<u64>,
        /// Timestamp of the genesis block (ms since the Unix epoch).
        #[arg(long)]
        timestamp_ms: u64,
        /// Least time between consecutive blocks (ms).
        #[arg(long, default_value_t = 200)]
        min_block_interval_ms: u64,
        /// Where to write the genesis (never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a genesis file as `create` does (proofs of possession included) and print its hash.
    Verify {
        /// The genesis file.
        genesis: PathBuf,
    },
}

/// Why a genesis was refused.
#[derive(Debug, thiserror::Error)]
pub enum GenesisCommandError {
    /// A file could not be read or written, or the genesis does not resolve.
    #[error(transparent)]
    File(#[from] FileError),
    /// An entry file is not a genesis entry.
    #[error("{path}: not a genesis entry: {reason}")]
    Entry {
        /// The entry file.
        path: PathBuf,
        /// The parse error.
        reason: String,
    },
    /// An entry carries no proofs of possession (made by an older `trestle keygen`, or edited).
    #[error("validator {index}: no proofs of possession (make the entry with `trestle keygen`)")]
    MissingProofs {
        /// The entry's slot.
        index: usize,
    },
    /// Two entries share a key or an address.
    #[error("validators {first} and {second} share their {what}")]
    Duplicate {
        /// The earlier slot.
        first: usize,
        /// The later slot.
        second: usize,
        /// Which field they share.
        what: &'static str,
    },
    /// The capacity is below the number of validators.
    #[error("capacity {capacity} is below the {validators} validators")]
    Capacity {
        /// The capacity asked for.
        capacity: usize,
        /// The number of validators.
        validators: usize,
    },
    /// The output file exists.
    #[error("{0} exists; a genesis file is never overwritten")]
    Exists(PathBuf),
}

/// Runs a command; returns what to print.
pub fn run(command: GenesisCommand) -> Result<String, GenesisCommandError> {
    match command {
        GenesisCommand::Create {
            validators,
            chain_id,
            capacity,
            epoch_length,
            timestamp_ms,
            min_block_interval_ms,
            out,
        } => {
            if out.exists() {
                return Err(GenesisCommandError::Exists(out));
            }
            let entries =
                validators.iter().map(|p| read_entry(p)).collect::<Result<Vec<_>, _>>()?;
            let capacity = capacity.unwrap_or(entries.len());
            if capacity < entries.len() {
                return Err(GenesisCommandError::Capacity { capacity, validators: entries.len() });
            }
            let genesis = Genesis {
                chain_id,
                epoch: 0,
                epoch_length,
                l1: None,
                timestamp_ms,
                min_block_interval_ms,
                committee_capacity: capacity,
                validators: entries,
                owned_namespaces: Vec::new(),
                limits: GenesisLimits::default(),
            };
            let resolved = check(&genesis)?;
            genesis.save(&out)?;
            Ok(format!("wrote {}\n{}", out.display(), summary(&resolved)))
        }
        GenesisCommand::Verify { genesis } => {
            let (genesis, _) = Genesis::load(&genesis)?;
            Ok(summary(&check(&genesis)?))
        }
    }
}

/// The hash of the genesis block `genesis` defines: what operators compare.
pub fn genesis_hash(genesis: &ResolvedGenesis) -> B256 {
    rules::genesis(&ChainParams::from_genesis(genesis)).header_hash()
}

fn read_entry(path: &Path) -> Result<GenesisValidator, GenesisCommandError> {
    let text = trestle_api::files::read(path)?;
    serde_json::from_str(&text)
        .map_err(|e| GenesisCommandError::Entry { path: path.to_path_buf(), reason: e.to_string() })
}

/// Everything `Genesis::resolve` checks, plus proofs of possession on every entry and no p2p
/// address twice.
fn check(genesis: &Genesis) -> Result<ResolvedGenesis, GenesisCommandError> {
    let mut addresses = Vec::<Option<&str>>::new();
    for (index, validator) in genesis.validators.iter().enumerate() {
        // Malformed or half proofs are errors here; valid ones are verified by resolve.
        if validator.proofs(&format!("validators[{index}]"))?.is_none() {
            return Err(GenesisCommandError::MissingProofs { index });
        }
        let address = validator.p2p_address.as_deref();
        if let Some(first) = address.and_then(|a| addresses.iter().position(|b| *b == Some(a))) {
            return Err(GenesisCommandError::Duplicate {
                first,
                second: index,
                what: "p2p address",
            });
        }
        addresses.push(address);
    }
    // Proofs of possession, duplicate keys (consensus keys here, light-client keys decoded, by
    // the committee), keys on the curve, capacity and the rest.
    Ok(genesis.resolve()?)
}

fn summary(genesis: &ResolvedGenesis) -> String {
    let epochs = if genesis.epoch_length == trestle_light_client::epoch::ENDLESS {
        "one endless epoch".to_string()
    } else {
        format!("epochs of {} heights", genesis.epoch_length)
    };
    format!(
        "chain {}: {} validators in {} slots, {epochs}; every proof of possession verifies\n\
         genesis hash {} (every operator must see the same)",
        genesis.chain_id.get(),
        genesis.consensus_keys.len(),
        genesis.committee.capacity(),
        genesis_hash(genesis),
    )
}
