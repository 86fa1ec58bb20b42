//! Configuration validation: a good file loads; each kind of mistake is a `ConfigError` naming
//! the field.

use std::path::Path;

use trestle_api::ValidatorKeys;
use trestle_relayer::config::{Config, ConfigError, DEFAULT_RESEND_MS, Role};

/// Anvil's well-known account 1 (test key, public knowledge).
const EVM_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

fn good(dir: &Path) -> String {
    ValidatorKeys::from_entropy([1; 32], [2; 32])
        .expect("keys")
        .save(&dir.join("owner.toml"))
        .expect("owner key");
    let keys = dir.join("keys");
    std::fs::create_dir_all(&keys).expect("keys dir");
    std::fs::write(keys.join("light-client-n4.pk"), b"not read by validation").expect("pk");
    format!(
        r#"
network_rpc = "http://127.0.0.1:9000"
store = "state/relayer.redb"
metrics = "127.0.0.1:0"
roles = ["post", "prove", "deliver"]

[poll]
evm_ms = 100

[prover]
keys_dir = "keys"
capacity = 4

[[chains]]
name = "a"
chain_id = 31337
rpc = "http://127.0.0.1:8545"
mailbox = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
light_client = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
message_namespace = 1001
block_namespace = 1002
owner_key = "owner.toml"
evm_key = "{EVM_KEY}"
max_gas_price_wei = 100000000000

[[chains]]
name = "b"
chain_id = 31338
rpc = "http://127.0.0.1:8546"
mailbox = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
light_client = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
message_namespace = 2001
block_namespace = 2002
owner_key = "owner.toml"
evm_key_file = "evm.key"
max_gas_price_wei = 100000000000
confirmations = 2
start_block = 0
"#
    )
}

fn load(dir: &Path, text: &str) -> Result<Config, ConfigError> {
    let path = dir.join("relayer.toml");
    std::fs::write(&path, text).expect("write config");
    Config::load(&path)
}

/// Loads `good` with `from` replaced by `to` and returns the error.
fn refused(from: &str, to: &str) -> ConfigError {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("evm.key"), format!("{EVM_KEY}\n")).expect("evm key");
    let text = good(dir.path());
    assert!(text.contains(from), "{from:?} is in the good config");
    load(dir.path(), &text.replacen(from, to, 1)).expect_err("refused")
}

fn assert_field(error: &ConfigError, field: &str) {
    match error {
        ConfigError::Invalid { field: f, .. } | ConfigError::Key { field: f, .. } => {
            assert_eq!(f, field, "{error}")
        }
        other => panic!("expected an error about {field}, got {other}"),
    }
}

#[test]
fn a_good_config_loads_with_paths_resolved() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("evm.key"), format!("{EVM_KEY}\n")).expect("evm key");
    let config = load(dir.path(), &good(dir.path())).expect("valid");
    assert_eq!(config.roles, vec![Role::Post, Role::Prove, Role::Deliver]);
    assert_eq!(config.store, dir.path().join("state/relayer.redb"));
    assert_eq!(config.poll.evm_ms, 100);
    assert_eq!(config.poll.network_ms, 500, "defaults fill what is left out");
    assert_eq!(config.chains.len(), 2);
    assert_eq!(config.chains[1].confirmations, 2);
    assert_eq!(config.chains[1].start_block, Some(0));
    assert_eq!(config.network_rpc.urls(), ["http://127.0.0.1:9000"], "one URL, as a string");
    assert_eq!(config.resend_ms, DEFAULT_RESEND_MS);
    let signer = config.chains[1].load_evm_signer("b").expect("key file");
    assert_eq!(
        signer.address(),
        config.chains[0].load_evm_signer("a").expect("inline key").address()
    );
    assert!(config.prover.expect("prover").proving_key_path().ends_with("light-client-n4.pk"));
}

