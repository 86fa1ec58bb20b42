// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {BlockRecords} from "./lib/BlockRecords.sol";
import {RecordProof} from "./lib/Protocol.sol";
import {ILightClient} from "./interfaces/ILightClient.sol";
import {IRollupConfirmations} from "./interfaces/IRollupConfirmations.sol";

/// @title RollupConfirmations
/// @notice Answers "is block N of rollup R the block with hash H?" on L1 (or any chain with a
/// trestle LightClient), from a proof that R's block record is in a trestle block of a history
/// the light client accepted (DESIGN.md sections 4 and 6). Stateless apart from its registry;
/// anyone may ask.
/// @dev The registry (rollup chain id → block namespace) is fixed at construction: a settlement
/// contract that relies on this contract must not see the namespace of its rollup change under
/// it, and no owner has to be trusted. To add a rollup, deploy another RollupConfirmations. The
/// trust in a rollup's confirmations is the trust in who may post to its block namespace (an
/// owned namespace whose owner is the rollup's sequencer, DESIGN.md section 4).
contract RollupConfirmations is IRollupConfirmations {
    /// @dev A rollup's registration (one slot).
    struct Registration {
        uint64 blockNamespace;
        bool registered;
    }

    /// @inheritdoc IRollupConfirmations
    ILightClient public immutable override lightClient;

    /// @dev Rollup chain id => its block namespace.
    mapping(uint64 chainId => Registration registration) internal _registrations;
    /// @dev The rollups in the constructor's order.
    Rollup[] internal _rollups;

    /// @notice Registers `rollups_` (at least one, no chain id twice) against `lightClient_`.
    /// @param lightClient_ The trestle light client on this chain.
    /// @param rollups_ The rollups and their block namespaces.
    constructor(ILightClient lightClient_, Rollup[] memory rollups_) {
        if (address(lightClient_).code.length == 0) revert LightClientNotContract(address(lightClient_));
        if (rollups_.length == 0) revert NoRollups();
        lightClient = lightClient_;
        for (uint256 i = 0; i < rollups_.length; ++i) {
            Rollup memory rollup = rollups_[i];
            if (_registrations[rollup.chainId].registered) revert DuplicateRollup(rollup.chainId);
            _registrations[rollup.chainId] = Registration({blockNamespace: rollup.blockNamespace, registered: true});
            _rollups.push(rollup);
            emit RollupRegistered(rollup.chainId, rollup.blockNamespace);
        }
    }

    /// @inheritdoc IRollupConfirmations
    function isConfirmed(uint64 chainId, uint64 number, bytes32 hash, bytes32 parentHash, RecordProof calldata proof)
        external
        view
        override
        returns (bool)
    {
        Registration memory registration = _registrations[chainId];
        if (!registration.registered) return false;
        (bool known, uint64 rootHeight) = _knownRootHeight(proof);
        if (!known) return false;
        uint64 namespace = registration.blockNamespace;
        return BlockRecords.isIncluded(
            namespace, BlockRecords.txHash(namespace, chainId, number, hash, parentHash), proof, rootHeight
        );
    }

    /// @inheritdoc IRollupConfirmations
    function requireConfirmed(
        uint64 chainId,
        uint64 number,
        bytes32 hash,
        bytes32 parentHash,
        RecordProof calldata proof
    ) external view override returns (uint64 height) {
        uint64 namespace = _blockNamespace(chainId);
        (bool known, uint64 rootHeight) = _knownRootHeight(proof);
        if (!known) revert UnknownHistoryRoot(proof.historyRoot);
        BlockRecords.verifyIncluded(
            namespace, BlockRecords.txHash(namespace, chainId, number, hash, parentHash), proof, rootHeight
        );
        height = proof.header.height;
    }

    /// @inheritdoc IRollupConfirmations
    function recordTxHash(uint64 chainId, uint64 number, bytes32 hash, bytes32 parentHash)
        external
        view
        override
        returns (bytes32)
    {
        return BlockRecords.txHash(_blockNamespace(chainId), chainId, number, hash, parentHash);
    }

    /// @inheritdoc IRollupConfirmations
    function blockNamespace(uint64 chainId) external view override returns (bool registered, uint64 namespace) {
        Registration memory registration = _registrations[chainId];
        return (registration.registered, registration.blockNamespace);
    }

    /// @inheritdoc IRollupConfirmations
    function rollups() external view override returns (Rollup[] memory) {
        return _rollups;
    }

    /// @dev The height `proof.historyProof` claims for `proof.historyRoot` (its leaf count - 1), and
    /// whether the light client holds that root at that height.
    function _knownRootHeight(RecordProof calldata proof) internal view returns (bool known, uint64 rootHeight) {
        uint64 count = proof.historyProof.count;
        if (count == 0) return (false, 0);
        unchecked {
            rootHeight = count - 1;
        }
        known = lightClient.isKnownRoot(proof.historyRoot, rootHeight);
    }

    /// @dev The block namespace of a registered rollup; UnknownRollup for any other.
    function _blockNamespace(uint64 chainId) internal view returns (uint64 namespace) {
        Registration memory registration = _registrations[chainId];
        if (!registration.registered) revert UnknownRollup(chainId);
        namespace = registration.blockNamespace;
    }
}
