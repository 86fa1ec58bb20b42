// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MerkleReference} from "./MerkleReference.sol";
import {MerkleTree} from "../../src/lib/MerkleTree.sol";
import {
    Header,
    NamespaceAbsenceProof,
    NamespaceLeaf,
    NamespaceProof,
    Transaction,
    TransactionProof
} from "../../src/lib/Protocol.sol";

/// @notice Builds payload commitments, headers and history proofs the way the Rust side does
/// (light-client/src/payload.rs, history.rs), from MerkleReference and abi.encode only, so tests
/// of the libraries never check them against themselves.
abstract contract PayloadBuilder {
    /// @notice A block's payload: namespaces ascending, each with its transactions in block order.
    struct Block {
        Transaction[][] transactions;
        bytes32[][] txHashes;
        NamespaceLeaf[] leaves;
        bytes32[] digests;
        bytes32 root;
    }

    /// @notice The payload of transaction `i` of namespace index `j` in blocks built from `seed`.
    function _txPayload(bytes32 seed, uint256 j, uint256 i, uint256 length) internal pure returns (bytes memory p) {
        p = new bytes(0);
        for (uint256 k = 0; k < length; k += 32) {
            p = bytes.concat(p, keccak256(abi.encode(seed, j, i, k)));
        }
        // Cut to `length`: the bytes past it stay allocated but are not part of the payload.
        assembly ("memory-safe") {
            mstore(p, length)
        }
    }

    /// @notice The block with `txCounts[j]` transactions (payloads of `payloadLength` bytes) in
    /// namespace `namespaces[j]`; the namespaces must be strictly ascending.
    function _block(uint64[] memory namespaces, uint256[] memory txCounts, uint256 payloadLength, bytes32 seed)
        internal
        pure
        returns (Block memory b)
    {
        uint256 m = namespaces.length;
        b.transactions = new Transaction[][](m);
        b.txHashes = new bytes32[][](m);
        b.leaves = new NamespaceLeaf[](m);
        b.digests = new bytes32[](m);
        for (uint256 j = 0; j < m; ++j) {
            require(j == 0 || namespaces[j - 1] < namespaces[j], "PayloadBuilder: namespaces not ascending");
            require(txCounts[j] > 0, "PayloadBuilder: a namespace leaf has transactions");
            b.transactions[j] = new Transaction[](txCounts[j]);
            b.txHashes[j] = new bytes32[](txCounts[j]);
            for (uint256 i = 0; i < txCounts[j]; ++i) {
                b.transactions[j][i] =
                    Transaction({namespace: namespaces[j], payload: _txPayload(seed, j, i, payloadLength)});
                b.txHashes[j][i] = keccak256(abi.encode(b.transactions[j][i]));
            }
            b.leaves[j] = NamespaceLeaf({
                namespace: namespaces[j],
                txCount: MerkleReference.u64(txCounts[j]),
                txRoot: MerkleReference.root(b.txHashes[j])
            });
            b.digests[j] = keccak256(abi.encode(b.leaves[j]));
        }
        b.root = MerkleReference.root(b.digests);
    }

    /// @notice A block of `m` namespaces 10, 20, ... with the given numbers of 32-byte transactions.
    function _simpleBlock(uint256[] memory txCounts, bytes32 seed) internal pure returns (Block memory) {
        uint64[] memory namespaces = new uint64[](txCounts.length);
        for (uint256 j = 0; j < txCounts.length; ++j) {
            namespaces[j] = MerkleReference.u64(10 * (j + 1));
        }
        return _block(namespaces, txCounts, 32, seed);
    }

    /// @notice The proof of namespace index `j`.
    function _namespaceProof(Block memory b, uint256 j) internal pure returns (NamespaceProof memory) {
        return NamespaceProof({leaf: b.leaves[j], proof: MerkleReference.proof(b.digests, j)});
    }

    /// @notice The proof of transaction `i` of namespace index `j`.
    function _transactionProof(Block memory b, uint256 j, uint256 i) internal pure returns (TransactionProof memory) {
        return
            TransactionProof({txProof: MerkleReference.proof(b.txHashes[j], i), namespaceProof: _namespaceProof(b, j)});
    }

    /// @notice Rust's PayloadTree::absence_proof: the leaves on either side of where `namespace`
    /// would be. `present` is true (and the proof empty) if the block has the namespace.
    function _absenceProof(Block memory b, uint64 namespace)
        internal
        pure
        returns (bool present, NamespaceAbsenceProof memory proof)
    {
        uint256 m = b.leaves.length;
        uint256 at = 0;
        while (at < m && b.leaves[at].namespace < namespace) {
            ++at;
        }
        if (at < m && b.leaves[at].namespace == namespace) return (true, proof);
        proof.leafCount = MerkleReference.u64(m);
        uint256 count = (at > 0 ? 1 : 0) + (at < m ? 1 : 0);
        proof.neighbours = new NamespaceProof[](count);
        uint256 k = 0;
        if (at > 0) proof.neighbours[k++] = _namespaceProof(b, at - 1);
        if (at < m) proof.neighbours[k] = _namespaceProof(b, at);
    }

    /// @notice A header at `height` with the given payload root, other fields derived from `seed`.
    function _header(uint64 height, bytes32 payloadRoot, bytes32 seed) internal pure returns (Header memory) {
        return Header({
            chainId: 31_337,
            epoch: height / 1000,
            height: height,
            viewNumber: height ^ 3,
            timestampMs: ~height,
            parent: keccak256(abi.encode(seed, "parent")),
            payloadRoot: payloadRoot,
            historyRoot: keccak256(abi.encode(seed, "history")),
            committee: keccak256(abi.encode(seed, "committee"))
        });
    }

    /// @notice A history proof of `headerHash` at `height` and the root over heights
    /// 0..=rootHeight it verifies against: the root of a tree whose other subtrees hash to
    /// siblings derived from `seed` (any history of that size has that shape).
    function _historyProof(uint64 height, uint64 rootHeight, bytes32 headerHash, bytes32 seed)
        internal
        pure
        returns (MerkleTree.Proof memory proof, bytes32 root)
    {
        uint256 count = uint256(rootHeight) + 1;
        proof.index = height;
        proof.count = MerkleReference.u64(count);
        proof.siblings = new bytes32[](MerkleReference.pathLength(height, count));
        for (uint256 i = 0; i < proof.siblings.length; ++i) {
            proof.siblings[i] = keccak256(abi.encode(seed, "sibling", i));
        }
        root = MerkleReference.rootFromPath(height, count, headerHash, proof.siblings);
    }
}
