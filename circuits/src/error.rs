//! Errors of the circuit crate.
//!
//! Gadgets that add constraints return [`ark_relations::gr1cs::SynthesisError`] as every
//! arkworks gadget does; [`CircuitError`] covers what can go wrong in the gadgets *outside*
//! constraint synthesis: loading parameters, building constant tables, native point
//! arithmetic on invalid inputs. Each phase of the light-client circuit has its own error:
//! [`WitnessError`] (building the circuit), [`SetupError`], [`KeyFileError`], [`ProveError`],
//! [`VerifyError`] and [`ExportError`]; the ceremony has [`CeremonyError`] (exporting the
//! constraint system) and [`ZkeyError`] (importing its result).

use ark_relations::gr1cs::SynthesisError;
use trestle_light_client::committee::MAX_CAPACITY;

/// An error of the circuit crate outside constraint synthesis.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CircuitError {
    /// circomlib Poseidon parameters exist for 1 to 12 inputs only.
    #[error("unsupported Poseidon arity {inputs}: circomlib parameters exist for 1..=12 inputs")]
    UnsupportedPoseidonArity {
        /// The requested number of inputs.
        inputs: usize,
    },
    /// `light-poseidon` refused to produce parameters.
    #[error("light-poseidon parameters unavailable: {0}")]
    PoseidonParameters(String),
    /// A point is not on the Baby Jubjub curve `168700·x² + y² = 1 + 168696·x²·y²`.
    #[error("point is not on the Baby Jubjub curve")]
    NotOnCurve,
    /// A point that must be in the prime-order subgroup is not.
    #[error("point is not in the prime-order subgroup of Baby Jubjub")]
    NotInPrimeSubgroup,
    /// The identity has no image on the Montgomery form of Baby Jubjub.
    #[error("the identity has no affine Montgomery representation")]
    IdentityHasNoMontgomeryForm,
    /// A native point operation divided by zero (its inputs were not valid curve points or
    /// hit an exceptional case of an incomplete formula).
    #[error("degenerate point operation (division by zero)")]
    Degenerate,
    /// A torsion schedule violates the invariant that keeps incomplete additions exact.
    /// This is an internal invariant and indicates a bug.
    #[error("torsion schedule would allow an exceptional addition: {0}")]
    UnsafeTorsionSchedule(&'static str),
    /// Constraint synthesis failed.
    #[error("constraint synthesis failed: {0}")]
    Synthesis(#[from] SynthesisError),
}

/// Why public inputs could not be formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The committee commitment is not a canonical field element.
    #[error("committee commitment is not a field element: {0}")]
    Committee(trestle_light_client::field::FieldError),
    /// The state's `nextCommittee` is not a canonical field element.
    #[error("nextCommittee is not a field element: {0}")]
    NextCommittee(trestle_light_client::field::FieldError),
}

/// Why a circuit or its assignment could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessError {
    /// The capacity is zero or above [`MAX_CAPACITY`].
    #[error("capacity {0} is outside 1..={MAX_CAPACITY}")]
    Capacity(usize),
    /// The public inputs could not be formed.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A signature names a slot the committee does not have.
    #[error("slot {slot} is outside the committee of {members}")]
    UnknownSlot {
        /// The slot named.
        slot: u32,
        /// Committee size.
        members: usize,
    },
    /// Two signatures name the same slot.
    #[error("slot {0} signed twice")]
    DuplicateSlot(u32),
    /// Constraint synthesis failed.
    #[error("constraint synthesis failed: {0}")]
    Synthesis(#[from] SynthesisError),
}

