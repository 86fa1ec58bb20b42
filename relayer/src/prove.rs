//! The prove loop: finalized light-client states → Groth16 proofs → `LightClient.update` on
//! every destination chain whose light client lags behind a height a pending message needs, and
//! on every destination chain as soon as an epoch's last height above its light client is
//! finalized.
//!
//! One loop serves all destination chains, because proving is the expensive part and one proof
//! of a state is valid on every chain that follows the network. Each step decides, per chain,
//! what its light client needs next ([`next_need`], pure and unit-tested) and proves each
//! distinct height once:
//! - `LightClient` accepts a state of the next epoch only after the last height of the current
//!   one (it refuses a skip with `EpochBoundarySkipped`), so while an epoch's last height above a
//!   light client is finalized, that exact height is proven (from its signatures, which
//!   validators keep forever) and submitted, whether or not a message is waiting. A light client
//!   that is several epochs behind climbs one epoch end per step; one that is idle never falls
//!   more than one epoch behind.
//! - Otherwise, when a pending message needs a height the light client lacks, the loop proves
//!   the newest finalized state that has a quorum of signatures and submits that same proof to
//!   every chain that needs it (the common case: today's networks have one unbounded epoch).
//!
//! `HeightNotIncreasing` means another relayer got there first, which is success;
//! `EpochBoundarySkipped` means the loop's view of a light client was wrong (a reorg undid an
//! update, say) and is a [`ProvingError`], retried after a fresh read.

use std::{collections::BTreeMap, num::NonZeroU64, sync::Arc, time::Instant};

use alloy::primitives::U256;
use ark_ff::PrimeField as _;
use tracing::{debug, info, warn};
use trestle_api::client::{FetchError, QUORUM_LOOKBACK, ReportedState, fetch_state, newest_quorum};
use trestle_circuits::{
    Prover,
    error::{ExportError, KeyFileError, ProveError},
    export::solidity::proof_calldata,
    setup::{INSECURE_DEV_ORIGIN, read_proving_key},
};
use trestle_light_client::{Height, LightClientState, epoch, select_quorum};

use crate::{
    bindings::LightClient,
    config::ProverConfig,
    evm::{EvmChain, EvmError},
    metrics::Metrics,
    network::{Network, NetworkError},
    store::{Store, StoreError},
};

