//! Validators on separate hosts of one machine: each `trestle node run` process in a Linux
//! network namespace of its own, every byte between two of them crossing a delay relay (and,
//! optionally, packets dropped at random on every host).
//!
//! The hosts come from `scripts/netns` (which owns the names, the address plan and the
//! teardown; read it first) and the relays from [`relay`]. [`NetnsNetwork`] takes a network
//! through the operator flow an operator would follow on separate machines, with the `trestle`
//! binary it is given: `keygen --p2p-address` per host (its WAN address), `genesis create` from
//! the entries, `node init` per host (the production p2p profile, private addresses allowed, and
//! a redial cooldown of [`PEER_COOLDOWN_MS`] instead of the profile's minute), then `node run` inside the host's namespace. A test drives it over JSON-RPC at each host's
//! own address, cuts hosts off ([`partition`](NetnsNetwork::partition)), and kills and restarts
//! processes. Dropping it kills every process and deletes every namespace and link it made,
//! also when a test panics; `scripts/netns sweep` removes what a killed test run left.
//!
//! Needs root and iproute2's `ip` (CI runs as root); packet loss also needs nftables' `nft`.

pub mod relay;

/// The hosts' `peer_connection_cooldown_ms`. With the production profile's minute, a link lost to
/// a partition or to two dials crossing stays down for 60–90 s; with coded dissemination a member
/// that has no link to a leader never receives its shard, so it cannot vote for that leader's
/// proposals, and with one validator of four down as well the leaders at either end of the lost
/// link no longer get a quorum. Operators shorten it the same way (`node init --peer-cooldown-ms`).
pub const PEER_COOLDOWN_MS: u64 = 1_000;

use std::{
    fs,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU8, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use self::relay::{LinkDelay, Relays, Route};

/// The port every node listens on for peers, inside its namespace, and every relay listens on,
/// at the node's WAN address.
pub const P2P_PORT: u16 = 9_000;
/// Each node's JSON-RPC port, at its host address.
pub const RPC_PORT: u16 = 8_545;
/// Each node's Prometheus port, at its host address.
pub const METRICS_PORT: u16 = 9_090;
/// The chain id of a netns network.
pub const CHAIN_ID: u64 = 4_242;

/// Why a network could not be set up or changed.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    /// `scripts/netns` or a `trestle` command exited with an error.
    #[error("{command}: {status}: {stderr}")]
    Command {
        /// The command line.
        command: String,
        /// How it exited.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// A file, process or socket operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> NetnsError {
    let what = what.into();
    move |source| NetnsError::Io { what, source }
}

/// Runs `command` to completion; its stdout on success.
fn run(mut command: Command) -> Result<Vec<u8>, NetnsError> {
    let line = format!("{command:?}");
    let output = command.output().map_err(io(format!("running {line}")))?;
    if !output.status.success() {
        return Err(NetnsError::Command {
            command: line,
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(output.stdout)
}

/// The `scripts/netns` of this workspace.
fn script() -> Command {
    Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/netns"))
}

/// Distinguishes the networks one process starts (prefix letter and address block).
static NETWORKS: AtomicU8 = AtomicU8::new(0);

/// Hosts made by `scripts/netns up`; deleted (`down`) when dropped.
pub struct Hosts {
    prefix: String,
    count: usize,
    /// The second octet of the hosts' `10.x.0.0/16`.
    block: u8,
}

impl Hosts {
    /// Makes `count` hosts, after sweeping away what dead runs left.
    pub fn up(count: usize) -> Result<Self, NetnsError> {
        let mut sweep = script();
        sweep.arg("sweep");
        run(sweep)?;
        let n = NETWORKS.fetch_add(1, Ordering::Relaxed) % 26;
        let prefix = format!("trn{}{}", std::process::id(), char::from(b'a' + n));
        let block = 200 + n;
        let mut up = script();
        up.args(["up", &prefix, &count.to_string(), &format!("10.{block}")]);
        run(up)?;
        Ok(Self { prefix, count, block })
    }

    /// How many hosts there are.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Host `i`'s own address (its namespace's `eth0`).
    pub fn host_ip(&self, i: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, self.block, octet(i + 1), 2)
    }

    /// Host `i`'s WAN address: where the others reach it (through a relay), and where its
    /// connections to them come from.
    pub fn wan_ip(&self, i: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, self.block, 0, octet(10 + i))
    }

    /// Host `i`'s namespace.
    pub fn namespace(&self, i: usize) -> String {
        format!("{}-v{i}", self.prefix)
    }

    /// `program` to run inside host `i`'s namespace.
    pub fn command(&self, i: usize, program: &Path) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.namespace(i)]).arg(program);
        command
    }

    /// Cuts host `i` off: its link goes down, so every packet to or from it is dropped.
    pub fn partition(&self, i: usize) -> Result<(), NetnsError> {
        let mut command = script();
        command.args(["partition", &self.prefix, &i.to_string()]);
        run(command).map(drop)
    }

    /// Reconnects host `i`.
    pub fn heal(&self, i: usize) -> Result<(), NetnsError> {
        let mut command = script();
        command.args(["heal", &self.prefix, &i.to_string()]);
        run(command).map(drop)
    }

    /// Drops `percent` % of host `i`'s packets at random, in each direction (real packet loss:
    /// TCP retransmits); 0 stops it. Needs nftables' `nft`.
    pub fn set_loss(&self, i: usize, percent: u8) -> Result<(), NetnsError> {
        let mut command = script();
        command.args(["loss", &self.prefix, &i.to_string(), &percent.to_string()]);
        run(command).map(drop)
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        let mut down = script();
        down.args(["down", &self.prefix]);
        let _ = run(down);
    }
}

