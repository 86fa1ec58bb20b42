//! The discovery loop: the messages the network finalized for this relayer's destinations →
//! the delivery queue. It reads the network only, so it needs no namespace owner's key: any
//! relayer with the deliver role finds every message, whoever posted it.
//!
//! Messages *from* a configured chain live in that chain's message namespace, one per
//! transaction, the payload being `abi.encode(Mailbox.Message)`. The loop follows the network's
//! finalized heights with one cursor for all source namespaces. Each step reads up to
//! [`MAX_HEIGHTS_PER_STEP`] heights from the cursor on, asking `trestle_namespaceProof(height,
//! namespace)` for every source namespace (at most [`MAX_REQUESTS_IN_FLIGHT`] requests at a
//! time): it returns just that namespace's transactions, however busy the rest of the network,
//! where `trestle_block` would carry every namespace's transactions, twice (fields and
//! encoding). Each payload is decoded strictly ([`classify`]): it must be the canonical
//! `abi.encode` of a message (so that `keccak256(payload)` is the hash the mailbox computes),
//! from the namespace's chain; a payload that is not is skipped (a debug log and
//! `relayer_discovery_skipped_total`), never an error that stops the loop. A message whose
//! `(destChainId, destMailbox)` is one of the configured chains' `(chain_id, mailbox)` is
//! queued; messages for other destinations are left to other relayers.
//!
//! The messages of the heights read are queued in the same store transaction that moves the
//! cursor past them ([`Store::record_discovered`]), so kill -9 at any point neither loses a
//! message nor queues one twice (queueing a message already pending or delivered is a no-op).
//! On a fresh store the cursor starts at the configuration's `discovery_start_height`, by
//! default 1, the first height after genesis: mailboxes receive each route in nonce order, so
//! a message missed would block its route for good, and reading the whole history is only
//! slower (the deliver loop drops at once what a mailbox received already).
//!
//! A height the node reports finalized but cannot serve (pruned by a retention policy) fails
//! the step with [`DiscoverError::Unavailable`], retried with backoff: point `network_rpc` at an
//! archival node, or start later with `discovery_start_height`.

use std::collections::BTreeMap;

use alloy_primitives::{Address, Bytes, keccak256};
use alloy_sol_types::SolValue as _;
use tokio::task::JoinSet;
use tracing::{debug, info};
use trestle_api::{NamespaceResponse, TrestleApiClient as _};
use trestle_light_client::{Namespace, Transaction};

use crate::{
    bindings::Mailbox,
    config::ChainConfig,
    metrics::Metrics,
    network::{Network, NetworkError},
    store::{PendingMessage, Store, StoreError},
};

/// Most network heights one step reads: a long history is read in slices, each committed with
/// its cursor, between which the other loops run.
pub const MAX_HEIGHTS_PER_STEP: u64 = 64;

/// Most requests to the network one step has in flight at once.
pub const MAX_REQUESTS_IN_FLIGHT: usize = 8;

/// Why a discovery step failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// The network failed to answer.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The node reports `height` finalized but does not serve its block (pruned, say):
    /// discovery cannot pass it without losing messages.
    #[error(
        "the network node has no block at height {height} (namespace {namespace}), which it \
         reports finalized: use an archival node, or set discovery_start_height past it"
    )]
    Unavailable {
        /// The height.
        height: u64,
        /// The namespace asked about.
        namespace: u64,
    },
    /// The node answered about another height or namespace than asked.
    #[error("asked for namespace {namespace} at height {height}, the node answered {answered}")]
    Mismatch {
        /// The height asked about.
        height: u64,
        /// The namespace asked about.
        namespace: u64,
        /// What the answer was about.
        answered: String,
    },
    /// A request task panicked or was cancelled.
    #[error("a network request task failed: {0}")]
    Task(String),
}

/// Why a transaction in a message namespace is not queued.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Skipped {
    /// The payload does not decode as `abi.encode(Message)`.
    #[error("the payload is not an ABI-encoded message: {0}")]
    Undecodable(String),
    /// The payload decodes, but is not the canonical encoding of what it decodes to: its hash
    /// is not the mailbox's hash of that message, so no mailbox accepts it.
    #[error("the payload is not the canonical encoding of its message")]
    NotCanonical,
    /// The message claims another source chain than the namespace's.
    #[error("the message claims source chain {claimed}, the namespace is chain {expected}'s")]
    WrongSource {
        /// `srcChainId` of the message.
        claimed: u64,
        /// The chain whose namespace it is in.
        expected: u64,
    },
    /// The message is for a destination this relayer does not serve: not an error, the
    /// message is another relayer's to deliver.
    #[error("the message is for mailbox {mailbox} on chain {chain_id}, not one of ours")]
    OtherDestination {
        /// `destChainId` of the message.
        chain_id: u64,
        /// `destMailbox` of the message.
        mailbox: Address,
    },
}

