//! Validators that know each other by DNS name, on loopback.

use serde_json::json;
use trestle_api::HeaderResponse;
use trestle_node::testing::{TestGenesis, local::LocalNetwork};

use crate::rpc::{call, typed};

/// Validators that know each other by DNS name (`localhost:port`, dialed through commonware's DNS
/// ingress, inbound connections checked against the name's resolution) finalize the same chain.
#[tokio::test]
async fn validators_named_by_dns_finalize_the_same_chain() {
    let storage = tempfile::tempdir().expect("temp dir");
    let network = TestGenesis::new(4).build();
    let validators = (0..4).map(|i| network.validator(i, format!("dns{i}"))).collect();
    let local = LocalNetwork::start_named(storage.path().to_path_buf(), validators);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let mut tips = Vec::new();
        for i in 0..4 {
            tips.push(typed::<u64>(call(local.rpc(i), "trestle_blockHeight", json!([])).await));
        }
        if tips.iter().all(|&tip| tip >= 3) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no progress by DNS-named peers: {tips:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut hashes = Vec::new();
    for i in 0..4 {
        let header: HeaderResponse = typed(call(local.rpc(i), "trestle_header", json!([3])).await);
        hashes.push(header.hash);
    }
    assert!(hashes.windows(2).all(|w| w[0] == w[1]), "the same block at height 3: {hashes:?}");
}
