//! `trestle confirm`: is a rollup's transaction (or block) confirmed by the trestle network?
//!
//! A bridge solver names a transaction by hash, or a rollup block by number and hash (the
//! relayer's post role records every rollup block as a [`BlockRecord`] transaction in the
//! chain's *block namespace*). The answer is a verdict plus everything needed to check it again,
//! verified here natively with the light-client kernel:
//!
//! ```text
//! transaction ∈ namespace ∈ payloadRoot of header h          (TransactionProof)
//! header h ∈ historyRoot of the light-client state at r ≥ h   (history proof)
//! > 2/3 of the committee's weight signed that state           (verify_quorum)
//! the committee is the trust anchor                           (genesis file, or the node: unverified)
//! ```
//!
//! The module has three layers:
//!
//! * [`verify_confirmation`]: pure, over already fetched canonical bytes ([`Evidence`]); no I/O,
//!   so benchmarks and tests call it directly. Every failure is a [`ConfirmError`].
//! * [`fetch_evidence`]: the RPC side (find the transaction or scan for the block record, pick
//!   the newest state with a quorum, fetch the history proof). Failures are [`FetchError`].
//! * [`command`]: the CLI (`trestle confirm`), printing a human or JSON report.
//!
//! Everything is verified from the canonical `encoded` bytes of the responses, never from their
//! readable fields, which are a convenience a lying node could fill with anything.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use alloy_primitives::{B256, Bytes};
use futures::{StreamExt as _, TryStreamExt as _};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use serde::{Deserialize, Serialize};
use trestle_light_client::{
    ChainId, Committee, Epoch, Header, LightClientState, Namespace, StateSignature, Transaction,
    abi::{self, BlockRecord, CodecError},
    history::{HistoryError, verify_history_proof},
    payload::PayloadError,
    quorum::QuorumError,
    state::StateError,
    transaction::DEFAULT_MAX_PAYLOAD,
    verify_quorum,
};
use trestle_node::{
    rpc::{CommitteeInfoError, HeaderResponse, TrestleApiClient as _},
    service::{ConfigError, Genesis},
};

/// Exit status of `trestle confirm` when the subject is confirmed under a verified anchor.
pub const EXIT_CONFIRMED: i32 = 0;
/// Exit status when the subject is not confirmed (not found, or its proof does not verify).
pub const EXIT_NOT_CONFIRMED: i32 = 1;
/// Exit status for usage errors (also clap's) and failures to get an answer at all (the node is
/// unreachable, the genesis file unreadable, no state with a quorum appeared in time).
pub const EXIT_ERROR: i32 = 2;
/// Exit status when everything verifies, but against a committee the queried node itself
/// reported (no genesis file): confirmed only if that node is honest about the committee.
/// `--allow-unanchored` turns this into [`EXIT_CONFIRMED`].
pub const EXIT_UNANCHORED: i32 = 3;

/// How many heights `--block` scans by default (backwards from the newest finalized height).
pub const DEFAULT_SCAN_DEPTH: u64 = 2_000;

/// The genesis file used as trust anchor when `--genesis` is not given and it exists: the one
/// `trestle devnet` writes with its default data directory.
pub const DEFAULT_GENESIS: &str = ".devnet/genesis.json";

/// How many heights below the newest finalized one are tried when looking for a state whose
/// signatures already form a quorum (signatures are gossiped, so the newest may lack some).
const STATE_LOOKBACK: u64 = 32;

/// Length of a block record's canonical encoding (four words).
const BLOCK_RECORD_LEN: usize = 4 * 32;

/// Concurrent `trestle_namespaceProof` requests while scanning for a block record.
const SCAN_CONCURRENCY: usize = 16;

/// What the user asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A transaction, by hash, in the namespace.
    Transaction {
        /// `keccak256(abi.encode(Transaction))`.
        hash: B256,
    },
    /// A rollup block, recorded as a [`BlockRecord`] transaction in the namespace.
    Block {
        /// The rollup block number.
        number: u64,
        /// The rollup block hash.
        hash: B256,
    },
}

/// Where the committee that must have signed comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "source")]
pub enum AnchorSource {
    /// A genesis file the user trusts.
    Genesis {
        /// The file.
        path: PathBuf,
    },
    /// The queried node's own `trestle_committee` answer: nothing independent vouches for it.
    Rpc {
        /// The node's URL.
        url: String,
    },
}

