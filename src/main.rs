//! `trestle`: run, query and prove a trestle confirmation network.

use std::{fs, path::PathBuf};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

/// trestle: sub-second confirmations for rollups, cheap to verify everywhere.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the golden vectors that pin the Rust, Solidity and JavaScript implementations
    /// together (hashes, Merkle proofs, Poseidon, signatures).
    Vectors {
        /// Directory to write the JSON fixtures into.
        #[arg(long, default_value = "solidity/test/fixtures")]
        out: PathBuf,
        /// Only compare: exit non-zero if any file differs from what the code computes.
        #[arg(long)]
        check: bool,
    },
    /// Light-client circuit keys and their exports.
    #[command(subcommand)]
    Circuit(CircuitCommand),
    /// Start a local network: N validators on loopback (keys and genesis generated on first
    /// run, resumed from disk afterwards), an L1 anvil (900) with the StakeTable and two rollup
    /// anvils (901, 902), all three with trestle's contracts deployed (afresh each run), and the
    /// relayer. Ctrl-C stops everything cleanly.
    Devnet {
        /// Number of validators.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Directory holding the devnet's keys, configuration, storage and logs.
        #[arg(long, default_value = ".devnet")]
        data_dir: PathBuf,
        /// Validators only: no EVM chains (anvil) and no contracts.
        #[arg(long)]
        no_evm: bool,
        /// No L1: one committee for one endless epoch. By default the committee follows a
        /// StakeTable on a third anvil (chain 900, which also gets trestle's contracts): epochs
        /// of 50 heights, the genesis validators registered at every start; join with
        /// `trestle validator register`. Takes effect when the devnet is created.
        #[arg(long)]
        no_l1: bool,
        /// Light-client keys from a ceremony (`trestle circuit import-zkey --out DIR`, for
        /// the network's capacity) instead of the INSECURE dev keys: the relayer proves with
        /// them and every LightClient verifies with a verifier generated from their verifying
        /// key.
        #[arg(long, value_name = "DIR")]
        keys: Option<PathBuf>,
    },
    /// Run one validator.
    #[command(subcommand)]
    Node(NodeCommand),
    /// Submit a transaction to a validator; prints its hash (and, with --wait, the height that
    /// finalized it).
    Submit {
        /// The validator's JSON-RPC URL.
        #[arg(long)]
        rpc: String,
        /// The namespace (unowned namespaces need no key).
        #[arg(long)]
        namespace: u64,
        /// The payload, 0x-prefixed hex.
        #[arg(long)]
        data: String,
        /// Wait until the transaction is finalized (at most this many seconds).
        #[arg(long)]
        wait: Option<u64>,
    },
    /// Prove a finalized light-client state with the light-client circuit: fetches the state,
    /// its committee and the collected signatures from a validator, proves, verifies, and writes
    /// the proof (LightClient.update calldata and snarkjs files) as JSON.
    Prove {
        /// The validator's JSON-RPC URL.
        #[arg(long)]
        rpc: String,
        /// The height to prove, or `latest` (the newest height with a quorum of signatures).
        #[arg(long)]
        height: trestle::prove::Target,
        /// Directory with the proving key (`trestle circuit setup --out DIR`).
        #[arg(long)]
        keys: PathBuf,
        /// Where to write the proof (JSON).
        #[arg(long)]
        out: PathBuf,
    },
    /// Is a rollup's transaction (--tx) or block (--block N --hash H) confirmed by the network?
    /// Prints the verdict and the proof, verified natively against the trust anchor. Exit
    /// status: 0 confirmed, 1 not confirmed, 2 usage or other error, 3 confirmed only against
    /// the node's own committee (no genesis anchor; --allow-unanchored makes that 0).
    Confirm(trestle::confirm::ConfirmArgs),
    /// Keep a `confirm --anchor-cache` file at the network's latest epoch: walk each epoch
    /// hand-off once, as soon as it is final, so that no check pays for it at a boundary.
    FollowAnchor(trestle::anchor_follow::FollowAnchorArgs),
    /// Run the relayer (post, prove and deliver loops between EVM chains and the network),
    /// as `trestle-relayer` does; the devnet starts one.
    #[command(subcommand)]
    Relayer(trestle_relayer::cli::Command),
    /// Join or leave a network through its StakeTable on L1: register, add-stake, deregister,
    /// withdraw, status.
    #[command(subcommand)]
    Validator(trestle::stake_table::ValidatorCommand),
    /// Generate validator keys: writes the secret key file, prints the genesis entry (public
    /// keys and proofs of possession) to share with the other operators.
    Keygen {
        /// Where to write the key file (never overwritten).
        #[arg(long)]
        out: PathBuf,
        /// Where the other validators reach this one (`ip:port` or `host:port`), recorded in
        /// the entry.
        #[arg(long)]
        p2p_address: Option<trestle_light_client::PeerAddress>,
    },
    /// Assemble a network's genesis from the operators' entries, or check one: both print the
    /// genesis hash every operator compares.
    #[command(subcommand)]
    Genesis(trestle::genesis::GenesisCommand),
    /// Serve a web explorer of a network: every validator's height (or that it is down),
    /// finality latency, the committee, blocks, transactions with their proofs, and per EVM
    /// chain its light client and messages. Reads only the public endpoints given (through a
    /// same-origin proxy); `trestle devnet` starts one for itself.
    Explorer(trestle::explorer::ExplorerArgs),
}