/// Why the prove loop could not start or a step failed (steps are retried).
#[derive(Debug, thiserror::Error)]
pub enum ProvingError {
    /// The proving key could not be read.
    #[error("proving key: {0}")]
    Key(#[from] KeyFileError),
    /// The prover refused the key or failed to prove.
    #[error("prover: {0}")]
    Prove(#[from] ProveError),
    /// The proof could not be turned into calldata.
    #[error("proof export: {0}")]
    Export(#[from] ExportError),
    /// The proving task panicked or was cancelled.
    #[error("proving task: {0}")]
    Task(String),
    /// Fetching the signed state failed.
    #[error("fetching the signed state: {0}")]
    Fetch(#[from] FetchError),
    /// The network failed to answer.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// A destination chain failed.
    #[error(transparent)]
    Evm(#[from] EvmError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The configured light client reports an epoch length of zero, which `LightClient` refuses
    /// at deployment: the address is not a trestle light client.
    #[error("{chain}: the light client reports an epoch length of 0; is it a trestle LightClient?")]
    ZeroEpochLength {
        /// The chain.
        chain: String,
    },
    /// A light client refused a state for skipping an epoch's last height, although the loop
    /// had read the light client's height just before: its view was stale (a reorg undid an
    /// update, say) or the light client follows other epochs than the network's.
    #[error(
        "{chain}: the light client refused height {height} (its height read as {latest}, epoch \
         length {epoch_length}): the last height {last_height} of epoch {epoch} must come first"
    )]
    EpochBoundarySkipped {
        /// The chain.
        chain: String,
        /// The height submitted.
        height: u64,
        /// The light client's height as the loop read it.
        latest: u64,
        /// The light client's epoch length.
        epoch_length: NonZeroU64,
        /// The epoch whose last height the light client wants first.
        epoch: u64,
        /// That epoch's last height.
        last_height: u64,
    },
}

/// Reads the proving key of `config` and builds a prover (blocking: the key can be large).
pub fn load_prover(config: &ProverConfig) -> Result<Prover, ProvingError> {
    let path = config.proving_key_path();
    let file = read_proving_key(&path, config.capacity)?;
    if file.origin == INSECURE_DEV_ORIGIN {
        warn!(
            path = %path.display(),
            "using the INSECURE dev proving key: its proofs convince only devnets"
        );
    }
    Ok(Prover::new(file.key, config.capacity)?)
}

/// [`epoch::next_target`] over the loop's plain heights.
fn next_target(latest: u64, epoch_length: NonZeroU64, wanted: u64) -> Option<u64> {
    epoch::next_target(Height(latest), epoch_length, Height(wanted)).map(Height::get)
}

/// What a destination's light client needs proven next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Need {
    /// Exactly this height: the last of an epoch, finalized, which the light client must
    /// accept before any later height.
    EpochEnd(u64),
    /// The newest finalized state with a quorum, at this height or above (a pending message
    /// was finalized here). Every finalized height above the light client is within its reach.
    Newest {
        /// The lowest height that serves the pending messages.
        at_least: u64,
    },
}

/// What a light client at `latest` (epochs of `epoch_length`) needs next, given the highest
/// height a pending message to its chain was finalized at (if any) and the network's
/// `finalized` height; `None` when nothing can or need be proven for it now.
///
/// A finalized epoch end within reach is always the answer, message or not, so that light
/// clients keep up with committee changes; a message's height is only served once the light
/// client has reached the network's current epoch.
fn next_need(
    latest: u64,
    epoch_length: NonZeroU64,
    message_height: Option<u64>,
    finalized: u64,
) -> Option<Need> {
    let reachable = next_target(latest, epoch_length, finalized)?;
    if epoch::is_last(Height(reachable), epoch_length) {
        return Some(Need::EpochEnd(reachable));
    }
    // Here reachable == finalized: every height in (latest, finalized] can come next.
    message_height
        .filter(|&height| latest < height && height <= finalized)
        .map(|at_least| Need::Newest { at_least })
}

/// A destination chain waiting for a proof: its index in the loop's chains, its light
/// client's height when the step read it, and its epoch length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Waiting {
    index: usize,
    latest: u64,
    epoch_length: NonZeroU64,
}

/// Which proofs one step makes and where it submits them.
#[derive(Debug, Default, PartialEq, Eq)]
struct Plan {
    /// Each epoch end to prove exactly, lowest first, with the chains that need it.
    epoch_ends: BTreeMap<u64, Vec<Waiting>>,
    /// The chains that take the newest state with a quorum, each with the lowest height that
    /// serves its messages.
    newest: Vec<(Waiting, u64)>,
}

impl Plan {
    /// Groups the chains' needs so that each distinct proof is made once.
    fn new(needs: impl IntoIterator<Item = (Waiting, Need)>) -> Self {
        let mut plan = Self::default();
        for (waiting, need) in needs {
            match need {
                Need::EpochEnd(height) => plan.epoch_ends.entry(height).or_default().push(waiting),
                Need::Newest { at_least } => plan.newest.push((waiting, at_least)),
            }
        }
        plan
    }

    /// The lowest height a newest-state proof must have to serve any chain, if any wants one.
    fn lowest_newest(&self) -> Option<u64> {
        self.newest.iter().map(|&(_, at_least)| at_least).min()
    }
}

/// A proven state, kept to submit to every chain that needs it.
#[derive(Clone, Debug)]
struct Proven {
    state: LightClient::LightClientState,
    height: u64,
    proof: [U256; 8],
}

/// A destination chain and what the loop remembers about its light client.
#[derive(Debug)]
struct Destination {
    chain: EvmChain,
    /// `LightClient.epochLength()`, read once: it is immutable.
    epoch_length: Option<NonZeroU64>,
    /// The light client's height at the last read. Heights only grow (short of a reorg), so a
    /// chain with no pending message is read again only once an epoch end above this one is
    /// finalized.
    latest_read: Option<u64>,
}

/// The prove loop.
#[derive(Debug)]
pub struct ProveLoop {
    prover: Arc<Prover>,
    destinations: Vec<Destination>,
    network: Network,
    store: Store,
    metrics: Metrics,
    /// The last newest-state proof, reused while it is new enough.
    newest: Option<Proven>,
    /// Proofs of the epoch ends the last step planned, kept while a send is retried.
    epoch_end_proofs: BTreeMap<u64, Proven>,
}

impl ProveLoop {
    /// A prove loop for the destination `chains`.
    pub fn new(
        prover: Arc<Prover>,
        chains: Vec<EvmChain>,
        network: Network,
        store: Store,
        metrics: Metrics,
    ) -> Self {
        let destinations = chains
            .into_iter()
            .map(|chain| Destination { chain, epoch_length: None, latest_read: None })
            .collect();
        Self {
            prover,
            destinations,
            network,
            store,
            metrics,
            newest: None,
            epoch_end_proofs: BTreeMap::new(),
        }
    }

