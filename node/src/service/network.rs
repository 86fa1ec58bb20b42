//! How a validator reaches its peers: their addresses (IP or DNS name), and how its p2p layer is
//! tuned (commonware's `lookup` presets).
//!
//! A peer's address is `ip:port` or `host:port`. A DNS name is dialed through commonware's DNS
//! ingress, which resolves it again at every dial (a peer that moves keeps its name); its
//! resolution at start is the IP its inbound connections are expected from, unless
//! `bypass_ip_check` accepts known peers from any IP (peers behind NAT dial out from an address
//! other than the one they are reached at).
//!
//! The `production` profile is commonware's `recommended` configuration: public IPs only (unless
//! `allow_private_ips`), one handshake per IP every 5 s, a minute before reconnecting to a peer
//! that dropped. The `local` profile is its `local` one, for networks on one host (the devnet, the
//! benchmarks): private IPs, many nodes per IP, quick reconnects.

use std::{
    net::{SocketAddr, ToSocketAddrs as _},
    num::NonZeroUsize,
    time::Duration,
};

use commonware_p2p::{Address, Ingress, authenticated::lookup};
use commonware_stream::Upgrader;
use commonware_utils::Hostname;
use serde::{Deserialize, Serialize};

/// Why a peer address was refused.
#[derive(Debug, thiserror::Error)]
#[error("{field} {address:?}: {reason}")]
pub struct AddressError {
    /// Which configuration field held it.
    pub field: String,
    /// The address as written.
    pub address: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// How the p2p layer is tuned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum P2pProfile {
    /// commonware's `recommended` settings: for validators on separate hosts.
    #[default]
    Production,
    /// commonware's `local` settings: every node on one host (devnet, benchmarks, tests).
    Local,
}

/// The p2p options of a node configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct P2pOptions {
    /// The preset.
    pub profile: P2pProfile,
    /// Overrides the preset's acceptance of private (RFC 1918, loopback, …) peer addresses.
    pub allow_private_ips: Option<bool>,
    /// Accept a known peer's connection from any IP (NAT).
    pub bypass_ip_check: bool,
    /// Overrides the preset's least time between connection attempts to one peer.
    pub peer_connection_cooldown: Option<Duration>,
}

impl P2pOptions {
    /// The lookup network's configuration for these options.
    pub fn lookup_config<U: Upgrader>(
        &self,
        handshake: U,
        namespace: &[u8],
        listen: SocketAddr,
        max_peers_per_set: NonZeroUsize,
        max_message_size: u32,
    ) -> lookup::Config<U> {
        let mailbox = NonZeroUsize::new(1_024).unwrap_or(NonZeroUsize::MIN);
        type Preset<U> =
            fn(U, &[u8], SocketAddr, NonZeroUsize, u32, NonZeroUsize) -> lookup::Config<U>;
        let preset: Preset<U> = match self.profile {
            P2pProfile::Production => lookup::Config::recommended,
            P2pProfile::Local => lookup::Config::local,
        };
        let mut config =
            preset(handshake, namespace, listen, max_peers_per_set, max_message_size, mailbox);
        if let Some(allow) = self.allow_private_ips {
            config.allow_private_ips = allow;
        }
        config.bypass_ip_check = self.bypass_ip_check;
        if let Some(cooldown) = self.peer_connection_cooldown {
            config.peer_connection_cooldown = cooldown;
        }
        config.dial_frequency =
            dial_frequency(config.dial_frequency, config.peer_connection_cooldown);
        config
    }
}

/// The least time between two wake-ups of a node's dialer.
pub const MIN_DIAL_FREQUENCY: Duration = Duration::from_millis(50);

/// How often the dialer wakes, given the preset's `frequency` and the peer `cooldown`: at
/// least four times per cooldown.
///
/// Two peers that dial each other at once (within a handshake's round trips) both fail: each
/// side's listener refuses a peer it is dialing itself. Each side then redials a random time
/// between one and two cooldowns later, but commonware's dialer sleeps at least
/// `dial_frequency` and at most a cooldown between wake-ups, so with the two equal (the
/// production preset's 1 s with a 1 s cooldown) every redial falls on the dialer's next
/// whole tick, and two nodes whose ticks started a few milliseconds apart cross again every
/// time: in the network-namespace test two validators started 23 ms apart never connected in
/// three minutes. Waking four times per cooldown lets each redial follow its random time.
pub fn dial_frequency(frequency: Duration, cooldown: Duration) -> Duration {
    frequency.min(cooldown / 4).max(MIN_DIAL_FREQUENCY)
}

