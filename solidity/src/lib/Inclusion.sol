// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MerkleTree} from "./MerkleTree.sol";
import {
    Header,
    NamespaceAbsenceProof,
    NamespaceLeaf,
    NamespaceProof,
    Protocol,
    Transaction,
    TransactionProof
} from "./Protocol.sol";

/// @title Inclusion
/// @notice Verifies that a transaction is in a namespace of a block's payload, that a namespace is
/// in or absent from a payload, and that a header is in the history tree, down to one call for
/// tx ∈ namespace ∈ payloadRoot ∈ header ∈ historyRoot (DESIGN.md sections 4 and 6).
/// @dev Mirrors light-client/src/payload.rs and history.rs. Every function reverts on a proof that
/// does not verify: with this library's errors, or with MerkleTree's IndexOutOfRange, ProofTooShort
/// or ProofTooLong for a path whose shape does not fit its (index, count). Gas is linear in the
/// path lengths, which are logarithmic in the tree sizes.
library Inclusion {
    /// @notice The proof's namespace leaf is for another namespace than the transaction's.
    /// @param proofNamespace Namespace of the proof's leaf.
    /// @param namespace Namespace of the transaction.
    error NamespaceMismatch(uint64 proofNamespace, uint64 namespace);
    /// @notice The transaction path's leaf count differs from the namespace leaf's txCount.
    /// @param proofCount Leaf count of the transaction path.
    /// @param txCount Transaction count of the namespace leaf.
    error TxCountMismatch(uint64 proofCount, uint64 txCount);
    /// @notice The transaction path leads to another root than the namespace leaf's txRoot.
    /// @param computed Root the path leads to.
    /// @param txRoot The namespace leaf's txRoot.
    error TransactionNotInNamespace(bytes32 computed, bytes32 txRoot);
    /// @notice The namespace path leads to another root than the payload root.
    /// @param computed Root the path leads to.
    /// @param payloadRoot The payload root.
    error NamespaceNotInPayload(bytes32 computed, bytes32 payloadRoot);
    /// @notice An absence proof's neighbour is the namespace itself: it is present.
    /// @param namespace The namespace claimed absent.
    error NamespacePresent(uint64 namespace);
    /// @notice The absence proof's neighbours do not leave the namespace out.
    /// @param namespace The namespace claimed absent.
    error NamespaceNotExcluded(uint64 namespace);
    /// @notice The history path's leaf index is not the header's height.
    /// @param proofIndex Leaf index of the path.
    /// @param height The header's height.
    error HeightMismatch(uint64 proofIndex, uint64 height);
    /// @notice The history path's leaf count is not the root's height + 1.
    /// @param proofCount Leaf count of the path.
    /// @param rootHeight Height of the history root (which covers heights 0..=rootHeight).
    error RootHeightMismatch(uint64 proofCount, uint64 rootHeight);
    /// @notice The history path leads to another root than the history root.
    /// @param computed Root the path leads to.
    /// @param historyRoot The history root.
    error HeaderNotInHistory(bytes32 computed, bytes32 historyRoot);

    // ---------------------------------------------------------------------------------------------
    // Payload
    // ---------------------------------------------------------------------------------------------

    /// @notice Reverts unless `transaction` is in the block whose payload root is `payloadRoot`.
    /// @param transaction The transaction.
    /// @param proof Its path in its namespace's transaction tree and the namespace's proof.
    /// @param payloadRoot The block's payload root.
    /// @return txHash The transaction's hash.
    function verifyTransaction(Transaction calldata transaction, TransactionProof calldata proof, bytes32 payloadRoot)
        internal
        pure
        returns (bytes32 txHash)
    {
        txHash = Protocol.hash(transaction);
        verifyTransactionHash(_namespace(transaction), txHash, proof, payloadRoot);
    }

    /// @notice Reverts unless the transaction with hash `txHash` in `namespace` is in the block
    /// whose payload root is `payloadRoot` (Rust: TransactionProof::verify_hash).
    /// @dev Checks, in order: the leaf's namespace, the path's count against the leaf's txCount,
    /// the transaction path against txRoot, the namespace path against `payloadRoot`.
    /// @param namespace The transaction's namespace.
    /// @param txHash The transaction's hash (see Protocol.txHash).
    /// @param proof Its path in its namespace's transaction tree and the namespace's proof.
    /// @param payloadRoot The block's payload root.
    function verifyTransactionHash(
        uint64 namespace,
        bytes32 txHash,
        TransactionProof calldata proof,
        bytes32 payloadRoot
    ) internal pure {
        NamespaceProof calldata namespaceProof = proof.namespaceProof;
        bytes32 leafDigest = _verifyTransactionPath(namespace, txHash, proof.txProof, namespaceProof.leaf);
        _verifyNamespacePath(leafDigest, namespaceProof.proof, payloadRoot);
    }

    /// @notice Like verifyTransactionHash, for one of several transactions of a block: the
    /// namespace path is checked only if the proof's namespace leaf is not `knownLeaf`.
    /// @dev For verifying transactions of one block in a row: pass bytes32(0) first (no leaf has
    /// that digest), then each call's return value, so that transactions of one namespace check
    /// its path once. Sound because a leaf digest this function returned was proven to be in the
    /// tree `payloadRoot`, and the transaction path is always checked against that leaf.
    /// @param namespace The transaction's namespace.
    /// @param txHash The transaction's hash (see Protocol.txHash).
    /// @param proof Its path in its namespace's transaction tree and the namespace's proof.
    /// @param payloadRoot The block's payload root.
    /// @param knownLeaf The digest of a namespace leaf already proven in `payloadRoot`, or 0.
    /// @return leafDigest The digest of the proof's namespace leaf, now proven in `payloadRoot`.
    function verifyTransactionHashWithKnownLeaf(
        uint64 namespace,
        bytes32 txHash,
        TransactionProof calldata proof,
        bytes32 payloadRoot,
        bytes32 knownLeaf
    ) internal pure returns (bytes32 leafDigest) {
        NamespaceProof calldata namespaceProof = proof.namespaceProof;
        leafDigest = _verifyTransactionPath(namespace, txHash, proof.txProof, namespaceProof.leaf);
        if (leafDigest != knownLeaf) _verifyNamespacePath(leafDigest, namespaceProof.proof, payloadRoot);
    }

    /// @notice Reverts unless the namespace leaf of `proof` is in the payload tree with root
    /// `payloadRoot`. Together with all of the namespace's transactions, whose tree must rebuild
    /// the leaf's txRoot, this also proves that none was left out.
    /// @param proof The namespace leaf and its path.
    /// @param payloadRoot The block's payload root.
    function verifyNamespace(NamespaceProof calldata proof, bytes32 payloadRoot) internal pure {
        _verifyNamespacePath(Protocol.leafDigest(proof.leaf), proof.proof, payloadRoot);
    }

    /// @notice Reverts unless the block whose payload root is `payloadRoot` has no transaction in
    /// `namespace` (Rust: NamespaceAbsenceProof::verify).
    /// @dev Payload leaves are strictly ascending by namespace (validators check this when they
    /// rebuild the root), so the namespace is absent when its neighbours are: none, for the empty
    /// payload only; the first leaf, if the namespace is below it; the last leaf, if the namespace
    /// is above it; or two adjacent leaves around it. Every neighbour's path must count
    /// `leafCount` leaves and verify. More than two neighbours are refused before any path is
    /// checked (Rust checks the paths first; both refuse the proof).
    /// @param namespace The namespace claimed absent.
    /// @param proof The payload's leaf count and the neighbouring leaves with their paths.
    /// @param payloadRoot The block's payload root.
    function verifyNamespaceAbsence(uint64 namespace, NamespaceAbsenceProof calldata proof, bytes32 payloadRoot)
        internal
        pure
    {
        uint64 leafCount = proof.leafCount;
        NamespaceProof[] calldata neighbours = proof.neighbours;
        uint256 length = neighbours.length;
        if (length == 0) {
            // Only the empty payload has no leaf next to the namespace.
            if (leafCount != 0 || payloadRoot != MerkleTree.committedRoot(0, bytes32(0))) {
                revert NamespaceNotExcluded(namespace);
            }
            return;
        }
        if (length > 2) revert NamespaceNotExcluded(namespace);
        for (uint256 i = 0; i < length; ++i) {
            NamespaceProof calldata neighbour = neighbours[i];
            if (neighbour.proof.count != leafCount) revert NamespaceNotExcluded(namespace);
            if (neighbour.leaf.namespace == namespace) revert NamespacePresent(namespace);
            verifyNamespace(neighbour, payloadRoot);
        }
        bool excluded;
        if (length == 1) {
            // Below the first leaf, or above the last one.
            NamespaceProof calldata only = neighbours[0];
            uint64 index = only.proof.index;
            uint64 onlyNamespace = only.leaf.namespace;
            excluded = (index == 0 && namespace < onlyNamespace)
                || (uint256(index) + 1 == leafCount && onlyNamespace < namespace);
        } else {
            // Between two adjacent leaves.
            NamespaceProof calldata left = neighbours[0];
            NamespaceProof calldata right = neighbours[1];
            excluded = uint256(left.proof.index) + 1 == right.proof.index && left.leaf.namespace < namespace
                && namespace < right.leaf.namespace;
        }
        if (!excluded) revert NamespaceNotExcluded(namespace);
    }

    // ---------------------------------------------------------------------------------------------
    // History
    // ---------------------------------------------------------------------------------------------

    /// @notice Reverts unless `header` is the header at its height in the history tree whose root
    /// over heights 0..=rootHeight is `historyRoot`.
    /// @param header The header.
    /// @param proof Its path in the history tree: index = header.height, count = rootHeight + 1.
    /// @param historyRoot A trusted history root.
    /// @param rootHeight The height of `historyRoot`.
    /// @return headerHash The header's hash.
    function verifyHeader(
        Header calldata header,
        MerkleTree.Proof calldata proof,
        bytes32 historyRoot,
        uint64 rootHeight
    ) internal pure returns (bytes32 headerHash) {
        headerHash = Protocol.hash(header);
        verifyHeaderHash(headerHash, header.height, proof, historyRoot, rootHeight);
    }

    /// @notice Reverts unless `headerHash` is the hash of the header at `height` in the history
    /// tree whose root over heights 0..=rootHeight is `historyRoot` (Rust: verify_history_proof).
    /// @param headerHash The header's hash (see Protocol.hash).
    /// @param height The header's height.
    /// @param proof Its path in the history tree: index = height, count = rootHeight + 1.
    /// @param historyRoot A trusted history root.
    /// @param rootHeight The height of `historyRoot`.
    function verifyHeaderHash(
        bytes32 headerHash,
        uint64 height,
        MerkleTree.Proof calldata proof,
        bytes32 historyRoot,
        uint64 rootHeight
    ) internal pure {
        uint64 index = proof.index;
        if (index != height) revert HeightMismatch(index, height);
        uint64 count = proof.count;
        // In 256 bits: no root height has a count of 0 (rootHeight + 1 overflows uint64 only at 2^64).
        if (uint256(count) != uint256(rootHeight) + 1) revert RootHeightMismatch(count, rootHeight);
        bytes32 computed = MerkleTree.computeRoot(headerHash, proof);
        if (computed != historyRoot) revert HeaderNotInHistory(computed, historyRoot);
    }

    // ---------------------------------------------------------------------------------------------
    // All the way
    // ---------------------------------------------------------------------------------------------

    /// @notice Reverts unless `transaction` is in the block of `header` and `header` is in the
    /// history tree whose root over heights 0..=rootHeight is `historyRoot`: tx ∈ namespace ∈
    /// payloadRoot ∈ header ∈ historyRoot in one call.
    /// @param transaction The transaction.
    /// @param header The header of the block holding it.
    /// @param txProof The transaction's proof against header.payloadRoot.
    /// @param historyProof The header's path in the history tree.
    /// @param historyRoot A trusted history root (for example one the light client stored).
    /// @param rootHeight The height of `historyRoot`.
    /// @return txHash The transaction's hash.
    function verifyTransactionInHistory(
        Transaction calldata transaction,
        Header calldata header,
        TransactionProof calldata txProof,
        MerkleTree.Proof calldata historyProof,
        bytes32 historyRoot,
        uint64 rootHeight
    ) internal pure returns (bytes32 txHash) {
        txHash = Protocol.hash(transaction);
        verifyTransactionHashInHistory(
            _namespace(transaction), txHash, header, txProof, historyProof, historyRoot, rootHeight
        );
    }

    /// @notice Like verifyTransactionInHistory, for a transaction given by namespace and hash (for
    /// a caller that builds the payload in memory and hashes it with Protocol.txHashMemory).
    /// @param namespace The transaction's namespace.
    /// @param txHash The transaction's hash.
    /// @param header The header of the block holding it.
    /// @param txProof The transaction's proof against header.payloadRoot.
    /// @param historyProof The header's path in the history tree.
    /// @param historyRoot A trusted history root (for example one the light client stored).
    /// @param rootHeight The height of `historyRoot`.
    function verifyTransactionHashInHistory(
        uint64 namespace,
        bytes32 txHash,
        Header calldata header,
        TransactionProof calldata txProof,
        MerkleTree.Proof calldata historyProof,
        bytes32 historyRoot,
        uint64 rootHeight
    ) internal pure {
        verifyTransactionHash(namespace, txHash, txProof, header.payloadRoot);
        verifyHeaderHash(Protocol.hash(header), header.height, historyProof, historyRoot, rootHeight);
    }

    /// @dev The namespace of a transaction that Protocol.hash has accepted, which checked that it
    /// is a valid uint64: read without the compiler's second check.
    function _namespace(Transaction calldata transaction) private pure returns (uint64 namespace) {
        assembly ("memory-safe") {
            namespace := calldataload(transaction)
        }
    }

    /// @dev Checks the transaction half of a transaction proof, as verifyTransactionHash does:
    /// the leaf's namespace, the path's count against the leaf's txCount, the path against txRoot.
    /// Returns the leaf's digest, whose own path is left to the caller.
    function _verifyTransactionPath(
        uint64 namespace,
        bytes32 txHash,
        MerkleTree.Proof calldata txPath,
        NamespaceLeaf calldata leaf
    ) private pure returns (bytes32 leafDigest) {
        uint64 leafNamespace = leaf.namespace;
        if (leafNamespace != namespace) revert NamespaceMismatch(leafNamespace, namespace);
        uint64 txCount = leaf.txCount;
        uint64 pathCount = txPath.count;
        if (pathCount != txCount) revert TxCountMismatch(pathCount, txCount);
        bytes32 txRoot = leaf.txRoot;
        bytes32 computed = MerkleTree.computeRoot(txHash, txPath);
        if (computed != txRoot) revert TransactionNotInNamespace(computed, txRoot);
        leafDigest = Protocol.leafDigest(namespace, txCount, txRoot);
    }

    /// @dev Reverts unless the namespace leaf with `digest` is at `path` in the tree `payloadRoot`.
    function _verifyNamespacePath(bytes32 digest, MerkleTree.Proof calldata path, bytes32 payloadRoot) private pure {
        bytes32 computed = MerkleTree.computeRoot(digest, path);
        if (computed != payloadRoot) revert NamespaceNotInPayload(computed, payloadRoot);
    }
}