    /// Brings every light client that needs it to a newly proven state: the next epoch end
    /// above it, or a height a pending message needs. Returns whether it submitted anything.
    ///
    /// A chain that fails (a read, a submission) does not keep the others waiting: the step
    /// tries them all and then returns the first error (the others are logged).
    pub async fn step(&mut self) -> Result<bool, ProvingError> {
        let finalized = self.network.finalized_height().await?;
        self.metrics.finalized_height(finalized);
        let pending = self.store.pending()?;
        self.metrics.pending_messages(pending.len());

        // Learn where pending messages were finalized.
        let mut needed_by_chain = BTreeMap::<u64, u64>::new();
        for message in pending {
            let height = match message.included_height {
                Some(height) => height,
                None => match self.network.inclusion_height(message.tx_hash).await? {
                    Some(height) => {
                        self.store.set_included_height(message.hash, height)?;
                        height
                    }
                    None => continue,
                },
            };
            let needed = needed_by_chain.entry(message.dest_chain_id).or_default();
            *needed = (*needed).max(height);
        }

        // A chain that cannot be read does not keep the others waiting.
        let mut outcome = Outcome::default();
        let mut needs = Vec::new();
        for index in 0..self.destinations.len() {
            let chain_id = self.destinations[index].chain.config().chain_id;
            let message_height = needed_by_chain.get(&chain_id).copied();
            match self.read_need(index, message_height, finalized).await {
                Ok(Some(need)) => needs.push(need),
                Ok(None) => {}
                Err(e) => outcome.record(Err(e)),
            }
        }
        let plan = Plan::new(needs);
        self.epoch_end_proofs.retain(|height, _| plan.epoch_ends.contains_key(height));

        for (&height, waiting) in &plan.epoch_ends {
            let Some(proven) = self.proven_epoch_end(height).await? else {
                debug!(height, "the epoch end has no quorum of signatures yet; waiting");
                continue;
            };
            for &waiting in waiting {
                outcome.record(self.submit(waiting, &proven).await);
            }
        }
        if let Some(lowest) = plan.lowest_newest() {
            match self.proven_newest(finalized, lowest).await? {
                Some(proven) => {
                    for &(waiting, at_least) in &plan.newest {
                        // A chain that needs more than this proof waits for a newer one.
                        if proven.height >= at_least {
                            outcome.record(self.submit(waiting, &proven).await);
                        }
                    }
                }
                None => debug!(finalized, "no quorum of signatures yet; waiting"),
            }
        }
        outcome.finish()
    }

    /// What destination `index`'s light client needs next (see [`next_need`]), reading its
    /// height only when that can matter.
    async fn read_need(
        &mut self,
        index: usize,
        message_height: Option<u64>,
        finalized: u64,
    ) -> Result<Option<(Waiting, Need)>, ProvingError> {
        let epoch_length = self.epoch_length(index).await?;
        // Without a pending message only an epoch end matters, and if none is finalized above
        // the height last read, none is above the current one either.
        let worth_reading = message_height.is_some()
            || self.destinations[index].latest_read.is_none_or(|latest| {
                matches!(next_need(latest, epoch_length, None, finalized), Some(Need::EpochEnd(_)))
            });
        if !worth_reading {
            return Ok(None);
        }
        let latest = self.light_client_height(index).await?;
        Ok(next_need(latest, epoch_length, message_height, finalized)
            .map(|need| (Waiting { index, latest, epoch_length }, need)))
    }

