//! The succession data a block carries besides its header: the L1 block its proposer referred
//! to and, in an epoch's last block, the committee two epochs on (DESIGN §3a; the rules are in
//! [`trestle_light_client::rotation`] and [`crate::rules`]). The block digest binds it (see
//! [`crate::block`]).

use std::{net::SocketAddr, sync::Arc};

use alloy_primitives::{B256, keccak256};
use bytes::BufMut;
use commonware_codec::{
    Buf, EncodeSize, Error as CodecError, MaxEncodeSize, Read, ReadExt, Write, varint::UInt,
};
use trestle_light_client::{
    PeerAddress, PublicKey as LightClientKey,
    committee::MAX_CAPACITY,
    peer_address::{DnsName, MAX_DNS_NAME_LEN},
    rotation::{CommitteeRecord, CommitteeSeat, L1Reference},
};

/// Tag of a member without an address (what `Option::None` encoded before names existed).
const NO_ADDRESS: u8 = 0;
/// Tag of an `ip:port` address: followed by commonware's `SocketAddr` encoding (what
/// `Option::Some(SocketAddr)` encoded before names existed, so older blocks read the same).
const SOCKET_ADDRESS: u8 = 1;
/// Tag of a `host:port` address: name length (1 byte), the name's ASCII bytes, port (2 bytes).
const DNS_ADDRESS: u8 = 2;

/// Encoded size of a member's address, at most.
const ADDRESS_MAX_ENCODE_SIZE: usize = 1
    + if SocketAddr::MAX_ENCODE_SIZE > 1 + MAX_DNS_NAME_LEN + 2 {
        SocketAddr::MAX_ENCODE_SIZE
    } else {
        1 + MAX_DNS_NAME_LEN + 2
    };

/// Encoded size of one committee member, at most.
const MEMBER_MAX_ENCODE_SIZE: usize = 32 + 64 + ADDRESS_MAX_ENCODE_SIZE;

/// Encoded size of a [`Succession`], at most (a record of [`MAX_CAPACITY`] members).
pub(crate) const SUCCESSION_MAX_ENCODE_SIZE: usize =
    8 + 32 + 1 + 2 + UInt::<u32>::MAX_ENCODE_SIZE + MAX_CAPACITY * MEMBER_MAX_ENCODE_SIZE;

/// What a block says about the validator set's succession: the L1 block its proposer referred
/// to and, in an epoch's last block only, the committee two epochs on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Succession {
    /// The L1 block the proposer saw at a safe depth ([`L1Reference::NONE`] without an L1).
    pub l1: L1Reference,
    /// The committee of the epoch after next, set exactly in an epoch's last block.
    pub next_committee: Option<Arc<CommitteeRecord>>,
}

impl Succession {
    /// A succession that only refers to `l1`.
    pub fn at(l1: L1Reference) -> Self {
        Self { l1, next_committee: None }
    }

    /// `keccak256(l1.number ‖ l1.hash ‖ nextCommittee encoding)`.
    pub fn hash(&self) -> B256 {
        let mut buf = Vec::with_capacity(self.encode_size());
        self.write(&mut buf);
        keccak256(buf)
    }
}

impl Write for Succession {
    fn write(&self, buf: &mut impl BufMut) {
        self.l1.number.write(buf);
        buf.put_slice(self.l1.hash.as_slice());
        match &self.next_committee {
            None => buf.put_u8(0),
            Some(record) => {
                buf.put_u8(1);
                // Capacities are at most MAX_CAPACITY (1,024), so they fit a u16.
                (record.capacity() as u16).write(buf);
                UInt(record.members().len() as u32).write(buf);
                for member in record.members() {
                    buf.put_slice(member.consensus_key.as_slice());
                    buf.put_slice(&member.light_client_key.to_bytes());
                    write_address(member.p2p_address.as_ref(), buf);
                }
            }
        }
    }
}

impl EncodeSize for Succession {
    fn encode_size(&self) -> usize {
        8 + 32
            + 1
            + self.next_committee.as_ref().map_or(0, |record| {
                2 + UInt(record.members().len() as u32).encode_size()
                    + record
                        .members()
                        .iter()
                        .map(|m| 32 + 64 + address_encode_size(m.p2p_address.as_ref()))
                        .sum::<usize>()
            })
    }
}

