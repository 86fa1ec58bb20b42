//! The application's finalized index on disk: one entry per finalized height with what the
//! chain state keeps of that block (header, digests, L1 reference and next committee,
//! transaction hashes, block records), so a restart rebuilds the state from these small
//! entries instead of reading, decoding and re-hashing every block in marshal's archive.
//!
//! The index is a cache of marshal's archive, never a second source of truth:
//! - entries are appended after the block is applied and synced in batches, so a crash can
//!   lose the newest ones; recovery then replays those heights from marshal as before;
//! - on start the entries must chain from genesis (heights, parent digests, header parents)
//!   and the last one must be the block marshal holds at that height; an entry that does not
//!   chain ends the usable prefix (the rest is rewritten), and a tip marshal does not confirm
//!   discards the whole index (a full replay rebuilds it). A damaged index costs time, never
//!   a wrong chain.
//!
//! Entries live in a segmented journal (commonware-storage), one section per
//! [`SECTION_HEIGHTS`] heights.

use std::{
    collections::BTreeSet,
    num::{NonZeroU16, NonZeroUsize},
};

use alloy_primitives::keccak256;
use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, RangeCfg, Read, ReadExt as _, Write};
use commonware_runtime::{Handle, Metrics, ReadOptions, Storage, buffer::paged::CacheRef};
use commonware_storage::journal::segmented::variable::{Config as JournalConfig, Journal};
use trestle_light_client::{B256, Header, Namespace, header::HEADER_LEN};

use crate::{block::Digest, succession::Succession};

/// Heights per journal section.
pub const SECTION_HEIGHTS: u64 = 10_000;
const PAGE_SIZE: NonZeroU16 = NonZeroU16::new(4096).expect("non-zero");
const PAGE_CACHE_PAGES: NonZeroUsize = NonZeroUsize::new(64).expect("non-zero");
const WRITE_BUFFER: NonZeroUsize = NonZeroUsize::new(256 * 1024).expect("non-zero");
const REPLAY_BUFFER: NonZeroUsize = NonZeroUsize::new(1024 * 1024).expect("non-zero");

/// Why the finalized index failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The journal could not be opened, read, appended to or synced.
    #[error("finalized index journal: {0}")]
    Journal(#[from] commonware_storage::journal::Error),
    /// An earlier failure left the journal closed.
    #[error("finalized index closed by an earlier failure")]
    Closed,
    /// A background sync failed (fatal to the journal).
    #[error("finalized index sync: {0}")]
    Sync(String),
}

/// A block record a finalized block confirmed, as indexed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexedRecordEntry {
    /// The block namespace.
    pub namespace: Namespace,
    /// The rollup block number.
    pub number: u64,
    /// The rollup block hash.
    pub hash: B256,
    /// The hash of the transaction that carried the record.
    pub tx_hash: B256,
}

/// What the chain state keeps of one finalized block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexedBlock {
    /// The block's digest.
    pub digest: Digest,
    /// Its parent's digest.
    pub parent_digest: Digest,
    /// The header.
    pub header: Header,
    /// `header.hash()` (not stored: computed once from the stored encoding when read).
    pub header_hash: B256,
    /// The L1 reference and, at an epoch's last height, the committee after next.
    pub succession: Succession,
    /// The hashes of its transactions, in block order.
    pub tx_hashes: Vec<B256>,
    /// The block records it confirmed, in block order.
    pub records: Vec<IndexedRecordEntry>,
}

impl IndexedBlock {
    /// The journal section of the entry.
    pub fn section(&self) -> u64 {
        self.header.height.get() / SECTION_HEIGHTS
    }
}

impl Write for IndexedRecordEntry {
    fn write(&self, buf: &mut impl BufMut) {
        self.namespace.get().write(buf);
        self.number.write(buf);
        buf.put_slice(self.hash.as_slice());
        buf.put_slice(self.tx_hash.as_slice());
    }
}

impl EncodeSize for IndexedRecordEntry {
    fn encode_size(&self) -> usize {
        8 + 8 + 32 + 32
    }
}

impl Read for IndexedRecordEntry {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        Ok(Self {
            namespace: Namespace(u64::read(buf)?),
            number: u64::read(buf)?,
            hash: B256::from(<[u8; 32]>::read(buf)?),
            tx_hash: B256::from(<[u8; 32]>::read(buf)?),
        })
    }
}

impl Write for IndexedBlock {
    fn write(&self, buf: &mut impl BufMut) {
        self.digest.write(buf);
        self.parent_digest.write(buf);
        buf.put_slice(&self.header.encode());
        self.succession.write(buf);
        let hashes: Vec<[u8; 32]> = self.tx_hashes.iter().map(|h| h.0).collect();
        hashes.as_slice().write(buf);
        self.records.as_slice().write(buf);
    }
}

