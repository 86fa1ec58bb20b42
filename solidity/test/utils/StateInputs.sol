// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {LightClientState} from "../../src/lib/Protocol.sol";

/// @title StateInputs
/// @notice The light-client proof's public inputs of a state, computed with plain arithmetic (apart
/// from LightClient's assembly, so that each checks the other): the 448 bits
/// chainId ‖ epoch ‖ height ‖ historyRoot split into their high 248 and low 200 bits, then the
/// signing committee and nextCommittee (circuits/src/circuit.rs).
library StateInputs {
    /// @notice [stateHigh, stateLow, signers, nextCommittee] of `state` signed by `signers`.
    /// @param state A light-client state.
    /// @param signers Commitment of the committee that signed it.
    /// @return x The four public inputs.
    function compute(LightClientState memory state, bytes32 signers) internal pure returns (uint256[4] memory x) {
        uint256 root = uint256(state.historyRoot);
        x[0] = uint256(state.chainId) * 2 ** 184 + uint256(state.epoch) * 2 ** 120 + uint256(state.height) * 2 ** 56
            + root / 2 ** 200;
        x[1] = root % 2 ** 200;
        x[2] = uint256(signers);
        x[3] = uint256(state.nextCommittee);
    }
}