/// The trust anchor: the network and the committee whose signatures make a state final.
#[derive(Clone, Debug)]
pub struct Anchor {
    /// The network.
    pub chain_id: ChainId,
    /// The epoch the committee signs for (epoch hand-overs are not followed yet).
    pub epoch: Epoch,
    /// The committee.
    pub committee: Committee,
    /// Largest transaction payload of the network.
    pub max_payload: usize,
    /// Where all this came from.
    pub source: AnchorSource,
}

/// Why a trust anchor could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    /// The genesis file is unreadable or invalid.
    #[error("genesis: {0}")]
    Genesis(#[from] ConfigError),
    /// The node's committee does not match its own commitment.
    #[error("the node's committee: {0}")]
    Committee(#[from] CommitteeInfoError),
}

impl Anchor {
    /// The genesis committee of the genesis file at `path`.
    pub fn from_genesis(path: &Path) -> Result<Self, AnchorError> {
        let (genesis, resolved) = Genesis::load(path)?;
        Ok(Self {
            chain_id: ChainId(genesis.chain_id),
            epoch: Epoch(genesis.epoch),
            committee: resolved.committee,
            max_payload: genesis.limits.max_payload,
            source: AnchorSource::Genesis { path: path.to_path_buf() },
        })
    }

    /// The committee a node reported for `chain_id` (taken from that node's headers): an
    /// unverified anchor.
    pub fn from_node(
        info: &trestle_node::rpc::CommitteeInfo,
        chain_id: ChainId,
        url: &str,
    ) -> Result<Self, AnchorError> {
        Ok(Self {
            chain_id,
            epoch: Epoch(info.epoch),
            committee: info.to_committee()?,
            max_payload: DEFAULT_MAX_PAYLOAD,
            source: AnchorSource::Rpc { url: url.to_owned() },
        })
    }

    /// Whether something other than the queried node vouches for the committee.
    pub fn is_verified(&self) -> bool {
        matches!(self.source, AnchorSource::Genesis { .. })
    }
}

/// Everything a confirmation rests on, as the canonical encodings the node returned. Serialized
/// in `trestle confirm --json` output (bytes as 0x-hex) so anyone can verify it again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Evidence {
    /// `abi.encode(Transaction)`.
    pub transaction: Bytes,
    /// `abi.encode(Header)` of the block containing it.
    pub header: Bytes,
    /// `abi.encode(TransactionProof)` against the header's `payloadRoot`.
    pub tx_proof: Bytes,
    /// `abi.encode(MerkleProof)` of the header's hash against the state's `historyRoot`.
    pub history_proof: Bytes,
    /// `abi.encode(LightClientState)` of the signed state.
    pub state: Bytes,
    /// Committee signatures on the state.
    pub signatures: Vec<StateSignature>,
}

/// A rollup block record, readable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockRecordFields {
    /// The rollup's EVM chain id.
    pub chain_id: u64,
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
    /// Parent block hash.
    pub parent_hash: B256,
}

impl From<&BlockRecord> for BlockRecordFields {
    fn from(record: &BlockRecord) -> Self {
        Self {
            chain_id: record.chainId,
            number: record.number,
            hash: record.hash,
            parent_hash: record.parentHash,
        }
    }
}

/// What a successful verification established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The transaction.
    pub transaction: Transaction,
    /// Its hash.
    pub tx_hash: B256,
    /// The block record it carries (block subjects only).
    pub block_record: Option<BlockRecordFields>,
    /// The header of the block that contains it.
    pub header: Header,
    /// That header's hash.
    pub header_hash: B256,
    /// The signed state whose history covers the header.
    pub state: LightClientState,
    /// Weight of the valid signatures on the state.
    pub signed_weight: u128,
    /// Total weight of the committee.
    pub total_weight: u128,
}

