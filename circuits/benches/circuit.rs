//! Light-client circuit benchmark: setup, proving and verification for one capacity.
//!
//! ```text
//! cargo bench -p trestle-circuits --bench circuit -- --capacity 50
//! ```
//!
//! Prints one JSON line: `capacity`, `constraints`, `constraints_per_slot` (total / capacity),
//! `setup_s` (INSECURE dev setup), `prover_init_s` (once per process: the constraint matrices
//! derived from the blank circuit), `prove_s` (native quorum check + witness + Groth16 proof +
//! self-check, as the prover API runs it) and `prove_cpu_s` (its CPU time over both cores: the
//! figure to compare when the machine is busy), `stock_prove_s` / `stock_prove_cpu_s`
//! (arkworks' stock `Groth16::prove` on the same witness, for comparison), `verify_ms` (state → inputs → pairing check,
//! median of 11), `proving_key_bytes` (compressed) and `peak_rss_bytes` (VmHWM).
//! Every member signs except the fewest needed to keep a quorum.

#![allow(clippy::print_stdout, missing_docs)]

use std::time::Instant;

use ark_serialize::CanonicalSerialize;
use ark_snark::SNARK;
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};
use trestle_circuits::{
    Prover, Verifier,
    circuit::constraint_count,
    export::fixtures::fixture_signed_state,
    reduction::LightClientGroth16,
    setup::{INSECURE_DEV_SEED, insecure_dev_setup},
};

fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
        })
        .map_or(0, |kb| kb * 1024)
}

/// CPU time (user + system, all threads) this process has used so far, in seconds.
fn cpu_seconds() -> f64 {
    // Fields 14 and 15 of /proc/self/stat (after the parenthesized command name) are utime and
    // stime in clock ticks; Linux reports them at 100 ticks per second.
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let rest = &stat[stat.rfind(')')? + 2..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let ticks =
                fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
            Some(ticks as f64 / 100.0)
        })
        .unwrap_or(f64::NAN)
}

/// Runs `f`, returning its result, wall-clock seconds and CPU seconds (both cores count).
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let value = f();
    (value, wall.elapsed().as_secs_f64(), cpu_seconds() - cpu)
}

fn parse_capacity() -> Result<usize, String> {
    let mut args = std::env::args().skip(1);
    let mut capacity = 10;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--capacity" => {
                let value = args.next().ok_or("--capacity needs a value")?;
                capacity = value.parse().map_err(|_| format!("bad capacity {value:?}"))?;
            }
            // cargo bench passes --bench to harness = false targets.
            "--bench" => {}
            other => return Err(format!("unknown argument {other:?} (use --capacity N)")),
        }
    }
    Ok(capacity)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let capacity = parse_capacity()?;
    let constraints = constraint_count(capacity)?;
    let signed = fixture_signed_state(capacity)?;

    let start = Instant::now();
    let keys = insecure_dev_setup(capacity, INSECURE_DEV_SEED)?;
    let setup_s = start.elapsed().as_secs_f64();
    let proving_key_bytes = keys.proving_key.compressed_size();

    let start = Instant::now();
    let prover = Prover::new(keys.proving_key, capacity)?;
    let prover_init_s = start.elapsed().as_secs_f64();
    let mut rng = ChaCha20Rng::from_seed([7; 32]);
    let (proof, prove_s, prove_cpu_s) =
        timed(|| prover.prove(&signed.state, &signed.committee, &signed.signatures, &mut rng));
    let proof = proof?;

    // arkworks' stock prover on the same witness (it re-synthesizes the constraint system and
    // rebuilds the matrices on every proof), for comparison with ours.
    let circuit = trestle_circuits::LightClientCircuit::from_signed_state(
        &signed.state,
        &signed.committee,
        &signed.signatures,
    )?;
    let (stock, stock_prove_s, stock_prove_cpu_s) =
        timed(|| LightClientGroth16::prove(prover.proving_key(), circuit, &mut rng));
    stock?;

    let verifier = Verifier::new(&keys.verifying_key)?;
    let commitment = signed.committee.commitment_bytes();
    let mut times: Vec<f64> = (0..11)
        .map(|_| {
            let start = Instant::now();
            let ok = verifier.verify(&signed.state, &commitment, &proof).is_ok();
            (ok, start.elapsed().as_secs_f64() * 1e3)
        })
        .map(|(ok, ms)| if ok { Ok(ms) } else { Err("proof does not verify") })
        .collect::<Result<_, _>>()?;
    times.sort_by(f64::total_cmp);
    let verify_ms = times[times.len() / 2];

    println!(
        "{{\"capacity\":{capacity},\"constraints\":{constraints},\"constraints_per_slot\":{:.1},\
         \"setup_s\":{setup_s:.2},\"prover_init_s\":{prover_init_s:.2},\"prove_s\":{prove_s:.2},\"prove_cpu_s\":{prove_cpu_s:.2},\
         \"stock_prove_s\":{stock_prove_s:.2},\"stock_prove_cpu_s\":{stock_prove_cpu_s:.2},\"verify_ms\":{verify_ms:.2},\
         \"proving_key_bytes\":{proving_key_bytes},\"peak_rss_bytes\":{}}}",
        constraints as f64 / capacity as f64,
        peak_rss_bytes()
    );
    Ok(())
}
