//! The prove loop: finalized light-client states → Groth16 proofs → `LightClient.update` on
//! every destination chain whose light client lags behind a height a pending message needs.
//!
//! One loop serves all destination chains, because proving is the expensive part and one proof
//! of a state is valid on every chain that follows the network: the loop proves the newest
//! finalized state that has a quorum of signatures and submits that same proof wherever it is
//! needed. `HeightNotIncreasing` means another relayer got there first, which is success.
//! (The network has a single epoch today; once epochs change, the last height of each epoch
//! must be proven before any later one, which `LightClient` enforces with
//! `EpochBoundarySkipped`.)

use std::{sync::Arc, time::Instant};

use alloy::primitives::U256;
use ark_ff::PrimeField as _;
use tracing::{debug, info, warn};
use trestle_circuits::{
    Prover,
    error::{ExportError, KeyFileError, ProveError},
    export::solidity::proof_calldata,
    setup::{INSECURE_DEV_ORIGIN, read_proving_key},
};
use trestle_light_client::LightClientState;
use trestle_node::rpc::fetch::{FetchError, SignedState, fetch_newest_quorum};

use crate::{
    bindings::LightClient,
    config::ProverConfig,
    evm::{EvmChain, EvmError},
    metrics::Metrics,
    network::{Network, NetworkError},
    store::{Store, StoreError},
};

/// How many heights below the newest finalized one the loop tries when the newest does not
/// have a quorum of signatures yet (signatures gossip after finality).
const QUORUM_LOOKBACK: u64 = 16;

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

/// A proven state, kept to submit to every chain that needs it.
#[derive(Clone, Debug)]
struct Proven {
    state: LightClient::LightClientState,
    height: u64,
    proof: [U256; 8],
}

/// The prove loop.
#[derive(Debug)]
pub struct ProveLoop {
    prover: Arc<Prover>,
    chains: Vec<EvmChain>,
    network: Network,
    store: Store,
    metrics: Metrics,
    last: Option<Proven>,
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
        Self { prover, chains, network, store, metrics, last: None }
    }

    /// Brings every lagging light client up to a newly proven state if a pending message
    /// needs it. Returns whether it submitted anything.
    pub async fn step(&mut self) -> Result<bool, ProvingError> {
        let finalized = self.network.finalized_height().await?;
        self.metrics.finalized_height(finalized);
        let pending = self.store.pending()?;
        self.metrics.pending_messages(pending.len());

        // Learn where pending messages were finalized.
        let mut needed_by_chain = std::collections::BTreeMap::<u64, u64>::new();
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

        let mut lagging = Vec::new();
        for chain in &self.chains {
            let Some(&needed) = needed_by_chain.get(&chain.config().chain_id) else { continue };
            let latest = chain
                .light_client()
                .latestHeight()
                .call()
                .await
                .map_err(|e| chain.contract_error(e))?;
            self.metrics.light_client_height(chain.name(), latest);
            if latest < needed {
                lagging.push((chain.clone(), latest, needed));
            }
        }
        let Some(lowest_needed) = lagging.iter().map(|(_, _, needed)| *needed).min() else {
            return Ok(false);
        };
        if finalized < lowest_needed {
            return Ok(false);
        }

        let Some(proven) = self.proven(finalized, lowest_needed).await? else {
            debug!(finalized, "no quorum of signatures yet; waiting");
            return Ok(false);
        };
        let mut submitted = false;
        for (chain, latest, needed) in lagging {
            if proven.height <= latest || proven.height < needed {
                continue;
            }
            let light_client = chain.light_client();
            let call = light_client.update(proven.state.clone(), proven.proof);
            match chain.send(call).await {
                Ok(receipt) => {
                    info!(
                        chain = chain.name(),
                        height = proven.height,
                        tx = %receipt.transaction_hash,
                        gas = receipt.gas_used,
                        "light client updated"
                    );
                    self.metrics.proof_submitted(chain.name());
                    submitted = true;
                }
                Err(e) => match e.revert::<LightClient::LightClientErrors>() {
                    Some(LightClient::LightClientErrors::HeightNotIncreasing(_)) => {
                        debug!(chain = chain.name(), "another relayer updated the light client");
                    }
                    _ => return Err(e.into()),
                },
            }
            self.store.set_proven_height(chain.name(), proven.height)?;
            self.metrics.light_client_height(chain.name(), proven.height);
        }
        Ok(submitted)
    }

    /// A proof of the newest state at or below `finalized` (and at least `lowest`) that has a
    /// quorum of signatures, reusing the last proof when it is that new already.
    async fn proven(
        &mut self,
        finalized: u64,
        lowest: u64,
    ) -> Result<Option<Proven>, ProvingError> {
        if let Some(last) = &self.last
            && last.height >= lowest
            && last.height + QUORUM_LOOKBACK >= finalized
        {
            return Ok(Some(last.clone()));
        }
        let floor = lowest.max(finalized.saturating_sub(QUORUM_LOOKBACK));
        let Some(signed) = fetch_newest_quorum(self.network.client(), finalized, floor).await?
        else {
            return Ok(None);
        };
        let proven = self.prove(signed).await?;
        self.last = Some(proven.clone());
        Ok(Some(proven))
    }

    async fn prove(&self, signed: SignedState) -> Result<Proven, ProvingError> {
        let height = signed.state.height.get();
        let chains: Vec<&str> = self.chains.iter().map(EvmChain::name).collect();
        info!(height, chains = ?chains, "proving height {height}…");
        let started = Instant::now();
        let prover = self.prover.clone();
        let state = signed.state.clone();
        let proof = tokio::task::spawn_blocking(move || {
            let mut rng = rand_core::OsRng;
            prover.prove(&signed.state, &signed.committee, &signed.signatures, &mut rng)
        })
        .await
        .map_err(|e| ProvingError::Task(e.to_string()))??;
        let seconds = started.elapsed().as_secs_f64();
        self.metrics.proved(seconds);
        info!(height, seconds, "proved height {height}");
        let calldata = proof_calldata(&proof)?.map(|fq| U256::from_limbs(fq.into_bigint().0));
        Ok(Proven { state: binding_state(&state), height, proof: calldata })
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
