//! The operator flow of a new network: `trestle keygen` on each machine, `trestle genesis create`
//! from the shared entries, `trestle genesis verify` by every operator (same hash), and every
//! entry that must be refused (no or wrong proofs of possession, keys or addresses twice).

use std::{path::Path, process::Command};

use serde_json::Value;

use crate::cli::tempdir;

fn trestle() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trestle"))
}

/// Runs `trestle keygen` for validator `i` and saves its printed entry as `entry{i}.json`.
/// Validator 3 is reached by DNS name (one that resolves here: the node checks its peers'
/// names at start), the others by IP.
fn keygen(dir: &Path, i: usize) -> Value {
    let address = match i {
        3 => "localhost:3004".to_string(),
        _ => format!("10.7.0.{}:3000", i + 1),
    };
    let out = trestle()
        .args(["keygen", "--p2p-address", &address, "--out"])
        .arg(dir.join(format!("keys{i}.toml")))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let entry: Value = serde_json::from_slice(&out.stdout).unwrap();
    std::fs::write(dir.join(format!("entry{i}.json")), &out.stdout).unwrap();
    entry
}

/// `trestle genesis create` over `entries` (file names in `dir`) into `out`.
fn create(dir: &Path, entries: &[&str], out: &str) -> std::process::Output {
    let mut command = trestle();
    command.args(["genesis", "create", "--chain-id", "4242", "--timestamp-ms", "1700000000000"]);
    command.args(["--epoch-length", "100", "--capacity", "6", "--out"]).arg(dir.join(out));
    for entry in entries {
        command.arg("--validator").arg(dir.join(entry));
    }
    command.output().unwrap()
}

fn hash_line(stdout: &[u8]) -> String {
    String::from_utf8_lossy(stdout)
        .lines()
        .find_map(|l| l.strip_prefix("genesis hash ").and_then(|rest| rest.split(' ').next()))
        .unwrap_or_else(|| panic!("no hash in {}", String::from_utf8_lossy(stdout)))
        .to_owned()
}

fn refused(out: &std::process::Output, why: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "accepted, expected {why:?}");
    assert!(stderr.contains(why), "expected {why:?} in: {stderr}");
}

