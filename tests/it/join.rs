//! A validator joins a running network end to end (`trestle devnet`, whose committee follows
//! the StakeTable on its L1): a fifth node started with `trestle node run` follows the chain,
//! registers in the L1 StakeTable with `trestle validator register`, is seated two epoch ends
//! later beside the genesis validators (the devnet's capacity, 8, exceeds its committee), signs
//! with the new committee, and the light clients on both rollups and on the L1 are proven
//! through the hand-off; then it deregisters, the network rotates back, the light clients
//! follow again, and the node that left keeps following the chain.

use std::{
    net::SocketAddr,
    process::{Child, Command, Stdio},
    time::Duration,
};

use alloy::{primitives::U256, providers::ProviderBuilder};
use alloy_primitives::{B256, Bytes};
use commonware_cryptography::Signer as _;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use trestle::confirm::anchor_from_genesis;
use trestle::{
    confirm::Report,
    devnet::{
        l1::{DEVNET_L1_CHAIN_ID, DEVNET_L1_EPOCH_LENGTH, stake_table_address},
        messages,
    },
    stake_table::{SenderArgs, TableArgs, ValidatorCommand, register},
};
use trestle_api::{CommitteeInfo, SubmitRequest, TrestleApiClient as _, ValidatorKeys};
use trestle_light_client::{
    Evidence, LightClientState, Namespace, Subject, Transaction, confirmation::ConfirmError,
    quorum::StateSignature, verify_confirmation,
};
use trestle_node::service::{NodeConfig, PeerConfig};
use trestle_relayer::bindings::LightClient;

use crate::{
    devnet::{eventually, exe},
    relayer::DevnetProcess,
};

/// anvil's dev account 5 (a public test key): the joiner's L1 account.
const JOINER_ACCOUNT: &str = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";
/// anvil's dev account 3 (a public test key): sends the message after the rotation.
const SENDER_KEY: &str = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
const ETHER: u128 = 1_000_000_000_000_000_000;

/// Kills the joining node however the test ends.
struct Joiner(Child);