impl Skipped {
    /// Whether the transaction is not a valid message of its namespace at all (as opposed to
    /// a valid message for someone else).
    pub fn is_invalid(&self) -> bool {
        !matches!(self, Self::OtherDestination { .. })
    }
}

/// A source of messages: a configured chain's message namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The chain's configured name (logs, metrics).
    pub name: String,
    /// Its EVM chain id: the `srcChainId` of every message in the namespace.
    pub chain_id: u64,
    /// Its message namespace.
    pub namespace: u64,
}

/// Decides whether `payload`, a transaction of `source`'s message namespace finalized at
/// `height`, is a message this relayer delivers (its `(destChainId, destMailbox)` is one of
/// `destinations`), and if so returns it as a queue record.
pub fn classify(
    source: &Source,
    destinations: &[(u64, Address)],
    height: u64,
    payload: &Bytes,
) -> Result<PendingMessage, Skipped> {
    let message = Mailbox::Message::abi_decode_validate(payload)
        .map_err(|e| Skipped::Undecodable(e.to_string()))?;
    if message.abi_encode() != payload.as_ref() {
        return Err(Skipped::NotCanonical);
    }
    if message.srcChainId != source.chain_id {
        return Err(Skipped::WrongSource {
            claimed: message.srcChainId,
            expected: source.chain_id,
        });
    }
    if !destinations.contains(&(message.destChainId, message.destMailbox)) {
        return Err(Skipped::OtherDestination {
            chain_id: message.destChainId,
            mailbox: message.destMailbox,
        });
    }
    let transaction = Transaction::new(Namespace(source.namespace), payload.clone());
    Ok(PendingMessage {
        hash: keccak256(payload),
        src_chain_id: message.srcChainId,
        dest_chain_id: message.destChainId,
        namespace: source.namespace,
        tx_hash: transaction.hash(),
        included_height: Some(height),
        message: payload.clone(),
    })
}

/// The discovery loop (one per process, for every configured chain).
#[derive(Debug)]
pub struct Discoverer {
    network: Network,
    store: Store,
    metrics: Metrics,
    sources: Vec<Source>,
    destinations: Vec<(u64, Address)>,
    start_height: u64,
    /// Whether the start on a fresh store was logged (it is, once).
    announced: bool,
}

/// What a step found in the heights it read.
struct Findings {
    /// The messages to queue.
    messages: Vec<PendingMessage>,
    /// Messages found, per source.
    found: Vec<u64>,
    /// Invalid transactions skipped, per source.
    skipped: Vec<u64>,
}

impl Findings {
    fn new(sources: usize) -> Self {
        Self { messages: Vec::new(), found: vec![0; sources], skipped: vec![0; sources] }
    }
}

impl Discoverer {
    /// A discovery loop over the message namespaces of `chains`, for the destinations
    /// `chains` (each chain is both), starting at `start_height` on a fresh store.
    pub fn new(
        chains: &[ChainConfig],
        network: Network,
        store: Store,
        metrics: Metrics,
        start_height: u64,
    ) -> Self {
        let sources = chains
            .iter()
            .map(|c| Source {
                name: c.name.clone(),
                chain_id: c.chain_id,
                namespace: c.message_namespace,
            })
            .collect();
        let destinations = chains.iter().map(|c| (c.chain_id, c.mailbox)).collect();
        Self { network, store, metrics, sources, destinations, start_height, announced: false }
    }

