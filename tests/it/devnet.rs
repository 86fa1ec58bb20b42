//! Multi-process tests: real validator processes on loopback (authenticated TCP p2p, on-disk
//! storage, JSON-RPC), driven and checked from outside like a user would.
//!
//! Waits are bounded polls of the RPC with a deadline and a message saying what did not
//! happen; nothing sleeps and hopes.

use std::{
    future::Future,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use alloy_primitives::keccak256;
use jsonrpsee::{
    core::client::ClientT as _,
    http_client::{HttpClient, HttpClientBuilder},
    rpc_params,
};
use trestle::devnet::{self, DevnetFile};
use trestle_api::{SubmitRequest, TrestleApiClient as _};
use trestle_light_client::{
    Height, Namespace, Transaction, history::verify_history_proof, verify_quorum,
};

pub(crate) fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_trestle"))
}

/// A devnet started by the test; every process is killed when it is dropped.
pub(crate) struct Net {
    pub(crate) dir: PathBuf,
    pub(crate) file: DevnetFile,
    children: Vec<Option<Child>>,
    pub(crate) clients: Vec<HttpClient>,
}

impl Net {
    pub(crate) fn start(name: &str, validators: usize) -> Self {
        let dir = crate::cli::tempdir(name);
        let file = devnet::init(&dir, validators).expect("devnet files");
        let children = file
            .validators
            .iter()
            .map(|v| Some(devnet::spawn_validator(exe(), v).expect("spawn")))
            .collect();
        let clients = file
            .validators
            .iter()
            .map(|v| HttpClientBuilder::default().build(&v.rpc_url).expect("client"))
            .collect();
        Self { dir, file, children, clients }
    }

    fn kill(&mut self, index: usize) {
        if let Some(mut child) = self.children[index].take() {
            child.kill().expect("kill -9");
            child.wait().expect("reap");
        }
    }

    fn restart(&mut self, index: usize) {
        assert!(self.children[index].is_none(), "validator {index} is running");
        self.children[index] =
            Some(devnet::spawn_validator(exe(), &self.file.validators[index]).expect("spawn"));
    }

    async fn height(&self, index: usize) -> Option<u64> {
        self.clients[index].block_height().await.ok()
    }

    fn log(&self, index: usize) -> String {
        std::fs::read_to_string(&self.file.validators[index].log).unwrap_or_default()
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for child in self.children.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("devnet left in {} for inspection", self.dir.display());
        }
    }
}