    /// The epoch length of destination `index`'s light client, read on first use.
    async fn epoch_length(&mut self, index: usize) -> Result<NonZeroU64, ProvingError> {
        let destination = &mut self.destinations[index];
        if let Some(length) = destination.epoch_length {
            return Ok(length);
        }
        let chain = &destination.chain;
        let length =
            chain.light_client().epochLength().call().await.map_err(|e| chain.contract_error(e))?;
        let length = NonZeroU64::new(length)
            .ok_or_else(|| ProvingError::ZeroEpochLength { chain: chain.name().to_owned() })?;
        destination.epoch_length = Some(length);
        Ok(length)
    }

    /// Reads the height of destination `index`'s light client.
    async fn light_client_height(&mut self, index: usize) -> Result<u64, ProvingError> {
        let destination = &mut self.destinations[index];
        let chain = &destination.chain;
        let latest = chain
            .light_client()
            .latestHeight()
            .call()
            .await
            .map_err(|e| chain.contract_error(e))?;
        self.metrics.light_client_height(chain.name(), latest);
        destination.latest_read = Some(latest);
        Ok(latest)
    }

    /// Submits `proven` to the `waiting` chain unless its light client cannot take it next.
    /// Returns whether a transaction updated the light client.
    async fn submit(&self, waiting: Waiting, proven: &Proven) -> Result<bool, ProvingError> {
        let chain = &self.destinations[waiting.index].chain;
        let Waiting { latest, epoch_length, .. } = waiting;
        if next_target(latest, epoch_length, proven.height) != Some(proven.height) {
            // The plan never asks for this; a stale newest-state proof could.
            debug!(
                chain = chain.name(),
                height = proven.height,
                latest,
                "the light client cannot take this height next; skipped"
            );
            return Ok(false);
        }
        let light_client = chain.light_client();
        let call = light_client.update(proven.state.clone(), proven.proof);
        let updated = match chain.send(call).await {
            Ok(receipt) => {
                info!(
                    chain = chain.name(),
                    height = proven.height,
                    tx = %receipt.transaction_hash,
                    gas = receipt.gas_used,
                    "light client updated"
                );
                self.metrics.proof_submitted(chain.name());
                true
            }
            Err(e) => match e.revert::<LightClient::LightClientErrors>() {
                Some(LightClient::LightClientErrors::HeightNotIncreasing(_)) => {
                    debug!(chain = chain.name(), "another relayer updated the light client");
                    false
                }
                Some(LightClient::LightClientErrors::EpochBoundarySkipped(skipped)) => {
                    return Err(ProvingError::EpochBoundarySkipped {
                        chain: chain.name().to_owned(),
                        height: proven.height,
                        latest,
                        epoch_length,
                        epoch: skipped.epoch,
                        last_height: skipped.lastHeight,
                    });
                }
                _ => return Err(e.into()),
            },
        };
        if updated {
            crate::faults::reach(crate::faults::CrashPoint::ProveAfterUpdate);
        }
        self.store.set_proven_height(chain.name(), proven.height)?;
        self.metrics.light_client_height(chain.name(), proven.height);
        Ok(updated)
    }

    /// A proof of the epoch end at `height` exactly, or `None` while its signatures do not
    /// form a quorum yet.
    async fn proven_epoch_end(&mut self, height: u64) -> Result<Option<Proven>, ProvingError> {
        if let Some(proven) = self.epoch_end_proofs.get(&height) {
            return Ok(Some(proven.clone()));
        }
        if let Some(newest) = self.newest.as_ref().filter(|newest| newest.height == height) {
            return Ok(Some(newest.clone()));
        }
        let reported =
            self.network.call(|client| async move { fetch_state(&client, height).await }).await?;
        let Some(proven) = self.prove(reported).await? else { return Ok(None) };
        self.epoch_end_proofs.insert(height, proven.clone());
        Ok(Some(proven))
    }

