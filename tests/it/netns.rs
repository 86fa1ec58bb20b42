//! A network across hosts: four validators, each in a network namespace of its own, every link
//! delayed 50 ms each way by a relay (`trestle_node::testing::netns`), set up through the
//! operator flow (`keygen`, `genesis create`, `node init`) with the production p2p profile. They
//! finalize one chain and serve proofs across the links; one cut off for 20 s catches up once
//! reconnected; one killed with SIGKILL and restarted catches up from its storage.
//!
//! Needs root, iproute2 and nftables (CI runs as root; `scripts/test` installs both packages). Set
//! `TRESTLE_SKIP_NETNS=1` to skip it on a machine without them: it says so on stderr.

use std::time::{Duration, Instant};

use alloy_primitives::keccak256;
use jsonrpsee::core::client::Error as ClientError;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use trestle_api::{SubmitRequest, TrestleApiClient as _, codes};
use trestle_light_client::{Namespace, Transaction};
use trestle_node::testing::netns::{Hosts, NetnsNetwork, NetnsOptions, relay::LinkDelay};

use crate::{cli::tempdir, devnet::eventually};

const VALIDATORS: usize = 4;

struct Net {
    network: NetnsNetwork,
    clients: Vec<HttpClient>,
}

impl Net {
    async fn height(&self, i: usize) -> Option<u64> {
        self.clients[i].block_height().await.ok()
    }

    async fn reach(&self, i: usize, height: u64, limit: Duration) {
        let what = format!("validator {i} to finalize height {height}");
        let reached = tokio::time::timeout(
            limit,
            eventually(limit + Duration::from_secs(1), &what, || async {
                self.height(i).await.filter(|h| *h >= height)
            }),
        )
        .await;
        assert!(reached.is_ok(), "timed out waiting for {what}{}", self.network.log_tails(20));
    }

    /// Every validator finalizes `height`, with the same header.
    async fn agree_at(&self, height: u64) {
        for i in 0..VALIDATORS {
            self.reach(i, height, Duration::from_secs(60)).await;
        }
        let first = self.clients[0].header(height).await.expect("rpc").expect("header");
        for i in 1..VALIDATORS {
            let other = self.clients[i].header(height).await.expect("rpc").expect("header");
            assert_eq!(other.hash, first.hash, "validators 0 and {i} disagree at {height}");
        }
    }

