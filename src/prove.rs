//! `trestle prove`: fetch a finalized light-client state and its signatures from a validator,
//! prove it with the light-client circuit, check the proof, write it as JSON.
//!
//! The output file is [`proof_document`]'s shape (what the forge proof fixture uses: state,
//! committee, signers, public inputs, `uint256[8]` calldata for `LightClient.update`) plus a
//! `proofBytes` (arkworks' compressed encoding, for Rust consumers) and a
//! `snarkjs` object with `proof.json` / `public.json` contents, so
//! `snarkjs groth16 verify verification_key.json public.json proof.json` can check it too.
//!
//! Proving keys are read from `--keys DIR`, the directory `trestle circuit setup` writes: the
//! file for the committee's capacity, `light-client-n{capacity}.pk`, or the INSECURE dev key
//! `light-client-n{capacity}.INSECURE-DEV.pk` (which is announced loudly: anyone can forge
//! proofs for it).

use std::{
    fs,
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::{Context, bail};
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};
use serde_json::{Map, Value};
use trestle_api::{
    TrestleApiClient as _,
    client::{DEFAULT_REQUEST_TIMEOUT, QUORUM_LOOKBACK, connect, fetch_state, newest_quorum},
};
use trestle_circuits::{
    Prover, Verifier,
    export::{snarkjs, solidity::proof_document},
    setup::{self, INSECURE_DEV_ORIGIN},
    verify::proof_to_bytes,
};
use trestle_light_client::select_quorum;

/// Which height to prove.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// This finalized height.
    Height(u64),
    /// The validator's latest finalized height (or the newest one below it whose signatures
    /// already form a quorum).
    Latest,
}

impl std::str::FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "latest" {
            return Ok(Self::Latest);
        }
        s.parse().map(Self::Height).map_err(|_| format!("{s:?} is neither a height nor `latest`"))
    }
}

/// The proving key for `capacity` in `dir`: a ceremony key if there is one, else the INSECURE
/// dev key.
pub fn proving_key_path(dir: &Path, capacity: usize) -> anyhow::Result<PathBuf> {
    let (ceremony, _) = setup::ceremony_key_paths(dir, capacity);
    if ceremony.exists() {
        return Ok(ceremony);
    }
    let (insecure, _) = setup::insecure_dev_key_paths(dir, capacity);
    if insecure.exists() {
        return Ok(insecure);
    }
    bail!(
        "no proving key for capacity {capacity} in {} (expected {} or {}; `trestle circuit \
         setup --capacity {capacity} --out {}` makes INSECURE dev keys)",
        dir.display(),
        ceremony.display(),
        insecure.display(),
        dir.display()
    )
}

/// Runs `trestle prove`: progress goes to stderr, the proof to `out`.
pub fn run(rpc: &str, target: Target, keys: &Path, out: &Path) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let client = connect(rpc, DEFAULT_REQUEST_TIMEOUT).context("--rpc")?;

    let started = Instant::now();
    eprintln!("fetching the signed light-client state from {rpc} ...");
    let reported = runtime.block_on(async {
        match target {
            Target::Height(height) => {
                fetch_state(&client, height).await.with_context(|| format!("height {height}"))
            }
            Target::Latest => {
                let latest = client.block_height().await.context("trestle_blockHeight")?;
                newest_quorum(&client, latest, 0, None).await?.with_context(|| {
                    format!(
                        "none of heights {}..={latest} has a quorum of signatures on this \
                         validator",
                        latest.saturating_sub(QUORUM_LOOKBACK)
                    )
                })
            }
        }
    })?;
    let state = &reported.state;
    let committee = &reported.committee;
    let quorum = select_quorum(committee, state, &reported.signatures).with_context(|| {
        format!(
            "the {} signatures the validator has on height {} are not a quorum (yet?)",
            reported.signatures.len(),
            state.height.get()
        )
    })?;
    let signed_weight = quorum.weight;
    eprintln!(
        "state: chain {} epoch {} height {} history root {}",
        state.chain_id.get(),
        state.epoch.get(),
        state.height.get(),
        state.history_root
    );
    eprintln!(
        "committee {} (capacity {}): a quorum of {} of {} members verified, weight \
         {signed_weight} of {} (checked natively in {:.1} s total so far)",
        committee.commitment_bytes(),
        committee.capacity(),
        quorum.signatures.len(),
        committee.slots().len(),
        committee.total_weight(),
        started.elapsed().as_secs_f64()
    );

    let key_path = proving_key_path(keys, committee.capacity())?;
    eprintln!("loading the proving key {} ...", key_path.display());
    let step = Instant::now();
    let key = setup::read_proving_key(&key_path, committee.capacity())
        .with_context(|| format!("reading {}", key_path.display()))?;
    if key.origin == INSECURE_DEV_ORIGIN {
        eprintln!(
            "WARNING: {} is an INSECURE dev key (public seed): its proofs convince nobody outside \
             a devnet.",
            key_path.display()
        );
    }
    let verifying_key = key.key.vk.clone();
    let prover = Prover::new(key.key, committee.capacity()).context("preparing the prover")?;
    eprintln!("proving key ready in {:.1} s; proving ...", step.elapsed().as_secs_f64());

    let step = Instant::now();
    // Groth16's r and s must be secret and fresh for the proof to hide the witness.
    let mut rng = ChaCha20Rng::from_rng(rand_core::OsRng).context("seeding the prover's RNG")?;
    let proof = prover
        .prove(state, committee, &quorum.signatures, &mut rng)
        .context("proving the light-client state")?;
    eprintln!("proved in {:.1} s", step.elapsed().as_secs_f64());

    // The prover already checked the proof against its key's verifying key; check it once more
    // the way a contract sees it: from the state and the committee commitment alone.
    let commitment = committee.commitment_bytes();
    Verifier::new(&verifying_key)?
        .verify(state, &commitment, &proof)
        .context("the proof does not verify")?;

    let signers: Vec<u32> = quorum.signatures.iter().map(|s| s.slot).collect();
    let Value::Object(mut document) =
        proof_document(committee.capacity(), state, &commitment, &signers, &proof)?
    else {
        bail!("proof document is not a JSON object");
    };
    let inputs = trestle_circuits::PublicInputs::new(state, &commitment)?;
    let mut snarkjs_files = Map::new();
    snarkjs_files.insert("proof".into(), snarkjs::proof(&proof)?);
    snarkjs_files.insert("public".into(), snarkjs::public(&inputs));
    document.insert(
        "proofBytes".into(),
        Value::String(format!("0x{}", hex::encode(proof_to_bytes(&proof)))),
    );
    document.insert("keyOrigin".into(), Value::String(key.origin));
    document.insert("snarkjs".into(), Value::Object(snarkjs_files));
    let text = serde_json::to_string_pretty(&Value::Object(document))? + "\n";
    fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "verified; wrote {} ({:.1} s in all)",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
