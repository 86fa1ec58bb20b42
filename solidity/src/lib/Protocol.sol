// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MerkleTree} from "./MerkleTree.sol";

// The protocol's data structures (DESIGN.md section 4). They mirror the alloy `sol!` definitions in
// light-client/src/abi.rs field for field, so that `abi.encode` gives the same bytes on both sides;
// the golden vectors in test/fixtures pin that. Rust's `MerkleProof` is `MerkleTree.Proof` here.

/// @notice A transaction: an opaque payload in a namespace.
/// @param namespace The rollup (lane) the transaction belongs to.
/// @param payload Opaque bytes; for a CIRC message, its ABI encoding.
struct Transaction {
    uint64 namespace;
    bytes payload;
}

/// @notice A block header; `keccak256(abi.encode(header))` is its hash and its history tree leaf.
/// @param chainId Network the block belongs to.
/// @param epoch Committee period of the block.
/// @param height Position in the chain (genesis = 0).
/// @param viewNumber Consensus view in which the block was proposed.
/// @param timestampMs Proposer's timestamp in milliseconds since the Unix epoch.
/// @param parent Hash of the header at height - 1 (zero at genesis).
/// @param payloadRoot Root of the block's payload tree (one leaf per namespace).
/// @param historyRoot Root of the history tree over headers 0..height-1 (excluding this one).
/// @param committee Poseidon commitment to this epoch's committee (a BN254 field element).
struct Header {
    uint64 chainId;
    uint64 epoch;
    uint64 height;
    uint64 viewNumber;
    uint64 timestampMs;
    bytes32 parent;
    bytes32 payloadRoot;
    bytes32 historyRoot;
    bytes32 committee;
}

/// @notice What validators sign after finalizing a height and what the light client stores.
/// @param chainId Network the state belongs to.
/// @param epoch Epoch of the finalized height.
/// @param height The finalized height.
/// @param historyRoot Root of the history tree over headers 0..=height (count height + 1).
/// @param nextCommittee Committee that signs the next states (the next epoch's at an epoch's end).
struct LightClientState {
    uint64 chainId;
    uint64 epoch;
    uint64 height;
    bytes32 historyRoot;
    bytes32 nextCommittee;
}

/// @notice Leaf of a block's payload tree: one namespace's transactions.
/// @param namespace The namespace; leaves are in strictly ascending namespace order.
/// @param txCount Number of the namespace's transactions in the block.
/// @param txRoot Committed root of the tree over their hashes, in block order.
struct NamespaceLeaf {
    uint64 namespace;
    uint64 txCount;
    bytes32 txRoot;
}

/// @notice Proof that a namespace leaf is in a block's payload tree.
/// @param leaf The namespace leaf.
/// @param proof Its path in the payload tree.
struct NamespaceProof {
    NamespaceLeaf leaf;
    MerkleTree.Proof proof;
}

/// @notice Proof that a transaction is in a namespace of a block's payload.
/// @param txProof Path of the transaction hash in the namespace's transaction tree.
/// @param namespaceProof The namespace leaf and its path in the payload tree.
struct TransactionProof {
    MerkleTree.Proof txProof;
    NamespaceProof namespaceProof;
}

/// @notice Proof that a namespace has no transaction in a block: the zero, one or two neighbouring
/// namespace leaves that leave no room for it.
/// @param leafCount Number of leaves in the payload tree.
/// @param neighbours The neighbouring leaves with their paths.
struct NamespaceAbsenceProof {
    uint64 leafCount;
    NamespaceProof[] neighbours;
}

/// @notice A rollup block as its sequencer records it in the rollup's block namespace (DESIGN.md
/// section 4, hybrid mode): the transaction `{namespace: block namespace, payload:
/// abi.encode(record)}` (128 bytes). Validators keep one record per number, numbers contiguous and
/// each parentHash the previous record's hash, so a confirmed record is the rollup's block.
/// Mirrors `BlockRecord` in light-client/src/abi.rs.
/// @param chainId The rollup's chain id.
/// @param number The rollup block's number.
/// @param hash The rollup block's hash.
/// @param parentHash The hash of the rollup block `number - 1`.
struct BlockRecord {
    uint64 chainId;
    uint64 number;
    bytes32 hash;
    bytes32 parentHash;
}

/// @notice Proof that a transaction (a block record) is in a block of the history whose root is
/// `historyRoot`: tx ∈ namespace ∈ header.payloadRoot, header ∈ historyRoot. The JSON form in
/// test/fixtures/block_records.json (`recordProof`) uses these field names.
/// @param header The header of the trestle block holding the transaction.
/// @param txProof The transaction's proof against header.payloadRoot.
/// @param historyProof The header's path in the history tree (index = header.height, count =
/// the root's height + 1).
/// @param historyRoot The history root the proof leads to (one the light client accepted).
struct RecordProof {
    Header header;
    TransactionProof txProof;
    MerkleTree.Proof historyProof;
    bytes32 historyRoot;
}

