//! What the signatures actor persists: our own finalized states and verified signatures on
//! them, one [`Record`] each, with the journal encoding (a tag byte, then the state's `STATE_LEN`-byte
//! encoding or `height ‖ slot ‖ signature`).

use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, Read, ReadExt as _, Write};
use trestle_light_client::{LightClientState, Signature, eddsa::SIGNATURE_LEN, state::STATE_LEN};

/// What the journals hold: our own finalized states and verified signatures on them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Record {
    /// Our finalized light-client state at its height.
    State(LightClientState),
    /// A verified signature of `slot` on our state at `height`.
    Signature { height: u64, slot: u32, signature: Signature },
}

impl Record {
    /// The height the record is about.
    pub(super) fn height(&self) -> u64 {
        match self {
            Self::State(state) => state.height.get(),
            Self::Signature { height, .. } => *height,
        }
    }
}

impl Write for Record {
    fn write(&self, buf: &mut impl BufMut) {
        match self {
            Self::State(state) => {
                0u8.write(buf);
                buf.put_slice(&state.encode());
            }
            Self::Signature { height, slot, signature } => {
                1u8.write(buf);
                height.write(buf);
                slot.write(buf);
                buf.put_slice(&signature.to_bytes());
            }
        }
    }
}

impl EncodeSize for Record {
    fn encode_size(&self) -> usize {
        1 + match self {
            Self::State(_) => STATE_LEN,
            Self::Signature { .. } => 8 + 4 + SIGNATURE_LEN,
        }
    }
}

impl Read for Record {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        match u8::read(buf)? {
            0 => {
                let bytes = <[u8; STATE_LEN]>::read(buf)?;
                LightClientState::decode(&bytes)
                    .map(Self::State)
                    .map_err(|_| CodecError::Invalid("Record", "state encoding"))
            }
            1 => {
                let height = u64::read(buf)?;
                let slot = u32::read(buf)?;
                let bytes = <[u8; SIGNATURE_LEN]>::read(buf)?;
                let signature = Signature::from_bytes(&bytes)
                    .map_err(|_| CodecError::Invalid("Record", "signature encoding"))?;
                Ok(Self::Signature { height, slot, signature })
            }
            tag => Err(CodecError::InvalidEnum(tag)),
        }
    }
}

#[cfg(test)]
mod tests {
    use commonware_codec::{Decode as _, Encode as _};
    use trestle_light_client::{B256, ChainId, Epoch, Height, SecretKey};

    use super::*;

    #[test]
    fn records_round_trip() {
        let state = LightClientState {
            chain_id: ChainId(1),
            epoch: Epoch(0),
            height: Height(9),
            history_root: B256::repeat_byte(9),
            next_committee: B256::ZERO,
        };
        let signature = SecretKey::from_seed([1; 32]).sign(&state.message().expect("message"));
        for record in [Record::Signature { height: 9, slot: 1, signature }, Record::State(state)] {
            assert_eq!(Record::decode_cfg(record.encode(), &()).expect("decodes"), record);
        }
        assert!(Record::decode_cfg(vec![7u8], &()).is_err(), "unknown tag");
    }
}
