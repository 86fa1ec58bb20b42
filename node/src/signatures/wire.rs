//! The wire format of [`CHANNEL_SIGNATURES`](crate::engine::CHANNEL_SIGNATURES): strict,
//! bounded codecs for gossiped signatures and catch-up requests.

use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, RangeCfg, Read, ReadExt as _, Write};
use trestle_light_client::{
    Height, LightClientState, Signature, eddsa::SIGNATURE_LEN, state::STATE_LEN,
};

/// Most signatures one network message carries.
pub const MAX_BATCH: usize = 32;

/// Most heights one [`Wire::Request`] may span.
pub const MAX_REQUEST_SPAN: u64 = MAX_BATCH as u64;

/// Largest encoded network message of the signatures channel.
pub const MAX_MESSAGE_SIZE: usize = 1 + 5 + MAX_BATCH * GOSSIP_LEN;

/// Encoded size of one [`Gossip`]: height, state, signature.
const GOSSIP_LEN: usize = 8 + STATE_LEN + SIGNATURE_LEN;

/// One validator's signature on its light-client state at `height`, as gossiped. The signer is
/// not named: it is the authenticated sender of the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gossip {
    /// The finalized height (must equal `state.height`).
    pub height: Height,
    /// The signed state.
    pub state: LightClientState,
    /// The sender's EdDSA-Poseidon signature on `state.message()`.
    pub signature: Signature,
}

impl Write for Gossip {
    fn write(&self, buf: &mut impl BufMut) {
        self.height.get().write(buf);
        buf.put_slice(&self.state.encode());
        buf.put_slice(&self.signature.to_bytes());
    }
}

impl EncodeSize for Gossip {
    fn encode_size(&self) -> usize {
        GOSSIP_LEN
    }
}

impl Read for Gossip {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let height = Height(u64::read(buf)?);
        let state = <[u8; STATE_LEN]>::read(buf)?;
        let state = LightClientState::decode(&state)
            .map_err(|_| CodecError::Invalid("Gossip", "state encoding"))?;
        let signature = <[u8; SIGNATURE_LEN]>::read(buf)?;
        let signature = Signature::from_bytes(&signature)
            .map_err(|_| CodecError::Invalid("Gossip", "signature encoding"))?;
        if state.height != height {
            return Err(CodecError::Invalid("Gossip", "height differs from the state's"));
        }
        Ok(Self { height, state, signature })
    }
}

/// A message on the signatures channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wire {
    /// The sender's own signatures (at most [`MAX_BATCH`]).
    Signatures(Vec<Gossip>),
    /// "Send me your own signatures for heights `from..=to`" (at most [`MAX_REQUEST_SPAN`]
    /// heights).
    Request {
        /// First height.
        from: Height,
        /// Last height.
        to: Height,
    },
}

const TAG_SIGNATURES: u8 = 0;
const TAG_REQUEST: u8 = 1;

impl Write for Wire {
    fn write(&self, buf: &mut impl BufMut) {
        match self {
            Self::Signatures(items) => {
                TAG_SIGNATURES.write(buf);
                items.as_slice().write(buf);
            }
            Self::Request { from, to } => {
                TAG_REQUEST.write(buf);
                from.get().write(buf);
                to.get().write(buf);
            }
        }
    }
}

impl EncodeSize for Wire {
    fn encode_size(&self) -> usize {
        1 + match self {
            Self::Signatures(items) => items.as_slice().encode_size(),
            Self::Request { .. } => 16,
        }
    }
}

impl Read for Wire {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        match u8::read(buf)? {
            TAG_SIGNATURES => {
                let items = Vec::<Gossip>::read_cfg(buf, &(RangeCfg::from(..=MAX_BATCH), ()))?;
                Ok(Self::Signatures(items))
            }
            TAG_REQUEST => {
                let from = Height(u64::read(buf)?);
                let to = Height(u64::read(buf)?);
                if to < from || to.get() - from.get() >= MAX_REQUEST_SPAN {
                    return Err(CodecError::Invalid("Wire", "request span"));
                }
                Ok(Self::Request { from, to })
            }
            tag => Err(CodecError::InvalidEnum(tag)),
        }
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::B256;
    use commonware_codec::{Decode as _, Encode as _};
    use trestle_light_client::{ChainId, Committee, Epoch, SecretKey};

    use super::*;

    fn gossip(height: u64) -> Gossip {
        let key = SecretKey::from_seed([1; 32]);
        let committee = Committee::equal_weight([*key.public_key()], 1).expect("committee");
        let state = LightClientState {
            chain_id: ChainId(1),
            epoch: Epoch(0),
            height: Height(height),
            history_root: B256::repeat_byte(7),
            next_committee: committee.commitment_bytes(),
        };
        let signature = key.sign(&state.message().expect("message"));
        Gossip { height: Height(height), state, signature }
    }

    #[test]
    fn wire_round_trips_and_is_bounded() {
        let full = Wire::Signatures((0..MAX_BATCH as u64).map(gossip).collect());
        let bytes = full.encode();
        assert!(bytes.len() <= MAX_MESSAGE_SIZE);
        assert_eq!(Wire::decode_cfg(bytes, &()).expect("decodes"), full);
        let request = Wire::Request { from: Height(5), to: Height(5 + MAX_REQUEST_SPAN - 1) };
        assert_eq!(Wire::decode_cfg(request.encode(), &()).expect("decodes"), request);
    }

    #[test]
    fn malformed_messages_are_rejected() {
        // Too many signatures.
        let mut over = Wire::Signatures((0..=MAX_BATCH as u64).map(gossip).collect()).encode_mut();
        assert!(Wire::decode_cfg(&mut over, &()).is_err());
        // Height that is not the state's.
        let mut item = gossip(3);
        item.height = Height(4);
        assert!(Wire::decode_cfg(Wire::Signatures(vec![item]).encode(), &()).is_err());
        // Corrupt signature bytes (S above the group order).
        let mut bytes = Wire::Signatures(vec![gossip(3)]).encode_mut().to_vec();
        let end = bytes.len();
        bytes[end - 32..].fill(0xff);
        assert!(Wire::decode_cfg(bytes, &()).is_err());
        // Trailing bytes, unknown tags, inverted or oversized requests, garbage.
        let mut trailing = Wire::Signatures(vec![gossip(1)]).encode_mut().to_vec();
        trailing.push(0);
        assert!(Wire::decode_cfg(trailing, &()).is_err());
        assert!(Wire::decode_cfg(vec![9u8], &()).is_err());
        for (from, to) in [(5, 4), (0, MAX_REQUEST_SPAN)] {
            let request = Wire::Request { from: Height(from), to: Height(to) };
            assert!(Wire::decode_cfg(request.encode(), &()).is_err());
        }
        assert!(Wire::decode_cfg(vec![0u8, 1, 2, 3], &()).is_err());
    }
}