/// Why the evidence does not confirm the subject. Each is a reason for "not confirmed".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfirmError {
    /// The transaction bytes are not a canonical transaction encoding.
    #[error("malformed transaction: {0}")]
    Transaction(CodecError),
    /// The transaction is in another namespace than asked.
    #[error("the transaction is in namespace {found}, not {expected}")]
    WrongNamespace {
        /// Namespace asked about.
        expected: u64,
        /// Namespace of the transaction.
        found: u64,
    },
    /// The transaction is not the one asked about.
    #[error("the evidence is for transaction {found}, not {expected}")]
    WrongTransaction {
        /// Hash asked about.
        expected: B256,
        /// Hash of the transaction in the evidence.
        found: B256,
    },
    /// The transaction's payload is not a canonical block record.
    #[error("the transaction's payload is not a block record: {0}")]
    NotABlockRecord(CodecError),
    /// The block record is for another block than asked.
    #[error(
        "the record is for block {found_number} {found_hash}, not {expected_number} {expected_hash}"
    )]
    WrongBlock {
        /// Block number asked about.
        expected_number: u64,
        /// Block hash asked about.
        expected_hash: B256,
        /// Block number in the record.
        found_number: u64,
        /// Block hash in the record.
        found_hash: B256,
    },
    /// The header bytes are not a canonical header encoding.
    #[error("malformed header: {0}")]
    Header(CodecError),
    /// The transaction proof bytes are not canonical.
    #[error("malformed transaction proof: {0}")]
    TransactionProof(CodecError),
    /// The transaction proof does not lead to the header's payload root.
    #[error("the transaction is not in the header's payload: {0}")]
    Inclusion(PayloadError),
    /// The history proof bytes are not canonical.
    #[error("malformed history proof: {0}")]
    HistoryProofEncoding(CodecError),
    /// The header is not in the signed state's history.
    #[error("the header is not in the signed state's history: {0}")]
    History(HistoryError),
    /// The state bytes are not a canonical state encoding.
    #[error("malformed light-client state: {0}")]
    State(StateError),
    /// The header or the state belongs to another network than the anchor's.
    #[error("the {what} is for chain {found}, the anchor for chain {expected}")]
    WrongChain {
        /// `"header"` or `"state"`.
        what: &'static str,
        /// The anchor's chain id.
        expected: u64,
        /// The chain id found.
        found: u64,
    },
    /// The header or the state is of an epoch the anchor's committee does not sign for.
    #[error("the {what} is of epoch {found}; the anchor's committee signs epoch {expected}")]
    WrongEpoch {
        /// `"header"` or `"state"`.
        what: &'static str,
        /// The anchor's epoch.
        expected: u64,
        /// The epoch found.
        found: u64,
    },
    /// The header commits to another committee than the anchor's.
    #[error("the header commits to committee {header}, the anchor's is {anchor}")]
    WrongCommittee {
        /// Commitment in the header.
        header: B256,
        /// Commitment of the anchor's committee.
        anchor: B256,
    },
    /// The signatures are not a quorum of the anchor's committee on the state.
    #[error("the state is not signed by a quorum: {0}")]
    Quorum(QuorumError),
}

/// Verifies that `evidence` confirms `subject` in `namespace` under `anchor`.
///
/// Pure and deterministic: decodes every part strictly, then checks the chain of proofs from
/// the transaction up to the anchor's committee. Costs one quorum verification (a few ms for
/// 100 signers) plus a few Merkle paths.
pub fn verify_confirmation(
    evidence: &Evidence,
    namespace: Namespace,
    subject: &Subject,
    anchor: &Anchor,
) -> Result<Verdict, ConfirmError> {
    let transaction = Transaction::decode(&evidence.transaction, anchor.max_payload)
        .map_err(ConfirmError::Transaction)?;
    if transaction.namespace != namespace {
        return Err(ConfirmError::WrongNamespace {
            expected: namespace.get(),
            found: transaction.namespace.get(),
        });
    }
    let tx_hash = transaction.hash();
    let block_record = match *subject {
        Subject::Transaction { hash } => {
            if hash != tx_hash {
                return Err(ConfirmError::WrongTransaction { expected: hash, found: tx_hash });
            }
            None
        }
        Subject::Block { number, hash } => {
            let record =
                BlockRecord::decode(&transaction.payload).map_err(ConfirmError::NotABlockRecord)?;
            if record.number != number || record.hash != hash {
                return Err(ConfirmError::WrongBlock {
                    expected_number: number,
                    expected_hash: hash,
                    found_number: record.number,
                    found_hash: record.hash,
                });
            }
            Some(BlockRecordFields::from(&record))
        }
    };

    let header = Header::decode(&evidence.header).map_err(ConfirmError::Header)?;
    let header_hash = header.hash();
    let tx_proof = abi::TransactionProof::decode(&evidence.tx_proof)
        .map_err(ConfirmError::TransactionProof)?;
    tx_proof.verify(&transaction, &header.payload_root).map_err(ConfirmError::Inclusion)?;

    let state = LightClientState::decode(&evidence.state).map_err(ConfirmError::State)?;
    let history_proof = abi::MerkleProof::decode(&evidence.history_proof)
        .map_err(ConfirmError::HistoryProofEncoding)?;
    // Also rejects a state below the header (the proof's count would not match).
    verify_history_proof(
        &history_proof,
        &header_hash,
        header.height,
        &state.history_root,
        state.height,
    )
    .map_err(ConfirmError::History)?;

    // The header is now bound to the state; the state must be the anchor's network and epoch,
    // and signed by the anchor's committee.
    for (what, chain_id, epoch) in
        [("header", header.chain_id, header.epoch), ("state", state.chain_id, state.epoch)]
    {
        if chain_id != anchor.chain_id {
            return Err(ConfirmError::WrongChain {
                what,
                expected: anchor.chain_id.get(),
                found: chain_id.get(),
            });
        }
        if epoch != anchor.epoch {
            return Err(ConfirmError::WrongEpoch {
                what,
                expected: anchor.epoch.get(),
                found: epoch.get(),
            });
        }
    }
    let anchor_commitment = anchor.committee.commitment_bytes();
    if header.committee != anchor_commitment {
        return Err(ConfirmError::WrongCommittee {
            header: header.committee,
            anchor: anchor_commitment,
        });
    }
    let signed_weight = verify_quorum(&anchor.committee, &state, &evidence.signatures)
        .map_err(ConfirmError::Quorum)?;
    Ok(Verdict {
        transaction,
        tx_hash,
        block_record,
        header,
        header_hash,
        state,
        signed_weight,
        total_weight: anchor.committee.total_weight(),
    })
}

