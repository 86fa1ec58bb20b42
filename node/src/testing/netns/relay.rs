//! The WAN between the hosts: a TCP relay on every host's WAN address that holds each byte for
//! the link's one-way delay (plus jitter) in each direction before passing it on.
//!
//! This kernel has no `netem` qdisc, so delay cannot be added to packets; it is added to the
//! byte stream instead. A relay accepts a host's connection to a peer's WAN address, dials the
//! peer from the caller's own WAN address (so the peer sees the connection come from where its
//! configuration says that caller lives, as commonware's ingress check wants) and pipes both
//! directions, each read chunk released `one_way` (+ up to `jitter`) after it arrived. Order is
//! kept: a chunk is never released before the one read ahead of it. A connection from an
//! address that is not a host is dropped.
//!
//! Every connection crosses exactly one relay (host → root namespace → host), so the delay
//! between any two hosts is `one_way` each way, whichever side dialed.

use std::{
    net::{IpAddr, SocketAddr},
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::{
        TcpListener, TcpSocket, TcpStream,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
    sync::mpsc,
    task::JoinSet,
    time::Instant,
};

/// A link's one-way delay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkDelay {
    /// Added to every byte in each direction.
    pub one_way: Duration,
    /// Up to this much more, uniformly, per read chunk (order is kept).
    pub jitter: Duration,
}

/// Chunks read ahead of the writer, per direction: bounds the relay's memory per connection
/// (64 KiB each) while a slow reader catches up.
const CHUNKS_IN_FLIGHT: usize = 1_024;
const CHUNK: usize = 64 * 1024;

/// Where a relay sends what it accepts.
#[derive(Clone, Debug)]
pub struct Route {
    /// The WAN address the relay listens on (the target host's).
    pub listen: SocketAddr,
    /// The target host's own address (its node's p2p listener).
    pub target: SocketAddr,
}

/// Relays for every host, on a tokio runtime of their own; stopped when dropped.
pub struct Relays {
    runtime: Option<tokio::runtime::Runtime>,
}

impl Relays {
    /// Starts one relay per route. `source_of` maps the address a connection comes from (a
    /// host's own IP) to the WAN IP the relay dials the target from; connections from
    /// addresses it does not know are dropped.
    pub fn start(
        routes: Vec<Route>,
        source_of: impl Fn(IpAddr) -> Option<IpAddr> + Clone + Send + Sync + 'static,
        link: LinkDelay,
    ) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("netns-relay")
            .enable_all()
            .build()?;
        // Bind every listener before returning, so nodes started next find them.
        let listeners = runtime.block_on(async {
            let mut listeners = Vec::with_capacity(routes.len());
            for route in &routes {
                listeners.push(TcpListener::bind(route.listen).await?);
            }
            Ok::<_, std::io::Error>(listeners)
        })?;
        for (listener, route) in listeners.into_iter().zip(routes) {
            runtime.spawn(serve(listener, route.target, source_of.clone(), link));
        }
        Ok(Self { runtime: Some(runtime) })
    }
}

impl Drop for Relays {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn serve(
    listener: TcpListener,
    target: SocketAddr,
    source_of: impl Fn(IpAddr) -> Option<IpAddr>,
    link: LinkDelay,
) {
    let mut connections = JoinSet::new();
    let mut seed = u64::from(target.port()) ^ 0x9e37_79b9_7f4a_7c15;
    loop {
        let Ok((inbound, from)) = listener.accept().await else {
            // Out of file descriptors or the like: try again shortly rather than spin.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Some(source) = source_of(from.ip()) else {
            continue;
        };
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        connections.spawn(relay(inbound, source, target, link, seed));
        // Reap finished connections so the set does not grow with every reconnection.
        while connections.try_join_next().is_some() {}
    }
}

/// Pipes one accepted connection to `target`, dialed from `source`, delaying both directions.
async fn relay(inbound: TcpStream, source: IpAddr, target: SocketAddr, link: LinkDelay, seed: u64) {
    let Ok(outbound) = dial(source, target).await else {
        // The target is down or cut off: the caller sees its connection closed, as it would.
        return;
    };
    let _ = inbound.set_nodelay(true);
    let _ = outbound.set_nodelay(true);
    let (in_read, in_write) = inbound.into_split();
    let (out_read, out_write) = outbound.into_split();
    let forward = tokio::spawn(pipe(in_read, out_write, link, seed));
    let backward = tokio::spawn(pipe(out_read, in_write, link, seed.rotate_left(17)));
    let _ = tokio::join!(forward, backward);
}

async fn dial(source: IpAddr, target: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = match source {
        IpAddr::V4(_) => TcpSocket::new_v4()?,
        IpAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.bind(SocketAddr::new(source, 0))?;
    tokio::time::timeout(Duration::from_secs(5), socket.connect(target))
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))?
}

/// Copies `from` to `to`, each chunk released at its arrival time + the link's delay; shuts
/// `to` down for writing once `from` ends and everything read has been written.
async fn pipe(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, link: LinkDelay, seed: u64) {
    let (chunks, mut pending) = mpsc::channel::<(Instant, Vec<u8>)>(CHUNKS_IN_FLIGHT);
    let reader = async move {
        let mut rng = seed | 1;
        let mut last = Instant::now();
        loop {
            let mut buffer = vec![0u8; CHUNK];
            let read = match from.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => read,
            };
            buffer.truncate(read);
            let release = (Instant::now() + link.one_way + jitter(&mut rng, link.jitter)).max(last);
            last = release;
            if chunks.send((release, buffer)).await.is_err() {
                break;
            }
        }
    };
    let writer = async move {
        while let Some((release, chunk)) = pending.recv().await {
            tokio::time::sleep_until(release).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

/// A uniform delay in `[0, max]` from a xorshift generator (deterministic per connection).
fn jitter(state: &mut u64, max: Duration) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(*state % nanos.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use std::time::Instant as StdInstant;

    use super::*;

    /// Bytes through a relay on loopback arrive intact, in order, and no sooner than the delay
    /// each way.
    #[test]
    fn delays_each_direction_and_keeps_order() {
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let echo = runtime.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
        let target = echo.local_addr().expect("addr");
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let listen = probe.local_addr().expect("addr");
        drop(probe);
        let link =
            LinkDelay { one_way: Duration::from_millis(40), jitter: Duration::from_millis(5) };
        let relays = Relays::start(
            vec![Route { listen, target }],
            |ip: IpAddr| ip.is_loopback().then_some(ip),
            link,
        )
        .expect("relays");
        runtime.block_on(async {
            tokio::spawn(async move {
                while let Ok((mut stream, _)) = echo.accept().await {
                    tokio::spawn(async move {
                        let (mut r, mut w) = stream.split();
                        let _ = tokio::io::copy(&mut r, &mut w).await;
                    });
                }
            });
            let mut stream = TcpStream::connect(listen).await.expect("connect");
            let message: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
            let started = StdInstant::now();
            let (mut r, mut w) = stream.split();
            let send = async {
                for piece in message.chunks(10_000) {
                    w.write_all(piece).await.expect("write");
                }
            };
            let mut echoed = vec![0u8; message.len()];
            let (_, read) = tokio::join!(send, r.read_exact(&mut echoed));
            read.expect("echo read");
            assert_eq!(echoed, message, "bytes intact and in order");
            assert!(started.elapsed() >= Duration::from_millis(80), "one delay each way");
        });
        drop(relays);
    }
}