impl Drop for Joiner {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

fn client(url: &str) -> HttpClient {
    HttpClientBuilder::default().request_timeout(Duration::from_secs(10)).build(url).unwrap()
}

/// Waits until the committee of the epoch after `validator`'s tip has members (consensus keys,
/// 0x-hex) for which `holds`; returns it.
async fn next_committee(
    validator: &HttpClient,
    what: &str,
    holds: impl Fn(&[String]) -> bool,
) -> CommitteeInfo {
    let holds = &holds;
    eventually(Duration::from_secs(120), what, || async move {
        let tip = validator.block_height().await.ok()?;
        let committee = validator.committee(tip / DEVNET_L1_EPOCH_LENGTH + 1).await.ok()??;
        let keys: Vec<String> =
            committee.members.iter().map(|m| format!("{}", m.consensus_key)).collect();
        holds(&keys).then_some(committee)
    })
    .await
}

#[test]
fn a_registered_validator_joins_votes_and_the_light_clients_follow() {
    let devnet = DevnetProcess::start_with("devnet-join", &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let file = eventually(Duration::from_secs(300), "the devnet with its relayer", || async {
            devnet.file().filter(|f| f.relayer.is_some() && f.chains.len() == 3)
        })
        .await;
        let node0 = NodeConfig::load(&file.validators[0].config).unwrap();
        let l1 = node0.l1.clone().expect("a devnet's nodes follow the L1");
        assert_eq!(file.chains[2].chain_id, DEVNET_L1_CHAIN_ID, "the L1 comes last");

        // A fifth node: its own keys, the validators as peers, the same genesis and L1.
        let home = devnet.dir.join("joiner");
        std::fs::create_dir_all(&home).unwrap();
        let keys = ValidatorKeys::generate().unwrap();
        keys.save(&home.join("keys.toml")).unwrap();
        let (p2p, rpc) = (free_addr(), free_addr());
        let config = NodeConfig {
            data_dir: "data".into(),
            keys: "keys.toml".into(),
            genesis: file.genesis.clone(),
            p2p,
            rpc,
            metrics: None,
            peers: file
                .validators
                .iter()
                .map(|v| PeerConfig {
                    public_key: v.consensus_key.clone(),
                    address: v.p2p.to_string(),
                })
                .collect(),
            l1: Some(l1.clone()),
            ..node0
        };
        config.save(&home.join("node.toml")).unwrap();
        let log = std::fs::File::create(home.join("node.log")).unwrap();
        let _joiner = Joiner(
            Command::new(exe())
                .args(["node", "run", "--config"])
                .arg(home.join("node.toml"))
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap(),
        );

        // It registers with twice the genesis validators' stake.
        let sender = SenderArgs {
            table: TableArgs {
                l1_rpc: l1.rpc.clone(),
                stake_table: stake_table_address().unwrap(),
            },
            private_key: Some(JOINER_ACCOUNT.into()),
        };
        // By DNS name: every member dials it by name and checks its connections against the
        // name's resolution (the committee record carries the name).
        let named = format!("localhost:{}", p2p.port());
        register(&sender, &keys, named.parse().unwrap(), U256::from(64 * ETHER)).await.unwrap();

        // Two epoch ends later a committee seats it beside every genesis validator, first
        // (the most stake ranks first).
        let validator = client(&file.validators[0].rpc_url);
        let me = B256::from_slice(keys.consensus.public_key().as_ref());
        let seated = next_committee(&validator, "a committee seating the joiner", |keys| {
            keys.contains(&format!("{me}"))
        })
        .await;
        let members: Vec<String> =
            seated.members.iter().map(|m| format!("{}", m.consensus_key)).collect();
        assert_eq!(members.len(), 5, "{members:?}");
        for v in &file.validators {
            assert!(members.contains(&v.consensus_key), "validator {} keeps its seat", v.index);
        }
        let slot = members.iter().position(|m| m.as_str() == format!("{me}")).unwrap() as u32;
        let seat = &seated.members[slot as usize];
        assert_eq!(seat.p2p_address.as_deref(), Some(named.as_str()), "the record keeps the name");

        // The joiner follows and then signs states of the epoch that seats it.
        let joiner = client(&format!("http://{rpc}"));
        let first = seated.epoch * DEVNET_L1_EPOCH_LENGTH;
        let signed_at = first + 5;
        eventually(Duration::from_secs(120), "the joiner's signature in its epoch", || {
            let joiner = &joiner;
            async move {
                let signed = joiner.state_signatures(signed_at).await.ok()??;
                signed.signatures.iter().any(|s| s.slot == slot).then_some(())
            }
        })
        .await;
        // The light clients on both rollups and on the L1 went through the hand-off: proven
        // with the new committee.
        let light_clients: Vec<_> = file
            .chains
            .iter()
            .map(|chain| {
                let provider = ProviderBuilder::new().connect_http(chain.rpc_url.parse().unwrap());
                (chain.chain_id, LightClient::new(chain.contracts.light_client, provider))
            })
            .collect();
        let light_clients_reach = |end: u64, what: &'static str| {
            let light_clients = &light_clients;
            async move {
                for (chain_id, light_client) in light_clients {
                    let what = format!("{what} on chain {chain_id}");
                    eventually(Duration::from_secs(120), &what, || async move {
                        light_client.latestHeight().call().await.ok().filter(|h| *h >= end)
                    })
                    .await;
                }
            }
        };
        let end = first + DEVNET_L1_EPOCH_LENGTH - 1;
        light_clients_reach(end, "the light client past the joiner's epoch").await;

        // kill -9 of an original validator: the rotated committee keeps a quorum (4 of 5).
        let pid = file.validators[1].pid.to_string();
        assert!(Command::new("kill").args(["-9", &pid]).status().unwrap().success());
        let before = joiner.block_height().await.unwrap();
        eventually(Duration::from_secs(60), "finality without validator 1", || {
            let joiner = &joiner;
            async move { joiner.block_height().await.ok().filter(|h| *h > before + 10) }
        })
        .await;

        // A message sent after the rotation is delivered, and `trestle confirm` verifies its
        // transaction against the genesis anchor, through the hand-offs since epoch 0.
        let (a, b) = (&file.chains[0], &file.chains[1]);
        let from = messages::wallet(a, SENDER_KEY).unwrap();
        let to = messages::wallet(b, SENDER_KEY).unwrap();
        let sent =
            messages::send(&from, a, b, b.contracts.counter, b"after the rotation").await.unwrap();
        messages::wait_delivered(&to, b, sent.hash, Duration::from_secs(120)).await.unwrap();
        let tx = Transaction::new(Namespace(a.message_namespace), sent.encoded());
        let cache = devnet.dir.join("anchor.json");
        let confirm_with = |cache: &std::path::Path, namespace: u64, hash: B256| {
            let output = Command::new(exe())
                .args(["confirm", "--rpc", &file.validators[0].rpc_url, "--json"])
                .args(["--namespace", &namespace.to_string()])
                .args(["--tx", &hash.to_string(), "--genesis"])
                .arg(&file.genesis)
                .arg("--anchor-cache")
                .arg(cache)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
            let report: Report = serde_json::from_str(&stdout).unwrap();
            report.proof.expect("the proof")
        };
        let confirm = |namespace: u64, hash: B256| confirm_with(&cache, namespace, hash);
        let proof = confirm(a.message_namespace, tx.hash());
        assert!(proof.handoffs.len() as u64 >= seated.epoch, "{} hand-offs", proof.handoffs.len());
        // The anchor it reached is cached: the same check again walks no hand-off.
        assert!(confirm(a.message_namespace, tx.hash()).handoffs.is_empty(), "the cache is used");

        // Evidence for that state signed by the committee before the joiner's (the genesis
        // validators, whose keys are on disk), without the last hand-off, is refused: that
        // committee does not sign the joiner's epoch.
        old_committee_refused(&file, &proof, seated.epoch);

        // A second rotation: the joiner deregisters, the genesis validators alone are seated
        // two epoch ends later (validator 1 is down: 3 of 4 is a quorum), and the light
        // clients follow that hand-off too.
        let leave = ValidatorCommand::Deregister { sender: sender.clone() };
        trestle::stake_table::run(leave).await.unwrap();
        let returned = next_committee(&validator, "the joiner unseated", |keys| {
            !keys.contains(&format!("{me}"))
        })
        .await;
        assert_eq!(returned.members.len(), 4);
        let end = (returned.epoch + 1) * DEVNET_L1_EPOCH_LENGTH - 1;
        light_clients_reach(end, "the light client past the second rotation").await;
        // The node that left drops back to following: the committee still accepts it (a recent
        // former member) though no validator lists it as a peer.
        eventually(Duration::from_secs(60), "the joiner following after it left", || {
            let joiner = &joiner;
            async move { joiner.block_height().await.ok().filter(|h| *h > end + 5) }
        })
        .await;

        // A transaction after both rotations is confirmed from the cached anchor through the
        // hand-offs since, which move the cache on; the first one, now older than the cached
        // epoch, is confirmed under it with no hand-off (a newer state covers its header).
        let request = SubmitRequest {
            namespace: 77,
            payload: Bytes::from_static(b"after both rotations"),
            authorization: None,
        };
        let later = validator.submit(request).await.unwrap();
        eventually(Duration::from_secs(60), "the later transaction finalized", || {
            let validator = &validator;
            async move { validator.tx_proof(later).await.ok().flatten() }
        })
        .await;
        assert!(!confirm(77, later).handoffs.is_empty(), "the cache walks the new hand-offs");
        let again = confirm(a.message_namespace, tx.hash());
        assert!(again.handoffs.is_empty(), "the old transaction under the moved cache");

        // `trestle follow-anchor` walks each hand-off into a cache of its own once it is final
        // (here from genesis up to the current epoch, one line per hand-off): a check under that
        // cache walks none, whichever side of a boundary it falls on.
        let now = validator.block_height().await.unwrap() / DEVNET_L1_EPOCH_LENGTH;
        let followed = devnet.dir.join("followed.json");
        let follow = Command::new(exe())
            .args(["follow-anchor", "--rpc", &file.validators[0].rpc_url, "--genesis"])
            .arg(&file.genesis)
            .arg("--anchor-cache")
            .arg(&followed)
            .args(["--until-epoch", &now.to_string()])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&follow.stderr);
        assert!(follow.status.success(), "{said}");
        assert_eq!(said.matches("hand-off verified").count() as u64, now, "{said}");
        assert!(confirm_with(&followed, 77, later).handoffs.is_empty(), "the follower walked them");

