//! The explorer (issue #19): its proxy against fake endpoints (forwarding verbatim, reads only,
//! bounded in size and time, typed errors, the chains file read again), its ABI constants
//! against the contracts' ABI, and the page itself in headless chromium against a devnet
//! (`explorer/test/e2e.mjs`, driven by playwright-core): increasing heights, a searched
//! transaction with its proof, the demo message delivered, bad input explained, and a validator
//! killed with -9 shown DOWN while the others keep going. The screenshot goes to
//! `target/tmp/explorer.png`.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy::transports::http::reqwest;
use alloy_primitives::keccak256;
use axum::{Router, body::Bytes, extract::State, http::Uri, routing::any};
use jsonrpsee::http_client::HttpClientBuilder;
use serde_json::{Value, json};
use trestle::explorer::{Explorer, ExplorerArgs};
use trestle_api::{SubmitRequest, TrestleApiClient as _};

use crate::{
    devnet::{alive, eventually},
    relayer::DevnetProcess,
    repo_root,
};

/// What the fake upstream saw: (path and query, body) of every request.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// A fake upstream: `/slow` answers after 2 s, `/big` answers 64 kB, everything else a
/// JSON-RPC result of 42 (or, for `/status` and `/messages`, a relayer-like JSON).
async fn fake_upstream() -> (String, Seen) {
    async fn answer(State(seen): State<Seen>, uri: Uri, body: Bytes) -> Vec<u8> {
        let path = uri.path_and_query().map(ToString::to_string).unwrap_or_default();
        seen.lock().unwrap().push((path.clone(), String::from_utf8_lossy(&body).into_owned()));
        match uri.path() {
            "/slow" => {
                tokio::time::sleep(Duration::from_secs(2)).await;
                b"{}".to_vec()
            }
            "/big" => vec![b' '; 64 * 1024],
            "/status" => br#"{"version": "fake"}"#.to_vec(),
            "/messages" => json!({"messages": [], "query": uri.query()}).to_string().into_bytes(),
            _ => br#"{"jsonrpc":"2.0","id":1,"result":42}"#.to_vec(),
        }
    }
    let seen = Seen::default();
    let app = Router::new().fallback(any(answer)).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), seen)
}

/// A URL nobody listens on.
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

async fn serve(args: &ExplorerArgs) -> SocketAddr {
    let explorer = Explorer::new(args).expect("explorer");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(explorer.serve(listener, std::future::pending()));
    addr
}

/// `(status, JSON body)` of a POST (or, without a body, a GET).
async fn ask(http: &reqwest::Client, url: String, body: Option<Vec<u8>>) -> (u16, Value) {
    let request = match body {
        Some(body) => http.post(&url).header("content-type", "application/json").body(body),
        None => http.get(&url),
    };
    let response = request.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|_| json!({ "text": text })))
}

fn call(method: &str) -> Option<Vec<u8>> {
    Some(
        serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": []}))
            .unwrap(),
    )
}