    /// Submits a transaction to validator `to`; returns it.
    async fn submit(&self, to: usize, text: &str) -> Transaction {
        let namespace = Namespace(7);
        let payload = text.as_bytes().to_vec();
        let request = SubmitRequest {
            namespace: namespace.get(),
            payload: payload.clone().into(),
            authorization: None,
        };
        let tx = Transaction::new(namespace, payload);
        // NOT_REPLICATED: admitted, but no peer confirmed holding it yet (links may still be
        // coming up); clients resubmit, and a later DUPLICATE means a peer holds it now.
        let mut not_replicated = false;
        for _ in 0..20 {
            match self.clients[to].submit(request.clone()).await {
                Ok(hash) => {
                    assert_eq!(hash, tx.hash());
                    return tx;
                }
                Err(ClientError::Call(e)) if e.code() == codes::NOT_REPLICATED => {
                    not_replicated = true;
                }
                Err(ClientError::Call(e)) if not_replicated && e.code() == codes::DUPLICATE => {
                    return tx;
                }
                Err(e) => panic!("submission refused: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        panic!("no peer confirmed holding the transaction after 20 submissions")
    }

    /// Validator `from` serves a proof of `tx` that verifies against its header.
    async fn proven_by(&self, from: usize, tx: &Transaction) -> u64 {
        let inclusion = eventually(Duration::from_secs(60), "a transaction proof", || async {
            self.clients[from].tx_proof(tx.hash()).await.ok().flatten()
        })
        .await;
        let header = inclusion.header.decode().expect("canonical header");
        assert_eq!(keccak256(&inclusion.header.encoded), inclusion.header.hash);
        let proof = inclusion.proof.decode().expect("canonical proof");
        proof.verify(tx, &header.payload_root).expect("transaction proof verifies");
        inclusion.height
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validators_on_four_hosts_with_50ms_links_finalize_survive_a_partition_and_kill_9() {
    if std::env::var_os("TRESTLE_SKIP_NETNS").is_some() {
        eprintln!("TRESTLE_SKIP_NETNS is set: the network-namespace test did not run");
        return;
    }
    let dir = tempdir("netns");
    let options = NetnsOptions {
        validators: VALIDATORS,
        link: LinkDelay { one_way: Duration::from_millis(50), jitter: Duration::ZERO },
        loss_percent: 0,
        min_block_interval_ms: 200,
        exe: crate::devnet::exe().to_path_buf(),
        dir: dir.clone(),
    };
    let network = tokio::task::spawn_blocking(move || NetnsNetwork::start(options))
        .await
        .expect("join")
        .unwrap_or_else(|e| panic!("setting up the hosts (root and iproute2 needed): {e}"));
    network.wait_for_rpc(Duration::from_secs(60)).expect("every validator serves JSON-RPC");
    let clients = (0..VALIDATORS)
        .map(|i| HttpClientBuilder::default().build(network.rpc_url(i)).expect("client"))
        .collect();
    let mut net = Net { network, clients };

    // Finalize across the 50 ms links, agree, and serve proofs from another host.
    // Validators start within a second of each other; a peer that was not up yet, or whose dial
    // crossed its own, is redialed after the hosts' cooldown (1 s, `PEER_COOLDOWN_MS`; the
    // production profile's default is a minute, which the limit still allows).
    let started = Instant::now();
    for i in 0..VALIDATORS {
        net.reach(i, 3, Duration::from_secs(240)).await;
    }
    eprintln!("netns: every validator at height 3 after {:?}", started.elapsed());
    let tx = net.submit(0, "across hosts").await;
    let height = net.proven_by(2, &tx).await;
    net.reach(3, height, Duration::from_secs(30)).await;
    assert_eq!(net.proven_by(3, &tx).await, height, "both hosts prove the same height");
    net.agree_at(height).await;

    // Cut validator 3 off for 20 s: the other three (a quorum) keep finalizing.
    net.network.partition(3).expect("partition");
    let cut_at = net.height(0).await.expect("height");
    let during = net.submit(1, "while validator 3 is cut off").await;
    let during_height = net.proven_by(0, &during).await;
    net.reach(1, cut_at + 5, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(20)).await;
    net.network.heal(3).expect("heal");
    let healed = Instant::now();
    let target = net.height(0).await.expect("height");
    assert!(target >= cut_at + 5, "the others finalized while 3 was cut off");
    // A dropped peer is redialed after the hosts' cooldown.
    net.reach(3, target, Duration::from_secs(240)).await;
    eprintln!(
        "netns: validator 3 cut off at height {cut_at}, caught up to {target} {:?} after healing",
        healed.elapsed()
    );
    assert_eq!(net.proven_by(3, &during).await, during_height);
    net.agree_at(target).await;

    // kill -9 validator 1: the others keep finalizing; restarted from its storage, it catches
    // up and agrees.
    net.network.kill(1).expect("kill");
    let killed_at = net.height(0).await.expect("height");
    net.reach(2, killed_at + 5, Duration::from_secs(30)).await;
    // Its peers' redials while it was down reset their cooldown, so it may wait that long for
    // them to accept it again.
    net.network.restart(1).expect("restart");
    let restarted = Instant::now();
    let target = net.height(0).await.expect("height");
    net.reach(1, target, Duration::from_secs(240)).await;
    eprintln!(
        "netns: validator 1 killed at height {killed_at}, caught up to {target} {:?} after its \
         restart",
        restarted.elapsed()
    );
    net.agree_at(target).await;
    let after = net.submit(1, "after the restart").await;
    net.proven_by(1, &after).await;
    for i in 0..VALIDATORS {
        let log = std::fs::read_to_string(net.network.log(i)).unwrap_or_default();
        assert!(!log.contains("panicked"), "validator {i} panicked:\n{log}");
    }
    drop(net);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Loss can be set and removed on a host; the hosts are deleted when the test holding them
/// panics (and so are their processes).
#[test]
fn hosts_take_packet_loss_and_are_deleted_when_a_test_panics() {
    if std::env::var_os("TRESTLE_SKIP_NETNS").is_some() {
        eprintln!("TRESTLE_SKIP_NETNS is set: the network-namespace test did not run");
        return;
    }
    let namespaces = || {
        let out = std::process::Command::new("ip").args(["netns", "list"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let outcome = std::panic::catch_unwind(|| {
        let hosts = Hosts::up(2).expect("hosts (root and iproute2 needed)");
        let namespace = hosts.namespace(1);
        assert!(namespaces().contains(&namespace), "{namespace} exists while held");
        // Packet loss is a rule in the host's namespace, gone when set to 0.
        let rules = || {
            let nft =
                hosts.command(1, std::path::Path::new("nft")).args(["list", "ruleset"]).output();
            String::from_utf8_lossy(&nft.expect("nft").stdout).into_owned()
        };
        hosts.set_loss(1, 30).expect("loss");
        assert!(rules().contains("numgen random mod 100 < 30 drop"), "{}", rules());
        hosts.set_loss(1, 0).expect("no loss");
        assert!(!rules().contains("drop"), "{}", rules());
        assert!(hosts.set_loss(2, 1).is_err(), "no host 2");
        let mut sleeper = hosts.command(1, std::path::Path::new("sleep"));
        let child = sleeper.arg("600").spawn().expect("a process inside");
        std::panic::panic_any((namespace, std::sync::Mutex::new(child)))
    });
    let payload = outcome.expect_err("the closure panicked");
    let (namespace, child) =
        payload.downcast_ref::<(String, std::sync::Mutex<std::process::Child>)>().expect("payload");
    assert!(!namespaces().contains(namespace), "{namespace} left behind");
    let mut child = child.lock().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "its process was left running");
        std::thread::sleep(Duration::from_millis(20));
    }
}
