//! What validators say to each other on the mempool channel.

use alloy_primitives::B256;
use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, Read, ReadExt as _, Write};

use crate::block::BlockTransaction;

/// Tag of [`GossipMessage::Forward`].
const FORWARD: u8 = 0;
/// Tag of [`GossipMessage::Held`].
const HELD: u8 = 1;
/// Tag of [`GossipMessage::Sync`].
const SYNC: u8 = 2;

/// A mempool gossip message: one tag byte, then the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GossipMessage {
    /// A transaction the sender admitted from a client, with its owner's authorization, for
    /// the receiver to admit (tag 0).
    Forward(BlockTransaction),
    /// The sender holds (pending) or finalized the transaction with this hash, which the
    /// receiver forwarded to it (tag 1): the receiver's client may count it as replicated.
    Held(B256),
    /// The sender (re)started with an empty mempool: the receiver forwards its pending
    /// transactions to it (tag 2, no body).
    Sync,
}

impl Write for GossipMessage {
    fn write(&self, buf: &mut impl BufMut) {
        match self {
            Self::Forward(transaction) => {
                FORWARD.write(buf);
                transaction.write(buf);
            }
            Self::Held(hash) => {
                HELD.write(buf);
                buf.put_slice(hash.as_slice());
            }
            Self::Sync => SYNC.write(buf),
        }
    }
}

impl EncodeSize for GossipMessage {
    fn encode_size(&self) -> usize {
        1 + match self {
            Self::Forward(transaction) => transaction.encode_size(),
            Self::Held(_) => 32,
            Self::Sync => 0,
        }
    }
}

impl Read for GossipMessage {
    /// Largest transaction payload.
    type Cfg = usize;

    fn read_cfg(buf: &mut impl Buf, max_payload: &usize) -> Result<Self, CodecError> {
        match u8::read(buf)? {
            FORWARD => Ok(Self::Forward(BlockTransaction::read_cfg(buf, max_payload)?)),
            HELD => Ok(Self::Held(B256::from(<[u8; 32]>::read(buf)?))),
            SYNC => Ok(Self::Sync),
            tag => Err(CodecError::InvalidEnum(tag)),
        }
    }
}

#[cfg(test)]
mod tests {
    use commonware_codec::{Decode as _, Encode as _};
    use trestle_light_client::{Namespace, Transaction};

    use super::*;

    #[test]
    fn messages_round_trip_and_garbage_is_refused() {
        let transaction = BlockTransaction {
            transaction: Transaction::new(Namespace(7), vec![1, 2, 3]),
            authorization: None,
        };
        for message in [
            GossipMessage::Forward(transaction),
            GossipMessage::Held(B256::repeat_byte(9)),
            GossipMessage::Sync,
        ] {
            let bytes = message.encode();
            assert_eq!(bytes.len(), message.encode_size());
            assert_eq!(GossipMessage::decode_cfg(bytes, &1_024).expect("decodes"), message);
        }
        let garbage: [&[u8]; 4] = [&[], &[3], &[1, 0, 0], &[0, 1, 0xde, 0xad]];
        for garbage in garbage {
            let bytes = bytes::Bytes::copy_from_slice(garbage);
            assert!(GossipMessage::decode_cfg(bytes, &1_024).is_err(), "{garbage:?}");
        }
        let oversized = GossipMessage::Forward(BlockTransaction {
            transaction: Transaction::new(Namespace(7), vec![0; 2_000]),
            authorization: None,
        });
        assert!(GossipMessage::decode_cfg(oversized.encode(), &1_024).is_err());
    }
}
