//! Block decoding: never panics; whatever decodes re-encodes to the same bytes (canonical), and
//! its digest is the digest of a block rebuilt from its parts.
#![no_main]

use commonware_codec::{Decode as _, Encode as _};
use libfuzzer_sys::fuzz_target;
use trestle_node::{Block, BlockLimits};

/// Small limits so that the fuzzer reaches every limit check (the node's defaults allow a 4 MiB
/// block, far beyond what libFuzzer generates).
const LIMITS: BlockLimits =
    BlockLimits { max_transactions: 8, max_payload: 64, max_block_payload: 256 };

fuzz_target!(|data: &[u8]| {
    for limits in [LIMITS, BlockLimits::default()] {
        if let Ok(block) = Block::decode_cfg(data.to_vec(), &limits) {
            assert_eq!(block.encode().as_ref(), data, "non-canonical block encoding accepted");
            assert!(data.len() <= limits.max_encoded_size(), "block over its encoded bound");
            let rebuilt = Block::from_parts(
                block.header().clone(),
                block.parent_digest(),
                block.succession().clone(),
                block.transactions().to_vec(),
            );
            assert_eq!(rebuilt, block);
        }
    }
});