impl EncodeSize for IndexedBlock {
    fn encode_size(&self) -> usize {
        let hashes = commonware_codec::varint::UInt(self.tx_hashes.len() as u32).encode_size()
            + 32 * self.tx_hashes.len();
        self.digest.encode_size()
            + self.parent_digest.encode_size()
            + HEADER_LEN
            + self.succession.encode_size()
            + hashes
            + self.records.as_slice().encode_size()
    }
}

impl Read for IndexedBlock {
    /// Most transactions in one block.
    type Cfg = usize;

    fn read_cfg(buf: &mut impl Buf, max_transactions: &usize) -> Result<Self, CodecError> {
        let digest = Digest::read(buf)?;
        let parent_digest = Digest::read(buf)?;
        let raw = <[u8; HEADER_LEN]>::read(buf)?;
        let header = Header::decode(&raw)
            .map_err(|_| CodecError::Invalid("IndexedBlock", "header encoding"))?;
        // The encoding is canonical (checked above), so its hash is the header's.
        let header_hash = keccak256(raw);
        let succession = Succession::read(buf)?;
        let range = RangeCfg::from(..=*max_transactions);
        let hashes = Vec::<[u8; 32]>::read_cfg(buf, &(range, ()))?;
        let records = Vec::<IndexedRecordEntry>::read_cfg(buf, &(range, ()))?;
        Ok(Self {
            digest,
            parent_digest,
            header,
            header_hash,
            succession,
            tx_hashes: hashes.into_iter().map(B256::from).collect(),
            records,
        })
    }
}

/// The index journal.
pub struct IndexJournal<E: Storage + Metrics> {
    /// `None` once an operation failed half-way (commonware's journal is moved through each
    /// call): later writes fail rather than write into an unknown state.
    journal: Option<Journal<E, IndexedBlock>>,
    /// Entries appended since the last sync started.
    unsynced: usize,
    /// Sections appended to since the last sync started.
    dirty: BTreeSet<u64>,
    /// The background sync in flight, if any.
    syncing: Option<Handle<()>>,
}

impl<E: Storage + Metrics> IndexJournal<E> {
    /// Opens the index in `partition` and returns it with every entry it holds, in height
    /// order. Entries after one that does not decode (a torn write) are not returned.
    pub async fn open(
        context: E,
        partition: String,
        max_transactions: usize,
    ) -> Result<(Self, Vec<IndexedBlock>), IndexError> {
        let config = JournalConfig {
            partition,
            compression: None,
            codec_config: max_transactions,
            page_cache: CacheRef::new(PAGE_SIZE, PAGE_CACHE_PAGES),
            write_buffer: WRITE_BUFFER,
        };
        let journal = Journal::init(context, config).await?;
        let mut entries = Vec::new();
        let mut replay = journal.replay(0, 0, REPLAY_BUFFER, ReadOptions::default()).await?;
        let mut damaged = false;
        while let Some(item) = replay.next().await {
            match item {
                Ok((_, _, _, entry)) if !damaged => entries.push(entry),
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(%err, "finalized index entry unreadable; later ones ignored");
                    damaged = true;
                }
            }
        }
        let index = Self {
            journal: Some(replay.finish()?),
            unsynced: 0,
            dirty: BTreeSet::new(),
            syncing: None,
        };
        Ok((index, entries))
    }

    /// Appends `entries` (in height order), unsynced.
    pub async fn append(&mut self, entries: &[IndexedBlock]) -> Result<(), IndexError> {
        let mut journal = self.journal.take().ok_or(IndexError::Closed)?;
        for entry in entries {
            journal = journal.append(entry.section(), entry).await?.0;
            self.dirty.insert(entry.section());
        }
        self.unsynced += entries.len();
        self.journal = Some(journal);
        Ok(())
    }

    /// Entries appended since the last sync.
    pub fn unsynced(&self) -> usize {
        self.unsynced
    }

    /// Syncs what was appended, and waits for it.
    pub async fn sync(&mut self) -> Result<(), IndexError> {
        self.finish_sync().await?;
        let journal = self.journal.take().ok_or(IndexError::Closed)?;
        self.journal = Some(journal.sync_all().await?);
        self.unsynced = 0;
        self.dirty.clear();
        Ok(())
    }

    /// Starts syncing what was appended without waiting for the disk (the actor goes on
    /// serving meanwhile); a sync still in flight is waited for first.
    pub async fn start_sync(&mut self) -> Result<(), IndexError> {
        self.finish_sync().await?;
        let journal = self.journal.take().ok_or(IndexError::Closed)?;
        let (journal, handle) = journal.start_sync(std::mem::take(&mut self.dirty)).await?;
        self.journal = Some(journal);
        self.syncing = Some(handle);
        self.unsynced = 0;
        Ok(())
    }

    /// Waits for the sync in flight, if any; its failure closes the index.
    async fn finish_sync(&mut self) -> Result<(), IndexError> {
        let Some(syncing) = self.syncing.take() else { return Ok(()) };
        if let Err(err) = syncing.await {
            self.journal = None;
            return Err(IndexError::Sync(err.to_string()));
        }
        Ok(())
    }

    /// Removes every entry, then writes `entries` (a valid prefix of what it held) and syncs.
    pub async fn rewrite(&mut self, entries: &[IndexedBlock]) -> Result<(), IndexError> {
        self.finish_sync().await?;
        let journal = self.journal.take().ok_or(IndexError::Closed)?;
        self.journal = Some(journal.clear().await?);
        self.dirty.clear();
        self.append(entries).await?;
        self.sync().await
    }
}

