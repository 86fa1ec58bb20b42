//! Where a validator's peers reach it: `ip:port` or `host:port`, as a genesis entry or a stake
//! table registration names it.
//!
//! An operator behind a changing IP, or one who moves a validator between machines, names it by
//! DNS; the committee record then carries the name, and every peer resolves it when it dials.
//! Both forms are part of the committee rule (an address that parses as neither makes a
//! registration ineligible on every node alike), so the parse here is exact and has no
//! host-dependent step:
//! * `ip:port` is Rust's [`SocketAddr`] syntax, except that an IPv6 scope or flow label is
//!   refused: it is local to one host and would not survive a block's encoding;
//! * `host:port` takes an RFC 1123 name: at most 253 characters, labels of 1 to 63 ASCII letters,
//!   digits and hyphens, no label starting or ending with a hyphen, no trailing dot. A name whose
//!   last label is all digits is refused, so that a mistyped IP (`10.0.0.300:1`) is never taken
//!   for a name (no top-level domain is numeric). The name is kept as written: DNS ignores case,
//!   and rewriting it would change the bytes every node records.

use std::{fmt, net::SocketAddr, str::FromStr};

/// Longest DNS name, in characters (RFC 1035's 255 wire bytes less the length octets).
pub const MAX_DNS_NAME_LEN: usize = 253;

/// Longest label of a DNS name.
pub const MAX_DNS_LABEL_LEN: usize = 63;

/// Why a peer address was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PeerAddressError {
    /// Neither an IP socket address nor `host:port`.
    #[error("{0:?} is neither ip:port nor host:port")]
    Syntax(String),
    /// The port is not a number below 65536.
    #[error("{0:?}: the port is not a number below 65536")]
    Port(String),
    /// An IPv6 address with a scope or flow label (host-local).
    #[error("{0:?}: an IPv6 scope or flow label is local to one host")]
    Scoped(String),
    /// The host is not an RFC 1123 name.
    #[error("{address:?}: the host is not a DNS name ({reason})")]
    Name {
        /// The address as given.
        address: String,
        /// The rule it breaks.
        reason: &'static str,
    },
}

/// A validated DNS name (see the module docs for the rules).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DnsName(String);

impl DnsName {
    /// Validates `name`; on refusal, the rule it breaks.
    pub fn new(name: &str) -> Result<Self, &'static str> {
        if name.is_empty() {
            return Err("empty");
        }
        if name.len() > MAX_DNS_NAME_LEN {
            return Err("longer than 253 characters");
        }
        let mut last = "";
        for label in name.split('.') {
            if label.is_empty() {
                return Err("an empty label");
            }
            if label.len() > MAX_DNS_LABEL_LEN {
                return Err("a label longer than 63 characters");
            }
            if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err("a character other than a letter, digit, hyphen or dot");
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err("a label starting or ending with a hyphen");
            }
            last = label;
        }
        if last.bytes().all(|b| b.is_ascii_digit()) {
            return Err("an all-numeric last label (a mistyped IP?)");
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A validator's p2p address: an IP socket address, or a DNS name and a port.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PeerAddress {
    /// `ip:port` (IPv6 without scope or flow label).
    Socket(SocketAddr),
    /// `host:port`, resolved by each peer when it dials.
    Dns {
        /// The name.
        host: DnsName,
        /// The port.
        port: u16,
    },
}

impl PeerAddress {
    /// The port peers dial.
    pub fn port(&self) -> u16 {
        match self {
            Self::Socket(socket) => socket.port(),
            Self::Dns { port, .. } => *port,
        }
    }
}

impl From<SocketAddr> for PeerAddress {
    fn from(socket: SocketAddr) -> Self {
        Self::Socket(socket)
    }
}

impl FromStr for PeerAddress {
    type Err = PeerAddressError;

    fn from_str(address: &str) -> Result<Self, Self::Err> {
        if let Ok(socket) = address.parse::<SocketAddr>() {
            return match socket {
                SocketAddr::V6(v6) if v6.scope_id() != 0 || v6.flowinfo() != 0 => {
                    Err(PeerAddressError::Scoped(address.to_owned()))
                }
                _ => Ok(Self::Socket(socket)),
            };
        }
        let (host, port) =
            address.rsplit_once(':').ok_or_else(|| PeerAddressError::Syntax(address.to_owned()))?;
        // An IPv6 literal that did not parse above (brackets, a scope) is not a name either.
        if host.contains([':', '[', ']', '%']) {
            return Err(PeerAddressError::Syntax(address.to_owned()));
        }
        let port = port.parse().map_err(|_| PeerAddressError::Port(address.to_owned()))?;
        let host = DnsName::new(host)
            .map_err(|reason| PeerAddressError::Name { address: address.to_owned(), reason })?;
        Ok(Self::Dns { host, port })
    }
}

impl fmt::Display for PeerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Socket(socket) => socket.fmt(f),
            Self::Dns { host, port } => write!(f, "{host}:{port}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_sockets_or_names_and_print_as_written() {
        for text in ["10.0.0.7:3000", "[2001:db8::1]:3000", "validator-1.example.org:30303", "a:0"]
        {
            let address: PeerAddress = text.parse().expect(text);
            assert_eq!(address.to_string(), text);
        }
        assert!(matches!("10.0.0.7:3000".parse(), Ok(PeerAddress::Socket(_))));
        assert!(matches!("Node.Example:1".parse(), Ok(PeerAddress::Dns { port: 1, .. })));
        let longest = format!("{}.{}", "a".repeat(61), vec!["b".repeat(63); 3].join("."));
        assert_eq!(longest.len(), MAX_DNS_NAME_LEN);
        assert!(format!("{longest}:1").parse::<PeerAddress>().is_ok());
    }

    #[test]
    fn malformed_addresses_are_refused_with_their_reason() {
        let refused = |text: &str| text.parse::<PeerAddress>().expect_err(text);
        for text in ["", "host", "10.0.0.7", "[2001:db8::1]"] {
            assert!(matches!(refused(text), PeerAddressError::Syntax(_)), "{text:?}");
        }
        for text in ["host:", "host:65536", "host:-1", "host:x"] {
            assert!(matches!(refused(text), PeerAddressError::Port(_)), "{text:?}");
        }
        assert!(matches!(refused("[fe80::1%2]:3000"), PeerAddressError::Scoped(_)));
        assert!(matches!(refused("[fe80::1%eth0]:3000"), PeerAddressError::Syntax(_)));
        let too_long = format!("{}.{}", "a".repeat(62), vec!["b".repeat(63); 3].join("."));
        for text in [
            "10.0.0.300:1",
            "1.2.3.4.5:1",
            "-a.example:1",
            "a-.example:1",
            "a..example:1",
            "example.:1",
            ".example:1",
            "a b:1",
            "exämple.org:1",
            "under_score.org:1",
            &format!("{}.org:1", "a".repeat(64)),
            &format!("{too_long}:1"),
        ] {
            assert!(matches!(refused(text), PeerAddressError::Name { .. }), "{text:?}");
        }
    }
}