fn kind(answer: &(u16, Value)) -> (u16, &str) {
    (answer.0, answer.1["error"]["kind"].as_str().unwrap_or("(no error kind)"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explorer_proxy_forwards_reads_only_within_bounds_with_typed_errors() {
    let (fake, seen) = fake_upstream().await;
    let dead = dead_url();
    let dir = tempfile::tempdir().unwrap();
    let chains = dir.path().join("devnet.json");
    let chain = |id: u64| {
        json!({"name": format!("evm-{id}"), "chainId": id, "rpcUrl": format!("{fake}/evm{id}"),
        "contracts": {"lightClient": "0x01", "mailbox": "0x02"}, "messageNamespace": id})
    };
    std::fs::write(&chains, json!({"genesis": "/g.json", "chains": [chain(901)], "relayer": {"statusUrl": format!("{fake}/status")}}).to_string())
        .unwrap();
    let mut args = ExplorerArgs::new(
        vec![format!("{fake}/v0"), dead.clone(), format!("{fake}/slow"), format!("{fake}/big")],
        Some(chains.clone()),
    );
    args.upstream_timeout_ms = 500;
    args.max_response_bytes = 10_000;
    let addr = serve(&args).await;
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();

    // The page and its files; unknown paths are JSON errors.
    let page = http.get(&base).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("<title>trestle explorer</title>"));
    for file in ["main.js", "live.js", "blocks.js", "chains.js", "evm.js", "rpc.js", "style.css"] {
        let asset = http.get(format!("{base}/assets/{file}")).send().await.unwrap();
        assert_eq!(asset.status().as_u16(), 200, "{file}");
    }
    assert_eq!(
        kind(&ask(&http, format!("{base}/assets/../Cargo.toml"), None).await),
        (404, "unknown_endpoint")
    );

    // The configuration: what it was given, and the chains file's content.
    let (status, config) = ask(&http, format!("{base}/api/config"), None).await;
    assert_eq!(status, 200);
    assert_eq!(config["validators"][1], json!(dead));
    assert_eq!(config["relayer"], json!(format!("{fake}/status")));
    assert_eq!(config["chains"][0]["chainId"], json!(901));
    assert_eq!(config["genesis"], json!("/g.json"));

    // Forwarded verbatim, answered verbatim.
    let body = br#"{"jsonrpc":"2.0","id":7,"method":"trestle_header","params":[3]}"#.to_vec();
    let (status, answer) = ask(&http, format!("{base}/api/rpc/0"), Some(body.clone())).await;
    assert_eq!((status, answer["result"].clone()), (200, json!(42)));
    assert_eq!(
        seen.lock().unwrap().last().cloned(),
        Some(("/v0".into(), String::from_utf8(body).unwrap()))
    );

    // Unreachable, slow and oversized upstreams: typed errors, in bounded time.
    let started = Instant::now();
    let down = ask(&http, format!("{base}/api/rpc/1"), call("trestle_blockHeight")).await;
    assert_eq!(kind(&down), (502, "unreachable"));
    assert_eq!(down.1["error"]["upstream"], json!(dead));
    assert_eq!(
        kind(&ask(&http, format!("{base}/api/rpc/2"), call("trestle_blockHeight")).await),
        (504, "timeout")
    );
    assert!(
        started.elapsed() < Duration::from_millis(1_900),
        "the timeout did not cut the slow upstream"
    );
    assert_eq!(
        kind(&ask(&http, format!("{base}/api/rpc/3"), call("trestle_blockHeight")).await),
        (502, "response_too_large")
    );

    // Unknown endpoints, writes, malformed and oversized requests never reach an upstream.
    let before = seen.lock().unwrap().len();
    for path in ["rpc/4", "rpc/x", "evm/999", "evm/abc"] {
        let answer = ask(&http, format!("{base}/api/{path}"), call("trestle_blockHeight")).await;
        assert_eq!(kind(&answer), (404, "unknown_endpoint"), "{path}");
    }
    for path in ["relayer/metrics", "relayer/messages?all"] {
        assert_eq!(
            kind(&ask(&http, format!("{base}/api/{path}"), None).await),
            (404, "unknown_endpoint")
        );
    }
    assert_eq!(
        kind(&ask(&http, format!("{base}/api/rpc/0"), call("trestle_submit")).await),
        (403, "method_not_allowed")
    );
    let batch = serde_json::to_vec(&json!([
        {"jsonrpc": "2.0", "id": 1, "method": "trestle_blockHeight", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "trestle_submitBatch", "params": [[]]},
    ]))
    .unwrap();
    assert_eq!(
        kind(&ask(&http, format!("{base}/api/rpc/0"), Some(batch)).await),
        (403, "method_not_allowed")
    );
    for method in ["eth_sendTransaction", "anvil_setBalance", "eth_sign"] {
        assert_eq!(
            kind(&ask(&http, format!("{base}/api/evm/901"), call(method)).await),
            (403, "method_not_allowed")
        );
    }
    assert_eq!(
        kind(&ask(&http, format!("{base}/api/rpc/0"), Some(b"not json".to_vec())).await),
        (400, "bad_request")
    );
    let huge =
        format!(r#"{{"method":"trestle_blockHeight","params":["{}"]}}"#, "a".repeat(100_000));
    assert_eq!(
        kind(&ask(&http, format!("{base}/api/rpc/0"), Some(huge.into_bytes())).await),
        (413, "request_too_large")
    );
    assert_eq!(seen.lock().unwrap().len(), before, "a refused request reached an upstream");

    // EVM reads and the relayer's endpoints.
    let (status, answer) = ask(&http, format!("{base}/api/evm/901"), call("eth_blockNumber")).await;
    assert_eq!((status, answer["result"].clone()), (200, json!(42)));
    assert_eq!(seen.lock().unwrap().last().map(|s| s.0.clone()).as_deref(), Some("/evm901"));
    assert_eq!(
        ask(&http, format!("{base}/api/relayer/status"), None).await.1["version"],
        json!("fake")
    );
    let failed = ask(&http, format!("{base}/api/relayer/messages?failed"), None).await;
    assert_eq!(failed.1["query"], json!("failed"), "the query is forwarded");

    // A chain added to the file later is served (the devnet writes its chains after starting).
    assert_eq!(
        kind(&ask(&http, format!("{base}/api/evm/902"), call("eth_chainId")).await),
        (404, "unknown_endpoint")
    );
    std::fs::write(&chains, json!({"chains": [chain(901), chain(902)]}).to_string()).unwrap();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(ask(&http, format!("{base}/api/evm/902"), call("eth_chainId")).await.0, 200);
    // A torn file keeps the last good reading, and the page is told.
    std::fs::write(&chains, r#"{"chains": [{"name""#).unwrap();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(ask(&http, format!("{base}/api/evm/902"), call("eth_chainId")).await.0, 200);
    let (_, config) = ask(&http, format!("{base}/api/config"), None).await;
    assert!(
        config["chainsFileError"].as_str().is_some_and(|e| e.contains("devnet.json")),
        "{config}"
    );
    // Without the relayer's URL (it was in the file, which no longer says), a typed answer.
    assert_eq!(
        kind(&ask(&http, format!("{base}/api/relayer/status"), None).await),
        (404, "not_configured")
    );

    // Bad arguments are refused before serving.
    assert!(Explorer::new(&ExplorerArgs::new(vec![], None)).is_err(), "no validator");
    assert!(Explorer::new(&ExplorerArgs::new(vec!["ws://x:1".into()], None)).is_err(), "not http");
    let missing = ExplorerArgs::new(vec![fake.clone()], Some(dir.path().join("absent.json")));
    assert!(Explorer::new(&missing).is_err(), "an unreadable chains file");
}

/// The canonical signature of an ABI entry: `name(type,…)`, tuples expanded.
fn signature(entry: &Value) -> String {
    fn ty(input: &Value) -> String {
        let kind = input["type"].as_str().unwrap();
        match kind.strip_prefix("tuple") {
            Some(suffix) => {
                let parts: Vec<String> =
                    input["components"].as_array().unwrap().iter().map(ty).collect();
                format!("({}){suffix}", parts.join(","))
            }
            None => kind.to_owned(),
        }
    }
    let inputs: Vec<String> = entry["inputs"].as_array().unwrap().iter().map(ty).collect();
    format!("{}({})", entry["name"].as_str().unwrap(), inputs.join(","))
}

/// The hex constant `name` in explorer/web/evm.js.
fn js_constant(source: &str, name: &str) -> String {
    let start = source
        .find(&format!("export const {name} = \""))
        .unwrap_or_else(|| panic!("{name} in evm.js"));
    source[start..].split('"').nth(1).unwrap().to_owned()
}

#[test]
fn explorer_abi_constants_are_the_contracts() {
    let source = std::fs::read_to_string(repo_root().join("explorer/web/evm.js")).unwrap();
    let abi = |contract: &str| -> Vec<Value> {
        let text =
            std::fs::read_to_string(repo_root().join(format!("relayer/abi/{contract}.json")))
                .unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        value.get("abi").cloned().unwrap_or(value).as_array().unwrap().clone()
    };
    let find = |contract: &str, kind: &str, name: &str| {
        let entries = abi(contract);
        let entry = entries
            .iter()
            .find(|e| e["type"] == kind && e["name"] == name)
            .unwrap_or_else(|| panic!("{contract}.{name}"));
        keccak256(signature(entry).as_bytes())
    };
    let selector = find("LightClient", "function", "latestHeight");
    assert_eq!(js_constant(&source, "LATEST_HEIGHT"), format!("0x{}", hex::encode(&selector[..4])));
    for (name, event) in [
        ("MESSAGE_SENT", "MessageSent"),
        ("MESSAGE_DELIVERED", "MessageDelivered"),
        ("MESSAGE_FAILED", "MessageFailed"),
    ] {
        assert_eq!(
            js_constant(&source, name),
            find("Mailbox", "event", event).to_string(),
            "{event}"
        );
    }
}

/// `npm ci` in explorer/ unless the chart library and playwright-core are installed.
fn npm_ci_if_missing(dir: &Path) {
    let installed = ["uplot/dist/uPlot.iife.min.js", "playwright-core/package.json"]
        .iter()
        .all(|p| dir.join("node_modules").join(p).is_file());
    if !installed {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(dir)
            .status()
            .expect("npm");
        assert!(status.success(), "npm ci in {} failed", dir.display());
    }
}

/// Runs `node explorer/test/e2e.mjs` with `env`, killed after `limit`; returns whether it
/// succeeded and its output.
fn run_e2e(env: &[(&str, String)], limit: Duration) -> (bool, String) {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("explorer-e2e-{}.log", std::process::id()));
    let log = std::fs::File::create(&out).unwrap();
    let mut child = Command::new("node")
        .arg(repo_root().join("explorer/test/e2e.mjs"))
        .current_dir(repo_root().join("explorer"))
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("node");
    let deadline = Instant::now() + limit;
    let success = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.success();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break false;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let output = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    (success, output)
}

#[test]
fn explorer_in_headless_chromium_against_a_devnet() {
    let chromium = Path::new("/usr/bin/chromium");
    assert!(
        chromium.exists(),
        "{} is missing: apt-get install chromium (scripts/test does)",
        chromium.display()
    );
    npm_ci_if_missing(&repo_root().join("explorer"));
    let devnet = DevnetProcess::start_with("explorer", &["--no-l1"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (file, tx) = runtime.block_on(async {
        let file =
            eventually(Duration::from_secs(300), "the devnet's demo message delivered", || async {
                devnet.file().filter(|f| f.demo.as_ref().is_some_and(|d| d.delivered.is_some()))
            })
            .await;
        // A transaction of our own to search for: submitted, then finalized.
        let client = HttpClientBuilder::default().build(&file.validators[1].rpc_url).unwrap();
        let request = SubmitRequest {
            namespace: 77,
            payload: b"explorer e2e".to_vec().into(),
            authorization: None,
        };
        let tx = client.submit(request).await.expect("trestle_submit");
        eventually(Duration::from_secs(60), "the transaction finalized", || async {
            client.tx_proof(tx).await.ok().flatten()
        })
        .await;
        (file, tx)
    });
    let url = file.explorer_url.clone().expect("the devnet records its explorer's URL");
    assert!(
        devnet.output().contains(&format!("explorer {url}")),
        "the devnet prints the explorer's URL"
    );
    let victim = 2;
    let pid = file.validators[victim].pid;
    let screenshot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("explorer.png");
    let _ = std::fs::remove_file(&screenshot);
    let (success, output) = run_e2e(
        &[
            ("EXPLORER_URL", url),
            ("TX_HASH", tx.to_string()),
            ("DEMO_MESSAGE", file.demo.as_ref().unwrap().message_hash.to_string()),
            ("VICTIM_INDEX", victim.to_string()),
            ("VICTIM_PID", pid.to_string()),
            ("SCREENSHOT", screenshot.display().to_string()),
            ("CHROMIUM", chromium.display().to_string()),
        ],
        Duration::from_secs(300),
    );
    assert!(success, "the browser test failed:\n{output}");
    eprintln!("{output}");
    assert!(!alive(pid), "validator {victim} (pid {pid}) survived kill -9");

    // The `trestle confirm` line the transaction page showed confirms it (asking a validator
    // that is still up if the page named the one killed since).
    let shown = output
        .lines()
        .find_map(|line| line.split_once(": trestle confirm ").map(|(_, args)| args.to_owned()))
        .expect("the e2e log shows the confirm command");
    let victim_url = &file.validators[victim].rpc_url;
    let alive_url = &file.validators[(victim + 1) % file.validators.len()].rpc_url;
    let args: Vec<&str> = shown
        .split_whitespace()
        .map(|arg| if arg == victim_url.as_str() { alive_url.as_str() } else { arg })
        .collect();
    assert!(args.contains(&"--genesis"), "the devnet's genesis anchors the check: {shown}");
    let confirm = Command::new(crate::devnet::exe()).arg("confirm").args(&args).output().unwrap();
    assert!(
        confirm.status.success(),
        "`trestle confirm {shown}` exited {}: {}{}",
        confirm.status,
        String::from_utf8_lossy(&confirm.stdout),
        String::from_utf8_lossy(&confirm.stderr)
    );
    let png = std::fs::read(&screenshot).expect("the screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a real screenshot");
}
