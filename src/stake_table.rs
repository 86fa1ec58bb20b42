//! `trestle validator`: join and leave a trestle network through its StakeTable on L1.
//!
//! * `register` signs both proofs of possession with the validator's key file (bound to the
//!   table's chain, address and the registering account), checks them with the same rule every
//!   node applies at selection (so no deposit is locked behind a registration the network would
//!   ignore), and sends `StakeTable.register` with the deposit;
//! * `add-stake`, `deregister` and `withdraw` send the matching calls from the account;
//! * `status` reads the account's entry and its `ValidatorRegistered` log, and says whether the
//!   nodes will count the registration (eligible) or why not.
//!
//! The node picks a registration up at the first epoch end whose L1 reference is past it: it
//! joins the committee two epochs later, if its stake ranks within the circuit's capacity.

use std::path::PathBuf;

use alloy::{
    network::{Ethereum, EthereumWallet},
    primitives::{Address, B256, U256},
    providers::{DynProvider, PendingTransactionBuilder, Provider as _, ProviderBuilder},
    rpc::types::Filter,
    signers::local::PrivateKeySigner,
};
use alloy_sol_types::SolEvent as _;
use serde::Serialize;
use trestle_api::{ValidatorKeys, stake::Ed25519Pops};
use trestle_light_client::{
    PeerAddress,
    stake::{StakeTableEvent, StakeTableId, check_registration},
    stake_log::{ValidatorRegistered, decode_stake_log},
};
use trestle_relayer::bindings::StakeTable;

/// Why a `trestle validator` command failed.
#[derive(Debug, thiserror::Error)]
pub enum StakeCommandError {
    /// An argument is malformed (URL, private key).
    #[error("{0}")]
    Usage(String),
    /// The key file could not be read.
    #[error(transparent)]
    Keys(#[from] trestle_api::FileError),
    /// The L1 did not answer (unreachable, or an RPC error).
    #[error("L1: {0}")]
    L1(String),
    /// The StakeTable refused the transaction: its custom error, decoded (e.g.
    /// `StakeBelowMinimum`, `ConsensusKeyAlreadyUsed`).
    #[error("the StakeTable refuses: {0}")]
    Refused(String),
    /// The registration would be ignored by every node (the rule's reason).
    #[error("refusing to register: the nodes would ignore this registration ({0})")]
    Ineligible(String),
    /// The transaction was mined but reverted.
    #[error("transaction {0} reverted")]
    Reverted(B256),
}

/// The L1 and StakeTable a command talks to.
#[derive(Clone, Debug, clap::Args)]
pub struct TableArgs {
    /// The L1's JSON-RPC URL.
    #[arg(long)]
    pub l1_rpc: String,
    /// The StakeTable contract.
    #[arg(long)]
    pub stake_table: Address,
}

/// A command that sends a transaction: the table and the account's key.
#[derive(Clone, Debug, clap::Args)]
pub struct SenderArgs {
    /// The L1 and the table.
    #[command(flatten)]
    pub table: TableArgs,
    /// The account's private key (hex); the deposit is its. Default: the environment's
    /// `TRESTLE_L1_PRIVATE_KEY` (which, unlike an argument, other users cannot see).
    #[arg(long)]
    pub private_key: Option<String>,
}

/// The environment variable holding the account's private key.
pub const PRIVATE_KEY_VAR: &str = "TRESTLE_L1_PRIVATE_KEY";

/// `trestle validator …`.
#[derive(Clone, Debug, clap::Subcommand)]
pub enum ValidatorCommand {
    /// Register the keys of a key file with a deposit: the node runs as a follower until a
    /// committee seats it.
    Register {
        /// The L1, the table and the account.
        #[command(flatten)]
        sender: SenderArgs,
        /// The validator's key file (`trestle keygen`).
        #[arg(long)]
        keys: PathBuf,
        /// Where peers reach the validator's p2p port: `ip:port`, or `host:port` (a DNS name
        /// every peer resolves when it dials, so the validator can move without registering
        /// again).
        #[arg(long)]
        p2p: PeerAddress,
        /// The deposit, in wei (at least the table's minimum).
        #[arg(long)]
        stake: U256,
    },
    /// Add to the account's deposit.
    AddStake {
        /// The L1, the table and the account.
        #[command(flatten)]
        sender: SenderArgs,
        /// The amount, in wei.
        #[arg(long)]
        amount: U256,
    },
    /// Leave: the committee drops the validator at the next rotation; the deposit can be
    /// withdrawn after the table's exit delay.
    Deregister {
        /// The L1, the table and the account.
        #[command(flatten)]
        sender: SenderArgs,
    },
    /// Withdraw the deposit once the exit delay has passed.
    Withdraw {
        /// The L1, the table and the account.
        #[command(flatten)]
        sender: SenderArgs,
        /// Where the deposit goes (default: the account).
        #[arg(long)]
        recipient: Option<Address>,
    },
    /// Print an account's entry and whether the nodes count its registration (JSON).
    Status {
        /// The L1 and the table.
        #[command(flatten)]
        table: TableArgs,
        /// The account.
        #[arg(long)]
        account: Address,
    },
}

/// What `status` prints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationStatus {
    /// The account.
    pub account: Address,
    /// `unregistered`, `active` or `exiting`.
    pub status: String,
    /// The deposit (wei).
    pub stake: String,
    /// The L1 block it registered in.
    pub registered_block: u64,
    /// When the deposit can be withdrawn (unix seconds; 0 unless exiting).
    pub withdrawable_at: u64,
    /// Its registered p2p address.
    pub p2p_address: String,
    /// Whether the nodes count the registration (`None` without one).
    pub eligible: Option<bool>,
    /// Why not, when they do not.
    pub ineligible_reason: Option<String>,
}

