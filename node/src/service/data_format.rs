//! The format of a validator's data directory: recorded when the directory is first used,
//! checked at every start.
//!
//! commonware's archives have no migrations (`marshal::coding` is ALPHA), and a node that opens a
//! directory another trestle wrote with other rules does not fail cleanly: marshal panics
//! ("stored genesis block does not match configured anchor") once the runtime is up, and a
//! subtler difference might not fail at all. So a validator writes [`DATA_FORMAT`] into
//! `<data_dir>/FORMAT` before it writes anything else there, and refuses to start on a
//! directory that records another format, or that holds data but no format (written before
//! formats were recorded, with SHA-256 shards, which this version cannot read).
//!
//! Bump [`DATA_FORMAT`] with every change that makes stored blocks, certificates or indexes
//! unreadable to the new code (the block digest's tag, the coding hash, a codec change).

use std::{
    fs, io,
    path::{Path, PathBuf},
};

/// What this version writes and reads: the block format (its digest's domain tag) and the hash
/// of the erasure coding.
pub const DATA_FORMAT: &str = "trestle-data 2 (blocks trestle.block.v3, shards under BLAKE3)";

/// The file under the data directory that records its format.
pub const FORMAT_FILE: &str = "FORMAT";

/// Why a data directory was refused.
#[derive(Debug, thiserror::Error)]
pub enum DataFormatError {
    /// The directory records another format: another trestle version wrote it.
    #[error(
        "{dir}: written by another trestle version (format {found:?}), this one reads \
         {expected:?}: start from an empty data directory"
    )]
    Incompatible {
        /// The data directory.
        dir: PathBuf,
        /// The format it records.
        found: String,
        /// [`DATA_FORMAT`].
        expected: &'static str,
    },
    /// The directory holds data but records no format: written before formats were recorded
    /// (blocks coded under SHA-256), which this version cannot read.
    #[error(
        "{dir}: holds data but no {FORMAT_FILE} file (written by a trestle before \
         {expected:?}): start from an empty data directory"
    )]
    Unmarked {
        /// The data directory.
        dir: PathBuf,
        /// [`DATA_FORMAT`].
        expected: &'static str,
    },
    /// The directory or its format file could not be read or written.
    #[error("{dir}: {source}")]
    Io {
        /// The data directory.
        dir: PathBuf,
        /// The failure.
        source: io::Error,
    },
}

/// Checks that `dir` holds data of [`DATA_FORMAT`], or is new (missing or empty): then records
/// the format in it, durably, before the node writes anything else.
pub fn check_or_record(dir: &Path) -> Result<(), DataFormatError> {
    let io = |source| DataFormatError::Io { dir: dir.to_path_buf(), source };
    let file = dir.join(FORMAT_FILE);
    match fs::read(&file) {
        Ok(found) => {
            let found = String::from_utf8_lossy(&found).trim().to_owned();
            if found == DATA_FORMAT {
                return Ok(());
            }
            return Err(DataFormatError::Incompatible {
                dir: dir.to_path_buf(),
                found,
                expected: DATA_FORMAT,
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let holds_data = match fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_some(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(io(e)),
    };
    if holds_data {
        return Err(DataFormatError::Unmarked { dir: dir.to_path_buf(), expected: DATA_FORMAT });
    }
    fs::create_dir_all(dir).map_err(io)?;
    // Written aside and renamed: a crash leaves either no format file (and an empty directory,
    // recorded again at the next start) or the whole one.
    let partial = dir.join(format!("{FORMAT_FILE}.partial"));
    fs::write(&partial, format!("{DATA_FORMAT}\n")).map_err(io)?;
    fs::File::open(&partial).and_then(|f| f.sync_all()).map_err(io)?;
    fs::rename(&partial, &file).map_err(io)?;
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_directory_is_recorded_and_accepted_again() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("data");
        check_or_record(&dir).expect("a missing directory is new");
        assert_eq!(
            fs::read_to_string(dir.join(FORMAT_FILE)).expect("recorded").trim(),
            DATA_FORMAT
        );
        check_or_record(&dir).expect("its own format");
        let empty = root.path().join("empty");
        fs::create_dir(&empty).expect("mkdir");
        check_or_record(&empty).expect("an empty directory is new");
        assert!(empty.join(FORMAT_FILE).exists());
    }

    #[test]
    fn another_format_or_unmarked_data_is_refused_and_left_alone() {
        let root = tempfile::tempdir().expect("tempdir");
        let other = root.path().join("other");
        fs::create_dir(&other).expect("mkdir");
        fs::write(other.join(FORMAT_FILE), "trestle-data 1\n").expect("write");
        let refused = check_or_record(&other).expect_err("another format");
        let DataFormatError::Incompatible { found, .. } = &refused else {
            panic!("another format: {refused}")
        };
        assert_eq!(found, "trestle-data 1");
        assert_eq!(fs::read_to_string(other.join(FORMAT_FILE)).expect("kept"), "trestle-data 1\n");

        // A directory a trestle wrote before formats were recorded: archives, no format file.
        let old = root.path().join("old");
        fs::create_dir_all(old.join("trestle-finalized-blocks")).expect("mkdir");
        let refused = check_or_record(&old).expect_err("unmarked data");
        assert!(matches!(refused, DataFormatError::Unmarked { .. }), "{refused}");
        assert!(!old.join(FORMAT_FILE).exists(), "nothing is written into refused data");
    }

    #[test]
    fn an_unreadable_format_file_is_an_io_error() {
        let root = tempfile::tempdir().expect("tempdir");
        // A directory where the file should be: reading it fails with something other than
        // "not found".
        fs::create_dir_all(root.path().join(FORMAT_FILE)).expect("mkdir");
        let refused = check_or_record(root.path()).expect_err("unreadable");
        assert!(matches!(refused, DataFormatError::Io { .. }), "{refused}");
    }
}