impl Read for Succession {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let number = u64::read(buf)?;
        let hash = B256::from(<[u8; 32]>::read(buf)?);
        let next_committee = match u8::read(buf)? {
            0 => None,
            1 => {
                let capacity = usize::from(u16::read(buf)?);
                let count = UInt::<u32>::read(buf)?.0 as usize;
                if count > capacity || capacity > MAX_CAPACITY {
                    return Err(CodecError::Invalid("Succession", "committee over capacity"));
                }
                let mut members = Vec::with_capacity(count);
                for _ in 0..count {
                    let consensus_key = B256::from(<[u8; 32]>::read(buf)?);
                    let raw = <[u8; 64]>::read(buf)?;
                    let light_client_key = LightClientKey::from_bytes(&raw)
                        .map_err(|_| CodecError::Invalid("Succession", "light-client key"))?;
                    let p2p_address = read_address(buf)?;
                    members.push(CommitteeSeat { consensus_key, light_client_key, p2p_address });
                }
                let record = CommitteeRecord::new(members, capacity)
                    .map_err(|_| CodecError::Invalid("Succession", "committee record"))?;
                Some(Arc::new(record))
            }
            _ => return Err(CodecError::Invalid("Succession", "committee tag")),
        };
        Ok(Self { l1: L1Reference { number, hash }, next_committee })
    }
}

fn write_address(address: Option<&PeerAddress>, buf: &mut impl BufMut) {
    match address {
        None => buf.put_u8(NO_ADDRESS),
        Some(PeerAddress::Socket(socket)) => {
            buf.put_u8(SOCKET_ADDRESS);
            socket.write(buf);
        }
        Some(PeerAddress::Dns { host, port }) => {
            buf.put_u8(DNS_ADDRESS);
            // A DnsName has 1 to MAX_DNS_NAME_LEN (253) ASCII characters: its length fits a byte.
            buf.put_u8(host.as_str().len() as u8);
            buf.put_slice(host.as_str().as_bytes());
            port.write(buf);
        }
    }
}

fn address_encode_size(address: Option<&PeerAddress>) -> usize {
    1 + match address {
        None => 0,
        Some(PeerAddress::Socket(socket)) => socket.encode_size(),
        Some(PeerAddress::Dns { host, .. }) => 1 + host.as_str().len() + 2,
    }
}

fn read_address(buf: &mut impl Buf) -> Result<Option<PeerAddress>, CodecError> {
    match u8::read(buf)? {
        NO_ADDRESS => Ok(None),
        SOCKET_ADDRESS => {
            let socket = SocketAddr::read(buf)?;
            Ok(Some(PeerAddress::Socket(socket)))
        }
        DNS_ADDRESS => {
            let len = usize::from(u8::read(buf)?);
            if len > MAX_DNS_NAME_LEN || buf.remaining() < len {
                return Err(CodecError::Invalid("Succession", "p2p address name length"));
            }
            let mut name = vec![0u8; len];
            buf.copy_to_slice(&mut name);
            let host = std::str::from_utf8(&name)
                .ok()
                .and_then(|name| DnsName::new(name).ok())
                .ok_or(CodecError::Invalid("Succession", "p2p address name"))?;
            let port = u16::read(buf)?;
            Ok(Some(PeerAddress::Dns { host, port }))
        }
        _ => Err(CodecError::Invalid("Succession", "p2p address tag")),
    }
}

#[cfg(test)]
mod tests {
    use commonware_codec::Encode as _;

    use super::*;

    fn encoded(address: Option<&PeerAddress>) -> Vec<u8> {
        let mut buf = Vec::new();
        write_address(address, &mut buf);
        assert_eq!(buf.len(), address_encode_size(address));
        assert!(buf.len() <= ADDRESS_MAX_ENCODE_SIZE);
        buf
    }

    #[test]
    fn sockets_encode_as_before_names_existed_and_names_round_trip() {
        let socket: SocketAddr = "[2001:db8::1]:3000".parse().expect("v6");
        // Blocks written when a member's address was an `Option<SocketAddr>` read the same.
        assert_eq!(encoded(None), None::<SocketAddr>.encode().to_vec());
        assert_eq!(encoded(Some(&socket.into())), Some(socket).encode().to_vec());
        let longest = format!("{}.{}:1", "a".repeat(61), vec!["b".repeat(63); 3].join("."));
        for text in ["10.0.0.1:1", "[2001:db8::1]:3000", "validator.example.org:30303", &longest] {
            let address: PeerAddress = text.parse().expect(text);
            let bytes = encoded(Some(&address));
            let read = read_address(&mut bytes::Bytes::from(bytes)).expect(text);
            assert_eq!(read, Some(address), "{text}");
        }
        assert!(matches!(read_address(&mut bytes::Bytes::from(encoded(None))), Ok(None)));
    }

    #[test]
    fn malformed_addresses_are_refused() {
        let name = |name: &[u8]| [&[DNS_ADDRESS, name.len() as u8][..], name, &[0, 1]].concat();
        for bytes in [
            vec![3],
            vec![],
            name(b"under_score.org"),
            name(b"10.0.0.1"),
            name(b""),
            name(&[0xff, b'a']),
            name(b"example.org")[..13].to_vec(),
            name(&[b'a'; 254]),
            vec![DNS_ADDRESS, 20, b'a'],
        ] {
            let read = read_address(&mut bytes::Bytes::from(bytes.clone()));
            assert!(read.is_err(), "{bytes:?}");
        }
    }
}
