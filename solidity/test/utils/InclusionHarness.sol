// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MerkleTree} from "../../src/lib/MerkleTree.sol";
import {Inclusion} from "../../src/lib/Inclusion.sol";
import {
    Header,
    NamespaceAbsenceProof,
    NamespaceLeaf,
    NamespaceProof,
    Protocol,
    Transaction,
    TransactionProof
} from "../../src/lib/Protocol.sol";

/// @notice Exposes Protocol's and Inclusion's internal functions externally, so tests pass
/// values as calldata (as contracts will) and can expect reverts.
contract InclusionHarness {
    /// @notice See Protocol.hash(Header).
    function hashHeader(Header calldata header) external pure returns (bytes32) {
        return Protocol.hash(header);
    }

    /// @notice keccak256(abi.encode(header)) by the compiler, to compare Protocol.hash with.
    function hashHeaderByAbiEncode(Header calldata header) external pure returns (bytes32) {
        return keccak256(abi.encode(header));
    }

    /// @notice See Protocol.hash(Transaction).
    function hashTransaction(Transaction calldata transaction) external pure returns (bytes32) {
        return Protocol.hash(transaction);
    }

    /// @notice See Protocol.txHash.
    function txHash(uint64 namespace, bytes calldata payload) external pure returns (bytes32) {
        return Protocol.txHash(namespace, payload);
    }

    /// @notice See Protocol.txHashMemory; the payload is copied to memory first.
    function txHashMemory(uint64 namespace, bytes memory payload) external pure returns (bytes32) {
        return Protocol.txHashMemory(namespace, payload);
    }

    /// @notice See Protocol.leafDigest(NamespaceLeaf).
    function leafDigest(NamespaceLeaf calldata leaf) external pure returns (bytes32) {
        return Protocol.leafDigest(leaf);
    }

    /// @notice See Protocol.leafDigest(uint64, uint64, bytes32).
    function leafDigestOf(uint64 namespace, uint64 txCount, bytes32 txRoot) external pure returns (bytes32) {
        return Protocol.leafDigest(namespace, txCount, txRoot);
    }

    /// @notice See MerkleTree.verify.
    function merkleVerify(bytes32 leafDigest_, MerkleTree.Proof calldata proof, bytes32 root)
        external
        pure
        returns (bool)
    {
        return MerkleTree.verify(leafDigest_, proof, root);
    }

    /// @notice See MerkleTree.computeRoot.
    function merkleComputeRoot(bytes32 leafDigest_, MerkleTree.Proof calldata proof) external pure returns (bytes32) {
        return MerkleTree.computeRoot(leafDigest_, proof);
    }

    /// @notice See MerkleTree.verifyOrRevert.
    function merkleVerifyOrRevert(bytes32 leafDigest_, MerkleTree.Proof calldata proof, bytes32 root) external pure {
        MerkleTree.verifyOrRevert(leafDigest_, proof, root);
    }

    /// @notice See Inclusion.verifyTransaction.
    function verifyTransaction(Transaction calldata transaction, TransactionProof calldata proof, bytes32 payloadRoot)
        external
        pure
        returns (bytes32)
    {
        return Inclusion.verifyTransaction(transaction, proof, payloadRoot);
    }

    /// @notice See Inclusion.verifyTransactionHash.
    function verifyTransactionHash(
        uint64 namespace,
        bytes32 txHash_,
        TransactionProof calldata proof,
        bytes32 payloadRoot
    ) external pure {
        Inclusion.verifyTransactionHash(namespace, txHash_, proof, payloadRoot);
    }

    /// @notice See Inclusion.verifyTransactionHashWithKnownLeaf.
    function verifyTransactionHashWithKnownLeaf(
        uint64 namespace,
        bytes32 txHash_,
        TransactionProof calldata proof,
        bytes32 payloadRoot,
        bytes32 knownLeaf
    ) external pure returns (bytes32) {
        return Inclusion.verifyTransactionHashWithKnownLeaf(namespace, txHash_, proof, payloadRoot, knownLeaf);
    }

    /// @notice See Inclusion.verifyNamespace.
    function verifyNamespace(NamespaceProof calldata proof, bytes32 payloadRoot) external pure {
        Inclusion.verifyNamespace(proof, payloadRoot);
    }

    /// @notice See Inclusion.verifyNamespaceAbsence.
    function verifyNamespaceAbsence(uint64 namespace, NamespaceAbsenceProof calldata proof, bytes32 payloadRoot)
        external
        pure
    {
        Inclusion.verifyNamespaceAbsence(namespace, proof, payloadRoot);
    }

    /// @notice See Inclusion.verifyHeader.
    function verifyHeader(
        Header calldata header,
        MerkleTree.Proof calldata proof,
        bytes32 historyRoot,
        uint64 rootHeight
    ) external pure returns (bytes32) {
        return Inclusion.verifyHeader(header, proof, historyRoot, rootHeight);
    }

    /// @notice See Inclusion.verifyHeaderHash.
    function verifyHeaderHash(
        bytes32 headerHash,
        uint64 height,
        MerkleTree.Proof calldata proof,
        bytes32 historyRoot,
        uint64 rootHeight
    ) external pure {
        Inclusion.verifyHeaderHash(headerHash, height, proof, historyRoot, rootHeight);
    }

    /// @notice See Inclusion.verifyTransactionInHistory.
    function verifyTransactionInHistory(
        Transaction calldata transaction,
        Header calldata header,
        TransactionProof calldata txProof,
        MerkleTree.Proof calldata historyProof,
        bytes32 historyRoot,
        uint64 rootHeight
    ) external pure returns (bytes32) {
        return Inclusion.verifyTransactionInHistory(transaction, header, txProof, historyProof, historyRoot, rootHeight);
    }

    /// @notice See Inclusion.verifyTransactionHashInHistory.
    function verifyTransactionHashInHistory(
        uint64 namespace,
        bytes32 txHash_,
        Header calldata header,
        TransactionProof calldata txProof,
        MerkleTree.Proof calldata historyProof,
        bytes32 historyRoot,
        uint64 rootHeight
    ) external pure {
        Inclusion.verifyTransactionHashInHistory(
            namespace, txHash_, header, txProof, historyProof, historyRoot, rootHeight
        );
    }
}
