// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title MerkleTree
/// @notice Verifies inclusion proofs for trestle's Merkle trees (DESIGN.md section 4): the RFC 9162
/// tree shape over keccak256 with domain-separated leaves and nodes, and the leaf count committed
/// in the root.
/// @dev Definitions (every leaf is a 32-byte digest `d`):
/// - leaf node  = keccak256(0x00 ‖ d)
/// - inner node = keccak256(0x01 ‖ left ‖ right)
/// - MTH of n ≥ 1 leaves: the leaf node if n == 1, otherwise
///   keccak256(0x01 ‖ MTH(first k) ‖ MTH(rest)) with k the largest power of two below n
/// - committed root of n leaves = keccak256(0x02 ‖ uint64 n big-endian ‖ M), where M is the MTH,
///   or 32 zero bytes when n == 0; i.e. abi.encodePacked(bytes1(0x02), uint64(n), bytes32(M))
/// A proof carries the leaf's index, the tree's leaf count and the audit path bottom-up, and is
/// checked with the algorithm of RFC 9162 section 2.1.3.2, so a proof fits exactly one
/// (index, count) pair: a path of the wrong length is rejected, never reinterpreted.
library MerkleTree {
    /// @notice An inclusion proof of one leaf.
    /// @param index Position of the leaf, 0-based.
    /// @param count Number of leaves in the tree.
    /// @param siblings Audit path, from the leaf's sibling up to the child of the root.
    struct Proof {
        uint64 index;
        uint64 count;
        bytes32[] siblings;
    }

    /// @notice The proof's index is not below its leaf count (this includes every empty tree).
    error IndexOutOfRange(uint64 index, uint64 count);
    /// @notice The proof has fewer siblings than a leaf at its index in a tree of its count needs.
    error ProofTooShort(uint256 length, uint256 expected);
    /// @notice The proof has more siblings than a leaf at its index in a tree of its count needs.
    error ProofTooLong(uint256 length, uint256 expected);
    /// @notice The proof is well formed but leads to another root.
    error RootMismatch(bytes32 computed, bytes32 expected);

    uint256 private constant _OK = 0;
    uint256 private constant _INDEX_OUT_OF_RANGE = 1;
    uint256 private constant _TOO_LONG = 2;
    uint256 private constant _TOO_SHORT = 3;

    // Memory use. Every hash preimage is built in memory at the free memory pointer without moving
    // it: Solidity's "memory-safe" rules allow temporary use of memory past the free memory pointer,
    // and nothing allocated is ever written. Three words are used, so that all stores are aligned:
    //   ptr + 0x00: word whose last byte (ptr + 0x1f) is the domain tag 0x00, 0x01 or 0x02
    //   ptr + 0x20: left child, leaf digest, or (committed root) uint64 count then M at ptr + 0x28
    //   ptr + 0x40: right child
    // Each preimage is then hashed from ptr + 0x1f: 33 bytes (leaf), 65 (node) or 41 (root).

    /// @notice Returns whether `proof` shows that `leafDigest` is in the tree committed to by `root`.
    /// @dev Never reverts on a wrong proof (only on calldata that does not ABI-decode).
    /// @param leafDigest The leaf's 32-byte digest (before the 0x00 domain tag is applied).
    /// @param proof The inclusion proof.
    /// @param root The committed root (which binds the leaf count).
    /// @return True if the proof is valid for `root`.
    function verify(bytes32 leafDigest, Proof calldata proof, bytes32 root) internal pure returns (bool) {
        (uint256 status, bytes32 computed) = _computeRoot(leafDigest, proof);
        return status == _OK && computed == root;
    }

    /// @notice Reverts unless `proof` shows that `leafDigest` is in the tree committed to by `root`.
    /// @dev Reverts with IndexOutOfRange, ProofTooShort, ProofTooLong or RootMismatch.
    /// @param leafDigest The leaf's 32-byte digest (before the 0x00 domain tag is applied).
    /// @param proof The inclusion proof.
    /// @param root The committed root (which binds the leaf count).
    function verifyOrRevert(bytes32 leafDigest, Proof calldata proof, bytes32 root) internal pure {
        bytes32 computed = computeRoot(leafDigest, proof);
        if (computed != root) revert RootMismatch(computed, root);
    }

    /// @notice Computes the committed root that `proof` leads to from `leafDigest`.
    /// @dev Reverts with IndexOutOfRange, ProofTooShort or ProofTooLong on a malformed proof.
    /// @param leafDigest The leaf's 32-byte digest (before the 0x00 domain tag is applied).
    /// @param proof The inclusion proof.
    /// @return root The committed root of a tree of `proof.count` leaves holding the leaf.
    function computeRoot(bytes32 leafDigest, Proof calldata proof) internal pure returns (bytes32 root) {
        uint256 status;
        (status, root) = _computeRoot(leafDigest, proof);
        if (status != _OK) _revertMalformed(status, proof);
    }

    /// @notice Number of siblings in the proof of leaf `index` of a tree of `count` leaves.
    /// @dev Runs the RFC 9162 walk without hashing. Reverts with IndexOutOfRange unless index < count.
    /// @param index Position of the leaf.
    /// @param count Number of leaves.
    /// @return length The audit path length.
    function proofLength(uint64 index, uint64 count) internal pure returns (uint256 length) {
        if (index >= count) revert IndexOutOfRange(index, count);
        assembly ("memory-safe") {
            let fn := index
            let sn := sub(count, 1)
            for {} sn {} {
                // The last node of a level with an even index has no sibling there: go up until it
                // is a right child. fn == sn != 0 here, so the loop ends.
                if eq(fn, sn) {
                    for {} iszero(and(fn, 1)) {} {
                        fn := shr(1, fn)
                        sn := shr(1, sn)
                    }
                }
                length := add(length, 1)
                fn := shr(1, fn)
                sn := shr(1, sn)
            }
        }
    }

    /// @notice keccak256(0x00 ‖ digest): the tree node of a leaf.
    /// @param digest The leaf's digest.
    /// @return node The leaf node.
    function hashLeaf(bytes32 digest) internal pure returns (bytes32 node) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, 0)
            mstore(add(ptr, 0x20), digest)
            node := keccak256(add(ptr, 0x1f), 33)
        }
    }

    /// @notice keccak256(0x01 ‖ left ‖ right): an inner node.
    /// @param left The left child.
    /// @param right The right child.
    /// @return node The inner node.
    function hashNode(bytes32 left, bytes32 right) internal pure returns (bytes32 node) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, 1)
            mstore(add(ptr, 0x20), left)
            mstore(add(ptr, 0x40), right)
            node := keccak256(add(ptr, 0x1f), 65)
        }
    }

    /// @notice keccak256(0x02 ‖ uint64 count ‖ mth): the root that commits to the leaf count.
    /// @param count Number of leaves.
    /// @param mth The tree's MTH; must be zero when count is 0.
    /// @return root The committed root.
    function committedRoot(uint64 count, bytes32 mth) internal pure returns (bytes32 root) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, 2)
            mstore(add(ptr, 0x20), shl(192, count))
            mstore(add(ptr, 0x28), mth)
            root := keccak256(add(ptr, 0x1f), 41)
        }
    }

    /// @dev The RFC 9162 section 2.1.3.2 walk. Returns a status and, if it is _OK, the committed
    /// root. Reading `proof.siblings` in Solidity first makes the compiler check that the array lies
    /// inside calldata, so the assembly reads only validated calldata.
    function _computeRoot(bytes32 leafDigest, Proof calldata proof)
        private
        pure
        returns (uint256 status, bytes32 root)
    {
        uint64 index = proof.index;
        uint64 count = proof.count;
        if (index >= count) return (_INDEX_OUT_OF_RANGE, bytes32(0));
        bytes32[] calldata siblings = proof.siblings;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let left := add(ptr, 0x20)
            let right := add(ptr, 0x40)
            let preimage := add(ptr, 0x1f)

            // r = keccak256(0x00 ‖ leafDigest)
            mstore(ptr, 0)
            mstore(left, leafDigest)
            let r := keccak256(preimage, 33)

            // From here on every hash is an inner node: tag 0x01.
            mstore(ptr, 1)
            let fn := index
            let sn := sub(count, 1)
            let p := siblings.offset
            let end := add(p, shl(5, siblings.length))
            for {} lt(p, end) { p := add(p, 0x20) } {
                if iszero(sn) {
                    status := _TOO_LONG
                    break
                }
                switch or(and(fn, 1), eq(fn, sn))
                case 0 {
                    // r is a left child.
                    mstore(left, r)
                    mstore(right, calldataload(p))
                }
                default {
                    // r is a right child, or the last node of its level (fn == sn), whose sibling
                    // is the left subtree further up: skip the levels where it has none.
                    mstore(left, calldataload(p))
                    mstore(right, r)
                    // If fn is even then fn == sn != 0, so this loop ends.
                    for {} iszero(and(fn, 1)) {} {
                        fn := shr(1, fn)
                        sn := shr(1, sn)
                    }
                }
                r := keccak256(preimage, 65)
                fn := shr(1, fn)
                sn := shr(1, sn)
            }
            if iszero(status) {
                switch sn
                case 0 {
                    // root = keccak256(0x02 ‖ uint64 count ‖ r)
                    mstore(ptr, 2)
                    mstore(left, shl(192, count))
                    mstore(add(ptr, 0x28), r)
                    root := keccak256(preimage, 41)
                }
                default { status := _TOO_SHORT }
            }
        }
    }

    /// @dev Reverts with the error for a non-_OK status of `_computeRoot`.
    function _revertMalformed(uint256 status, Proof calldata proof) private pure {
        if (status == _INDEX_OUT_OF_RANGE) revert IndexOutOfRange(proof.index, proof.count);
        uint256 expected = proofLength(proof.index, proof.count);
        if (status == _TOO_LONG) revert ProofTooLong(proof.siblings.length, expected);
        revert ProofTooShort(proof.siblings.length, expected);
    }
}
