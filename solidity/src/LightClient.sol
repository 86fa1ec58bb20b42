// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {LightClientState} from "./lib/Protocol.sol";
import {ILightClient} from "./interfaces/ILightClient.sol";
import {IStateProofVerifier} from "./interfaces/IStateProofVerifier.sol";

/// @title LightClient
/// @notice Follows a trestle network on an EVM chain (DESIGN.md section 6). Anyone may submit a
/// light-client state with a Groth16 proof that more than two thirds of its epoch's committee
/// signed it; the contract checks that the state extends the latest one, stores it and remembers
/// its history root in a ring of recent roots, so that inclusion proofs built against a recent
/// root stay valid while newer states arrive (see isKnownRoot).
/// @dev Epoch rules. Epoch e covers heights [e·L, (e+1)·L - 1] with L = epochLength, and every
/// state must have epoch == height / L. The state at an epoch's last height names the next
/// epoch's committee in nextCommittee; every other state repeats its own committee there. So the
/// committee that signs the next state is always the latest state's nextCommittee:
/// - a later state in the same epoch is signed by the epoch's committee (== nextCommittee);
/// - a state in the next epoch is accepted only once the last height of the current epoch has
///   been (no epoch's last height may be skipped), and is signed by that state's nextCommittee,
///   which becomes the current committee;
/// - a state two or more epochs ahead is always refused (it would skip an epoch's last height).
/// The proof's public inputs are [chainId·2^184 + epoch·2^120 + height·2^56 + (historyRoot >> 200),
/// historyRoot & (2^200 - 1), committee, nextCommittee], as circuits/src/circuit.rs packs them.
/// The genesis state and committee are trusted as given.
contract LightClient is ILightClient {
    /// @dev BN254 scalar field order: committee commitments are elements of this field.
    uint256 internal constant _R = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;
    /// @dev The history root's bits carried in the second public input.
    uint256 internal constant _LOW_200_BITS = (1 << 200) - 1;
    /// @dev A ring slot that warmRootRing prepaid and no state has used yet.
    bytes32 internal constant _WARM = bytes32(type(uint256).max);

    /// @inheritdoc ILightClient
    uint64 public immutable override chainId;
    /// @inheritdoc ILightClient
    uint64 public immutable override epochLength;
    /// @inheritdoc ILightClient
    IStateProofVerifier public immutable override verifier;

    /// @inheritdoc ILightClient
    uint64 public constant override ROOT_RING_SIZE = 1021;

    // Storage, laid out for the fewest slot writes per update (issue 18's 230k gas goal): an
    // update rewrites the latest height and one slot of the root ring (plus a committee at
    // epoch boundaries). Once a ring slot holds anything, rewriting it costs 5,000 gas instead
    // of the 22,100 of a new slot, which a mapping from every root ever accepted would pay on
    // every update. The latest state's epoch is not stored: it is its height / epochLength.

    /// @dev Height of the latest state.
    uint64 internal _latestHeight;
    /// @dev nextCommittee of the latest state: the committee that signs the next state.
    bytes32 internal _nextCommittee;
    /// @dev Committee of the latest state's epoch.
    bytes32 internal _committee;
    /// @dev Slot height % ROOT_RING_SIZE holds root ^ height of the last state accepted at a
    /// height in that class (0 if none; _WARM if only prepaid). The tag binds the height: a slot
    /// matches exactly one (root, height) pair per written state.
    bytes32[ROOT_RING_SIZE] internal _roots;

    /// @notice Starts the light client at a trusted genesis state.
    /// @dev Reverts with ZeroEpochLength, VerifierNotContract, EpochMismatch, FieldOverflow,
    /// RootUnrepresentable, or NextCommitteeChanged if the genesis state is not the last of its epoch and its
    /// nextCommittee differs from `genesisCommittee`. Emits StateUpdated for the genesis state.
    /// @param genesis The trusted initial state (its chainId is the network followed).
    /// @param genesisCommittee Commitment of the committee of the genesis state's epoch.
    /// @param epochLength_ Heights per epoch (L > 0).
    /// @param verifier_ The Groth16 verifier of the light-client circuit.
    constructor(
        LightClientState memory genesis,
        bytes32 genesisCommittee,
        uint64 epochLength_,
        IStateProofVerifier verifier_
    ) {
        if (epochLength_ == 0) revert ZeroEpochLength();
        if (address(verifier_).code.length == 0) revert VerifierNotContract(address(verifier_));
        uint64 expected = genesis.height / epochLength_;
        if (genesis.epoch != expected) revert EpochMismatch(genesis.height, genesis.epoch, expected);
        if (uint256(genesisCommittee) >= _R) revert FieldOverflow(genesisCommittee);
        if (uint256(genesis.nextCommittee) >= _R) revert FieldOverflow(genesis.nextCommittee);
        if (genesis.nextCommittee != genesisCommittee && !_isLastOfEpoch(genesis.height, epochLength_)) {
            revert NextCommitteeChanged(genesis.height, genesisCommittee, genesis.nextCommittee);
        }
        chainId = genesis.chainId;
        epochLength = epochLength_;
        verifier = verifier_;
        _latestHeight = genesis.height;
        _nextCommittee = genesis.nextCommittee;
        _committee = genesisCommittee;
        _roots[genesis.height % ROOT_RING_SIZE] = _ringTag(genesis.historyRoot, genesis.height);
        emit StateUpdated(genesis.height, genesis.epoch, genesis.historyRoot, genesisCommittee);
    }

    /// @inheritdoc ILightClient
    /// @dev Checks, in order: chain id (WrongChain), height (HeightNotIncreasing), epoch
    /// (EpochMismatch), epoch boundary (EpochBoundarySkipped), nextCommittee (NextCommitteeChanged,
    /// FieldOverflow), the root's tag (RootUnrepresentable), then the proof (InvalidProof, or the
    /// verifier's own error for a malformed proof). Emits StateUpdated.
    function update(LightClientState calldata state, uint256[8] calldata proof) external override {
        uint64 height = state.height;
        uint64 epoch = state.epoch;
        bytes32 next = state.nextCommittee;
        (bytes32 signers, bool newEpoch) = _checkTransition(state.chainId, epoch, height, next);
        bytes32 root = state.historyRoot;
        bytes32 tag = _ringTag(root, height);
        _verify(state, signers, proof);

        _latestHeight = height;
        if (newEpoch) _committee = signers;
        if (next != signers) _nextCommittee = next;
        _roots[height % ROOT_RING_SIZE] = tag;
        emit StateUpdated(height, epoch, root, signers);
    }

    /// @inheritdoc ILightClient
    function latestState() external view override returns (LightClientState memory state) {
        uint64 height = _latestHeight;
        // The latest state's slot was written last by the latest state itself.
        bytes32 root = _tag(_roots[height % ROOT_RING_SIZE], height);
        state = LightClientState({
            chainId: chainId,
            epoch: height / epochLength,
            height: height,
            historyRoot: root,
            nextCommittee: _nextCommittee
        });
    }

    /// @inheritdoc ILightClient
    function latestHeight() external view override returns (uint64 height) {
        height = _latestHeight;
    }

    /// @inheritdoc ILightClient
    function committee() external view override returns (bytes32) {
        return _committee;
    }

    /// @inheritdoc ILightClient
    function isKnownRoot(bytes32 root, uint64 height) external view override returns (bool) {
        bytes32 slot = _roots[height % ROOT_RING_SIZE];
        // A slot that holds no state matches nothing (no accepted state tags to 0 or _WARM); a
        // written one exactly its (root, height) (any other pair with the same tag differs from
        // the accepted root in its low 64 bits, so it is not a root the network produced, nor one
        // any Merkle proof leads to).
        return slot != 0 && slot != _WARM && slot == _tag(root, height);
    }

    /// @inheritdoc ILightClient
    function warmRootRing(uint256 from, uint256 count) external override {
        if (count > ROOT_RING_SIZE || from > ROOT_RING_SIZE - count) revert RingRangeInvalid(from, count);
        for (uint256 i = from; i < from + count; ++i) {
            if (_roots[i] == 0) _roots[i] = _WARM;
        }
    }

    /// @dev Checks that a state with these fields may follow the latest state (every rule but the
    /// proof) and returns the committee that must have signed it and whether it starts an epoch.
    function _checkTransition(uint64 stateChainId, uint64 epoch, uint64 height, bytes32 next)
        internal
        view
        returns (bytes32 signers, bool newEpoch)
    {
        if (stateChainId != chainId) revert WrongChain(chainId, stateChainId);

        uint64 latestHeight_ = _latestHeight;
        if (height <= latestHeight_) revert HeightNotIncreasing(latestHeight_, height);

        uint64 length = epochLength;
        uint64 expected = height / length;
        if (epoch != expected) revert EpochMismatch(height, epoch, expected);
        uint64 latestEpoch = latestHeight_ / length;

        newEpoch = epoch != latestEpoch;
        if (newEpoch) {
            // Here epoch > latestEpoch (heights increase and epochs follow from heights), so
            // latestEpoch + 1 cannot overflow, nor can a uint64 plus one in 256 bits.
            unchecked {
                if ((uint256(latestHeight_) + 1) % length != 0) {
                    revert EpochBoundarySkipped(latestEpoch, _lastHeightOfEpoch(latestEpoch, length));
                }
                if (epoch != latestEpoch + 1) {
                    revert EpochBoundarySkipped(latestEpoch + 1, _lastHeightOfEpoch(latestEpoch + 1, length));
                }
            }
        }

        // The signers: the epoch's committee, or, across a boundary, the one the last state of the
        // previous epoch named.
        signers = _nextCommittee;
        if (next != signers) {
            if (!_isLastOfEpoch(height, length)) revert NextCommitteeChanged(height, signers, next);
            if (uint256(next) >= _R) revert FieldOverflow(next);
        }
    }

    /// @dev Reverts unless `proof` shows that `signers` signed `state`: InvalidProof if the verifier
    /// returns anything but true, or the verifier's own revert data if it reverts.
    function _verify(LightClientState calldata state, bytes32 signers, uint256[8] calldata proof) internal view {
        IStateProofVerifier target = verifier;
        bytes4 selector = IStateProofVerifier.verifyProof.selector;
        bool valid;
        assembly ("memory-safe") {
            // verifyProof(proof, publicInputs), both static arrays: 4 + 12 words, built past the
            // free memory pointer. `state` is a static struct in calldata, whose uint64 fields
            // update has already read through Solidity (and so range-checked).
            let ptr := mload(0x40)
            mstore(ptr, selector)
            calldatacopy(add(ptr, 0x04), proof, 0x100)
            let root := calldataload(add(state, 0x60))
            mstore(
                add(ptr, 0x104),
                or(
                    or(shl(184, calldataload(state)), shl(120, calldataload(add(state, 0x20)))),
                    or(shl(56, calldataload(add(state, 0x40))), shr(200, root))
                )
            )
            mstore(add(ptr, 0x124), and(root, 0xffffffffffffffffffffffffffffffffffffffffffffffffff))
            mstore(add(ptr, 0x144), signers)
            mstore(add(ptr, 0x164), calldataload(add(state, 0x80)))
            if iszero(staticcall(gas(), target, ptr, 0x184, 0x00, 0x20)) {
                returndatacopy(ptr, 0x00, returndatasize())
                revert(ptr, returndatasize())
            }
            // Exactly one word holding 1; no code (empty return data) is not a yes.
            valid := and(eq(returndatasize(), 0x20), eq(mload(0x00), 1))
        }
        if (!valid) revert InvalidProof(signers, keccak256(abi.encode(publicInputs(state, signers))));
    }

    /// @inheritdoc ILightClient
    function publicInputs(LightClientState calldata state, bytes32 signers)
        public
        pure
        override
        returns (uint256[4] memory inputs)
    {
        uint256 root = uint256(state.historyRoot);
        inputs = [
            (uint256(state.chainId) << 184) | (uint256(state.epoch) << 120) | (uint256(state.height) << 56)
                | (root >> 200),
            root & _LOW_200_BITS,
            uint256(signers),
            uint256(state.nextCommittee)
        ];
    }

    /// @dev The ring tag of a root accepted at `height` (its own inverse: _tag(_tag(r, h), h) = r).
    function _tag(bytes32 root, uint64 height) internal pure returns (bytes32) {
        return root ^ bytes32(uint256(height));
    }

    /// @dev The tag an accepted state writes to the ring; reverts with RootUnrepresentable if it
    /// is one of the marks of an unused slot (0 or _WARM), which would make the state unknown.
    function _ringTag(bytes32 root, uint64 height) internal pure returns (bytes32 tag) {
        tag = _tag(root, height);
        if (tag == 0 || tag == _WARM) revert RootUnrepresentable(root, height);
    }

    /// @dev Whether `height` is the last height of its epoch: (height + 1) is a multiple of L.
    function _isLastOfEpoch(uint64 height, uint64 length) internal pure returns (bool) {
        return (uint256(height) + 1) % length == 0;
    }

    /// @dev The last height of `epoch`, (epoch + 1)·L - 1, for an epoch that ends below 2^64
    /// (callers only ask for epochs that end before a height they hold).
    function _lastHeightOfEpoch(uint64 epoch, uint64 length) internal pure returns (uint64) {
        // Callers hold a height above this one, so it fits in uint64.
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64((uint256(epoch) + 1) * length - 1);
    }
}
