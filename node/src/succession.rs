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
    PublicKey as LightClientKey,
    committee::MAX_CAPACITY,
    rotation::{CommitteeRecord, CommitteeSeat, L1Reference},
};

/// Encoded size of one committee member, at most.
const MEMBER_MAX_ENCODE_SIZE: usize = 32 + 64 + 1 + SocketAddr::MAX_ENCODE_SIZE;

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
                    member.p2p_address.write(buf);
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
                        .map(|m| 32 + 64 + m.p2p_address.encode_size())
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
                    let p2p_address = Option::<SocketAddr>::read(buf)?;
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
