//! The forge fixture of a committee rotation with real proofs
//! ([`ROTATION_FIXTURE_PATH`]): three committees of four members each in the devnet capacity
//! (A, B, C; each shares two members with the one before, as joins and leaves do), handing over
//! at the ends of epochs 0 and 1 of a chain with epochs of [`ROTATION_EPOCH_LENGTH`] heights.
//!
//! The light client starts at genesis state `G` (height 5, epoch 0, committee A). Updates, each a
//! Groth16 proof under the devnet's INSECURE dev key, in the order a relayer sends them:
//!
//! | update | height | epoch | signed by | names next |
//! | --- | --- | --- | --- | --- |
//! | `epoch0End` | 9 | 0 | A | B |
//! | `epoch1` | 14 | 1 | B | B |
//! | `epoch1End` | 19 | 1 | B | C |
//! | `epoch2` | 25 | 2 | C | C |
//!
//! and `oldCommitteeEpoch1`: a state of epoch 1 (height 12, naming B as it should) signed by A,
//! the committee that just handed over: what a retired committee could forge after the rotation.

use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};
use serde_json::{Value, json};
use trestle_light_client::{
    B256, Committee, LightClientState, SecretKey, StateSignature,
    primitives::{ChainId, Epoch, Height},
};

use super::{fixtures::fixture_key, snarkjs::to_text, solidity::proof_document};
use crate::{error::ExportError, prove::Prover, setup::CircuitKeys};

/// Where the rotation fixture lives, relative to the repository root.
pub const ROTATION_FIXTURE_PATH: &str = "solidity/test/fixtures/groth16/rotation.json";

/// Heights per epoch of the rotation fixture's chain.
pub const ROTATION_EPOCH_LENGTH: u64 = 10;

/// The rotation fixture's chain id.
const CHAIN_ID: u64 = 1337;

/// Seed of the RNG the rotation proofs are made with.
const ROTATION_PROVING_SEED: [u8; 32] = *b"trestle groth16 rotation proofs!";

/// A committee of the fixture: its members' keys (fixture keys `first..first + 4`).
struct Members {
    keys: Vec<SecretKey>,
    committee: Committee,
}

impl Members {
    fn new(first: usize, capacity: usize) -> Result<Self, ExportError> {
        let keys: Vec<SecretKey> = (first..first + 4).map(fixture_key).collect();
        let committee = Committee::equal_weight(keys.iter().map(|k| *k.public_key()), capacity)
            .map_err(|e| ExportError::Fixture(e.to_string()))?;
        Ok(Self { keys, committee })
    }

    fn commitment(&self) -> B256 {
        self.committee.commitment_bytes()
    }

    /// Signatures of slots 0, 1 and 3 (a quorum of 3 of 4, with a gap) on `state`.
    fn sign(&self, state: &LightClientState) -> Result<Vec<StateSignature>, ExportError> {
        let message = state.message().map_err(|e| ExportError::Fixture(e.to_string()))?;
        Ok([0usize, 1, 3]
            .into_iter()
            .map(|slot| StateSignature {
                slot: slot as u32,
                signature: self.keys[slot].sign(&message),
            })
            .collect())
    }
}

/// The fixture's state at `height` naming `next`: its history root is a pattern of the height.
fn state(height: u64, next: B256) -> LightClientState {
    let mut root = [0u8; 32];
    for (i, byte) in root.iter_mut().enumerate() {
        *byte = (height as u8).wrapping_mul(53).wrapping_add((i as u8).wrapping_mul(11));
    }
    LightClientState {
        chain_id: ChainId(CHAIN_ID),
        epoch: Epoch(height / ROTATION_EPOCH_LENGTH),
        height: Height(height),
        history_root: B256::from(root),
        next_committee: next,
    }
}

/// The rotation fixture (JSON text) for `keys`, the devnet's INSECURE dev keys.
pub fn rotation_fixture(keys: &CircuitKeys) -> Result<String, ExportError> {
    let capacity = keys.capacity;
    let [a, b, c] = [0, 2, 4].map(|first| Members::new(first, capacity));
    let (a, b, c) = (a?, b?, c?);
    let prover = Prover::new(keys.proving_key.clone(), capacity)
        .map_err(|e| ExportError::Fixture(e.to_string()))?;
    let mut rng = ChaCha20Rng::from_seed(ROTATION_PROVING_SEED);
    let mut prove = |name: &str, signers: &Members, state: LightClientState| {
        let signatures = signers.sign(&state)?;
        let proof = prover
            .prove(&state, &signers.committee, &signatures, &mut rng)
            .map_err(|e| ExportError::Fixture(format!("{name}: {e}")))?;
        let slots: Vec<u32> = signatures.iter().map(|s| s.slot).collect();
        let mut document = proof_document(capacity, &state, &signers.commitment(), &slots, &proof)?;
        document["name"] = Value::String(name.to_owned());
        Ok::<_, ExportError>(document)
    };
    let updates = vec![
        prove("epoch0End", &a, state(9, b.commitment()))?,
        prove("epoch1", &b, state(14, b.commitment()))?,
        prove("epoch1End", &b, state(19, c.commitment()))?,
        prove("epoch2", &c, state(25, c.commitment()))?,
    ];
    let old_committee = prove("oldCommitteeEpoch1", &a, state(12, b.commitment()))?;
    let genesis = state(5, a.commitment());
    let document = json!({
        "comment": format!(
            "A committee rotation (A -> B -> C) with Groth16 proofs of the light-client circuit \
             (capacity {capacity}) under the INSECURE dev setup key of \
             solidity/src/generated/LightClientVerifier.sol. Generated by trestle-circuits \
             (export::rotation); do not edit."
        ),
        "capacity": capacity,
        "epochLength": ROTATION_EPOCH_LENGTH,
        "committees": [a.commitment().to_string(), b.commitment().to_string(), c.commitment().to_string()],
        "genesis": {
            "chainId": CHAIN_ID,
            "epoch": genesis.epoch.get(),
            "height": genesis.height.get(),
            "historyRoot": genesis.history_root.to_string(),
            "nextCommittee": genesis.next_committee.to_string(),
        },
        "updates": updates,
        "oldCommitteeEpoch1": old_committee,
    });
    to_text(&document)
}