/// The smallest prefix (in slot order, distinct slots of the committee) of `signatures` that
/// carries a quorum's weight, or `None` if all of them together do not. Verifying only these
/// keeps `trestle confirm` fast on large committees; the result is still a valid quorum.
pub fn minimal_quorum(
    committee: &Committee,
    signatures: &[StateSignature],
) -> Option<Vec<StateSignature>> {
    let mut sorted: Vec<StateSignature> = signatures
        .iter()
        .filter(|s| (s.slot as usize) < committee.slots().len())
        .copied()
        .collect();
    sorted.sort_by_key(|s| s.slot);
    sorted.dedup_by_key(|s| s.slot);
    let mut weight = 0u128;
    let mut chosen = Vec::new();
    for signature in sorted {
        weight += u128::from(committee.slots()[signature.slot as usize].weight);
        chosen.push(signature);
        if committee.is_quorum(weight) {
            return Some(chosen);
        }
    }
    None
}

/// Why the evidence could not be fetched (an error, not a "no").
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// A request failed (transport, or the node returned an error).
    #[error("rpc: {0}")]
    Rpc(#[from] jsonrpsee::core::client::Error),
    /// The node does not know the committee of an epoch.
    #[error("the node does not know the committee of epoch {0}")]
    UnknownCommittee(u64),
    /// The anchor could not be built from the node's committee.
    #[error(transparent)]
    Anchor(#[from] AnchorError),
    /// A header the node returned does not decode (nothing to tell the epoch from).
    #[error("the node returned a malformed header: {0}")]
    Header(CodecError),
    /// No state at or after the transaction's height had a quorum of signatures in time.
    #[error(
        "no light-client state between heights {from} and {to} carried a quorum of the \
         anchor's committee within {waited:?}"
    )]
    NoQuorum {
        /// Lowest height tried.
        from: u64,
        /// Highest height tried.
        to: u64,
        /// How long it waited.
        waited: Duration,
    },
    /// The node has no history proof from the transaction's height to the chosen state.
    #[error("the node has no history proof of height {height} against height {root_height}")]
    NoHistoryProof {
        /// Height of the header.
        height: u64,
        /// Height of the state.
        root_height: u64,
    },
}

/// Where to look and how long to wait.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// For block subjects: how many heights to scan.
    pub scan_depth: u64,
    /// For block subjects: the highest height to scan (default: the newest finalized).
    pub from_height: Option<u64>,
    /// How long to wait for a state with a quorum of signatures.
    pub quorum_wait: Duration,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            scan_depth: DEFAULT_SCAN_DEPTH,
            from_height: None,
            quorum_wait: Duration::from_secs(10),
        }
    }
}