fn l1_error(e: impl std::fmt::Display) -> StakeCommandError {
    StakeCommandError::L1(e.to_string())
}

/// The contract's own reason when the L1 reports a revert with a StakeTable error, else the
/// L1's error.
fn refused_or_l1(e: alloy::contract::Error) -> StakeCommandError {
    match e.as_decoded_interface_error::<StakeTable::StakeTableErrors>() {
        Some(reason) => StakeCommandError::Refused(format!("{reason:?}")),
        None => l1_error(e),
    }
}

fn provider(url: &str, signer: Option<PrivateKeySigner>) -> Result<DynProvider, StakeCommandError> {
    let url = url.parse().map_err(|e| StakeCommandError::Usage(format!("--l1-rpc {url}: {e}")))?;
    Ok(match signer {
        Some(signer) => {
            ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(url).erased()
        }
        None => ProviderBuilder::new().connect_http(url).erased(),
    })
}

fn signer(private_key: Option<&str>) -> Result<PrivateKeySigner, StakeCommandError> {
    let from_env = std::env::var(PRIVATE_KEY_VAR).ok();
    let Some(private_key) = private_key.or(from_env.as_deref()) else {
        return Err(StakeCommandError::Usage(format!(
            "give --private-key or set {PRIVATE_KEY_VAR}"
        )));
    };
    private_key.trim().parse().map_err(|_| {
        StakeCommandError::Usage("--private-key is not a secp256k1 private key".into())
    })
}

/// Sends the call built by `call` and waits for its receipt; returns the transaction hash.
macro_rules! send {
    ($call:expr) => {{
        let pending = $call.send().await.map_err(refused_or_l1)?;
        mined(pending).await?
    }};
}

/// Waits for `pending` to be mined; its hash, or why it failed.
pub async fn mined(
    pending: PendingTransactionBuilder<Ethereum>,
) -> Result<B256, StakeCommandError> {
    let receipt = pending.get_receipt().await.map_err(l1_error)?;
    if !receipt.status() {
        return Err(StakeCommandError::Reverted(receipt.transaction_hash));
    }
    Ok(receipt.transaction_hash)
}

/// Runs a command; returns what to print (a line, or `status`'s JSON).
pub async fn run(command: ValidatorCommand) -> Result<String, StakeCommandError> {
    Ok(match command {
        ValidatorCommand::Register { sender, keys, p2p, stake } => {
            let keys = ValidatorKeys::load(&keys)?;
            let hash = register(&sender, &keys, p2p, stake).await?;
            format!("registered: transaction {hash}")
        }
        ValidatorCommand::AddStake { sender, amount } => {
            let (table, _) = contract(&sender)?;
            let hash = send!(table.addStake().value(amount));
            format!("stake added: transaction {hash}")
        }
        ValidatorCommand::Deregister { sender } => {
            let (table, _) = contract(&sender)?;
            let hash = send!(table.deregister());
            format!("deregistered: transaction {hash}")
        }
        ValidatorCommand::Withdraw { sender, recipient } => {
            let (table, account) = contract(&sender)?;
            let hash = send!(table.withdraw(recipient.unwrap_or(account)));
            format!("withdrawn: transaction {hash}")
        }
        ValidatorCommand::Status { table, account } => {
            let status = status(&table, account).await?;
            serde_json::to_string_pretty(&status).map_err(l1_error)?
        }
    })
}

