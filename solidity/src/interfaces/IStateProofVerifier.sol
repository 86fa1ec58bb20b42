// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title IStateProofVerifier
/// @notice A Groth16 verifier of trestle's light-client circuit (DESIGN.md section 5), as generated
/// into src/generated/LightClientVerifier.sol: a valid proof shows that more than two thirds of the
/// weight of the committee `committee` signed the light-client state given by the other inputs.
interface IStateProofVerifier {
    /// @notice Verifies a proof for the given public inputs.
    /// @dev May revert (rather than return false) on a proof word or public input outside its
    /// field, or on a point that is not on its curve.
    /// @param proof [A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y].
    /// @param publicInputs [stateHigh, stateLow, committee, nextCommittee], each below the BN254
    /// scalar order: the 448 bits chainId ‖ epoch ‖ height ‖ historyRoot split into their high
    /// 248 bits (chainId·2^184 + epoch·2^120 + height·2^56 + (historyRoot >> 200)) and their low
    /// 200 bits (historyRoot & (2^200 - 1)).
    /// @return valid Whether the proof verifies.
    function verifyProof(uint256[8] calldata proof, uint256[4] calldata publicInputs) external view returns (bool valid);
}
