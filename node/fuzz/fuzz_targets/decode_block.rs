//! Block decoding: never panics; whatever decodes re-encodes to the same bytes (canonical), and
//! its digest is the digest of a block rebuilt from its parts.
#![no_main]

use commonware_codec::{Decode as _, Encode as _};
use libfuzzer_sys::fuzz_target;
use trestle_node::{Block, BlockCodec, BlockLimits, known::KnownTransactions};

/// Small limits so that the fuzzer reaches every limit check (the node's defaults allow a 4 MiB
/// block, far beyond what libFuzzer generates).
const LIMITS: BlockLimits =
    BlockLimits { max_transactions: 8, max_payload: 64, max_block_payload: 256 };

fuzz_target!(|data: &[u8]| {
    for limits in [LIMITS, BlockLimits::default()] {
        if let Ok(block) = Block::decode_cfg(data.to_vec(), &BlockCodec::from(limits)) {
            // Decoding with a memory of some of its transactions gives the same hashes.
            let known = KnownTransactions::new(1 << 20, 0);
            for (tx, hash) in block.transactions().iter().zip(block.tx_hashes()).step_by(2) {
                known.remember(&tx.transaction, *hash);
            }
            let codec = BlockCodec { limits, known: Some(known) };
            let again = Block::decode_cfg(data.to_vec(), &codec).expect("decodes again");
            assert_eq!(again.tx_hashes(), block.tx_hashes());
            assert_eq!(block.encode().as_ref(), data, "non-canonical block encoding accepted");
            assert!(data.len() <= limits.max_encoded_size(), "block over its encoded bound");
            let rebuilt = Block::from_parts(
                block.header().clone(),
                block.parent_digest(),
                block.succession().clone(),
                block.consensus_context().clone(),
                block.transactions().to_vec(),
            );
            assert_eq!(rebuilt, block);
        }
    }
});