        let output = devnet.output();
        assert!(!output.contains("panicked"), "{output}");
    });
}

/// `proof`, the evidence of a transaction from epoch `epoch` (the joiner's first) on, re-signed
/// by the genesis validators (the committee before `epoch`) with the hand-offs from `epoch − 1`
/// on dropped: what the committee that handed over could forge. The kernel refuses it.
fn old_committee_refused(file: &trestle::devnet::DevnetFile, proof: &Evidence, epoch: u64) {
    let anchor = anchor_from_genesis(&file.genesis).unwrap();
    let subject = Subject::Transaction {
        hash: Transaction::decode(&proof.transaction, usize::MAX).unwrap().hash(),
    };
    let namespace = Namespace(file.chains[0].message_namespace);
    let genuine = verify_confirmation(proof, namespace, &subject, &anchor).unwrap();
    assert!(genuine.state.epoch.get() >= epoch);
    let state = LightClientState::decode(&proof.state).unwrap();
    let message = state.message().unwrap();
    let signatures = file
        .validators
        .iter()
        .map(|v| {
            let keys = ValidatorKeys::load(&v.config.with_file_name("keys.toml")).unwrap();
            StateSignature { slot: v.index as u32, signature: keys.light_client.sign(&message) }
        })
        .collect();
    // The first `epoch − 1` hand-offs reach epoch `epoch − 1`, still the genesis committee's.
    let mut handoffs = proof.handoffs.clone();
    handoffs.truncate(epoch as usize - 1);
    let forged = Evidence { signatures, handoffs, ..proof.clone() };
    let refused = verify_confirmation(&forged, namespace, &subject, &anchor);
    assert!(matches!(refused, Err(ConfirmError::WrongEpoch { .. })), "{refused:?}");
}