    /// Reads the next finalized heights (at most [`MAX_HEIGHTS_PER_STEP`]) and queues the
    /// messages found there with the cursor past them. Returns whether the cursor moved.
    pub async fn step(&mut self) -> Result<bool, DiscoverError> {
        let finalized = self.network.finalized_height().await?;
        let first = match self.store.discovery_cursor()? {
            Some(next) => next,
            None => {
                if !self.announced {
                    info!(
                        start = self.start_height,
                        "no discovery cursor yet; reading the network"
                    );
                    self.announced = true;
                }
                self.start_height
            }
        };
        self.metrics.discovery_cursor(first);
        if first > finalized || self.sources.is_empty() {
            return Ok(false);
        }
        let last = finalized.min(first.saturating_add(MAX_HEIGHTS_PER_STEP - 1));
        let mut answers = self.fetch(first, last).await?;

        // The heights before the first one the node cannot serve are recorded; that one fails
        // the step if it is the first.
        let mut findings = Findings::new(self.sources.len());
        let mut next = first;
        let mut unavailable = None;
        for height in first..=last {
            let mut at_height = Vec::with_capacity(self.sources.len());
            for (index, source) in self.sources.iter().enumerate() {
                match answers.remove(&(height, index)).flatten() {
                    Some(answer) => at_height.push(answer),
                    None => {
                        unavailable.get_or_insert(DiscoverError::Unavailable {
                            height,
                            namespace: source.namespace,
                        });
                    }
                }
            }
            if unavailable.is_some() {
                break;
            }
            self.read_height(height, &at_height, &mut findings)?;
            next = height.saturating_add(1);
        }
        let moved = next > first;
        if moved {
            crate::faults::reach(crate::faults::CrashPoint::DiscoverBeforeRecord);
            let queued = self.store.record_discovered(next, &findings.messages)?;
            for (index, source) in self.sources.iter().enumerate() {
                self.metrics.discovered(
                    &source.name,
                    findings.found[index],
                    findings.skipped[index],
                );
            }
            self.metrics.discovery_cursor(next);
            if queued > 0 {
                info!(from = first, to = next - 1, queued, "queued messages found on the network");
            }
        }
        match unavailable {
            Some(e) if !moved => Err(e),
            _ => Ok(moved),
        }
    }

    /// Adds what the answers for `height` (one per source, in order) hold to `findings`.
    fn read_height(
        &self,
        height: u64,
        answers: &[NamespaceResponse],
        findings: &mut Findings,
    ) -> Result<(), DiscoverError> {
        for (index, (source, answer)) in self.sources.iter().zip(answers).enumerate() {
            check_answer(answer, height, source.namespace)?;
            for tx in &answer.transactions {
                if tx.namespace != source.namespace {
                    return Err(DiscoverError::Mismatch {
                        height,
                        namespace: source.namespace,
                        answered: format!("a transaction of namespace {}", tx.namespace),
                    });
                }
                match classify(source, &self.destinations, height, &tx.payload) {
                    Ok(message) => {
                        debug!(
                            source = %source.name,
                            height,
                            hash = %message.hash,
                            dest = message.dest_chain_id,
                            tx = %message.tx_hash,
                            "found a message"
                        );
                        findings.messages.push(message);
                        findings.found[index] += 1;
                    }
                    Err(skipped) if skipped.is_invalid() => {
                        debug!(source = %source.name, height, tx = %tx.hash, %skipped, "skipped");
                        findings.skipped[index] += 1;
                    }
                    Err(other) => {
                        debug!(source = %source.name, height, tx = %tx.hash, %other, "not ours");
                    }
                }
            }
        }
        Ok(())
    }

    /// Every source namespace's part of every height in `first..=last`, keyed by (height,
    /// source index), `None` where the node has no block.
    async fn fetch(
        &self,
        first: u64,
        last: u64,
    ) -> Result<BTreeMap<(u64, usize), Option<NamespaceResponse>>, DiscoverError> {
        let sources = self.sources.len();
        let mut wanted = (first..=last).flat_map(|height| (0..sources).map(move |i| (height, i)));
        let mut tasks = JoinSet::new();
        let mut answers = BTreeMap::new();
        loop {
            while tasks.len() < MAX_REQUESTS_IN_FLIGHT {
                let Some((height, index)) = wanted.next() else { break };
                let network = self.network.clone();
                let namespace = self.sources[index].namespace;
                tasks.spawn(async move {
                    let answer = network
                        .call(
                            |client| async move { client.namespace_proof(height, namespace).await },
                        )
                        .await;
                    (height, index, answer)
                });
            }
            let Some(joined) = tasks.join_next().await else { break };
            let (height, index, answer) = joined.map_err(|e| DiscoverError::Task(e.to_string()))?;
            answers.insert((height, index), answer.map_err(NetworkError::Rpc)?);
        }
        Ok(answers)
    }
}