/// Parses a peer address, `ip:port` or `host:port`, into what the p2p layer dials and the IP it
/// expects the peer's connections from. A DNS name must resolve now unless `bypass_ip_check`
/// (then its inbound IP is not checked, and the placeholder egress is never compared).
pub fn peer_address(
    field: &str,
    address: &str,
    bypass_ip_check: bool,
) -> Result<Address, AddressError> {
    if let Ok(socket) = address.parse::<SocketAddr>() {
        return Ok(Address::Symmetric(socket));
    }
    let invalid = |reason: &'static str| AddressError {
        field: field.to_owned(),
        address: address.to_owned(),
        reason,
    };
    let (host, port) = address.rsplit_once(':').ok_or_else(|| invalid("expected host:port"))?;
    let port: u16 = port.parse().map_err(|_| invalid("the port is not a number below 65536"))?;
    let hostname = Hostname::new(host).map_err(|_| invalid("not a valid DNS name"))?;
    let egress = match (host, port).to_socket_addrs().map(|mut all| all.next()) {
        Ok(Some(resolved)) => resolved,
        _ if bypass_ip_check => SocketAddr::from(([0, 0, 0, 0], port)),
        Ok(None) | Err(_) => {
            return Err(invalid(
                "does not resolve (set bypass_ip_check to accept the peer from any IP)",
            ));
        }
    };
    Ok(Address::Asymmetric { ingress: Ingress::Dns { host: hostname, port }, egress })
}

/// How an address reads in a log line: the `ip:port` or `host:port` an operator configured.
pub fn dial_target(address: &Address) -> String {
    match address.ingress() {
        Ingress::Socket(socket) => socket.to_string(),
        Ingress::Dns { host, port } => format!("{host}:{port}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_ips_or_resolvable_names() {
        let ip = peer_address("peer", "10.0.0.7:3000", false).expect("ip");
        assert_eq!(ip, Address::Symmetric("10.0.0.7:3000".parse().expect("addr")));
        let named = peer_address("peer", "localhost:3000", false).expect("localhost resolves");
        assert!(matches!(named.ingress(), Ingress::Dns { port: 3000, .. }));
        assert!(named.egress().ip().is_loopback());
        for bad in ["", "host", "host:", "host:65536", "-bad-:1", "a b:1"] {
            assert!(peer_address("peer", bad, false).is_err(), "{bad:?}");
        }
        let unresolvable = "no-such-host.invalid:3000";
        assert!(peer_address("peer", unresolvable, false).is_err());
        let behind_nat = peer_address("peer", unresolvable, true).expect("not resolved");
        assert!(matches!(behind_nat.ingress(), Ingress::Dns { .. }));
    }

    fn config(options: P2pOptions) -> lookup::Config<impl Upgrader> {
        use commonware_cryptography::{ChaCha20Poly1305, Signer as _, ed25519};
        use commonware_stream::{
            cups::{self, Cups},
            sake::{self, Sake},
        };
        let signer = ed25519::PrivateKey::from_seed(1);
        let _ = signer.public_key();
        let handshake = Cups::<_, ChaCha20Poly1305>::new(
            Sake {
                signer,
                synchrony_bound: Duration::from_secs(5),
                max_handshake_age: Duration::from_secs(10),
                version: sake::Version::V1,
            },
            cups::Version::V1,
        );
        let listen = SocketAddr::from(([0, 0, 0, 0], 1));
        options.lookup_config(handshake, b"ns", listen, NonZeroUsize::MIN, 1024)
    }

    #[test]
    fn profiles_pick_commonwares_presets_and_options_override_them() {
        let production = config(P2pOptions::default());
        assert!(!production.allow_private_ips && !production.bypass_ip_check);
        assert_eq!(production.peer_connection_cooldown, Duration::from_secs(60));
        let local = config(P2pOptions { profile: P2pProfile::Local, ..P2pOptions::default() });
        assert!(local.allow_private_ips);
        assert_eq!(local.dial_frequency, Duration::from_millis(250), "a quarter of its 1 s");
        let lan = config(P2pOptions {
            allow_private_ips: Some(true),
            bypass_ip_check: true,
            ..P2pOptions::default()
        });
        assert!(lan.allow_private_ips && lan.bypass_ip_check);
        assert_eq!(lan.peer_connection_cooldown, Duration::from_secs(60));
        let quick = config(P2pOptions {
            peer_connection_cooldown: Some(Duration::from_secs(5)),
            ..P2pOptions::default()
        });
        assert_eq!(quick.peer_connection_cooldown, Duration::from_secs(5));
        assert!(!quick.allow_private_ips, "the rest stays the production preset");
        assert_eq!(quick.dial_frequency, Duration::from_secs(1), "the preset's, below 5 s / 4");
    }

    #[test]
    fn the_dialer_wakes_at_least_four_times_per_cooldown() {
        let production = config(P2pOptions::default());
        assert_eq!(production.dial_frequency, Duration::from_secs(1), "60 s cooldown: unchanged");
        // The network-namespace hosts' cooldown: the preset's 1 s would equal it.
        let hosts = config(P2pOptions {
            peer_connection_cooldown: Some(Duration::from_secs(1)),
            ..P2pOptions::default()
        });
        assert_eq!(hosts.dial_frequency, Duration::from_millis(250));
        let tiny = config(P2pOptions {
            peer_connection_cooldown: Some(Duration::from_millis(10)),
            ..P2pOptions::default()
        });
        assert_eq!(tiny.dial_frequency, MIN_DIAL_FREQUENCY);
        for (frequency, cooldown) in [(1_000, 60_000), (1_000, 1_000), (500, 1_000), (1_000, 3_000)]
        {
            let woken =
                dial_frequency(Duration::from_millis(frequency), Duration::from_millis(cooldown));
            assert!(woken <= Duration::from_millis(cooldown) / 4, "{frequency} / {cooldown}");
            assert!(woken <= Duration::from_millis(frequency));
        }
    }
}