    /// A proof of the newest state at or below `finalized` (and at least `lowest`) that has a
    /// quorum of signatures, reusing the last proof when it is that new already.
    async fn proven_newest(
        &mut self,
        finalized: u64,
        lowest: u64,
    ) -> Result<Option<Proven>, ProvingError> {
        if let Some(last) = &self.newest
            && last.height >= lowest
            && last.height.saturating_add(QUORUM_LOOKBACK) >= finalized
        {
            return Ok(Some(last.clone()));
        }
        let Some(reported) = self
            .network
            .call(|client| async move { newest_quorum(&client, finalized, lowest, None).await })
            .await?
        else {
            return Ok(None);
        };
        let Some(proven) = self.prove(reported).await? else { return Ok(None) };
        self.newest = Some(proven.clone());
        Ok(Some(proven))
    }

    /// Proves `reported` with a verified quorum of its signatures, or `None` when its valid
    /// signatures do not form one (yet).
    async fn prove(&self, reported: ReportedState) -> Result<Option<Proven>, ProvingError> {
        let ReportedState { state, committee, signatures } = reported;
        let Ok(quorum) = select_quorum(&committee, &state, &signatures) else {
            return Ok(None);
        };
        let height = state.height.get();
        let chains: Vec<&str> = self.destinations.iter().map(|d| d.chain.name()).collect();
        info!(height, chains = ?chains, "proving height {height}…");
        let started = Instant::now();
        let prover = self.prover.clone();
        let signed = state.clone();
        let proof = tokio::task::spawn_blocking(move || {
            let mut rng = rand_core::OsRng;
            prover.prove(&signed, &committee, &quorum.signatures, &mut rng)
        })
        .await
        .map_err(|e| ProvingError::Task(e.to_string()))??;
        let seconds = started.elapsed().as_secs_f64();
        self.metrics.proved(seconds);
        info!(height, seconds, "proved height {height}");
        let calldata = proof_calldata(&proof)?.map(|fq| U256::from_limbs(fq.into_bigint().0));
        Ok(Some(Proven { state: binding_state(&state), height, proof: calldata }))
    }
}

/// What a step's submissions came to: whether any updated a light client, and the first
/// failure (later ones are logged as they happen).
#[derive(Debug, Default)]
struct Outcome {
    submitted: bool,
    first_error: Option<ProvingError>,
}

impl Outcome {
    fn record(&mut self, result: Result<bool, ProvingError>) {
        match result {
            Ok(updated) => self.submitted |= updated,
            Err(e) if self.first_error.is_none() => self.first_error = Some(e),
            Err(e) => warn!(error = %e, "submitting a proof failed"),
        }
    }