#[derive(Subcommand)]
enum NodeCommand {
    /// Run a validator from its node configuration (TOML).
    Run {
        /// The node configuration file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Write a node configuration from the genesis and this node's key file: every other
    /// genesis validator as a peer at its entry's p2p address, the production p2p profile.
    Init(Box<trestle::node_init::InitArgs>),
}

#[derive(Subcommand)]
enum CircuitCommand {
    /// INSECURE development setup: Groth16 keys derived from a public seed, for devnets and
    /// tests only (whoever knows the seed can prove false statements). Writes the proving and
    /// verifying keys, the Solidity verifier and a snarkjs verification key into OUT.
    Setup {
        /// Committee capacity of the circuit (number of signer slots).
        #[arg(long, default_value_t = trestle_circuits::setup::DEVNET_CAPACITY)]
        capacity: usize,
        /// Directory for the key files and exports.
        #[arg(long)]
        out: PathBuf,
    },
    /// Export the light-client constraint system in circom's `.r1cs` format: the input of a
    /// snarkjs phase-2 ceremony (`snarkjs groth16 setup`, `snarkjs zkey verify`).
    R1cs {
        /// Committee capacity of the circuit.
        #[arg(long)]
        capacity: usize,
        /// The `.r1cs` file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a ceremony's final `.zkey` as the proving key: checks it against the circuit of
    /// CAPACITY, then writes the key files, the Solidity verifier and the snarkjs
    /// verification key into OUT.
    ImportZkey {
        /// Committee capacity of the circuit.
        #[arg(long)]
        capacity: usize,
        /// The final `.zkey` of the ceremony.
        #[arg(long)]
        zkey: PathBuf,
        /// Directory for the key files and exports.
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Vectors { out, check } => vectors(&out, check),
        Command::Circuit(CircuitCommand::Setup { capacity, out }) => circuit_setup(capacity, &out),
        Command::Circuit(CircuitCommand::R1cs { capacity, out }) => {
            trestle::ceremony::r1cs(capacity, &out)
        }
        Command::Circuit(CircuitCommand::ImportZkey { capacity, zkey, out }) => {
            trestle::ceremony::import(capacity, &zkey, &out)
        }
        Command::Devnet { validators, data_dir, no_evm, no_l1, keys } => trestle::devnet::run(
            &data_dir,
            validators,
            &trestle::devnet::Options { evm: !no_evm, l1: !no_l1, keys },
            &trestle::devnet::default_solidity_dir(),
        ),
        Command::Node(NodeCommand::Init(args)) => {
            let done = trestle::node_init::init(&args)?;
            let role = match done.slot {
                Some(slot) => format!("validator {slot} of the genesis"),
                None => "a follower (this key is not in the genesis)".to_string(),
            };
            #[allow(clippy::print_stdout)]
            {
                println!(
                    "wrote {}: {role}, {} peers, p2p on {}, JSON-RPC on {}",
                    args.out.display(),
                    done.config.peers.len(),
                    done.config.p2p,
                    done.config.rpc
                );
            }
            Ok(())
        }
        Command::Node(NodeCommand::Run { config }) => {
            let prepared = trestle_node::service::prepare(&config)
                .with_context(|| format!("loading {}", config.display()))?;
            Ok(trestle_node::service::run(prepared)?)
        }
        Command::Submit { rpc, namespace, data, wait } => submit(&rpc, namespace, &data, wait),
        Command::Prove { rpc, height, keys, out } => trestle::prove::run(&rpc, height, &keys, &out),
        Command::Confirm(args) => std::process::exit(trestle::confirm::command(&args)),
        Command::FollowAnchor(args) => std::process::exit(trestle::anchor_follow::command(&args)),
        Command::Relayer(command) => relayer(command),
        Command::Validator(command) => {
            let runtime = tokio::runtime::Runtime::new().context("starting a runtime")?;
            let output = runtime.block_on(trestle::stake_table::run(command))?;
            #[allow(clippy::print_stdout)]
            {
                println!("{output}");
            }
            Ok(())
        }
        Command::Genesis(command) => {
            let output = trestle::genesis::run(command)?;
            #[allow(clippy::print_stdout)]
            {
                println!("{output}");
            }
            Ok(())
        }
        Command::Explorer(args) => Ok(trestle::explorer::command(&args)?),
        Command::Keygen { out, p2p_address } => {
            let mut entry = trestle_api::keygen(&out)?;
            entry.p2p_address = p2p_address.map(|address| address.to_string());
            #[allow(clippy::print_stdout)]
            {
                println!("{}", serde_json::to_string_pretty(&entry)?);
            }
            Ok(())
        }
    }
}

fn relayer(command: trestle_relayer::cli::Command) -> anyhow::Result<()> {
    trestle_relayer::cli::init_logging("info");
    trestle_relayer::cli::execute(command)?;
    Ok(())
}

fn circuit_setup(capacity: usize, out: &std::path::Path) -> anyhow::Result<()> {
    use trestle_circuits::{export, setup};
    eprintln!(
        "WARNING: INSECURE development setup (capacity {capacity}): the toxic waste derives from a \
         public seed, so anyone can forge proofs for these keys. Devnets and tests only."
    );
    let started = std::time::Instant::now();
    let keys = setup::write_insecure_dev_keys(out, capacity, setup::INSECURE_DEV_SEED)
        .context("INSECURE dev setup")?;
    let (pk, vk) = setup::insecure_dev_key_paths(out, capacity);
    eprintln!("setup took {:.1} s", started.elapsed().as_secs_f64());
    let provenance = export::solidity::Provenance {
        capacity,
        origin: format!("INSECURE dev setup, capacity {capacity}, public seed: for devnets only"),
        insecure_dev_setup: true,
    };
    let [verifier_path, snarkjs_path] =
        export::write_verifier_exports(out, &keys.verifying_key, &provenance, ".INSECURE-DEV")?;
    for path in [pk, vk, verifier_path, snarkjs_path] {
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn vectors(out: &std::path::Path, check: bool) -> anyhow::Result<()> {
    let mut drifted = Vec::new();
    if !check {
        fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    }
    for fixture in trestle::vectors::all() {
        let path = out.join(fixture.name);
        if check {
            let on_disk = fs::read_to_string(&path).unwrap_or_default();
            if on_disk != fixture.contents {
                drifted.push(path.display().to_string());
            }
        } else {
            fs::write(&path, &fixture.contents)
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
    }
    if !drifted.is_empty() {
        bail!("fixtures differ from the code: {}; run `cargo run -- vectors`", drifted.join(", "));
    }
    Ok(())
}

/// `trestle submit`: posts the transaction through the node's binary ingress path
/// (`trestle_api::binary`), then, with `wait`, polls `trestle_txProof` over JSON-RPC.
fn submit(rpc: &str, namespace: u64, data: &str, wait: Option<u64>) -> anyhow::Result<()> {
    use jsonrpsee::http_client::HttpClientBuilder;
    use trestle_api::{SubmitRequest, TrestleApiClient as _, binary::BinaryClient, codes};
    let digits = data.strip_prefix("0x").context("--data must be 0x-prefixed hex")?;
    let payload = hex::decode(digits).context("--data is not hex")?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let binary = BinaryClient::new(rpc, trestle_api::client::DEFAULT_REQUEST_TIMEOUT)
            .context("--rpc")?;
        let request = SubmitRequest { namespace, payload: payload.into(), authorization: None };
        // NOT_REPLICATED: admitted, but no peer said it holds it yet; resubmitting forwards it
        // again and is answered DUPLICATE once a peer does.
        let mut not_replicated = false;
        let mut attempts = 0;
        let hash = loop {
            attempts += 1;
            let outcome = binary
                .submit(request.clone())
                .await
                .context("the validator did not take the transaction")?;
            match outcome.error {
                None => break outcome.hash,
                Some(e) if e.code == codes::NOT_REPLICATED && attempts < 5 => {
                    not_replicated = true;
                }
                Some(e) if not_replicated && e.code == codes::DUPLICATE => break outcome.hash,
                Some(e) => {
                    bail!("the validator refused the transaction: {} (code {})", e.message, e.code)
                }
            }
        };
        #[allow(clippy::print_stdout)]
        {
            println!("{hash}");
        }
        let Some(seconds) = wait else { return Ok(()) };
        let client = HttpClientBuilder::default().build(rpc).context("--rpc")?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
        loop {
            if let Some(inclusion) = client.tx_proof(hash).await? {
                eprintln!("finalized at height {}", inclusion.height);
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                bail!("not finalized within {seconds} s");
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
}
