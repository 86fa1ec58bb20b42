// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {RecordProof} from "../lib/Protocol.sol";
import {ILightClient} from "./ILightClient.sol";

/// @title IRollupConfirmations
/// @notice "Block N of rollup R is H", confirmed by trestle (DESIGN.md sections 4 and 6, hybrid
/// mode): rollup R's sequencer records each block as `BlockRecord {chainId, number, hash,
/// parentHash}` in R's block namespace, and validators keep one record per number, contiguous and
/// chained, so a record in a block of a history the light client accepted is R's block N. What a
/// rollup's settlement contract asks before accepting a state root.
interface IRollupConfirmations {
    /// @notice A rollup and the trestle namespace its sequencer records its blocks in.
    /// @param chainId The rollup's chain id.
    /// @param blockNamespace Its block namespace.
    struct Rollup {
        uint64 chainId;
        uint64 blockNamespace;
    }

    /// @notice A rollup was registered (at construction; the registry never changes after).
    /// @param chainId The rollup's chain id.
    /// @param blockNamespace Its block namespace.
    event RollupRegistered(uint64 indexed chainId, uint64 blockNamespace);

    /// @notice No block namespace is registered for the rollup.
    /// @param chainId The rollup's chain id.
    error UnknownRollup(uint64 chainId);
    /// @notice The light client does not hold this history root at the height the history proof
    /// claims (count - 1): never accepted, claimed for another height, or evicted from its ring of
    /// recent roots (rebuild the proof against a newer root).
    /// @param historyRoot The proof's history root.
    error UnknownHistoryRoot(bytes32 historyRoot);
    /// @notice The constructor was given the same rollup twice.
    /// @param chainId The rollup's chain id.
    error DuplicateRollup(uint64 chainId);
    /// @notice The constructor was given no rollup.
    error NoRollups();
    /// @notice The constructor was given a light client address without code.
    /// @param lightClient The address.
    error LightClientNotContract(address lightClient);

    /// @notice Whether trestle confirmed block `number` of rollup `chainId` as `hash` with parent
    /// `parentHash`: the record is in the rollup's block namespace in a block of a history whose
    /// root the light client accepted. False (no revert) for an unknown rollup, an unknown root or
    /// a proof that does not verify; reverts only on calldata that does not ABI-decode.
    /// @param chainId The rollup's chain id.
    /// @param number The rollup block's number.
    /// @param hash The rollup block's hash.
    /// @param parentHash The hash of the rollup block `number - 1`, as recorded.
    /// @param proof The record's proof against a history root the light client accepted.
    /// @return True if the block is confirmed.
    function isConfirmed(uint64 chainId, uint64 number, bytes32 hash, bytes32 parentHash, RecordProof calldata proof)
        external
        view
        returns (bool);

    /// @notice Like isConfirmed, but reverts with the reason instead of answering false:
    /// UnknownRollup, UnknownHistoryRoot, or the proof's error (Inclusion's NamespaceMismatch,
    /// TxCountMismatch, TransactionNotInNamespace, NamespaceNotInPayload, HeightMismatch,
    /// RootHeightMismatch, HeaderNotInHistory; MerkleTree's IndexOutOfRange, ProofTooShort,
    /// ProofTooLong).
    /// @param chainId The rollup's chain id.
    /// @param number The rollup block's number.
    /// @param hash The rollup block's hash.
    /// @param parentHash The hash of the rollup block `number - 1`, as recorded.
    /// @param proof The record's proof against a history root the light client accepted.
    /// @return height The trestle height of the block that holds the record.
    function requireConfirmed(
        uint64 chainId,
        uint64 number,
        bytes32 hash,
        bytes32 parentHash,
        RecordProof calldata proof
    ) external view returns (uint64 height);

    /// @notice The hash of the trestle transaction that records the block:
    /// keccak256(abi.encode(Transaction(blockNamespace, abi.encode(BlockRecord(chainId, number,
    /// hash, parentHash))))). Reverts with UnknownRollup for an unregistered rollup.
    /// @param chainId The rollup's chain id.
    /// @param number The rollup block's number.
    /// @param hash The rollup block's hash.
    /// @param parentHash The hash of the rollup block `number - 1`.
    /// @return The transaction's hash.
    function recordTxHash(uint64 chainId, uint64 number, bytes32 hash, bytes32 parentHash)
        external
        view
        returns (bytes32);

    /// @notice The block namespace registered for a rollup.
    /// @param chainId The rollup's chain id.
    /// @return registered Whether the rollup is registered.
    /// @return namespace Its block namespace (0 if not registered).
    function blockNamespace(uint64 chainId) external view returns (bool registered, uint64 namespace);

    /// @notice The registered rollups, in the constructor's order.
    /// @return rollups The rollups and their block namespaces.
    function rollups() external view returns (Rollup[] memory rollups);

    /// @notice The light client whose history roots the proofs are checked against.
    /// @return The light client.
    function lightClient() external view returns (ILightClient);
}
