//! Persistence of the signatures actor: our own finalized states and every verified
//! signature, in two segmented journals (commonware-storage): `{prefix}-recent` (sections of
//! 1024 heights, pruned by retention) and `{prefix}-epochs` (the last height of each epoch,
//! never pruned). Each append is synced before the actor serves or gossips what it wrote, so a
//! restart restores exactly what was served.

use std::num::NonZeroUsize;

use super::{Error, book::Book, record::Record};
use commonware_runtime::{Metrics, ReadOptions, Storage, buffer::paged::CacheRef};
use commonware_storage::journal::segmented::variable::{Config as JournalConfig, Journal};

/// Heights per section of the recent journal (pruning works on whole sections).
const RECENT_SECTION: u64 = 1_024;
/// Heights per section of the epoch-ends journal (never pruned).
const EPOCHS_SECTION: u64 = 1 << 20;
const PAGE_SIZE: std::num::NonZeroU16 = std::num::NonZeroU16::new(4096).expect("non-zero");
const PAGE_CACHE_PAGES: NonZeroUsize = NonZeroUsize::new(16).expect("non-zero");
const WRITE_BUFFER: NonZeroUsize = NonZeroUsize::new(64 * 1024).expect("non-zero");

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
