//! The anchor `trestle confirm` reached, kept on disk (`--anchor-cache FILE`): the committee of
//! the latest epoch whose hand-offs it verified from the genesis anchor, so that the next check
//! starts there instead of walking every epoch again.
//!
//! The file is only ever written from a verification under the genesis file, and is bound to
//! it: a cache whose chain or genesis committee differs, or whose members do not form a
//! committee, is ignored (and overwritten by the next confirmation). A cache is trusted like the
//! genesis file itself: keep it where the genesis file is.

use std::{num::NonZeroU64, path::Path};

use alloy_primitives::B256;
use serde::{Deserialize, Serialize};
use trestle_light_client::{Anchor, ChainId, Committee, CommitteeSlot, Epoch};

/// Why the cache could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The cache file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The anchor could not be serialized.
    #[error("serializing the anchor: {0}")]
    Json(#[from] serde_json::Error),
}

/// The file's contents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CachedAnchor {
    /// The network.
    pub chain_id: u64,
    /// The genesis committee's commitment (the cache's trust root).
    pub genesis_committee: B256,
    /// The epoch reached.
    pub epoch: u64,
    /// The network's epoch length.
    pub epoch_length: u64,
    /// The committee of `epoch`: its capacity and members.
    pub capacity: u64,
    /// Its members, in slot order.
    pub slots: Vec<CommitteeSlot>,
}

/// The cached anchor in `path` for the network of `genesis`, if there is a valid one ahead of
/// it.
pub fn load(path: &Path, genesis: &Anchor) -> Option<Anchor> {
    let text = std::fs::read_to_string(path).ok()?;
    let cached: CachedAnchor = serde_json::from_str(&text).ok()?;
    if cached.chain_id != genesis.chain_id.get()
        || cached.genesis_committee != genesis.committee.commitment_bytes()
        || cached.epoch_length != genesis.epoch_length.get()
        || cached.epoch <= genesis.epoch.get()
    {
        return None;
    }
    let capacity = usize::try_from(cached.capacity).ok()?;
    let committee = Committee::new(cached.slots, capacity).ok()?;
    Some(Anchor {
        chain_id: ChainId(cached.chain_id),
        epoch: Epoch(cached.epoch),
        committee,
        epoch_length: NonZeroU64::new(cached.epoch_length)?,
        max_payload: genesis.max_payload,
    })
}

/// Records `reached` (an anchor verified from `genesis`) in `path`, unless the cache already
/// holds a later epoch of the same network.
///
/// Writers (`trestle confirm` runs and `trestle follow-anchor`, possibly at once) take an
/// advisory lock on `FILE.lock` around reading, comparing and replacing, so a slower writer
/// never moves the cache back; readers take no lock: the file is replaced by a rename, so they
/// see the old or the new one whole.
pub fn store(path: &Path, genesis: &Anchor, reached: &Anchor) -> Result<(), CacheError> {
    if reached.epoch <= genesis.epoch {
        return Ok(());
    }
    let io = |source| CacheError::Io { path: path.display().to_string(), source };
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path.with_extension("lock"))
        .map_err(io)?;
    lock.lock().map_err(io)?;
    if load(path, genesis).is_some_and(|cached| cached.epoch >= reached.epoch) {
        return Ok(());
    }
    let cached = CachedAnchor {
        chain_id: reached.chain_id.get(),
        genesis_committee: genesis.committee.commitment_bytes(),
        epoch: reached.epoch.get(),
        epoch_length: reached.epoch_length.get(),
        capacity: reached.committee.capacity() as u64,
        slots: reached.committee.slots().to_vec(),
    };
    let json = serde_json::to_string_pretty(&cached)? + "\n";
    // Written aside, synced and renamed: a crash never leaves half a cache.
    let partial = path.with_extension("partial");
    let mut file = std::fs::File::create(&partial).map_err(io)?;
    std::io::Write::write_all(&mut file, json.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&partial, path).map_err(io)
    // The lock is released when `lock` is dropped, after the rename.
}

#[cfg(test)]
mod tests {
    use trestle_light_client::SecretKey;

    use super::*;

    fn anchor(seeds: std::ops::Range<u8>, epoch: u64) -> Anchor {
        let keys = seeds.map(|i| *SecretKey::from_seed([i; 32]).public_key());
        Anchor {
            chain_id: ChainId(7),
            epoch: Epoch(epoch),
            committee: Committee::equal_weight(keys, 8).expect("committee"),
            epoch_length: NonZeroU64::new(50).expect("non-zero"),
            max_payload: 1_024,
        }
    }

    #[test]
    fn the_cache_keeps_the_latest_epoch_of_its_genesis_only() {
        let dir = std::env::temp_dir().join(format!("anchor-cache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("anchor.json");
        let genesis = anchor(1..5, 0);
        assert!(load(&path, &genesis).is_none(), "no file, no anchor");
        store(&path, &genesis, &anchor(3..7, 4)).expect("stored");
        let cached = load(&path, &genesis).expect("cached");
        assert_eq!((cached.epoch, &cached.committee), (Epoch(4), &anchor(3..7, 4).committee));
        // An earlier epoch does not move it back; a later one moves it on.
        store(&path, &genesis, &anchor(2..6, 2)).expect("kept");
        assert_eq!(load(&path, &genesis).expect("cached").epoch, Epoch(4));
        store(&path, &genesis, &anchor(2..6, 9)).expect("stored");
        assert_eq!(load(&path, &genesis).expect("cached").epoch, Epoch(9));
        // Another genesis, another epoch length, or a damaged file: ignored.
        assert!(load(&path, &anchor(9..13, 0)).is_none());
        let other =
            Anchor { epoch_length: NonZeroU64::new(60).expect("non-zero"), ..genesis.clone() };
        assert!(load(&path, &other).is_none());
        std::fs::write(&path, "{\"chainId\": 7").expect("write");
        assert!(load(&path, &genesis).is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn writers_at_once_leave_the_latest_epoch_whole() {
        let dir = std::env::temp_dir().join(format!("anchor-race-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("anchor.json");
        let genesis = anchor(1..5, 0);
        std::thread::scope(|scope| {
            for writer in 0..4u64 {
                let (path, genesis) = (&path, &genesis);
                scope.spawn(move || {
                    // Each writer stores every epoch up to 40, its own order interleaved.
                    for step in 0..40u64 {
                        let epoch = 1 + (step * 7 + writer * 13) % 40;
                        store(path, genesis, &anchor(2..6, epoch)).expect("stored");
                        let seen = load(path, genesis).expect("a whole file at every moment");
                        assert!(seen.epoch.get() >= epoch, "moved back below {epoch}");
                    }
                });
            }
        });
        assert_eq!(load(&path, &genesis).expect("cached").epoch, Epoch(40));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
