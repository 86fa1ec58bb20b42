// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MerkleTree} from "../../src/lib/MerkleTree.sol";

/// @notice A straightforward reference for trestle's Merkle trees, written from the spec
/// (DESIGN.md section 4, RFC 6962 section 2.1) with abi.encodePacked hashes and recursion, and
/// independent of MerkleTree's assembly: tests build trees and proofs with it.
library MerkleReference {
    /// @notice keccak256(0x00 ‖ digest).
    function leafNode(bytes32 digest) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(bytes1(0x00), digest));
    }

    /// @notice keccak256(0x01 ‖ left ‖ right).
    function node(bytes32 left, bytes32 right) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(bytes1(0x01), left, right));
    }

    /// @notice keccak256(0x02 ‖ uint64 count ‖ treeHash).
    function committed(uint256 count, bytes32 treeHash) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(bytes1(0x02), u64(count), treeHash));
    }

    /// @notice The committed root of the tree over `leaves` (zero MTH for no leaves).
    function root(bytes32[] memory leaves) internal pure returns (bytes32) {
        if (leaves.length == 0) return committed(0, bytes32(0));
        return committed(leaves.length, mth(leaves, 0, leaves.length));
    }

    /// @notice The proof of leaf `index` of the tree over `leaves`.
    function proof(bytes32[] memory leaves, uint256 index) internal pure returns (MerkleTree.Proof memory) {
        require(index < leaves.length, "MerkleReference: index out of range");
        return MerkleTree.Proof({index: u64(index), count: u64(leaves.length), siblings: path(leaves, index)});
    }

    /// @notice RFC 6962 PATH(index, leaves), deepest sibling first.
    function path(bytes32[] memory leaves, uint256 index) internal pure returns (bytes32[] memory) {
        return _path(leaves, index, 0, leaves.length);
    }

    /// @notice The committed root that leaf `index` of `count` leaves with digest `leafDigest`
    /// and audit path `siblings` belongs to, by recursion on the tree shape: the root of a tree of
    /// any size whose other subtrees hash to `siblings`, without building it.
    function rootFromPath(uint256 index, uint256 count, bytes32 leafDigest, bytes32[] memory siblings)
        internal
        pure
        returns (bytes32)
    {
        require(siblings.length == pathLength(index, count), "MerkleReference: path length");
        return committed(count, _fold(index, count, leafNode(leafDigest), siblings, siblings.length));
    }

    /// @notice Audit path length of leaf `index` in a tree of `count` leaves.
    function pathLength(uint256 index, uint256 count) internal pure returns (uint256) {
        require(index < count, "MerkleReference: index out of range");
        if (count == 1) return 0;
        uint256 k = split(count);
        return 1 + (index < k ? pathLength(index, k) : pathLength(index - k, count - k));
    }

    /// @notice The largest power of two below n (n >= 2).
    function split(uint256 n) internal pure returns (uint256 k) {
        k = 1;
        while (k << 1 < n) {
            k <<= 1;
        }
    }

    /// @notice MTH of leaves[lo:hi] (hi > lo).
    function mth(bytes32[] memory leaves, uint256 lo, uint256 hi) internal pure returns (bytes32) {
        if (hi - lo == 1) return leafNode(leaves[lo]);
        uint256 k = split(hi - lo);
        return node(mth(leaves, lo, lo + k), mth(leaves, lo + k, hi));
    }

    /// @notice `x` as a uint64, checked.
    function u64(uint256 x) internal pure returns (uint64) {
        require(x <= type(uint64).max, "MerkleReference: does not fit in uint64");
        // casting to 'uint64' is safe because of the check above
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(x);
    }

    function _path(bytes32[] memory leaves, uint256 m, uint256 lo, uint256 hi)
        private
        pure
        returns (bytes32[] memory result)
    {
        if (hi - lo == 1) return new bytes32[](0);
        uint256 k = split(hi - lo);
        bytes32[] memory sub;
        bytes32 sibling;
        if (m < k) {
            sub = _path(leaves, m, lo, lo + k);
            sibling = mth(leaves, lo + k, hi);
        } else {
            sub = _path(leaves, m - k, lo + k, hi);
            sibling = mth(leaves, lo, lo + k);
        }
        result = new bytes32[](sub.length + 1);
        for (uint256 i = 0; i < sub.length; ++i) {
            result[i] = sub[i];
        }
        result[sub.length] = sibling;
    }

    function _fold(uint256 m, uint256 n, bytes32 leaf, bytes32[] memory siblings, uint256 len)
        private
        pure
        returns (bytes32)
    {
        if (n == 1) return leaf;
        uint256 k = split(n);
        if (m < k) return node(_fold(m, k, leaf, siblings, len - 1), siblings[len - 1]);
        return node(siblings[len - 1], _fold(m - k, n - k, leaf, siblings, len - 1));
    }
}