/// Checks that `answer` is about `namespace` at `height`.
fn check_answer(
    answer: &NamespaceResponse,
    height: u64,
    namespace: u64,
) -> Result<(), DiscoverError> {
    let answered_height = answer.header.header.height.get();
    if answer.namespace != namespace || answered_height != height {
        return Err(DiscoverError::Mismatch {
            height,
            namespace,
            answered: format!("namespace {} at height {answered_height}", answer.namespace),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{U256, address};

    use super::*;

    const MAILBOX_B: Address = address!("0x00000000000000000000000000000000000000bb");
    const MAILBOX_C: Address = address!("0x00000000000000000000000000000000000000cc");

    fn source_a() -> Source {
        Source { name: "a".into(), chain_id: 31_337, namespace: 1_001 }
    }

    /// Our destinations: chain B's mailbox and chain C's.
    fn destinations() -> Vec<(u64, Address)> {
        vec![(31_338, MAILBOX_B), (31_339, MAILBOX_C)]
    }

    fn message(src: u64, dest: u64, mailbox: Address, nonce: u64) -> Mailbox::Message {
        Mailbox::Message {
            srcChainId: src,
            destChainId: dest,
            srcAddress: address!("0x1111111111111111111111111111111111111111"),
            destAddress: address!("0x2222222222222222222222222222222222222222"),
            sessionId: 7,
            nonce,
            destMailbox: mailbox,
            gasLimit: 200_000,
            payload: Bytes::from_static(b"hello"),
        }
    }

    fn encoded(message: &Mailbox::Message) -> Bytes {
        message.abi_encode().into()
    }

    #[test]
    fn a_message_for_one_of_our_mailboxes_is_queued_with_its_hashes() {
        let sent = message(31_337, 31_338, MAILBOX_B, 4);
        let payload = encoded(&sent);
        let queued = classify(&source_a(), &destinations(), 12, &payload).expect("ours");
        assert_eq!(queued.hash, keccak256(&payload));
        assert_eq!(queued.src_chain_id, 31_337);
        assert_eq!(queued.dest_chain_id, 31_338);
        assert_eq!(queued.namespace, 1_001);
        assert_eq!(queued.tx_hash, Transaction::new(Namespace(1_001), payload.clone()).hash());
        assert_eq!(queued.included_height, Some(12));
        assert_eq!(queued.message, payload);
        // The second destination is served too.
        let to_c = encoded(&message(31_337, 31_339, MAILBOX_C, 0));
        assert!(classify(&source_a(), &destinations(), 12, &to_c).is_ok());
    }

    #[test]
    fn a_message_for_another_mailbox_or_chain_is_not_queued() {
        let cases = [
            // B's chain, but a mailbox we do not serve there.
            (31_338, MAILBOX_C),
            // A chain we do not serve, with a mailbox address we do serve elsewhere.
            (1, MAILBOX_B),
            // B's mailbox named on C's chain.
            (31_339, MAILBOX_B),
        ];
        for (chain_id, mailbox) in cases {
            let payload = encoded(&message(31_337, chain_id, mailbox, 0));
            let skipped =
                classify(&source_a(), &destinations(), 3, &payload).expect_err("not ours");
            assert_eq!(skipped, Skipped::OtherDestination { chain_id, mailbox });
            assert!(!skipped.is_invalid(), "someone else's message is not an invalid one");
        }
    }

    #[test]
    fn a_message_claiming_another_source_is_skipped() {
        let payload = encoded(&message(31_338, 31_338, MAILBOX_B, 0));
        assert_eq!(
            classify(&source_a(), &destinations(), 3, &payload),
            Err(Skipped::WrongSource { claimed: 31_338, expected: 31_337 })
        );
    }

    #[test]
    fn garbage_and_non_canonical_payloads_are_skipped() {
        let valid = encoded(&message(31_337, 31_338, MAILBOX_B, 0));
        let garbage = [
            Bytes::new(),
            Bytes::from_static(b"not a message"),
            // Truncated.
            valid.slice(..valid.len() - 32),
            // A uint64 field with high bits set (strict validation refuses it).
            {
                let mut bytes = valid.to_vec();
                // Word 1 (after the head's offset word) is srcChainId.
                bytes[32 + 8] = 1;
                bytes.into()
            },
        ];
        for payload in garbage {
            let skipped = classify(&source_a(), &destinations(), 3, &payload).expect_err("garbage");
            assert!(matches!(skipped, Skipped::Undecodable(_)), "{payload}: {skipped:?}");
            assert!(skipped.is_invalid());
        }
        // Trailing bytes decode to the same message but hash differently: no mailbox would
        // accept the transaction's hash as the message's.
        let mut trailing = valid.to_vec();
        trailing.extend_from_slice(&U256::from(1).to_be_bytes::<32>());
        assert_eq!(
            classify(&source_a(), &destinations(), 3, &trailing.into()),
            Err(Skipped::NotCanonical)
        );
    }
}