/// @title Protocol
/// @notice The protocol's hashes, each `keccak256(abi.encode(value))`, computed without copying
/// through the ABI encoder.
/// @dev Every function builds its preimage in scratch memory past the free memory pointer and
/// leaves that pointer untouched (Solidity's memory-safe rules allow this). uint64 values may
/// carry dirty upper bits inside assembly, so they are masked or checked before use.
library Protocol {
    uint256 private constant _U64_MASK = 0xffffffffffffffff;

    /// @notice The hash of a header: `keccak256(abi.encode(header))`, its history tree leaf digest.
    /// @dev Reverts without data, as the ABI decoder does, if a uint64 field of `header` is not
    /// a valid uint64 in calldata (dirty upper bits), so the hash is that of the canonical encoding.
    /// @param header The header, in calldata.
    /// @return digest The header's hash.
    function hash(Header calldata header) internal pure returns (bytes32 digest) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            // A static struct in calldata is its ABI encoding: nine words.
            calldatacopy(ptr, header, 0x120)
            let dirty := or(or(mload(ptr), mload(add(ptr, 0x20))), or(mload(add(ptr, 0x40)), mload(add(ptr, 0x60))))
            if shr(64, or(dirty, mload(add(ptr, 0x80)))) { revert(0, 0) }
            digest := keccak256(ptr, 0x120)
        }
    }

    /// @notice The hash of a transaction: `keccak256(abi.encode(transaction))`, its leaf digest in
    /// the namespace's transaction tree.
    /// @dev Reverts without data, as the ABI decoder does, if the namespace is not a valid uint64
    /// in calldata (dirty upper bits) or the payload does not lie inside calldata.
    /// @param transaction The transaction, in calldata.
    /// @return digest The transaction's hash.
    function hash(Transaction calldata transaction) internal pure returns (bytes32 digest) {
        // The compiler checks that the payload lies inside calldata; the namespace is read and
        // checked here, which costs less than the compiler's field access. The rest is txHash,
        // inlined (a call to it costs about 100 gas more).
        bytes calldata payload = transaction.payload;
        assembly ("memory-safe") {
            let namespace := calldataload(transaction)
            if shr(64, namespace) { revert(0, 0) }
            let ptr := mload(0x40)
            mstore(ptr, 0x20)
            mstore(add(ptr, 0x20), namespace)
            mstore(add(ptr, 0x40), 0x40)
            mstore(add(ptr, 0x60), payload.length)
            let data := add(ptr, 0x80)
            calldatacopy(data, payload.offset, payload.length)
            mstore(add(data, payload.length), 0)
            // Rounded by itself: the free memory pointer need not be a multiple of 32.
            digest := keccak256(ptr, add(0x80, and(add(payload.length, 0x1f), not(0x1f))))
        }
    }

    /// @notice The hash of the transaction `(namespace, payload)`: keccak256(abi.encode(Transaction)).
    /// @param namespace The transaction's namespace.
    /// @param payload The transaction's payload, in calldata.
    /// @return digest The transaction's hash.
    function txHash(uint64 namespace, bytes calldata payload) internal pure returns (bytes32 digest) {
        assembly ("memory-safe") {
            // abi.encode(Transaction): offset of the (dynamic) struct, namespace, offset of payload
            // inside the struct, payload length, payload padded with zeros to whole words.
            let ptr := mload(0x40)
            mstore(ptr, 0x20)
            mstore(add(ptr, 0x20), and(namespace, _U64_MASK))
            mstore(add(ptr, 0x40), 0x40)
            mstore(add(ptr, 0x60), payload.length)
            let data := add(ptr, 0x80)
            calldatacopy(data, payload.offset, payload.length)
            mstore(add(data, payload.length), 0)
            // Rounded by itself: the free memory pointer need not be a multiple of 32.
            digest := keccak256(ptr, add(0x80, and(add(payload.length, 0x1f), not(0x1f))))
        }
    }

    /// @notice The hash of the transaction `(namespace, payload)` with the payload in memory (for
    /// example a message encoded on chain).
    /// @param namespace The transaction's namespace.
    /// @param payload The transaction's payload, in memory.
    /// @return digest The transaction's hash.
    function txHashMemory(uint64 namespace, bytes memory payload) internal pure returns (bytes32 digest) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let length := mload(payload)
            mstore(ptr, 0x20)
            mstore(add(ptr, 0x20), and(namespace, _U64_MASK))
            mstore(add(ptr, 0x40), 0x40)
            mstore(add(ptr, 0x60), length)
            let data := add(ptr, 0x80)
            mcopy(data, add(payload, 0x20), length)
            mstore(add(data, length), 0)
            // Rounded by itself: the free memory pointer need not be a multiple of 32.
            digest := keccak256(ptr, add(0x80, and(add(length, 0x1f), not(0x1f))))
        }
    }

    /// @notice The digest of a namespace leaf: `keccak256(abi.encode(leaf))`, its payload tree leaf.
    /// @param leaf The namespace leaf, in calldata.
    /// @return digest The leaf's digest.
    function leafDigest(NamespaceLeaf calldata leaf) internal pure returns (bytes32 digest) {
        return leafDigest(leaf.namespace, leaf.txCount, leaf.txRoot);
    }

    /// @notice The digest of the namespace leaf `(namespace, txCount, txRoot)`.
    /// @param namespace The leaf's namespace.
    /// @param txCount The leaf's transaction count.
    /// @param txRoot The leaf's transaction root.
    /// @return digest keccak256(abi.encode(NamespaceLeaf(namespace, txCount, txRoot))).
    function leafDigest(uint64 namespace, uint64 txCount, bytes32 txRoot) internal pure returns (bytes32 digest) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, and(namespace, _U64_MASK))
            mstore(add(ptr, 0x20), and(txCount, _U64_MASK))
            mstore(add(ptr, 0x40), txRoot)
            digest := keccak256(ptr, 0x60)
        }
    }
}