fn octet(value: usize) -> u8 {
    u8::try_from(value).unwrap_or(u8::MAX)
}

/// What network to start.
#[derive(Clone, Debug)]
pub struct NetnsOptions {
    /// Validators, one per host.
    pub validators: usize,
    /// The delay on every link.
    pub link: LinkDelay,
    /// Packets each host drops at random in each direction (%; 0 for none).
    pub loss_percent: u8,
    /// The genesis's least time between blocks (ms).
    pub min_block_interval_ms: u64,
    /// The `trestle` binary.
    pub exe: PathBuf,
    /// Where keys, genesis, configurations, storage and logs go.
    pub dir: PathBuf,
}

/// A network of `trestle node run` processes, one per host; torn down when dropped (processes
/// first, then relays, then hosts: fields drop in declaration order).
pub struct NetnsNetwork {
    children: Vec<Option<Child>>,
    /// Held for its drop, which stops the links.
    _relays: Relays,
    hosts: Hosts,
    options: NetnsOptions,
}

impl NetnsNetwork {
    /// Sets up the hosts, the relays and every validator's files, and starts the validators.
    pub fn start(options: NetnsOptions) -> Result<Self, NetnsError> {
        let n = options.validators;
        let hosts = Hosts::up(n)?;
        if options.loss_percent > 0 {
            for i in 0..n {
                hosts.set_loss(i, options.loss_percent)?;
            }
        }
        fs::create_dir_all(&options.dir).map_err(io("creating the network directory"))?;
        let mut genesis = Command::new(&options.exe);
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis().to_string())
            .unwrap_or_default();
        genesis.args(["genesis", "create", "--chain-id", &CHAIN_ID.to_string()]);
        genesis.args(["--timestamp-ms", &now_ms]);
        genesis.args(["--min-block-interval-ms", &options.min_block_interval_ms.to_string()]);
        genesis.arg("--out").arg(options.dir.join("genesis.json"));
        for i in 0..n {
            let home = options.dir.join(format!("node{i}"));
            fs::create_dir_all(&home).map_err(io("creating a node directory"))?;
            let mut keygen = Command::new(&options.exe);
            keygen.args(["keygen", "--p2p-address"]);
            keygen.arg(SocketAddr::from((hosts.wan_ip(i), P2P_PORT)).to_string());
            keygen.arg("--out").arg(home.join("keys.toml"));
            let entry = home.join("entry.json");
            fs::write(&entry, run(keygen)?).map_err(io("writing an entry"))?;
            genesis.arg("--validator").arg(entry);
        }
        run(genesis)?;
        for i in 0..n {
            let home = options.dir.join(format!("node{i}"));
            let mut init = Command::new(&options.exe);
            init.args(["node", "init", "--allow-private-ips"]);
            init.args(["--peer-cooldown-ms", &PEER_COOLDOWN_MS.to_string()]);
            init.arg("--genesis").arg(options.dir.join("genesis.json"));
            init.arg("--keys").arg(home.join("keys.toml"));
            init.arg("--rpc").arg(SocketAddr::from((hosts.host_ip(i), RPC_PORT)).to_string());
            init.arg("--metrics");
            init.arg(SocketAddr::from((hosts.host_ip(i), METRICS_PORT)).to_string());
            init.arg("--out").arg(home.join("node.toml"));
            run(init)?;
            // TRESTLE_NETNS_LOG_LEVEL=debug: more verbose validators, to diagnose a failure.
            if let Ok(level) = std::env::var("TRESTLE_NETNS_LOG_LEVEL") {
                let path = home.join("node.toml");
                let text = std::fs::read_to_string(&path).map_err(io("node.toml"))?;
                let text = text.replace("log_level = \"info\"", &format!("log_level = {level:?}"));
                std::fs::write(&path, text).map_err(io("node.toml"))?;
            }
        }
        let routes = (0..n)
            .map(|k| Route {
                listen: SocketAddr::from((hosts.wan_ip(k), P2P_PORT)),
                target: SocketAddr::from((hosts.host_ip(k), P2P_PORT)),
            })
            .collect();
        let wan: Vec<(IpAddr, IpAddr)> =
            (0..n).map(|i| (IpAddr::V4(hosts.host_ip(i)), IpAddr::V4(hosts.wan_ip(i)))).collect();
        let source_of =
            move |ip: IpAddr| wan.iter().find(|(host, _)| *host == ip).map(|(_, wan)| *wan);
        let relays = Relays::start(routes, source_of, options.link).map_err(io("relays"))?;
        let mut network =
            Self { children: (0..n).map(|_| None).collect(), _relays: relays, hosts, options };
        for i in 0..n {
            network.spawn(i)?;
        }
        Ok(network)
    }

    /// The hosts.
    pub fn hosts(&self) -> &Hosts {
        &self.hosts
    }

    /// Validator `i`'s JSON-RPC URL (HTTP; WebSocket on the same port).
    pub fn rpc_url(&self, i: usize) -> String {
        format!("http://{}:{RPC_PORT}", self.hosts.host_ip(i))
    }

    /// Validator `i`'s Prometheus URL.
    pub fn metrics_url(&self, i: usize) -> String {
        format!("http://{}:{METRICS_PORT}/metrics", self.hosts.host_ip(i))
    }

    /// Validator `i`'s log file.
    pub fn log(&self, i: usize) -> PathBuf {
        self.options.dir.join(format!("node{i}/node.log"))
    }

    /// Validator `i`'s process id, while it runs.
    pub fn pid(&self, i: usize) -> Option<u32> {
        self.children[i].as_ref().map(Child::id)
    }

    /// Cuts validator `i`'s host off the others (and off the test's RPC calls).
    pub fn partition(&self, i: usize) -> Result<(), NetnsError> {
        self.hosts.partition(i)
    }

    /// Reconnects validator `i`'s host.
    pub fn heal(&self, i: usize) -> Result<(), NetnsError> {
        self.hosts.heal(i)
    }

    /// Kills validator `i` with SIGKILL (no chance to flush anything) and reaps it.
    pub fn kill(&mut self, i: usize) -> Result<(), NetnsError> {
        if let Some(mut child) = self.children[i].take() {
            child.kill().map_err(io("killing a validator"))?;
            child.wait().map_err(io("reaping a validator"))?;
        }
        Ok(())
    }

    /// Starts validator `i` again over its storage (after [`kill`](Self::kill)).
    pub fn restart(&mut self, i: usize) -> Result<(), NetnsError> {
        self.kill(i)?;
        self.spawn(i)
    }

    fn spawn(&mut self, i: usize) -> Result<(), NetnsError> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log(i))
            .map_err(io("opening a log"))?;
        let err = log.try_clone().map_err(io("opening a log"))?;
        let mut command = self.hosts.command(i, &self.options.exe);
        command.args(["node", "run", "--config"]);
        command.arg(self.options.dir.join(format!("node{i}/node.toml")));
        // Plain text in the log file, not terminal colour codes (tracing-subscriber's NO_COLOR).
        command.env("NO_COLOR", "1").stdin(Stdio::null()).stdout(log).stderr(err);
        self.children[i] = Some(command.spawn().map_err(io("starting a validator"))?);
        Ok(())
    }

    /// The last `lines` lines of every validator's log, for a failure message.
    pub fn log_tails(&self, lines: usize) -> String {
        let mut out = String::new();
        for i in 0..self.hosts.count() {
            let log = fs::read_to_string(self.log(i)).unwrap_or_default();
            let all: Vec<&str> = log.lines().collect();
            out.push_str(&format!("\n--- validator {i} ({}) ---\n", self.hosts.namespace(i)));
            out.push_str(&all[all.len().saturating_sub(lines)..].join("\n"));
        }
        out
    }

    /// Waits up to `deadline` for every process to be reachable over JSON-RPC (a TCP connect to
    /// its RPC port), so a caller's first request does not race the start-up.
    pub fn wait_for_rpc(&self, deadline: Duration) -> Result<(), NetnsError> {
        let start = std::time::Instant::now();
        for i in 0..self.hosts.count() {
            let address = SocketAddr::from((self.hosts.host_ip(i), RPC_PORT));
            while std::net::TcpStream::connect_timeout(&address, Duration::from_millis(200))
                .is_err()
            {
                if start.elapsed() > deadline {
                    return Err(NetnsError::Io {
                        what: format!("validator {i}'s JSON-RPC at {address}"),
                        source: std::io::ErrorKind::TimedOut.into(),
                    });
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Ok(())
    }
}

impl Drop for NetnsNetwork {
    fn drop(&mut self) {
        for child in self.children.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