#[cfg(test)]
mod tests {
    use commonware_codec::{Decode as _, Encode as _};
    use commonware_runtime::{Runner as _, Supervisor as _, deterministic};
    use trestle_light_client::{ChainId, Epoch, Height, View, rotation::L1Reference};

    use super::*;
    use crate::rules::test_committee;

    fn entry(height: u64, committee: bool) -> IndexedBlock {
        let header = Header {
            chain_id: ChainId(7),
            epoch: Epoch(height / 50),
            height: Height(height),
            view: View(height + 1),
            timestamp_ms: height * 10,
            parent: B256::repeat_byte(1),
            payload_root: B256::repeat_byte(2),
            history_root: B256::repeat_byte(3),
            committee: B256::repeat_byte(4),
        };
        let l1 = L1Reference { number: height, hash: B256::repeat_byte(5) };
        let next_committee = committee.then(|| test_committee(4, 8));
        IndexedBlock {
            digest: crate::block::digest_from_b256(&B256::repeat_byte(height as u8)),
            parent_digest: crate::block::digest_from_b256(&B256::repeat_byte(9)),
            header_hash: header.hash(),
            header,
            succession: Succession { l1, next_committee },
            tx_hashes: (0..height % 3).map(|i| B256::repeat_byte(i as u8 + 10)).collect(),
            records: vec![IndexedRecordEntry {
                namespace: Namespace(3),
                number: height,
                hash: B256::repeat_byte(6),
                tx_hash: B256::repeat_byte(7),
            }],
        }
    }

    #[test]
    fn entries_roundtrip_and_bad_bytes_are_refused() {
        for block in [entry(1, false), entry(49, true), entry(2, false)] {
            let bytes = block.encode();
            assert_eq!(bytes.len(), block.encode_size());
            assert_eq!(IndexedBlock::decode_cfg(bytes.clone(), &8).expect("decodes"), block);
            // Truncated anywhere: an error, never a panic.
            for cut in [0, 10, 64, 64 + HEADER_LEN, bytes.len() - 1] {
                assert!(IndexedBlock::decode_cfg(bytes.slice(..cut), &8).is_err(), "cut at {cut}");
            }
        }
        // More transaction hashes than a block may hold.
        let mut many = entry(2, false);
        many.tx_hashes = vec![B256::ZERO; 9];
        assert!(IndexedBlock::decode_cfg(many.encode(), &8).is_err());
    }

    #[test]
    fn the_index_survives_a_restart_and_can_be_rewritten() {
        deterministic::Runner::default().start(|context| async move {
            let (mut index, held) =
                IndexJournal::open(context.child("a"), "index".into(), 8).await.expect("open");
            assert!(held.is_empty());
            // Across a section boundary.
            let entries: Vec<_> = [1, 2, 3, SECTION_HEIGHTS, SECTION_HEIGHTS + 1]
                .into_iter()
                .map(|h| entry(h, h % 2 == 0))
                .collect();
            index.append(&entries[..3]).await.expect("append");
            index.start_sync().await.expect("sync started");
            index.append(&entries[3..]).await.expect("append");
            assert_eq!(index.unsynced(), 2);
            index.sync().await.expect("sync");
            drop(index);
            let (mut index, held) =
                IndexJournal::open(context.child("b"), "index".into(), 8).await.expect("reopen");
            assert_eq!(held, entries);
            index.rewrite(&entries[..2]).await.expect("rewrite");
            drop(index);
            let (_, held) =
                IndexJournal::open(context.child("c"), "index".into(), 8).await.expect("reopen");
            assert_eq!(held, entries[..2]);
        });
    }
}