    fn finish(self) -> Result<bool, ProvingError> {
        match self.first_error {
            Some(e) => Err(e),
            None => Ok(self.submitted),
        }
    }
}

/// The light-client state as the binding's struct (the same fields in the same order).
fn binding_state(state: &LightClientState) -> LightClient::LightClientState {
    LightClient::LightClientState {
        chainId: state.chain_id.0,
        epoch: state.epoch.0,
        height: state.height.0,
        historyRoot: state.history_root,
        nextCommittee: state.next_committee,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(length: u64) -> NonZeroU64 {
        NonZeroU64::new(length).expect("non-zero")
    }

    /// Whether `LightClient` accepts `height` after `latest` (the kernel's model of its rule).
    fn light_client_accepts(latest: u64, height: u64, epoch_length: NonZeroU64) -> bool {
        epoch::accepts(Height(latest), Height(height), epoch_length)
    }

    #[test]
    fn next_need_prefers_a_finalized_epoch_end_message_or_not() {
        // An epoch end is finalized above the light client: exactly it, even with no message.
        assert_eq!(next_need(3, l(10), None, 30), Some(Need::EpochEnd(9)));
        assert_eq!(next_need(3, l(10), Some(5), 30), Some(Need::EpochEnd(9)));
        assert_eq!(next_need(9, l(10), Some(25), 30), Some(Need::EpochEnd(19)));
        assert_eq!(next_need(27, l(10), None, 29), Some(Need::EpochEnd(29)));
        // In the network's current epoch: the newest state, if a message needs one.
        assert_eq!(next_need(19, l(10), Some(25), 27), Some(Need::Newest { at_least: 25 }));
        assert_eq!(next_need(19, l(10), None, 27), None);
        // Nothing provable yet, or nothing needed.
        assert_eq!(next_need(19, l(10), Some(28), 27), None);
        assert_eq!(next_need(25, l(10), Some(25), 27), None);
        assert_eq!(next_need(30, l(10), Some(25), 27), None);
        // One unbounded epoch: as before epochs, messages alone decide.
        assert_eq!(next_need(3, l(u64::MAX), Some(8), 12), Some(Need::Newest { at_least: 8 }));
        assert_eq!(next_need(3, l(u64::MAX), None, 12), None);
        assert_eq!(next_need(u64::MAX, l(u64::MAX), Some(u64::MAX), u64::MAX), None);
    }

    /// Checks `next_need`'s answer for one case against the light client's rule.
    fn check_need(latest: u64, epoch_length: NonZeroU64, message: Option<u64>, finalized: u64) {
        let context = format!("latest {latest}, L {epoch_length}, {message:?}, {finalized}");
        match next_need(latest, epoch_length, message, finalized) {
            Some(Need::EpochEnd(height)) => {
                assert!(epoch::is_last(Height(height), epoch_length), "{context}");
                assert!(height <= finalized, "{context}");
                assert!(light_client_accepts(latest, height, epoch_length), "{context}");
            }
            Some(Need::Newest { at_least }) => {
                assert_eq!(Some(at_least), message, "{context}");
                // Every candidate, from the message's height to the newest finalized one.
                for height in [at_least, finalized] {
                    assert!(light_client_accepts(latest, height, epoch_length), "{context}");
                }
            }
            None => assert!(
                message.is_none_or(|height| height <= latest || height > finalized),
                "{context}: a message waits"
            ),
        }
    }

    #[test]
    fn next_need_never_asks_for_an_unacceptable_or_unfinalized_height() {
        for length in 1..=8 {
            for latest in 0..=30 {
                for finalized in 0..=30 {
                    check_need(latest, l(length), None, finalized);
                    for message in 0..=30 {
                        check_need(latest, l(length), Some(message), finalized);
                    }
                }
            }
        }
        let extremes = [0, 1, u64::MAX - 2, u64::MAX - 1, u64::MAX];
        for length in [1, 2, u64::MAX - 1, u64::MAX] {
            for latest in extremes {
                for finalized in extremes {
                    for message in extremes.map(Some).into_iter().chain([None]) {
                        check_need(latest, l(length), message, finalized);
                    }
                }
            }
        }
    }

    #[test]
    fn plan_proves_each_height_once_for_the_chains_that_need_it() {
        // (latest, epoch length, highest pending message) per chain; finalized is 30.
        let chains = [
            (5, 10, Some(25)),      // 0: two epochs behind → 9
            (9, 10, Some(25)),      // 1: at an epoch end → the next one, 19
            (21, 10, Some(25)),     // 2: in the last epoch → its end, 29, first
            (5, 10, None),          // 3: idle but behind → 9, with chain 0's proof
            (25, 10, None),         // 4: idle → 29, with chain 2's proof
            (3, u64::MAX, Some(8)), // 5: one unbounded epoch → the newest, at least 8
            (3, u64::MAX, None),    // 6: idle, nothing to do
            (29, 10, Some(30)),     // 7: in the network's epoch → the newest, at least 30
            (30, 10, Some(30)),     // 8: up to date
        ];
        let finalized = 30;
        let plan = Plan::new(chains.iter().enumerate().filter_map(
            |(index, &(latest, epoch_length, message))| {
                let need = next_need(latest, l(epoch_length), message, finalized)?;
                Some((Waiting { index, latest, epoch_length: l(epoch_length) }, need))
            },
        ));
        let waiting = |index: usize| {
            let (latest, epoch_length, _) = chains[index];
            Waiting { index, latest, epoch_length: l(epoch_length) }
        };
        assert_eq!(
            plan.epoch_ends,
            BTreeMap::from([
                (9, vec![waiting(0), waiting(3)]),
                (19, vec![waiting(1)]),
                (29, vec![waiting(2), waiting(4)]),
            ])
        );
        assert_eq!(plan.newest, vec![(waiting(5), 8), (waiting(7), 30)]);
        assert_eq!(plan.lowest_newest(), Some(8));
    }
}
