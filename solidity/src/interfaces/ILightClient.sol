// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {LightClientState} from "../lib/Protocol.sol";
import {IStateProofVerifier} from "./IStateProofVerifier.sol";

/// @title ILightClient
/// @notice An on-chain light client of a trestle network (DESIGN.md section 6): it follows the
/// network's light-client states, each proven by a Groth16 proof that more than two thirds of the
/// epoch's committee signed it, and remembers the history roots it accepted recently (a ring of
/// ROOT_RING_SIZE slots indexed by height; see isKnownRoot).
interface ILightClient {
    /// @notice A state was accepted (also emitted once for the genesis state).
    /// @param height The state's height.
    /// @param epoch The state's epoch.
    /// @param historyRoot The state's history root, over headers 0..=height.
    /// @param committee Commitment of the committee that signed the state (the epoch's committee).
    event StateUpdated(uint64 indexed height, uint64 indexed epoch, bytes32 historyRoot, bytes32 committee);

    /// @notice The state is for another network.
    /// @param expected The light client's chain id.
    /// @param actual The state's chain id.
    error WrongChain(uint64 expected, uint64 actual);
    /// @notice The state's height is not above the latest accepted height.
    /// @param latest The latest accepted height.
    /// @param height The state's height.
    error HeightNotIncreasing(uint64 latest, uint64 height);
    /// @notice The state's epoch is not its height divided by the epoch length.
    /// @param height The state's height.
    /// @param epoch The state's epoch.
    /// @param expected The epoch of `height`.
    error EpochMismatch(uint64 height, uint64 epoch, uint64 expected);
    /// @notice The state is in a later epoch, but the last height of `epoch` has not been
    /// accepted: it must be, since only that state names the next epoch's committee.
    /// @param epoch The epoch whose last state is missing.
    /// @param lastHeight The last height of `epoch`, the next state to submit.
    error EpochBoundarySkipped(uint64 epoch, uint64 lastHeight);
    /// @notice A state that is not the last of its epoch names a next committee other than the
    /// epoch's own.
    /// @param height The state's height.
    /// @param committee The epoch's committee.
    /// @param nextCommittee The state's nextCommittee.
    error NextCommitteeChanged(uint64 height, bytes32 committee, bytes32 nextCommittee);
    /// @notice A committee commitment is not below the BN254 scalar field order.
    /// @param value The commitment.
    error FieldOverflow(bytes32 value);
    /// @notice The verifier rejected the proof.
    /// @param committee The committee the proof was checked against (the state's signers).
    /// @param publicInputsHash keccak256(abi.encode(publicInputs)) of the inputs it was checked with.
    error InvalidProof(bytes32 committee, bytes32 publicInputsHash);
    /// @notice The constructor was given an epoch length of zero.
    error ZeroEpochLength();
    /// @notice The constructor was given a verifier address without code.
    /// @param verifier The address.
    error VerifierNotContract(address verifier);
    /// @notice warmRootRing was asked for slots beyond the ring.
    /// @param from The first slot asked for.
    /// @param count The number of slots asked for.
    error RingRangeInvalid(uint256 from, uint256 count);
    /// @notice The state's root XOR its height is 0 or all ones, the ring's marks for an empty
    /// and a prepaid slot, so the state could not be remembered. No history root (a keccak
    /// output) has 192 zero or 192 one bits; a network never produces such a state.
    /// @param root The state's history root.
    /// @param height The state's height.
    error RootUnrepresentable(bytes32 root, uint64 height);

    /// @notice Accepts `state` if `proof` shows that its epoch's committee signed it and it
    /// follows the latest state by the epoch rules (see LightClient). Permissionless.
    /// @param state The new light-client state.
    /// @param proof The Groth16 proof [A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y].
    function update(LightClientState calldata state, uint256[8] calldata proof) external;

    /// @notice The latest accepted state.
    /// @return state The state.
    function latestState() external view returns (LightClientState memory state);

    /// @notice The height of the latest accepted state.
    /// @return height The height.
    function latestHeight() external view returns (uint64 height);

    /// @notice Commitment of the committee of the latest state's epoch (which signed it).
    /// @return committee The commitment.
    function committee() external view returns (bytes32 committee);

    /// @notice Whether `root` is the history root of an accepted state at `height` (the root over
    /// headers 0..=height, so a Merkle proof against it has count height + 1) that the ring still
    /// holds. The ring keeps, for each class of heights modulo ROOT_RING_SIZE, the last state
    /// accepted in it: a root accepted at height h stays known until a state at h + k·ROOT_RING_SIZE
    /// (k ≥ 1) is accepted, so at least while the latest height is below h + ROOT_RING_SIZE, and
    /// the latest state's root is always known. Callers build proofs against a recent root (the
    /// latest state's, for example) and rebuild them against a newer one if it was evicted.
    /// @param root A history root.
    /// @param height The height it is claimed for.
    /// @return True if a state with exactly this root and height was accepted and is still held.
    function isKnownRoot(bytes32 root, uint64 height) external view returns (bool);

    /// @notice Prepays ring slots [from, from + count): each slot that no state has used yet gets a
    /// placeholder, so that the first state in its class of heights rewrites a used slot (5,000
    /// gas) instead of filling a new one (22,100). Optional and permissionless (it changes no
    /// answer of isKnownRoot); operators call it once after deployment to make every update cost
    /// the same. Reverts with RingRangeInvalid beyond the ring.
    /// @param from The first slot.
    /// @param count The number of slots.
    function warmRootRing(uint256 from, uint256 count) external;

    /// @notice Number of slots of the ring of recent roots (a prime, so that states accepted at a
    /// constant spacing of heights visit every slot before one is reused).
    /// @return The ring size.
    function ROOT_RING_SIZE() external view returns (uint64);

    /// @notice The public inputs of the proof that `signers` signed `state`, as update passes them
    /// to the verifier: [chainId·2^184 + epoch·2^120 + height·2^56 + (historyRoot >> 200),
    /// historyRoot & (2^200 - 1), signers, nextCommittee] (the 448 bits of the counters and the
    /// root in two field elements; IStateProofVerifier).
    /// @param state A light-client state.
    /// @param signers Commitment of the committee that signed it.
    /// @return inputs The four public inputs.
    function publicInputs(LightClientState calldata state, bytes32 signers)
        external
        pure
        returns (uint256[4] memory inputs);

    /// @notice The network this light client follows.
    /// @return The chain id.
    function chainId() external view returns (uint64);

    /// @notice Heights per epoch: epoch e covers heights [e·L, (e+1)·L - 1].
    /// @return The epoch length L.
    function epochLength() external view returns (uint64);

    /// @notice The Groth16 verifier of state proofs.
    /// @return The verifier.
    function verifier() external view returns (IStateProofVerifier);
}