/// A subject found on the node, with its evidence gathered (not yet verified).
#[derive(Debug)]
pub struct Found {
    /// The evidence.
    pub evidence: Evidence,
    /// The anchor (the given one, or the node's committee when none was given).
    pub anchor: Anchor,
    /// The header as the node described it (hash and encoding included).
    pub header: HeaderResponse,
    /// The heights scanned, for a block subject.
    pub searched: Option<Searched>,
}

/// What [`fetch_evidence`] found.
#[derive(Debug)]
pub enum Fetched {
    /// The subject was found (boxed: it is much larger than the other variant).
    Found(Box<Found>),
    /// The node knows no such transaction or block record.
    NotFound {
        /// What was searched (block subjects); `None` for a transaction lookup by hash.
        searched: Option<Searched>,
        /// The anchor, when one was given.
        anchor: Option<Anchor>,
    },
}

/// A range of heights scanned for a block record (inclusive, scanned downwards).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Searched {
    /// Lowest height scanned.
    pub from_height: u64,
    /// Highest height scanned.
    pub to_height: u64,
}

/// Finds `subject` in `namespace` on the node behind `client` and gathers its evidence: the
/// transaction and its proof, the newest state at or after its height whose signatures form a
/// quorum of `anchor`'s committee (or of the node's own committee when `anchor` is `None`), and
/// the history proof linking them.
pub async fn fetch_evidence(
    client: &HttpClient,
    url: &str,
    namespace: Namespace,
    subject: &Subject,
    anchor: Option<Anchor>,
    options: &FetchOptions,
) -> Result<Fetched, FetchError> {
    let (tx_hash, searched) = match *subject {
        Subject::Transaction { hash } => (Some(hash), None),
        Subject::Block { number, hash } => {
            let (found, searched) =
                scan_for_block(client, namespace, number, hash, options).await?;
            (found, Some(searched))
        }
    };
    let inclusion = match tx_hash {
        Some(hash) => client.tx_proof(hash).await?,
        None => None,
    };
    let Some(inclusion) = inclusion else { return Ok(Fetched::NotFound { searched, anchor }) };
    let header = inclusion.header.decode().map_err(FetchError::Header)?;
    let anchor = match anchor {
        Some(anchor) => anchor,
        None => {
            let info = client
                .committee(header.epoch.get())
                .await?
                .ok_or(FetchError::UnknownCommittee(header.epoch.get()))?;
            Anchor::from_node(&info, header.chain_id, url)?
        }
    };
    let (state, signatures) =
        newest_quorum_state(client, header.height.get(), &anchor, options).await?;
    let root_height = state_height(&state).unwrap_or(header.height.get());
    let history = client
        .history_proof(header.height.get(), root_height)
        .await?
        .ok_or(FetchError::NoHistoryProof { height: header.height.get(), root_height })?;
    let evidence = Evidence {
        transaction: inclusion.transaction.encoded,
        header: inclusion.header.encoded.clone(),
        tx_proof: inclusion.proof.encoded,
        history_proof: history.proof.encoded,
        state,
        signatures,
    };
    Ok(Fetched::Found(Box::new(Found { evidence, anchor, header: inclusion.header, searched })))
}

/// Height of an encoded state, if it decodes.
fn state_height(encoded: &[u8]) -> Option<u64> {
    LightClientState::decode(encoded).ok().map(|s| s.height.get())
}

/// Scans heights downwards for a transaction in `namespace` whose payload is the block record
/// of (`number`, `hash`); returns its hash, newest first.
async fn scan_for_block(
    client: &HttpClient,
    namespace: Namespace,
    number: u64,
    hash: B256,
    options: &FetchOptions,
) -> Result<(Option<B256>, Searched), FetchError> {
    let to_height = match options.from_height {
        Some(height) => height,
        None => client.block_height().await?,
    };
    let from_height = to_height.saturating_sub(options.scan_depth.saturating_sub(1));
    let searched = Searched { from_height, to_height };
    let mut answers = futures::stream::iter((from_height..=to_height).rev())
        .map(|height| client.namespace_proof(height, namespace.get()))
        .buffered(SCAN_CONCURRENCY);
    while let Some(response) = answers.try_next().await? {
        let Some(response) = response else { continue };
        for tx in &response.transactions {
            // Strict decoding of the canonical bytes, no larger than a record; anything else in
            // the namespace is skipped (the verification decodes again and proves what is found).
            let Ok(decoded) = tx.decode(BLOCK_RECORD_LEN) else { continue };
            if decoded.namespace != namespace {
                continue;
            }
            let Ok(record) = BlockRecord::decode(&decoded.payload) else { continue };
            if record.number == number && record.hash == hash {
                return Ok((Some(decoded.hash()), searched));
            }
        }
    }
    Ok((None, searched))
}