#[test]
fn shape_errors_are_parse_errors() {
    for (from, to) in [
        (r#"roles = ["post", "prove", "deliver"]"#, r#"roles = ["post", "mint"]"#),
        ("capacity = 4", "capacity = 4\nextra = 1"),
        ("chain_id = 31337", "chain_id = -1"),
        (r#"network_rpc = "http://127.0.0.1:9000""#, "network_rpc = 9000"),
        (r#"mailbox = "0x5FbDB2315678afecb367f032d93F642f64180aa3""#, r#"mailbox = "0x12""#),
    ] {
        assert!(matches!(refused(from, to), ConfigError::Parse { .. }), "{to}");
    }
}

#[test]
fn several_network_endpoints_load_in_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("evm.key"), format!("{EVM_KEY}\n")).expect("evm key");
    let text = good(dir.path()).replacen(
        r#"network_rpc = "http://127.0.0.1:9000""#,
        "network_rpc = [\"http://127.0.0.1:9000\", \"https://validator-2.example:443\"]\nresend_ms = 750",
        1,
    );
    let config = load(dir.path(), &text).expect("valid");
    assert_eq!(
        config.network_rpc.urls(),
        ["http://127.0.0.1:9000", "https://validator-2.example:443"]
    );
    assert_eq!(config.resend_ms, 750);
}

#[test]
fn each_mistake_names_its_field() {
    let cases = [
        (r#"network_rpc = "http://127.0.0.1:9000""#, r#"network_rpc = "ws://x""#, "network_rpc"),
        (r#"network_rpc = "http://127.0.0.1:9000""#, r#"network_rpc = "nope""#, "network_rpc"),
        (r#"network_rpc = "http://127.0.0.1:9000""#, "network_rpc = []", "network_rpc"),
        (
            r#"network_rpc = "http://127.0.0.1:9000""#,
            r#"network_rpc = ["http://127.0.0.1:9000", "ws://127.0.0.1:9001"]"#,
            "network_rpc[1]",
        ),
        (
            r#"network_rpc = "http://127.0.0.1:9000""#,
            r#"network_rpc = ["nope", "http://127.0.0.1:9001"]"#,
            "network_rpc[0]",
        ),
        (
            r#"roles = ["post", "prove", "deliver"]"#,
            "roles = [\"post\", \"prove\", \"deliver\"]\nresend_ms = 0",
            "resend_ms",
        ),
        (r#"roles = ["post", "prove", "deliver"]"#, "roles = []", "roles"),
        (r#"roles = ["post", "prove", "deliver"]"#, r#"roles = ["post", "post"]"#, "roles"),
        (
            r#"roles = ["post", "prove", "deliver"]"#,
            "roles = [\"deliver\"]\ndiscovery_start_height = 0",
            "discovery_start_height",
        ),
        ("evm_ms = 100", "evm_ms = 0", "poll"),
        ("capacity = 4", "capacity = 8", "prover.keys_dir"),
        (r#"name = "b""#, r#"name = "a""#, "chains[1].name"),
        (r#"name = "b""#, r#"name = "b c""#, "chains[1].name"),
        ("chain_id = 31338", "chain_id = 31337", "chains[1].chain_id"),
        (r#"rpc = "http://127.0.0.1:8546""#, r#"rpc = "ftp://x""#, "chains[1].rpc"),
        (r#"rpc = "http://127.0.0.1:8546""#, r#"rpc = "ftp://x""#, "chains[1].rpc"),
        (
            r#"mailbox = "0x5FbDB2315678afecb367f032d93F642f64180aa3""#,
            r#"mailbox = "0x0000000000000000000000000000000000000000""#,
            "chains[0].mailbox",
        ),
        ("block_namespace = 1002", "block_namespace = 1001", "chains[0].block_namespace"),
        ("message_namespace = 2001", "message_namespace = 1002", "chains[1].message_namespace"),
        (
            "max_gas_price_wei = 100000000000",
            "max_gas_price_wei = 0",
            "chains[0].max_gas_price_wei",
        ),
        (r#"owner_key = "owner.toml""#, r#"owner_key = "missing.toml""#, "chains[0].owner_key"),
        (&format!(r#"evm_key = "{EVM_KEY}""#), r#"evm_key = "0x1234""#, "chains[0].evm_key"),
        (
            r#"evm_key_file = "evm.key""#,
            r#"evm_key = "{EVM_KEY}"
evm_key_file = "evm.key""#,
            "chains[1].evm_key",
        ),
    ];
    for (from, to, field) in cases {
        assert_field(&refused(from, to), field);
    }
}

#[test]
fn roles_only_need_their_own_keys() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = good(dir.path())
        .replace(r#"roles = ["post", "prove", "deliver"]"#, r#"roles = ["post"]"#)
        .replace(&format!(r#"evm_key = "{EVM_KEY}""#), "")
        .replace(r#"evm_key_file = "evm.key""#, "")
        .replace("[prover]\nkeys_dir = \"keys\"\ncapacity = 4\n", "");
    let config = load(dir.path(), &text).expect("a posting relayer needs no EVM or proving key");
    assert!(config.runs(Role::Post) && !config.runs(Role::Deliver));

    let text = text.replace(r#"roles = ["post"]"#, r#"roles = ["prove"]"#);
    assert_field(&load(dir.path(), &text).expect_err("no prover"), "prover");
}

#[test]
fn a_third_party_delivers_without_the_owner_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("evm.key"), format!("{EVM_KEY}\n")).expect("evm key");
    let text = good(dir.path())
        .replace(r#"roles = ["post", "prove", "deliver"]"#, r#"roles = ["prove", "deliver"]"#)
        .replace(r#"owner_key = "owner.toml""#, "");
    assert!(!text.contains("owner_key"));
    let config = load(dir.path(), &text).expect("proving and delivering need no owner key");
    assert!(config.runs(Role::Deliver) && !config.runs(Role::Post));
    assert_eq!(config.discovery_start_height(), 1, "by default the whole history is read");

    let text = text.replace(
        r#"roles = ["prove", "deliver"]"#,
        "roles = [\"prove\", \"deliver\"]\ndiscovery_start_height = 5000",
    );
    let config = load(dir.path(), &text).expect("valid");
    assert_eq!(config.discovery_start_height(), 5_000);

    // The post role still needs the owner's key.
    let text = text.replace(r#"roles = ["prove", "deliver"]"#, r#"roles = ["post", "deliver"]"#);
    assert_field(&load(dir.path(), &text).expect_err("no owner key"), "chains[0].owner_key");
}

#[test]
fn the_example_config_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("relayer.example.toml");
    let text = std::fs::read_to_string(path).expect("example");
    let config = Config::parse(&text).expect("the example has the current shape");
    assert_eq!(config.chains.len(), 2);
    assert!(config.runs(Role::Prove));
}
