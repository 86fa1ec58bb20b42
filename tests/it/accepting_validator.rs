//! kill -9 of the validator that accepted a message's transaction, right after it accepted it:
//! the message is still delivered (issue "messages nobody can lose"). The relayer records a
//! source block as posted only once the network accepted its transactions, and reports it on
//! its status endpoint together with the endpoint it talks to; the test polls that, kills that
//! validator the moment the message's block shows as posted, and waits for the delivery on the
//! destination chain. What saves the message is the network (the mempool gossips it to the
//! other validators) and the relayer (it tracks each submission until finalized, resubmits and
//! fails over to the next endpoint).

use std::{
    ffi::OsStr,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use trestle::devnet::{messages, relayer::DEMO_SENDER_KEY};
use trestle_relayer::status::client::StatusClient;

use crate::devnet::{DevnetProcess, alive, demo_delivered};

#[test]
fn killing_the_accepting_validator_does_not_lose_the_message() {
    let dir = crate::cli::tempdir("accepting-validator");
    let child = DevnetProcess::start(
        ["--validators", "4", "--no-l1", "--data-dir"]
            .map(OsStr::new)
            .into_iter()
            .chain([dir.as_os_str()]),
        Stdio::null(),
    );
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let file = runtime.block_on(demo_delivered(&dir));
    let (killed, delivered) = runtime.block_on(async {
        let [from, to, ..] = file.chains.as_slice() else { panic!("two chains") };
        let relayer = file.relayer.as_ref().expect("relayer");
        // `statusUrl` names the endpoint; the client takes the base address.
        let status = StatusClient::new(relayer.status_url.trim_end_matches("/status"));
        let sender = messages::wallet(from, DEMO_SENDER_KEY).expect("wallet");
        let receiver = messages::wallet(to, DEMO_SENDER_KEY).expect("wallet");
        let sent = messages::send(&sender, from, to, to.contracts.counter, b"kill -9 test")
            .await
            .expect("send");
        // Poll the relayer until the message's block is posted (accepted by the network).
        let deadline = Instant::now() + Duration::from_secs(60);
        let endpoint = loop {
            assert!(Instant::now() < deadline, "the relayer never posted block {}", sent.block);
            if let Ok(now) = status.status().await {
                let posted = now
                    .chains
                    .iter()
                    .find(|c| c.chain_id == from.chain_id)
                    .and_then(|c| c.posted)
                    .is_some_and(|(number, _)| number >= sent.block);
                if posted {
                    break now.network.current;
                }
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        let victim = file
            .validators
            .iter()
            .find(|v| v.rpc_url == endpoint)
            .unwrap_or_else(|| panic!("no validator serves {endpoint}"));
        let killed =
            Command::new("kill").args(["-9", &victim.pid.to_string()]).status().expect("kill");
        assert!(killed.success(), "kill -9 {}", victim.pid);
        let delivered =
            messages::wait_delivered(&receiver, to, sent.hash, Duration::from_secs(120)).await;
        (victim.pid, delivered)
    });
    assert!(!alive(killed), "the accepting validator (pid {killed}) survived kill -9");
    let delivery = delivered.expect("the message is delivered after its accepting validator died");
    assert!(delivery.block > 0);
    let status = child.stop();
    assert!(status.success(), "devnet exited with {status}");
    std::fs::remove_dir_all(&dir).ok();
}
