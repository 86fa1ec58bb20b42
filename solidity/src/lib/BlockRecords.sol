// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Inclusion} from "./Inclusion.sol";
import {MerkleTree} from "./MerkleTree.sol";
import {BlockRecord, Header, NamespaceLeaf, Protocol, RecordProof, TransactionProof} from "./Protocol.sol";

/// @title BlockRecords
/// @notice Checks that a rollup's block record is in a trestle block of a trusted history: the
/// transaction `{namespace: blockNamespace, payload: abi.encode(record)}` is in the block's
/// payload, and the block's header is in the history tree whose root covers heights
/// 0..=rootHeight (DESIGN.md sections 4 and 6).
/// @dev Two forms of the same check: `isIncluded` answers false for a proof that does not verify
/// (reverting only on calldata that does not ABI-decode, as the compiler's decoder would), and
/// `verifyIncluded` reverts with the reason: Inclusion's NamespaceMismatch, TxCountMismatch,
/// TransactionNotInNamespace, NamespaceNotInPayload, HeightMismatch, RootHeightMismatch,
/// HeaderNotInHistory, or MerkleTree's IndexOutOfRange, ProofTooShort, ProofTooLong. Both accept
/// exactly the same proofs. Neither knows which roots to trust: the caller looks
/// `proof.historyRoot` up at the height its history proof claims (for example with
/// ILightClient.isKnownRoot(root, count - 1)) and passes that height.
library BlockRecords {
    uint256 private constant _U64_MASK = 0xffffffffffffffff;

    /// @notice The hash of the transaction that records `record` in `blockNamespace`:
    /// keccak256(abi.encode(Transaction(blockNamespace, abi.encode(record)))).
    /// @param blockNamespace The rollup's block namespace.
    /// @param record The block record.
    /// @return digest The transaction's hash.
    function txHash(uint64 blockNamespace, BlockRecord memory record) internal pure returns (bytes32 digest) {
        return txHash(blockNamespace, record.chainId, record.number, record.hash, record.parentHash);
    }

    /// @notice Like txHash(blockNamespace, record), from the record's fields.
    /// @param blockNamespace The rollup's block namespace.
    /// @param chainId The rollup's chain id.
    /// @param blockNumber The rollup block's number.
    /// @param hash The rollup block's hash.
    /// @param parentHash The hash of the rollup block before it.
    /// @return digest The transaction's hash.
    function txHash(uint64 blockNamespace, uint64 chainId, uint64 blockNumber, bytes32 hash, bytes32 parentHash)
        internal
        pure
        returns (bytes32 digest)
    {
        assembly ("memory-safe") {
            // abi.encode(Transaction): the struct's offset, the namespace, the payload's offset in
            // the struct and length (128), then the payload abi.encode(record): four words.
            let ptr := mload(0x40)
            mstore(ptr, 0x20)
            mstore(add(ptr, 0x20), and(blockNamespace, _U64_MASK))
            mstore(add(ptr, 0x40), 0x40)
            mstore(add(ptr, 0x60), 0x80)
            mstore(add(ptr, 0x80), and(chainId, _U64_MASK))
            mstore(add(ptr, 0xa0), and(blockNumber, _U64_MASK))
            mstore(add(ptr, 0xc0), hash)
            mstore(add(ptr, 0xe0), parentHash)
            digest := keccak256(ptr, 0x100)
        }
    }

    /// @notice Whether `proof` shows that the transaction with hash `recordTxHash` in
    /// `blockNamespace` is in a block of the history whose root over heights 0..=rootHeight is
    /// `proof.historyRoot`. Answers false, without reverting, for a proof that does not verify.
    /// @param blockNamespace The rollup's block namespace.
    /// @param recordTxHash The record's transaction hash (see txHash).
    /// @param proof The record's proof.
    /// @param rootHeight The height of `proof.historyRoot` (a root the caller trusts).
    /// @return True if the proof verifies.
    function isIncluded(uint64 blockNamespace, bytes32 recordTxHash, RecordProof calldata proof, uint64 rootHeight)
        internal
        pure
        returns (bool)
    {
        TransactionProof calldata txProof = proof.txProof;
        NamespaceLeaf calldata leaf = txProof.namespaceProof.leaf;
        MerkleTree.Proof calldata txPath = txProof.txProof;
        uint64 txCount = leaf.txCount;
        if (leaf.namespace != blockNamespace || txPath.count != txCount) return false;
        bytes32 txRoot = leaf.txRoot;
        if (!MerkleTree.verify(recordTxHash, txPath, txRoot)) return false;
        Header calldata header = proof.header;
        bytes32 leafDigest = Protocol.leafDigest(blockNamespace, txCount, txRoot);
        if (!MerkleTree.verify(leafDigest, txProof.namespaceProof.proof, header.payloadRoot)) return false;
        MerkleTree.Proof calldata historyPath = proof.historyProof;
        // In 256 bits: rootHeight + 1 overflows uint64 only at 2^64 - 1.
        if (historyPath.index != header.height || uint256(historyPath.count) != uint256(rootHeight) + 1) {
            return false;
        }
        return MerkleTree.verify(Protocol.hash(header), historyPath, proof.historyRoot);
    }

    /// @notice Reverts unless `proof` shows that the transaction with hash `recordTxHash` in
    /// `blockNamespace` is in a block of the history whose root over heights 0..=rootHeight is
    /// `proof.historyRoot`; the errors are Inclusion's and MerkleTree's (see the library's notes).
    /// @param blockNamespace The rollup's block namespace.
    /// @param recordTxHash The record's transaction hash (see txHash).
    /// @param proof The record's proof.
    /// @param rootHeight The height of `proof.historyRoot` (a root the caller trusts).
    function verifyIncluded(uint64 blockNamespace, bytes32 recordTxHash, RecordProof calldata proof, uint64 rootHeight)
        internal
        pure
    {
        Inclusion.verifyTransactionHashInHistory(
            blockNamespace, recordTxHash, proof.header, proof.txProof, proof.historyProof, proof.historyRoot, rootHeight
        );
    }

    /// @notice Reverts unless `record` is recorded in `blockNamespace` in a block of the history
    /// whose root over heights 0..=rootHeight is `proof.historyRoot` (see verifyIncluded).
    /// @param blockNamespace The rollup's block namespace.
    /// @param record The block record.
    /// @param proof The record's proof.
    /// @param rootHeight The height of `proof.historyRoot` (a root the caller trusts).
    function verifyConfirmed(
        uint64 blockNamespace,
        BlockRecord memory record,
        RecordProof calldata proof,
        uint64 rootHeight
    ) internal pure {
        verifyIncluded(blockNamespace, txHash(blockNamespace, record), proof, rootHeight);
    }
}