/// Polls `check` every 100 ms until it returns `Some`, or panics with `what` after `limit`.
pub(crate) async fn eventually<T, F: Future<Output = Option<T>>>(
    limit: Duration,
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn reach(net: &Net, index: usize, height: u64, limit: Duration) {
    eventually(limit, &format!("validator {index} to finalize height {height}"), || async {
        net.height(index).await.filter(|h| *h >= height)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_finalize_prove_survive_kill_9_and_resync() {
    let mut net = Net::start("devnet-processes", 4);
    for i in 0..4 {
        reach(&net, i, 2, Duration::from_secs(90)).await;
    }

    // 100 transactions over 3 namespaces, submitted round-robin to every validator.
    let namespaces = [Namespace(10), Namespace(20), Namespace(30)];
    let mut submitted = Vec::new();
    for i in 0..100usize {
        let namespace = namespaces[i % 3];
        let payload = format!("transaction {i} for namespace {namespace}").into_bytes();
        let request = SubmitRequest {
            namespace: namespace.get(),
            payload: payload.clone().into(),
            authorization: None,
        };
        let hash = net.clients[i % 4].submit(request).await.expect("submitted");
        let tx = Transaction::new(namespace, payload);
        assert_eq!(hash, tx.hash(), "the node returns the transaction hash");
        submitted.push(tx);
    }

    // Every one is finalized, and its proof verifies natively against its header.
    let mut highest = 0;
    for tx in &submitted {
        let inclusion = eventually(Duration::from_secs(60), "a transaction proof", || async {
            net.clients[1].tx_proof(tx.hash()).await.ok().flatten()
        })
        .await;
        let header = inclusion.header.decode().expect("canonical header");
        assert_eq!(keccak256(&inclusion.header.encoded), inclusion.header.hash);
        assert_eq!(header.height.get(), inclusion.height);
        let proof = inclusion.proof.decode().expect("canonical proof");
        proof.verify(tx, &header.payload_root).expect("transaction proof verifies");
        highest = highest.max(inclusion.height);
    }

    // A later light-client state's history root covers every such header, and a quorum of
    // the committee signed that state.
    let committee_info = net.clients[0].committee(0).await.expect("rpc").expect("committee");
    let committee = committee_info.to_committee().expect("the members match the commitment");
    assert_eq!(
        committee.capacity(),
        net.file.validators.len().max(trestle_circuits::setup::DEVNET_CAPACITY)
    );
    let root_height = highest + 1;
    reach(&net, 2, root_height, Duration::from_secs(30)).await;
    let signed = eventually(Duration::from_secs(30), "a quorum of state signatures", || async {
        let response = net.clients[2].state_signatures(root_height).await.ok().flatten()?;
        let state = response.state.decode().ok()?;
        let signatures: Vec<_> = response.state_signatures();
        verify_quorum(&committee, &state, &signatures).ok().map(|_| state)
    })
    .await;
    assert_eq!(signed.height, Height(root_height));
    for tx in submitted.iter().step_by(7) {
        let inclusion = net.clients[3].tx_proof(tx.hash()).await.expect("rpc").expect("included");
        let history = net.clients[3]
            .history_proof(inclusion.height, root_height)
            .await
            .expect("rpc")
            .expect("history proof");
        assert_eq!(history.root, signed.history_root);
        let proof = history.proof.decode().expect("canonical proof");
        verify_history_proof(
            &proof,
            &inclusion.header.hash,
            Height(inclusion.height),
            &signed.history_root,
            Height(root_height),
        )
        .expect("header is in the signed history");
    }

    // Malformed requests get errors and the node keeps serving.
    let bad: [(&str, jsonrpsee::core::params::ArrayParams); 4] = [
        ("trestle_header", rpc_params!["not a number"]),
        ("trestle_header", rpc_params![-1]),
        ("trestle_txProof", rpc_params!["0x1234"]),
        ("trestle_submit", rpc_params![serde_json::json!({"namespace": 1, "payload": "zz"})]),
    ];
    for (method, params) in bad {
        let result: Result<serde_json::Value, _> = net.clients[0].request(method, params).await;
        assert!(result.is_err(), "{method} accepted malformed parameters");
    }
    let garbage = raw_post(&net.file.validators[0].rpc_url, b"{\"jsonrpc\": \"2.0\", \"id\": ");
    assert!(garbage.contains("error") || garbage.starts_with("HTTP/1.1 4"), "{garbage}");
    assert!(net.height(0).await.is_some(), "validator 0 stopped answering");

    // kill -9 one validator: the other three keep finalizing.
    net.kill(3);
    let before = net.height(0).await.expect("height");
    for i in 0..3 {
        reach(&net, i, before + 10, Duration::from_secs(60)).await;
    }

    // Restarted from its storage, it catches up and serves the same headers as the others.
    net.restart(3);
    let target = net.height(0).await.expect("height");
    reach(&net, 3, target, Duration::from_secs(90)).await;
    for height in (1..=target).step_by(usize::try_from(target / 50).unwrap_or(1).max(1)) {
        let ours = net.clients[3].header(height).await.expect("rpc").expect("header");
        let theirs = net.clients[0].header(height).await.expect("rpc").expect("header");
        assert_eq!(ours.hash, theirs.hash, "validators disagree at height {height}");
    }
    assert!(!net.log(3).contains("panicked"), "validator 3 panicked:\n{}", net.log(3));
}

/// Sends `body` as a JSON POST to `url` over a plain TCP socket; returns the raw response.
fn raw_post(url: &str, body: &[u8]) -> String {
    use std::io::{Read as _, Write as _};
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: \
         {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("write");
    stream.write_all(body).expect("write");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

#[test]
fn devnet_command_starts_stops_cleanly_and_resumes_from_disk() {
    let dir = crate::cli::tempdir("devnet-command");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut last = 0;
    let mut first: Option<DevnetFile> = None;
    for round in 0..2 {
        let mut devnet = Command::new(exe())
            .args(["devnet", "--validators", "4", "--data-dir"])
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("trestle devnet");
        // The first run may install Foundry (npm ci) and compile the contracts. Each run
        // delivers its demo message; the second one continues the first one's chains.
        let file = runtime.block_on(eventually(
            Duration::from_secs(300),
            "devnet.json with running validators, deployed chains and the demo delivered",
            || async {
                DevnetFile::load(&dir).ok().filter(|f| {
                    f.validators.iter().all(|v| v.pid != 0)
                        && f.chains.len() == 3
                        && f.chains.iter().all(|c| c.pid != 0)
                        && f.relayer.as_ref().is_some_and(|r| r.pid != 0)
                        && f.demo.as_ref().is_some_and(|d| d.delivered.is_some())
                })
            },
        ));
        runtime.block_on(check_chains(&file));
        if let Some(first) = &first {
            // The chains kept their state and contracts, and a new message went all the way:
            // posted with its chain's block records continuing the first run's, proven,
            // delivered (a replay of the first run's message would have its hash).
            for (chain, before) in file.chains.iter().zip(&first.chains) {
                assert_eq!(chain.contracts, before.contracts, "chain {}", chain.chain_id);
                assert_eq!(chain.genesis_height, before.genesis_height, "chain {}", chain.chain_id);
            }
            let (demo, earlier) = (file.demo.as_ref().unwrap(), first.demo.as_ref().unwrap());
            assert_ne!(demo.message_hash, earlier.message_hash, "a new message");
            assert_eq!(demo.counter_total.as_deref(), Some("2"), "the counter counts both");
        }
        let client =
            HttpClientBuilder::default().build(&file.validators[0].rpc_url).expect("client");
        let height = runtime.block_on(eventually(
            Duration::from_secs(90),
            "the devnet to finalize past its previous run",
            || async { client.block_height().await.ok().filter(|h| *h > last + 2) },
        ));
        assert!(height > last, "round {round}: height {height} did not resume past {last}");
        last = height;
        devnet::terminate(devnet.id());
        let status = wait_exit(&mut devnet, Duration::from_secs(30));
        assert!(status.success(), "devnet exited with {status}");
        assert_all_stopped(&file);
        first.get_or_insert(file);
    }

    // A chain whose saved state is gone lost blocks the network recorded: the devnet refuses
    // to start, says why, and leaves nothing running.
    let first = first.unwrap();
    let rollup = &first.chains[0];
    std::fs::remove_file(dir.join("chains").join(rollup.chain_id.to_string()).join("state.json"))
        .expect("the rollup's saved state");
    let log = dir.join("refused.log");
    let mut devnet = Command::new(exe())
        .args(["devnet", "--validators", "4", "--data-dir"])
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("trestle devnet");
    let status = wait_exit(&mut devnet, Duration::from_secs(180));
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(!status.success(), "a devnet that lost chain blocks started: {said}");
    let reason = format!("chain {}: the trestle network records its block", rollup.chain_id);
    assert!(said.contains(&reason) && said.contains("cannot continue"), "{said}");
    assert_all_stopped(&DevnetFile::load(&dir).unwrap());
    std::fs::remove_dir_all(&dir).ok();
}

/// No process `file` names runs any more.
fn assert_all_stopped(file: &DevnetFile) {
    for v in &file.validators {
        assert!(!alive(v.pid), "validator {} (pid {}) still running", v.index, v.pid);
    }
    for c in &file.chains {
        assert!(!alive(c.pid), "anvil of chain {} (pid {}) still running", c.chain_id, c.pid);
    }
    let relayer = file.relayer.as_ref().map_or(0, |r| r.pid);
    assert!(!alive(relayer), "the relayer (pid {relayer}) still running");
}

/// The three EVM chains (two rollups, the L1) answer with their chain ids, every contract has code, each light client
/// is at or above the genesis height the devnet chose, and the namespaces follow the convention.
async fn check_chains(file: &DevnetFile) {
    use jsonrpsee::core::client::ClientT as _;
    let ids: Vec<u64> = file.chains.iter().map(|c| c.chain_id).collect();
    let mut expected = trestle::devnet::chains::DEVNET_EVM_CHAIN_IDS.to_vec();
    // The L1, with the StakeTable, comes last and has the contracts too.
    expected.push(trestle::devnet::l1::DEVNET_L1_CHAIN_ID);
    assert_eq!(ids, expected);
    assert!(file.relayer_key.as_ref().is_some_and(|k| k.exists()));
    let genesis = trestle_api::Genesis::load(&file.genesis).unwrap().0;
    for chain in &file.chains {
        let client = HttpClientBuilder::default().build(&chain.rpc_url).unwrap();
        let chain_id: String = client.request("eth_chainId", rpc_params![]).await.unwrap();
        assert_eq!(
            u64::from_str_radix(chain_id.trim_start_matches("0x"), 16).unwrap(),
            chain.chain_id
        );
        let contracts = &chain.contracts;
        for address in
            [contracts.verifier, contracts.light_client, contracts.mailbox, contracts.counter]
        {
            let code: String =
                client.request("eth_getCode", rpc_params![address, "latest"]).await.unwrap();
            assert!(code.len() > 2, "no code at {address} on chain {}", chain.chain_id);
        }
        let call = serde_json::json!({
            "to": contracts.light_client,
            "data": format!("0x{}", hex::encode(&keccak256("latestHeight()")[..4])),
        });
        let result: String = client.request("eth_call", rpc_params![call, "latest"]).await.unwrap();
        let latest = u64::from_str_radix(result.trim_start_matches("0x"), 16).unwrap();
        // The light client starts at the genesis height the devnet chose; the relayer moves
        // the demo destination's further.
        assert!(
            latest >= chain.genesis_height,
            "LightClient.latestHeight() {latest} on chain {} is below its genesis {}",
            chain.chain_id,
            chain.genesis_height
        );
        assert!(chain.genesis_height >= 1);
        assert_eq!(chain.message_namespace, chain.chain_id);
        assert_eq!(chain.block_namespace, 1_000_000 + chain.chain_id);
        for namespace in [chain.message_namespace, chain.block_namespace] {
            assert!(
                genesis.owned_namespaces.iter().any(|o| o.namespace == namespace),
                "namespace {namespace} is not owned in the genesis"
            );
        }
    }
}

/// A `trestle devnet` process that is stopped (SIGTERM, so it stops its validators, chains and
/// relayer) when the guard drops, also when a test fails half-way.
pub(crate) struct DevnetProcess(Option<Child>);

impl DevnetProcess {
    /// `trestle devnet ARGS`, stdin and stdout closed, stderr to `stderr`.
    pub(crate) fn start<S: AsRef<std::ffi::OsStr>>(
        args: impl IntoIterator<Item = S>,
        stderr: Stdio,
    ) -> Self {
        let child = Command::new(exe())
            .arg("devnet")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("trestle devnet");
        Self(Some(child))
    }

    /// Stops the devnet and returns how it exited.
    pub(crate) fn stop(mut self) -> std::process::ExitStatus {
        let mut child = self.0.take().expect("running");
        devnet::terminate(child.id());
        wait_exit(&mut child, Duration::from_secs(30))
    }
}

impl Drop for DevnetProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            devnet::terminate(child.id());
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The devnet in `dir` once its demo message was delivered (it is up: validators, chains,
/// relayer); at most five minutes (the first run may install Foundry).
pub(crate) async fn demo_delivered(dir: &Path) -> DevnetFile {
    eventually(Duration::from_secs(300), "the devnet's demo message delivered", || async {
        DevnetFile::load(dir)
            .ok()
            .filter(|f| f.demo.as_ref().is_some_and(|d| d.delivered.is_some()))
    })
    .await
}

pub(crate) fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("process {} did not exit within {limit:?}", child.id());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) fn alive(pid: u32) -> bool {
    // `kill -0 0` would ask about our own process group: pid 0 is "never started".
    pid != 0
        && Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
}
