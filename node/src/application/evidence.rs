//! Durable equivocation evidence: every equivocation the node keeps ([`super::records`]) is
//! appended to a journal (commonware-storage, one section) and synced, and the journal is
//! replayed when the actor starts, so evidence against a sequencer survives restarts. The
//! journal is bounded like the in-memory list: at most
//! [`MAX_EQUIVOCATIONS`](super::records::MAX_EQUIVOCATIONS) per namespace are ever kept.

use std::num::{NonZeroU16, NonZeroUsize};

use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, Read, ReadExt as _, Write};
use commonware_runtime::{Metrics, ReadOptions, Storage, buffer::paged::CacheRef};
use commonware_storage::journal::segmented::variable::{Config as JournalConfig, Journal};
use trestle_light_client::{B256, Height, Namespace};

use super::records::{Equivocation, FirstRecord};
use crate::block::BlockTransaction;

const SECTION: u64 = 0;
const PAGE_SIZE: NonZeroU16 = NonZeroU16::new(4096).expect("non-zero");
const PAGE_CACHE_PAGES: NonZeroUsize = NonZeroUsize::new(4).expect("non-zero");
const WRITE_BUFFER: NonZeroUsize = NonZeroUsize::new(16 * 1024).expect("non-zero");

/// Why the evidence journal failed.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// The journal could not be opened, read, appended to or synced.
    #[error("evidence journal: {0}")]
    Journal(#[from] commonware_storage::journal::Error),
    /// An earlier failure left the journal closed.
    #[error("evidence journal closed by an earlier failure")]
    Closed,
}

/// An equivocation with its namespace, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEquivocation {
    /// The block namespace.
    pub namespace: Namespace,
    /// The equivocation.
    pub equivocation: Equivocation,
}

impl Write for StoredEquivocation {
    fn write(&self, buf: &mut impl BufMut) {
        self.namespace.get().write(buf);
        self.equivocation.number.write(buf);
        match &self.equivocation.first {
            FirstRecord::Confirmed { height, tx_hash } => {
                0u8.write(buf);
                height.get().write(buf);
                buf.put_slice(tx_hash.as_slice());
            }
            FirstRecord::Pending(tx) => {
                1u8.write(buf);
                tx.write(buf);
            }
        }
        self.equivocation.second.write(buf);
    }
}

impl EncodeSize for StoredEquivocation {
    fn encode_size(&self) -> usize {
        let first = match &self.equivocation.first {
            FirstRecord::Confirmed { .. } => 8 + 32,
            FirstRecord::Pending(tx) => tx.encode_size(),
        };
        8 + 8 + 1 + first + self.equivocation.second.encode_size()
    }
}

impl Read for StoredEquivocation {
    /// Largest payload of a transaction.
    type Cfg = usize;

    fn read_cfg(buf: &mut impl Buf, max_payload: &usize) -> Result<Self, CodecError> {
        let namespace = Namespace(u64::read(buf)?);
        let number = u64::read(buf)?;
        let first = match u8::read(buf)? {
            0 => {
                let height = Height(u64::read(buf)?);
                let mut hash = [0u8; 32];
                if buf.remaining() < 32 {
                    return Err(CodecError::EndOfBuffer);
                }
                buf.copy_to_slice(&mut hash);
                FirstRecord::Confirmed { height, tx_hash: B256::from(hash) }
            }
            1 => FirstRecord::Pending(BlockTransaction::read_cfg(buf, max_payload)?),
            other => return Err(CodecError::InvalidEnum(other)),
        };
        let second = BlockTransaction::read_cfg(buf, max_payload)?;
        Ok(Self { namespace, equivocation: Equivocation { number, first, second } })
    }
}

/// The journal.
pub struct EvidenceJournal<E: Storage + Metrics> {
    /// `None` once an operation failed half-way (commonware's journal is moved through each
    /// call): later appends fail rather than write into an unknown state.
    journal: Option<Journal<E, StoredEquivocation>>,
}

impl<E: Storage + Metrics> EvidenceJournal<E> {
    /// Opens the journal in `partition` and returns it with what it holds, oldest first.
    pub async fn open(
        context: E,
        partition: String,
        max_payload: usize,
    ) -> Result<(Self, Vec<StoredEquivocation>), EvidenceError> {
        let config = JournalConfig {
            partition,
            compression: None,
            codec_config: max_payload,
            page_cache: CacheRef::new(PAGE_SIZE, PAGE_CACHE_PAGES),
            write_buffer: WRITE_BUFFER,
        };
        let journal = Journal::init(context, config).await?;
        let mut stored = Vec::new();
        let mut replay = journal.replay(0, 0, WRITE_BUFFER, ReadOptions::default()).await?;
        while let Some(item) = replay.next().await {
            let (_, _, _, equivocation) = item?;
            stored.push(equivocation);
        }
        Ok((Self { journal: Some(replay.finish()?) }, stored))
    }

    /// Appends `equivocations` and syncs.
    pub async fn append(
        &mut self,
        equivocations: &[StoredEquivocation],
    ) -> Result<(), EvidenceError> {
        let mut journal = self.journal.take().ok_or(EvidenceError::Closed)?;
        for equivocation in equivocations {
            journal = journal.append(SECTION, equivocation).await?.0;
        }
        self.journal = Some(journal.sync(SECTION).await?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use commonware_cryptography::{Signer as _, ed25519};
    use commonware_runtime::{Runner as _, Supervisor as _, deterministic};
    use trestle_light_client::Transaction;

    use super::*;

    fn signed(payload: &[u8]) -> BlockTransaction {
        let transaction = Transaction::new(Namespace(9), payload.to_vec());
        let key = ed25519::PrivateKey::from_seed(1);
        let authorization = trestle_api::authorization::authorize(&key, &transaction);
        BlockTransaction { transaction, authorization: Some(authorization) }
    }

    #[test]
    fn evidence_survives_a_restart() {
        deterministic::Runner::default().start(|context| async move {
            let kept = vec![
                StoredEquivocation {
                    namespace: Namespace(9),
                    equivocation: Equivocation {
                        number: 4,
                        first: FirstRecord::Confirmed {
                            height: Height(12),
                            tx_hash: B256::repeat_byte(3),
                        },
                        second: signed(b"second"),
                    },
                },
                StoredEquivocation {
                    namespace: Namespace(9),
                    equivocation: Equivocation {
                        number: 5,
                        first: FirstRecord::Pending(signed(b"one")),
                        second: signed(b"two"),
                    },
                },
            ];
            let (mut journal, restored) =
                EvidenceJournal::open(context.child("a"), "evidence".into(), 64)
                    .await
                    .expect("open");
            assert!(restored.is_empty());
            journal.append(&kept).await.expect("append");
            drop(journal);
            let (_, restored) = EvidenceJournal::open(context.child("b"), "evidence".into(), 64)
                .await
                .expect("reopen");
            assert_eq!(restored, kept);
        });
    }
}