fn contract(
    sender: &SenderArgs,
) -> Result<(StakeTable::StakeTableInstance<DynProvider>, Address), StakeCommandError> {
    let signer = signer(sender.private_key.as_deref())?;
    let account = signer.address();
    let provider = provider(&sender.table.l1_rpc, Some(signer))?;
    Ok((StakeTable::new(sender.table.stake_table, provider), account))
}

/// Registers `keys` from the account of `sender`, reachable at `p2p`, with `stake` wei.
pub async fn register(
    sender: &SenderArgs,
    keys: &ValidatorKeys,
    p2p: PeerAddress,
    stake: U256,
) -> Result<B256, StakeCommandError> {
    mined(submit_registration(sender, keys, p2p, stake).await?).await
}

/// [`register`] up to the L1 accepting the transaction, without waiting for it to be mined
/// (several registrations then share a block, in the order they were sent).
pub async fn submit_registration(
    sender: &SenderArgs,
    keys: &ValidatorKeys,
    p2p: PeerAddress,
    stake: U256,
) -> Result<PendingTransactionBuilder<Ethereum>, StakeCommandError> {
    let (table, account) = contract(sender)?;
    let chain_id = table.provider().get_chain_id().await.map_err(l1_error)?;
    let id = StakeTableId { chain_id, address: sender.table.stake_table };
    let proofs = keys.proofs_of_possession(&id, &account);
    let words = |bytes: &[u8]| bytes.chunks_exact(32).map(B256::from_slice).collect::<Vec<_>>();
    let (lc, pop, lc_pop) = (
        words(&proofs.light_client_key),
        words(&proofs.consensus_pop),
        words(&proofs.light_client_pop),
    );
    // The rule every node applies at selection, on what the log will say.
    let registration = trestle_light_client::stake::Registration {
        account,
        consensus_key: proofs.consensus_key,
        light_client_key: proofs.light_client_key,
        p2p_address: p2p.to_string(),
        consensus_pop: proofs.consensus_pop,
        light_client_pop: proofs.light_client_pop,
        stake: u128::try_from(stake).unwrap_or(u128::MAX),
        registered_at: trestle_light_client::stake::LogPosition { block: 0, index: 0 },
    };
    check_registration(&id, &registration, &Ed25519Pops)
        .map_err(|reason| StakeCommandError::Ineligible(reason.to_string()))?;
    let call = table
        .register(
            proofs.consensus_key,
            [lc[0], lc[1]],
            p2p.to_string(),
            [pop[0], pop[1]],
            [lc_pop[0], lc_pop[1], lc_pop[2]],
        )
        .value(stake);
    call.send().await.map_err(refused_or_l1)
}

/// The entry of `account` and whether its registration counts.
pub async fn status(
    table: &TableArgs,
    account: Address,
) -> Result<RegistrationStatus, StakeCommandError> {
    let provider = provider(&table.l1_rpc, None)?;
    let chain_id = provider.get_chain_id().await.map_err(l1_error)?;
    let contract = StakeTable::new(table.stake_table, provider.clone());
    let entry = contract.validator(account).call().await.map_err(l1_error)?;
    let status = match entry.status {
        0 => "unregistered",
        1 => "active",
        2 => "exiting",
        _ => "unknown",
    };
    let mut eligible = None;
    let mut ineligible_reason = None;
    if entry.status != 0 {
        let filter = Filter::new()
            .address(table.stake_table)
            .event_signature(ValidatorRegistered::SIGNATURE_HASH)
            .topic1(account.into_word())
            .from_block(entry.registeredBlock)
            .to_block(entry.registeredBlock);
        let logs = provider.get_logs(&filter).await.map_err(l1_error)?;
        let id = StakeTableId { chain_id, address: table.stake_table };
        for log in logs {
            let position = trestle_light_client::stake::LogPosition {
                block: log.block_number.unwrap_or_default(),
                index: log.log_index.unwrap_or_default(),
            };
            let decoded = decode_stake_log(position, log.topics(), &log.data().data);
            let verdict = match decoded {
                Ok(Some(StakeTableEvent::Registered(registration))) => {
                    check_registration(&id, &registration, &Ed25519Pops)
                        .map(|_| ())
                        .map_err(|reason| reason.to_string())
                }
                Ok(_) => continue,
                Err(e) => Err(e.to_string()),
            };
            eligible = Some(verdict.is_ok());
            ineligible_reason = verdict.err();
        }
    }
    Ok(RegistrationStatus {
        account,
        status: status.into(),
        stake: entry.stake.to_string(),
        registered_block: entry.registeredBlock,
        withdrawable_at: entry.withdrawableAt,
        p2p_address: entry.p2pAddress,
        eligible,
        ineligible_reason,
    })
}
