// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {RecordProof} from "../lib/Protocol.sol";
import {IRollupConfirmations} from "../interfaces/IRollupConfirmations.sol";

/// @title RollupSettlement
/// @notice Demo of a rollup's settlement contract on L1 in hybrid mode: it accepts a state root
/// for rollup block `number` only once trestle has confirmed which block `number` is
/// (RollupConfirmations), so a state root can never be settled for a block the sequencer did not
/// commit to, nor for a second, conflicting block at the same number.
/// @dev What it shows is the confirmation check; what it trusts besides is deliberately simple.
/// The state root itself is the proposer's claim about the confirmed block: a real settlement
/// contract checks it against the block (a validity proof, a fraud-proof window, or the block
/// header's preimage), which this demo leaves out. Hence only `proposer` may submit, and a number's
/// state root, once accepted, is final.
contract RollupSettlement {
    /// @notice A settled rollup block.
    /// @param blockHash The confirmed block's hash.
    /// @param stateRoot Its state root, as the proposer submitted it.
    struct Settled {
        bytes32 blockHash;
        bytes32 stateRoot;
    }

    /// @notice A state root was accepted for a confirmed rollup block.
    /// @param number The rollup block's number.
    /// @param blockHash The block's hash.
    /// @param stateRoot The state root after it.
    event StateRootAccepted(uint64 indexed number, bytes32 indexed blockHash, bytes32 stateRoot);

    /// @notice trestle has not confirmed block `number` as `blockHash` (the proof does not show
    /// it, the rollup is not registered, or the proof's history root is unknown).
    /// @param number The rollup block's number.
    /// @param blockHash The block hash submitted.
    error BlockNotConfirmed(uint64 number, bytes32 blockHash);
    /// @notice Only the proposer submits state roots.
    /// @param caller The caller.
    error NotProposer(address caller);
    /// @notice A state root was already accepted for this number.
    /// @param number The rollup block's number.
    /// @param stateRoot The state root accepted before.
    error StateRootAlreadyAccepted(uint64 number, bytes32 stateRoot);
    /// @notice A state root of zero (which would read as "none").
    /// @param number The rollup block's number.
    error ZeroStateRoot(uint64 number);
    /// @notice The confirmations contract has no block namespace for the rollup.
    /// @param chainId The rollup's chain id.
    error RollupNotRegistered(uint64 chainId);

    /// @notice Where confirmations are checked.
    IRollupConfirmations public immutable confirmations;
    /// @notice The rollup this contract settles.
    uint64 public immutable rollupChainId;
    /// @notice Who submits state roots.
    address public immutable proposer;

    /// @dev Rollup block number => the settled block.
    mapping(uint64 number => Settled settled) internal _settled;

    /// @notice Settles rollup `rollupChainId_` with confirmations from `confirmations_`, state
    /// roots submitted by `proposer_`.
    /// @param confirmations_ The RollupConfirmations, which must know the rollup.
    /// @param rollupChainId_ The rollup's chain id.
    /// @param proposer_ Who may submit state roots.
    constructor(IRollupConfirmations confirmations_, uint64 rollupChainId_, address proposer_) {
        (bool registered,) = confirmations_.blockNamespace(rollupChainId_);
        if (!registered) revert RollupNotRegistered(rollupChainId_);
        confirmations = confirmations_;
        rollupChainId = rollupChainId_;
        proposer = proposer_;
    }

    /// @notice Accepts `stateRoot` as the state after rollup block `number`, if trestle confirmed
    /// that block `number` is `blockHash` (with parent `parentHash`, as recorded). Reverts with
    /// NotProposer, ZeroStateRoot, StateRootAlreadyAccepted or BlockNotConfirmed.
    /// @param number The rollup block's number.
    /// @param blockHash The block's hash.
    /// @param parentHash Its parent's hash, as its block record says.
    /// @param stateRoot The state root after the block.
    /// @param proof The block record's proof (see IRollupConfirmations.isConfirmed).
    function submitStateRoot(
        uint64 number,
        bytes32 blockHash,
        bytes32 parentHash,
        bytes32 stateRoot,
        RecordProof calldata proof
    ) external {
        if (msg.sender != proposer) revert NotProposer(msg.sender);
        if (stateRoot == bytes32(0)) revert ZeroStateRoot(number);
        bytes32 accepted = _settled[number].stateRoot;
        if (accepted != bytes32(0)) revert StateRootAlreadyAccepted(number, accepted);
        if (!confirmations.isConfirmed(rollupChainId, number, blockHash, parentHash, proof)) {
            revert BlockNotConfirmed(number, blockHash);
        }
        _settled[number] = Settled({blockHash: blockHash, stateRoot: stateRoot});
        emit StateRootAccepted(number, blockHash, stateRoot);
    }

    /// @notice The state root accepted for rollup block `number` (zero if none).
    /// @param number The rollup block's number.
    /// @return The state root.
    function stateRootOf(uint64 number) external view returns (bytes32) {
        return _settled[number].stateRoot;
    }

    /// @notice The confirmed hash of rollup block `number`, once its state root was accepted
    /// (zero before).
    /// @param number The rollup block's number.
    /// @return The block hash.
    function blockHashOf(uint64 number) external view returns (bytes32) {
        return _settled[number].blockHash;
    }
}
