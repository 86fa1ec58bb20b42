//! Validators on loopback: the real authenticated TCP p2p and the JSON-RPC server, started
//! with [`service::launch`](crate::service::launch) exactly as the validator process starts
//! them, on a commonware tokio runtime of their own thread (so a test's own runtime, and its
//! logging, stay out of it).

use std::{
    net::{SocketAddr, TcpListener},
    path::PathBuf,
    sync::mpsc as std_mpsc,
    thread,
    time::Duration,
};

use commonware_cryptography::Signer as _;
use commonware_runtime::{Runner as _, Supervisor as _, tokio as cw_tokio};

use commonware_p2p::Address;

use crate::{
    service::{
        Launch, Running, launch,
        network::{P2pOptions, P2pProfile, peer_address},
    },
    validator::Validator,
};

/// How long the validators may take to start.
const START_DEADLINE: Duration = Duration::from_secs(60);

/// A free loopback address (bound then released, so another process could take it first:
/// good enough for tests). For several at once, [`free_addrs`].
pub fn free_addr() -> SocketAddr {
    free_addrs(1)[0]
}

/// `count` distinct free loopback addresses. Each port stays bound until all are found: the
/// kernel may hand a port just released to the next `bind(0)`, and two listeners given one port
/// leave one of them unbound (a validator without its p2p listener).
pub fn free_addrs(count: usize) -> Vec<SocketAddr> {
    let held: Vec<TcpListener> = (0..count)
        .map(|_| match TcpListener::bind("127.0.0.1:0") {
            Ok(listener) => listener,
            Err(e) => panic!("no free loopback port: {e}"),
        })
        .collect();
    held.iter()
        .map(|listener| match listener.local_addr() {
            Ok(addr) => addr,
            Err(e) => panic!("no free loopback port: {e}"),
        })
        .collect()
}

/// Validators of one network on loopback, on their own thread and runtime; stopped on drop.
pub struct LocalNetwork {
    rpc: Vec<SocketAddr>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl LocalNetwork {
    /// Starts `validators` (all of one genesis) with storage under `storage`, each with its
    /// p2p and RPC on free loopback ports.
    pub fn start(storage: PathBuf, validators: Vec<Validator>) -> Self {
        Self::start_addressed(storage, validators, Address::Symmetric)
    }

    /// Like [`start`](Self::start), each validator knowing the others by a DNS name:
    /// `localhost:port`, as a node configuration names them ([`peer_address`]).
    pub fn start_named(storage: PathBuf, validators: Vec<Validator>) -> Self {
        Self::start_addressed(storage, validators, |addr| {
            match peer_address("peer", &format!("localhost:{}", addr.port()), false) {
                Ok(address) => address,
                Err(e) => panic!("localhost does not resolve: {e}"),
            }
        })
    }

    fn start_addressed(
        storage: PathBuf,
        validators: Vec<Validator>,
        address: fn(SocketAddr) -> Address,
    ) -> Self {
        let p2p = free_addrs(validators.len());
        let keys: Vec<_> = validators.iter().map(|v| v.keys.consensus.public_key()).collect();
        let launches: Vec<Launch> = validators
            .into_iter()
            .enumerate()
            .map(|(i, validator)| Launch {
                validator,
                p2p: p2p[i],
                p2p_options: P2pOptions { profile: P2pProfile::Local, ..P2pOptions::default() },
                peers: (0..keys.len())
                    .filter(|&j| j != i)
                    .map(|j| (keys[j].clone(), address(p2p[j])))
                    .collect(),
                rpc: SocketAddr::from(([127, 0, 0, 1], 0)),
                l1: None,
            })
            .collect();
        let count = launches.len();
        let (addr_tx, addr_rx) = std_mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = thread::spawn(move || {
            let runner = cw_tokio::Runner::new(
                cw_tokio::Config::new().with_worker_threads(2).with_storage_directory(storage),
            );
            runner.start(|context| async move {
                let mut running: Vec<Running> = Vec::new();
                for (i, config) in launches.into_iter().enumerate() {
                    let context = context.child("validator").with_attribute("index", i);
                    match launch(context, config).await {
                        Ok(validator) => {
                            let _ = addr_tx.send(Ok(validator.rpc.local_addr()));
                            running.push(validator);
                        }
                        Err(e) => {
                            let _ = addr_tx.send(Err(e.to_string()));
                            return;
                        }
                    }
                }
                let _ = stopped.await;
                for validator in &running {
                    validator.rpc.stop();
                }
                drop(running);
            });
        });
        let mut rpc = Vec::new();
        for i in 0..count {
            match addr_rx.recv_timeout(START_DEADLINE) {
                Ok(Ok(addr)) => rpc.push(addr),
                Ok(Err(e)) => panic!("validator {i} does not start: {e}"),
                Err(e) => panic!("validator {i} did not start in {START_DEADLINE:?}: {e}"),
            }
        }
        Self { rpc, stop: Some(stop), thread: Some(thread) }
    }

    /// The RPC address of validator `i`.
    pub fn rpc(&self, i: usize) -> SocketAddr {
        self.rpc[i]
    }

    /// The RPC URL of validator `i`.
    pub fn url(&self, i: usize) -> String {
        format!("http://{}", self.rpc[i])
    }
}

impl Drop for LocalNetwork {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