#[test]
fn operators_assemble_a_genesis_from_public_entries_and_agree_on_its_hash() {
    let dir = tempdir("genesis");
    let entries: Vec<Value> = (0..4).map(|i| keygen(&dir, i)).collect();
    for entry in &entries {
        for field in ["consensusKey", "lightClientKey", "consensusPop", "lightClientPop"] {
            assert!(entry[field].as_str().is_some_and(|v| v.starts_with("0x")), "{field}");
        }
        let secret = std::fs::read_to_string(dir.join("keys0.toml")).unwrap();
        assert!(!secret.contains(entry["consensusPop"].as_str().unwrap()));
    }
    let names = ["entry0.json", "entry1.json", "entry2.json", "entry3.json"];

    let out = create(&dir, &names, "genesis.json");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let created = hash_line(&out.stdout);
    assert!(String::from_utf8_lossy(&out.stdout).contains("4 validators in 6 slots"));
    // Every operator checks the file it received and sees the same hash; the node loads it.
    let verified = trestle().args(["genesis", "verify"]).arg(dir.join("genesis.json")).output();
    let verified = verified.unwrap();
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
    assert_eq!(hash_line(&verified.stdout), created);
    let (_, resolved) = trestle_api::genesis::Genesis::load(&dir.join("genesis.json")).unwrap();
    assert_eq!(resolved.consensus_keys.len(), 4);
    let named = resolved.p2p_addresses[3].as_ref().map(ToString::to_string);
    assert_eq!(named.as_deref(), Some("localhost:3004"));
    assert_eq!(trestle::genesis::genesis_hash(&resolved).to_string(), created);
    // Another order is another committee, so another genesis.
    let reordered = create(&dir, &[names[1], names[0], names[2], names[3]], "reordered.json");
    assert!(reordered.status.success());
    assert_ne!(hash_line(&reordered.stdout), created);
    // Never overwritten.
    refused(&create(&dir, &names, "genesis.json"), "never overwritten");

    // The same entry twice.
    refused(
        &create(&dir, &[names[0], names[1], names[0]], "twice.json"),
        "validators 0 and 2 share",
    );
    // An address used by another entry.
    let mut moved = entries[2].clone();
    moved["p2pAddress"] = entries[1]["p2pAddress"].clone();
    write_entry(&dir, "moved.json", &moved);
    refused(&create(&dir, &[names[0], names[1], "moved.json"], "moved.g.json"), "p2p address");
    // An address that is neither ip:port nor host:port (an underscore is no DNS character).
    let mut misnamed = entries[2].clone();
    misnamed["p2pAddress"] = "validator_2.example.org:3000".into();
    write_entry(&dir, "misnamed.json", &misnamed);
    refused(
        &create(&dir, &[names[0], names[1], "misnamed.json"], "misnamed.g.json"),
        "the host is not a DNS name",
    );
    let out = trestle()
        .args(["keygen", "--p2p-address", "10.0.0.300:1", "--out"])
        .arg(dir.join("mistyped.toml"))
        .output()
        .unwrap();
    assert!(!out.status.success() && !dir.join("mistyped.toml").exists(), "a mistyped IP");
    // Keys paired by someone else: operator 2's consensus key with operator 3's light-client key
    // (and its proof), so neither proof signs this pair.
    let mut paired = entries[2].clone();
    paired["lightClientKey"] = entries[3]["lightClientKey"].clone();
    paired["lightClientPop"] = entries[3]["lightClientPop"].clone();
    write_entry(&dir, "paired.json", &paired);
    refused(&create(&dir, &[names[0], "paired.json"], "paired.g.json"), "proof of possession");
    // A light-client proof from another entry.
    let mut borrowed = entries[2].clone();
    borrowed["lightClientPop"] = entries[1]["lightClientPop"].clone();
    write_entry(&dir, "borrowed.json", &borrowed);
    refused(
        &create(&dir, &[names[0], "borrowed.json"], "borrowed.g.json"),
        "light-client key's proof of possession",
    );
    // No proofs at all (an older entry), and only one of them.
    let mut bare = entries[2].clone();
    bare.as_object_mut().unwrap().remove("consensusPop");
    write_entry(&dir, "half.json", &bare);
    refused(&create(&dir, &[names[0], "half.json"], "half.g.json"), "one proof of possession");
    bare.as_object_mut().unwrap().remove("lightClientPop");
    write_entry(&dir, "bare.json", &bare);
    refused(&create(&dir, &[names[0], "bare.json"], "bare.g.json"), "no proofs of possession");
    // Garbage and too small a capacity.
    std::fs::write(dir.join("garbage.json"), "{\"consensusKey\": 7}").unwrap();
    refused(&create(&dir, &[names[0], "garbage.json"], "garbage.g.json"), "not a genesis entry");
    let mut small = trestle();
    small.args(["genesis", "create", "--chain-id", "1", "--timestamp-ms", "0", "--capacity", "1"]);
    small.arg("--out").arg(dir.join("small.json"));
    for name in &names {
        small.arg("--validator").arg(dir.join(name));
    }
    refused(&small.output().unwrap(), "capacity 1 is below the 4 validators");
    // Fewer than 4 validators: blocks travel erasure-coded, which needs f ≥ 1.
    refused(&create(&dir, &names[..3], "three.g.json"), "a committee needs at least 4");
    // A received file whose entry was tampered with fails verification.
    let mut genesis: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("genesis.json")).unwrap()).unwrap();
    genesis["validators"][1]["lightClientPop"] = entries[0]["lightClientPop"].clone();
    write_entry(&dir, "tampered.json", &genesis);
    let out = trestle().args(["genesis", "verify"]).arg(dir.join("tampered.json")).output();
    refused(&out.unwrap(), "validator 1: the light-client key's proof of possession");

    // Each operator writes its node configuration: the others as peers at their entries'
    // addresses, listening on its own entry's port, the production profile.
    let out = node_init(&dir, "keys1.toml", "genesis.json", "node1.toml", &["--allow-private-ips"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("validator 1 of the genesis, 3 peers"));
    let config = trestle_node::service::NodeConfig::load(&dir.join("node1.toml")).unwrap();
    let peers: Vec<(String, String)> =
        config.peers.iter().map(|p| (p.public_key.clone(), p.address.clone())).collect();
    let expected: Vec<(String, String)> = [0, 2, 3] // 3 by name
        .iter()
        .map(|&i| {
            let entry = &entries[i];
            (
                entry["consensusKey"].as_str().unwrap().into(),
                entry["p2pAddress"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(peers, expected);
    assert_eq!(config.p2p.to_string(), "0.0.0.0:3000");
    assert_eq!(config.p2p_profile, trestle_node::service::network::P2pProfile::Production);
    assert_eq!(config.allow_private_ips, Some(true));
    assert!(config.keys.is_absolute() && config.genesis.is_absolute());
    trestle_node::service::prepare(&dir.join("node1.toml")).expect("the node accepts it");
    // Data another trestle version wrote (here: archives but no format file) is refused at
    // start, before anything opens it.
    std::fs::create_dir_all(config.data_dir.join("trestle-finalized-blocks")).unwrap();
    let run = trestle().args(["node", "run", "--config"]).arg(dir.join("node1.toml")).output();
    refused(&run.unwrap(), "holds data but no FORMAT file");
    std::fs::remove_dir_all(&config.data_dir).unwrap();
    // A p2p port another process holds is refused at start, rather than leaving a validator
    // running without its listener.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut on_busy = config.clone();
    on_busy.p2p = busy.local_addr().unwrap();
    on_busy.save(&dir.join("node1-busy.toml")).unwrap();
    let run = trestle().args(["node", "run", "--config"]).arg(dir.join("node1-busy.toml")).output();
    refused(&run.unwrap(), &format!("cannot listen on p2p address {}", on_busy.p2p));
    std::fs::remove_dir_all(&config.data_dir).unwrap();
    refused(&node_init(&dir, "keys1.toml", "genesis.json", "node1.toml", &[]), "never overwritten");
    // A key outside the genesis follows the four.
    let _ = keygen(&dir, 5);
    let quick = ["--p2p", "0.0.0.0:3001", "--peer-cooldown-ms", "5000"];
    let out = node_init(&dir, "keys5.toml", "genesis.json", "node5.toml", &quick);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("a follower"));
    let config = trestle_node::service::NodeConfig::load(&dir.join("node5.toml")).unwrap();
    assert_eq!(config.peer_connection_cooldown_ms, Some(5_000));
    // A cooldown out of bounds is refused before anything is written.
    let zero = ["--p2p", "0.0.0.0:3002", "--peer-cooldown-ms", "0"];
    refused(
        &node_init(&dir, "keys5.toml", "genesis.json", "node6.toml", &zero),
        "peer_connection_cooldown_ms = 0",
    );
    assert!(!dir.join("node6.toml").exists());
    // A genesis whose entries lack addresses cannot name the peers.
    let mut bare: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("genesis.json")).unwrap()).unwrap();
    bare["validators"][2].as_object_mut().unwrap().remove("p2pAddress");
    write_entry(&dir, "bare-genesis.json", &bare);
    refused(
        &node_init(&dir, "keys0.toml", "bare-genesis.json", "node0.toml", &[]),
        "validator 2 has no p2pAddress",
    );
    std::fs::remove_dir_all(dir).ok();
}

/// `trestle node init` for the key file `keys` and genesis `genesis` (names in `dir`).
fn node_init(
    dir: &Path,
    keys: &str,
    genesis: &str,
    out: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut command = trestle();
    command.args(["node", "init", "--keys"]).arg(dir.join(keys));
    command.arg("--genesis").arg(dir.join(genesis));
    command.arg("--out").arg(dir.join(out)).args(extra);
    command.output().unwrap()
}

fn write_entry(dir: &Path, name: &str, value: &Value) {
    std::fs::write(dir.join(name), serde_json::to_string_pretty(value).unwrap()).unwrap();
}
