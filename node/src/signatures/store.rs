//! Persistence of the signatures actor: our own finalized states and every verified
//! signature, in two segmented journals (commonware-storage): `{prefix}-recent` (sections of
//! 1024 heights, pruned by retention) and `{prefix}-epochs` (the last height of each epoch,
//! never pruned). Each append is synced before the actor serves or gossips what it wrote, so a
//! restart restores exactly what was served.

use std::num::NonZeroUsize;

use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, Read, ReadExt as _, Write};
use commonware_runtime::{Metrics, ReadOptions, Storage, buffer::paged::CacheRef};
use commonware_storage::journal::segmented::variable::{Config as JournalConfig, Journal};
use trestle_light_client::{LightClientState, Signature, eddsa::SIGNATURE_LEN, state::STATE_LEN};

use super::{Error, book::Book};

/// Heights per section of the recent journal (pruning works on whole sections).
const RECENT_SECTION: u64 = 1_024;
/// Heights per section of the epoch-ends journal (never pruned).
const EPOCHS_SECTION: u64 = 1 << 20;
const PAGE_SIZE: std::num::NonZeroU16 = std::num::NonZeroU16::new(4096).expect("non-zero");
const PAGE_CACHE_PAGES: NonZeroUsize = NonZeroUsize::new(16).expect("non-zero");
const WRITE_BUFFER: NonZeroUsize = NonZeroUsize::new(64 * 1024).expect("non-zero");

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

/// The two journals: recent heights (pruned by retention) and epoch ends (kept forever).
pub(super) struct Store<E: Storage + Metrics> {
    recent: Option<Journal<E, Record>>,
    epochs: Option<Journal<E, Record>>,
}

fn journal_config(partition: String, page_cache: &CacheRef) -> JournalConfig<()> {
    JournalConfig {
        partition,
        compression: None,
        codec_config: (),
        page_cache: page_cache.clone(),
        write_buffer: WRITE_BUFFER,
    }
}

/// Replays a journal into `book`, then hands the journal back.
async fn replay<E: Storage + Metrics>(
    journal: Journal<E, Record>,
    book: &mut Book,
) -> Result<Journal<E, Record>, Error> {
    let mut replay = journal.replay(0, 0, WRITE_BUFFER, ReadOptions::default()).await?;
    while let Some(item) = replay.next().await {
        let (_, _, _, record) = item?;
        book.restore(record);
    }
    Ok(replay.finish()?)
}

impl<E: Storage + Metrics> Store<E> {
    /// Opens the journals under `prefix` and restores what they hold into `book`.
    pub(super) async fn open(context: &E, prefix: &str, book: &mut Book) -> Result<Self, Error> {
        let page_cache = CacheRef::new(PAGE_SIZE, PAGE_CACHE_PAGES);
        let recent = Journal::init(
            context.child("recent"),
            journal_config(format!("{prefix}-recent"), &page_cache),
        )
        .await?;
        let epochs = Journal::init(
            context.child("epochs"),
            journal_config(format!("{prefix}-epochs"), &page_cache),
        )
        .await?;
        let recent = replay(recent, book).await?;
        let epochs = replay(epochs, book).await?;
        Ok(Self { recent: Some(recent), epochs: Some(epochs) })
    }

    /// Appends `records` and syncs the sections written.
    pub(super) async fn append(&mut self, book: &Book, records: &[Record]) -> Result<(), Error> {
        for epoch_end in [false, true] {
            let mine: Vec<&Record> =
                records.iter().filter(|r| book.is_epoch_end(r.height()) == epoch_end).collect();
            if mine.is_empty() {
                continue;
            }
            let (slot, per_section) = if epoch_end {
                (&mut self.epochs, EPOCHS_SECTION)
            } else {
                (&mut self.recent, RECENT_SECTION)
            };
            let mut journal = slot.take().ok_or(Error::StorageClosed)?;
            let mut sections = Vec::new();
            for record in mine {
                let section = record.height() / per_section;
                journal = journal.append(section, record).await?.0;
                if !sections.contains(&section) {
                    sections.push(section);
                }
            }
            for section in sections {
                journal = journal.sync(section).await?;
            }
            *slot = Some(journal);
        }
        Ok(())
    }

    /// Drops the recent sections wholly below `floor`.
    pub(super) async fn prune(&mut self, floor: u64) -> Result<(), Error> {
        let journal = self.recent.take().ok_or(Error::StorageClosed)?;
        self.recent = Some(journal.prune(floor / RECENT_SECTION).await?.0);
        Ok(())
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