/// Why a key file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// Reading or writing the file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file does not start with a trestle key header, or the header is malformed.
    #[error("key file {path}: bad header: {reason}")]
    Header {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The file holds another kind of key (a verifying key where a proving key was expected,
    /// or the reverse).
    #[error("key file {path}: holds a {found} key, expected a {expected} key")]
    WrongKind {
        /// The file.
        path: std::path::PathBuf,
        /// The kind in the header.
        found: String,
        /// The kind asked for.
        expected: &'static str,
    },
    /// The key is for another capacity than the caller asked for.
    #[error("key file {path}: key for capacity {found}, expected {expected}")]
    Capacity {
        /// The file.
        path: std::path::PathBuf,
        /// Capacity in the header.
        found: usize,
        /// Capacity asked for.
        expected: usize,
    },
    /// The key bytes are not a valid compressed key (bad encoding, point off the curve or
    /// outside its subgroup, trailing bytes, wrong number of public inputs).
    #[error("key file {path}: invalid key: {reason}")]
    Invalid {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Why Groth16 setup failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// The circuit could not be built for this capacity.
    #[error(transparent)]
    Circuit(#[from] WitnessError),
    /// Constraint synthesis or the setup itself failed.
    #[error("setup failed: {0}")]
    Synthesis(#[from] SynthesisError),
}

/// Why no proof was produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProveError {
    /// The committee's capacity is not the one the proving key was made for.
    #[error("committee capacity {committee} differs from the proving key's capacity {key}")]
    CapacityMismatch {
        /// The committee's capacity.
        committee: usize,
        /// The proving key's capacity.
        key: usize,
    },
    /// The proving key does not have one input point per public input plus one.
    #[error("proving key has {found} input points, expected {expected}")]
    KeyShape {
        /// Points in the key.
        found: usize,
        /// Points expected.
        expected: usize,
    },
    /// The signatures are not a valid quorum of the committee on the state (checked natively
    /// before any proving work).
    #[error("not a valid quorum: {0}")]
    Quorum(#[from] trestle_light_client::quorum::QuorumError),
    /// The witness could not be built.
    #[error(transparent)]
    Witness(#[from] WitnessError),
    /// Groth16 proving failed.
    #[error("proving failed: {0}")]
    Synthesis(#[from] SynthesisError),
    /// Witness synthesis allocated a different number of variables than the setup's blank
    /// circuit (a bug in the circuit, never a property of the input).
    #[error(
        "witness has {instance} instance and {witness} witness variables, the matrices {expected_instance} and {expected_witness}"
    )]
    WitnessShape {
        /// Instance variables allocated while proving.
        instance: usize,
        /// Witness variables allocated while proving.
        witness: usize,
        /// Instance variables of the matrices.
        expected_instance: usize,
        /// Witness variables of the matrices.
        expected_witness: usize,
    },
    /// The assignment does not satisfy the circuit (checked before proving in builds with
    /// debug assertions only).
    #[error("the witness does not satisfy the circuit")]
    Unsatisfied,
    /// The proof produced does not verify under the proving key's own verifying key (a
    /// proving key that does not match the circuit, or a bug).
    #[error("the proof produced does not verify (proving key does not match the circuit?)")]
    SelfCheck,
}

/// Why a proof was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The public inputs could not be formed from the state and committee.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The verifying key does not have one point per public input plus one.
    #[error("verifying key has {found} input points, expected {expected}")]
    KeyShape {
        /// Points in the key.
        found: usize,
        /// Points expected.
        expected: usize,
    },
    /// The proof bytes are not a valid compressed proof.
    #[error("malformed proof: {0}")]
    MalformedProof(String),
    /// The pairing check failed: the proof does not prove this statement.
    #[error("proof rejected")]
    Rejected,
}

/// Why an export could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Writing a file failed.
    #[error("writing {path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The verifying key has the wrong number of public-input points.
    #[error("verifying key has {found} input points, expected {expected}")]
    KeyShape {
        /// Points in the key.
        found: usize,
        /// Points expected.
        expected: usize,
    },
    /// A point is the identity (has no affine coordinates to export).
    #[error("cannot export the point at infinity")]
    Infinity,
    /// JSON serialization failed.
    #[error("json: {0}")]
    Json(String),
    /// The state or committee cannot be public inputs (a value is not a canonical field
    /// element).
    #[error("public inputs: {0}")]
    Inputs(#[from] InputError),
    /// Setup or proving for a fixture failed.
    #[error("{0}")]
    Fixture(String),
}

/// Why the constraint system could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum CeremonyError {
    /// Writing failed.
    #[error("writing the constraint system failed: {0}")]
    Io(#[from] std::io::Error),
    /// Deriving the circuit's matrices failed.
    #[error("deriving the constraint matrices failed: {0}")]
    Circuit(#[from] ProveError),
    /// A count does not fit the format's 32-bit fields.
    #[error("{count} {what} do not fit circom's 32-bit fields")]
    TooLarge {
        /// What was counted.
        what: &'static str,
        /// The count.
        count: usize,
    },
}

/// Why a snarkjs `.zkey` was refused.
#[derive(Debug, thiserror::Error)]
pub enum ZkeyError {
    /// Reading the file failed.
    #[error("reading the zkey failed: {0}")]
    Io(#[from] std::io::Error),
    /// The file does not start with `zkey`.
    #[error("not a zkey file")]
    NotZkey,
    /// An unknown zkey file version.
    #[error("zkey version {0} (only version 1 is known)")]
    Version(u32),
    /// A section ends before its contents (or the file before a section).
    #[error("zkey section {section} is truncated")]
    Truncated {
        /// The section (0: the file's section table).
        section: u32,
    },
    /// A section type outside 1..=10 (not a Groth16 key).
    #[error("unexpected zkey section {0}")]
    UnknownSection(u32),
    /// A section appears twice.
    #[error("zkey section {0} appears twice")]
    DuplicateSection(u32),
    /// A section is missing.
    #[error("zkey section {0} is missing")]
    MissingSection(u32),
    /// The key is not for Groth16 (snarkjs also writes PLONK and FFLONK keys).
    #[error("the zkey is not a Groth16 key")]
    NotGroth16,
    /// The key is not over BN254.
    #[error("the zkey is not over BN254")]
    NotBn254,
    /// A section's length or counts do not fit together.
    #[error("zkey section {section} is malformed: {reason}")]
    Malformed {
        /// The section.
        section: u32,
        /// What does not fit.
        reason: String,
    },
    /// A field element is not below its modulus.
    #[error("zkey section {section}, entry {index}: not a canonical field element")]
    Field {
        /// The section.
        section: u32,
        /// The entry.
        index: usize,
    },
    /// A point is not on the curve or not in the prime-order subgroup.
    #[error("zkey section {section}, point {index}: not a valid curve point")]
    Point {
        /// The section.
        section: u32,
        /// The point.
        index: usize,
    },
    /// Deriving our circuit's matrices to compare with failed.
    #[error("deriving the circuit to compare with failed: {0}")]
    Derive(#[from] ProveError),
    /// The key is for another circuit or capacity.
    #[error("the zkey is not for the light-client circuit of capacity {capacity}: {reason}")]
    OtherCircuit {
        /// The capacity the key was checked against.
        capacity: usize,
        /// The first difference found.
        reason: String,
    },
    /// The key's points do not fit together (`β₁`/`β₂`, `δ₁`/`δ₂`, or `δ₁` and the last
    /// contribution).
    #[error("the zkey is inconsistent: {0}")]
    Inconsistent(&'static str),
    /// Nobody contributed to phase 2: `δ` is the generator, known to everyone, and proofs of
    /// false statements are easy.
    #[error("the zkey has no phase-2 contribution (δ is public): run `snarkjs zkey contribute`")]
    NoContributions,
}