/// The newest light-client state at or after `height` whose signatures, as the node has them,
/// carry a quorum's weight of `anchor`'s committee: its encoding and all those signatures
/// (only their weight is looked at here; [`run`] verifies a minimal quorum of them and weeds
/// out invalid ones). Polls until `options.quorum_wait` has passed.
async fn newest_quorum_state(
    client: &HttpClient,
    height: u64,
    anchor: &Anchor,
    options: &FetchOptions,
) -> Result<(Bytes, Vec<StateSignature>), FetchError> {
    let started = Instant::now();
    loop {
        let tip = client.block_height().await?;
        let lowest = height.max(tip.saturating_sub(STATE_LOOKBACK));
        for root_height in (lowest..=tip).rev() {
            let Some(response) = client.state_signatures(root_height).await? else { continue };
            let signatures = response.state_signatures();
            if minimal_quorum(&anchor.committee, &signatures).is_some() {
                return Ok((response.state.encoded, signatures));
            }
        }
        if started.elapsed() >= options.quorum_wait {
            return Err(FetchError::NoQuorum { from: lowest, to: tip, waited: started.elapsed() });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `trestle confirm`'s arguments.
#[derive(Clone, Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("subject").required(true).args(["block", "tx"])))]
pub struct ConfirmArgs {
    /// A validator's JSON-RPC URL.
    #[arg(long)]
    pub rpc: String,
    /// The namespace: the rollup's block namespace for --block, any namespace for --tx.
    #[arg(long)]
    pub namespace: u64,
    /// Rollup block number (with --hash): looks for its block record in the namespace.
    #[arg(long, requires = "hash")]
    pub block: Option<u64>,
    /// Rollup block hash (0x + 32 bytes), with --block.
    #[arg(long, requires = "block")]
    pub hash: Option<B256>,
    /// Transaction hash (0x + 32 bytes).
    #[arg(long, conflicts_with_all = ["block", "hash"])]
    pub tx: Option<B256>,
    /// The genesis file whose committee is trusted (default: .devnet/genesis.json when it
    /// exists; otherwise the node's own committee, reported as an unverified anchor).
    #[arg(long)]
    pub genesis: Option<PathBuf>,
    /// Exit 0 (not 3) when everything verifies against the node's own committee.
    #[arg(long)]
    pub allow_unanchored: bool,
    /// For --block: how many heights to scan, newest first.
    #[arg(long, default_value_t = DEFAULT_SCAN_DEPTH)]
    pub scan_depth: u64,
    /// For --block: the highest height to scan (default: the newest finalized height).
    #[arg(long)]
    pub from_height: Option<u64>,
    /// Seconds to wait for a light-client state with a quorum of signatures.
    #[arg(long, default_value_t = 10)]
    pub quorum_wait: u64,
    /// Print the verdict and the proof as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

impl ConfirmArgs {
    fn subject(&self) -> Option<Subject> {
        match (self.tx, self.block, self.hash) {
            (Some(hash), None, None) => Some(Subject::Transaction { hash }),
            (None, Some(number), Some(hash)) => Some(Subject::Block { number, hash }),
            _ => None,
        }
    }
}

/// The anchor's description in a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnchorReport {
    /// Where the committee came from.
    #[serde(flatten)]
    pub source: AnchorSource,
    /// Whether anything other than the queried node vouches for it.
    pub verified: bool,
    /// The network.
    pub chain_id: u64,
    /// The epoch.
    pub epoch: u64,
    /// The committee's commitment.
    pub committee: B256,
    /// Number of members.
    pub members: usize,
}

impl From<&Anchor> for AnchorReport {
    fn from(anchor: &Anchor) -> Self {
        Self {
            source: anchor.source.clone(),
            verified: anchor.is_verified(),
            chain_id: anchor.chain_id.get(),
            epoch: anchor.epoch.get(),
            committee: anchor.committee.commitment_bytes(),
            members: anchor.committee.slots().len(),
        }
    }
}

/// `trestle confirm --json`'s output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Whether the subject is confirmed (under `anchor`; see its `verified`).
    pub confirmed: bool,
    /// Why not, when not confirmed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    /// The namespace asked about.
    pub namespace: u64,
    /// The transaction hash asked about, or found for the block record.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tx_hash: Option<B256>,
    /// The block asked about (block subjects).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub block: Option<BlockQuery>,
    /// The block record found (block subjects).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub block_record: Option<BlockRecordFields>,
    /// Height of the trestle block containing the transaction.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub height: Option<u64>,
    /// Its header.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub header: Option<HeaderResponse>,
    /// Height of the signed light-client state the proof goes up to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub state_height: Option<u64>,
    /// The proof (canonical encodings).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub proof: Option<Evidence>,
    /// The trust anchor.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub anchor: Option<AnchorReport>,
    /// Weight of the verified signatures / of the committee.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signed_weight: Option<String>,
    /// Heights scanned for the block record.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub searched: Option<Searched>,
    /// Time of the native verification ([`verify_confirmation`]), in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub verify_ms: Option<f64>,
}

/// The block a `--block` query names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockQuery {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
}

impl Report {
    fn new(namespace: Namespace, subject: &Subject) -> Self {
        let (tx_hash, block) = match *subject {
            Subject::Transaction { hash } => (Some(hash), None),
            Subject::Block { number, hash } => (None, Some(BlockQuery { number, hash })),
        };
        Self {
            confirmed: false,
            reason: None,
            namespace: namespace.get(),
            tx_hash,
            block,
            block_record: None,
            height: None,
            header: None,
            state_height: None,
            proof: None,
            anchor: None,
            signed_weight: None,
            searched: None,
            verify_ms: None,
        }
    }

    fn subject_text(&self) -> String {
        match (&self.block, &self.tx_hash) {
            (Some(block), _) => format!("block {} {}", block.number, block.hash),
            (None, Some(hash)) => format!("transaction {hash}"),
            (None, None) => "subject".to_owned(),
        }
    }

    /// The report as people read it.
    pub fn human(&self) -> String {
        let subject = self.subject_text();
        let mut out = String::new();
        if self.confirmed {
            out += &format!(
                "CONFIRMED: {subject} in namespace {} at trestle height {}\n",
                self.namespace,
                self.height.unwrap_or_default()
            );
            if let Some(tx_hash) = self.tx_hash {
                out += &format!("  transaction {tx_hash}\n");
            }
            if let Some(header) = &self.header {
                out += &format!("  header      {}\n", header.hash);
            }
            out += &format!(
                "  proof       transaction ∈ namespace ∈ payloadRoot; header ∈ history of the \
                 state at height {}; signed by {} of the committee's weight\n",
                self.state_height.unwrap_or_default(),
                self.signed_weight.as_deref().unwrap_or("?")
            );
            if let Some(ms) = self.verify_ms {
                out += &format!("  verified natively in {ms:.2} ms\n");
            }
        } else {
            out += &format!(
                "NOT CONFIRMED: {subject} in namespace {}: {}\n",
                self.namespace,
                self.reason.as_deref().unwrap_or("unknown reason")
            );
            if let Some(searched) = self.searched {
                out += &format!(
                    "  searched heights {}..={}\n",
                    searched.from_height, searched.to_height
                );
            }
        }
        if let Some(anchor) = &self.anchor {
            let source = match &anchor.source {
                AnchorSource::Genesis { path } => format!("genesis {}", path.display()),
                AnchorSource::Rpc { url } => format!(
                    "UNVERIFIED: the committee reported by {url} itself (pass --genesis to anchor it)"
                ),
            };
            out += &format!(
                "  anchor      chain {} epoch {}, committee {} ({} members) from {source}\n",
                anchor.chain_id, anchor.epoch, anchor.committee, anchor.members
            );
        }
        out
    }
}

/// Why `trestle confirm` could not give a verdict.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The arguments do not name one subject.
    #[error("give either --tx HASH or --block N --hash H")]
    Usage,
    /// The trust anchor could not be loaded.
    #[error(transparent)]
    Anchor(#[from] AnchorError),
    /// The RPC client could not be built (bad URL).
    #[error("--rpc {url}: {source}")]
    Client {
        /// The URL given.
        url: String,
        /// Why it was refused.
        source: jsonrpsee::core::client::Error,
    },
    /// The evidence could not be fetched.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The async runtime could not start.
    #[error("starting the runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// Runs `trestle confirm`: the report and its exit status ([`EXIT_CONFIRMED`],
/// [`EXIT_NOT_CONFIRMED`], [`EXIT_UNANCHORED`]).
pub fn run(args: &ConfirmArgs) -> Result<(Report, i32), CommandError> {
    let subject = args.subject().ok_or(CommandError::Usage)?;
    let namespace = Namespace(args.namespace);
    let genesis = args.genesis.clone().or_else(|| {
        let default = PathBuf::from(DEFAULT_GENESIS);
        default.exists().then_some(default)
    });
    let anchor = genesis.as_deref().map(Anchor::from_genesis).transpose()?;
    let options = FetchOptions {
        scan_depth: args.scan_depth,
        from_height: args.from_height,
        quorum_wait: Duration::from_secs(args.quorum_wait),
    };
    let client = HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(10))
        .build(&args.rpc)
        .map_err(|source| CommandError::Client { url: args.rpc.clone(), source })?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let fetched = runtime
        .block_on(fetch_evidence(&client, &args.rpc, namespace, &subject, anchor, &options))?;

    let mut report = Report::new(namespace, &subject);
    let (mut evidence, anchor, header) = match fetched {
        Fetched::NotFound { searched, anchor } => {
            report.reason = Some(match subject {
                Subject::Transaction { .. } => {
                    "the node knows no finalized transaction with this hash".to_owned()
                }
                Subject::Block { .. } => {
                    "no record of this block in the namespace in the heights searched".to_owned()
                }
            });
            report.searched = searched;
            report.anchor = anchor.as_ref().map(AnchorReport::from);
            return Ok((report, EXIT_NOT_CONFIRMED));
        }
        Fetched::Found(found) => {
            let Found { evidence, anchor, header, searched } = *found;
            report.searched = searched;
            (evidence, anchor, header)
        }
    };
    report.anchor = Some(AnchorReport::from(&anchor));
    report.height = Some(header.header.height.get());
    report.header = Some(header);

    // Verify only a minimal quorum (in slot order): that is all a confirmation needs, and it
    // keeps large committees fast. A gossiped signature may be invalid (a faulty validator):
    // drop it and retry with the next signers while the rest still carry a quorum.
    let mut candidates = std::mem::take(&mut evidence.signatures);
    evidence.signatures =
        minimal_quorum(&anchor.committee, &candidates).unwrap_or_else(|| candidates.clone());
    let started = Instant::now();
    let mut outcome = verify_confirmation(&evidence, namespace, &subject, &anchor);
    let mut verify_time = started.elapsed();
    while let Err(ConfirmError::Quorum(QuorumError::InvalidSignature { slot, .. })) = &outcome {
        let slot = *slot;
        candidates.retain(|s| s.slot != slot);
        let Some(quorum) = minimal_quorum(&anchor.committee, &candidates) else { break };
        evidence.signatures = quorum;
        let started = Instant::now();
        outcome = verify_confirmation(&evidence, namespace, &subject, &anchor);
        verify_time = started.elapsed();
    }
    report.verify_ms = Some(verify_time.as_secs_f64() * 1_000.0);
    let code = match outcome {
        Ok(verdict) => {
            report.confirmed = true;
            report.tx_hash = Some(verdict.tx_hash);
            report.block_record = verdict.block_record;
            report.state_height = Some(verdict.state.height.get());
            report.signed_weight =
                Some(format!("{}/{}", verdict.signed_weight, verdict.total_weight));
            if anchor.is_verified() || args.allow_unanchored {
                EXIT_CONFIRMED
            } else {
                EXIT_UNANCHORED
            }
        }
        Err(error) => {
            report.reason = Some(error.to_string());
            EXIT_NOT_CONFIRMED
        }
    };
    report.state_height = report.state_height.or_else(|| state_height(&evidence.state));
    report.proof = Some(evidence);
    Ok((report, code))
}

/// `trestle confirm` end to end: prints the report (JSON on stdout with `--json`, otherwise
/// text on stdout) or the error (stderr); returns the process exit status.
pub fn command(args: &ConfirmArgs) -> i32 {
    match run(args) {
        Ok((report, code)) => {
            let text = if args.json {
                match serde_json::to_string_pretty(&report) {
                    Ok(json) => json + "\n",
                    Err(error) => {
                        eprintln!("trestle confirm: cannot serialize the report: {error}");
                        return EXIT_ERROR;
                    }
                }
            } else {
                report.human()
            };
            // The report is this command's output.
            #[allow(clippy::print_stdout)]
            {
                print!("{text}");
            }
            code
        }
        Err(error) => {
            eprintln!("trestle confirm: {error}");
            EXIT_ERROR
        }
    }
}
