// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {StateInputs} from "./utils/StateInputs.sol";
import {Fixtures} from "./utils/Fixtures.sol";
import {LightClient} from "../src/LightClient.sol";
import {LightClientVerifier} from "../src/generated/LightClientVerifier.sol";
import {ILightClient} from "../src/interfaces/ILightClient.sol";
import {IStateProofVerifier} from "../src/interfaces/IStateProofVerifier.sol";
import {LightClientState} from "../src/lib/Protocol.sol";

/// @notice LightClient with the real generated Groth16 verifier across two committee rotations
/// (A -> B -> C), with the real proofs of test/fixtures/groth16/rotation.json (written by
/// trestle-circuits' export::rotation): a light client at genesis (height 5, epoch 0, committee A,
/// epochs of 10 heights) accepts the hand-offs only in order, refuses any update that skips an
/// epoch's last height, and refuses a new-epoch state proved by the committee that handed over.
contract LightClientRotationTest is Fixtures {
    string internal constant FIXTURE = "groth16/rotation.json";

    LightClientVerifier internal verifier;
    string internal json;
    bytes32[3] internal committees;

    /// @dev One update of the fixture: the state, the committee that proved it, the proof.
    struct Update {
        LightClientState state;
        bytes32 committee;
        uint256[8] proof;
    }

    /// @notice Reads the fixture and deploys the verifier.
    function setUp() public {
        json = _readFixture(FIXTURE);
        verifier = new LightClientVerifier();
        vm.assertEq(verifier.CAPACITY(), vm.parseJsonUint(json, ".capacity"), "fixture capacity");
        for (uint256 i = 0; i < 3; ++i) {
            committees[i] = _b32(json, _at(".committees", i));
        }
        vm.assertEq(_length(json, ".updates"), 4, "updates");
    }

    function _update(string memory key) internal view returns (Update memory u) {
        u.state = _state(json, _dot(key, "state"));
        u.committee = _b32(json, _dot(key, "committee"));
        uint256[] memory words = vm.parseJsonUintArray(json, _dot(key, "proof"));
        vm.assertEq(words.length, 8, "proof words");
        for (uint256 i = 0; i < 8; ++i) {
            u.proof[i] = words[i];
        }
    }

    function _updateAt(uint256 i) internal view returns (Update memory) {
        return _update(_at(".updates", i));
    }

    function _genesisClient() internal returns (LightClient) {
        LightClientState memory genesis = _state(json, ".genesis");
        uint64 epochLength = _u64(json, ".epochLength");
        return new LightClient(genesis, committees[0], epochLength, IStateProofVerifier(address(verifier)));
    }

    function _apply(LightClient lc, Update memory u) internal {
        lc.update(u.state, u.proof);
    }

    /// @notice The four updates in order move the light client through both rotations: each
    /// update is signed by the committee the previous epoch's last state named, and the committee
    /// changes exactly at the first state of a new epoch.
    function test_update_followsTwoRotationsInOrder() public {
        LightClient lc = _genesisClient();
        bytes32[4] memory signers = [committees[0], committees[1], committees[1], committees[2]];
        bytes32[4] memory after_ = [committees[0], committees[1], committees[1], committees[2]];
        for (uint256 i = 0; i < 4; ++i) {
            Update memory u = _updateAt(i);
            vm.assertEq(u.committee, signers[i], "the fixture's signing committee");
            vm.expectEmit(address(lc));
            emit ILightClient.StateUpdated(u.state.height, u.state.epoch, u.state.historyRoot, signers[i]);
            _apply(lc, u);
            vm.assertEq(lc.committee(), after_[i], "committee after the update");
            vm.assertEq(abi.encode(lc.latestState()), abi.encode(u.state), "latest state");
            vm.assertTrue(lc.isKnownRoot(u.state.historyRoot, u.state.height), "root known");
        }
    }

    /// @notice A state of epoch 1 cannot be accepted before the last state of epoch 0, whose
    /// proof names epoch 1's committee.
    function test_update_revertsWhen_epochEndSkippedFromGenesis() public {
        LightClient lc = _genesisClient();
        Update memory u = _updateAt(1);
        vm.expectRevert(abi.encodeWithSelector(ILightClient.EpochBoundarySkipped.selector, uint64(0), uint64(9)));
        _apply(lc, u);
    }

    /// @notice After epoch 1's mid-epoch state, epoch 2's state is refused until epoch 1's last
    /// state (the hand-off to C) is in; with it, the same proof is accepted.
    function test_update_revertsWhen_secondEpochEndSkipped() public {
        LightClient lc = _genesisClient();
        _apply(lc, _updateAt(0));
        _apply(lc, _updateAt(1));
        Update memory epoch2 = _updateAt(3);
        vm.expectRevert(abi.encodeWithSelector(ILightClient.EpochBoundarySkipped.selector, uint64(1), uint64(19)));
        _apply(lc, epoch2);
        _apply(lc, _updateAt(2));
        _apply(lc, epoch2);
        vm.assertEq(lc.committee(), committees[2], "rotated to C");
    }

    /// @notice Once epoch 1 began, its states must come in increasing heights: replaying the
    /// hand-off or an earlier state is refused.
    function test_update_revertsWhen_replayedOutOfOrder() public {
        LightClient lc = _genesisClient();
        _apply(lc, _updateAt(0));
        _apply(lc, _updateAt(1));
        _apply(lc, _updateAt(2));
        Update memory handoff = _updateAt(0);
        vm.expectRevert(abi.encodeWithSelector(ILightClient.HeightNotIncreasing.selector, uint64(19), uint64(9)));
        _apply(lc, handoff);
        Update memory mid = _updateAt(1);
        vm.expectRevert(abi.encodeWithSelector(ILightClient.HeightNotIncreasing.selector, uint64(19), uint64(14)));
        _apply(lc, mid);
    }

    /// @notice A valid proof by committee A of a state in epoch 1, after A handed over to B, is
    /// refused: the contract verifies it against B's commitment.
    function test_update_revertsWhen_oldCommitteeProvesNewEpoch() public {
        LightClient lc = _genesisClient();
        _apply(lc, _updateAt(0));
        Update memory forged = _update(".oldCommitteeEpoch1");
        vm.assertEq(forged.committee, committees[0], "proved by A");
        vm.assertEq(forged.state.epoch, 1, "a state of epoch 1");
        // (A copy: memory structs are references.)
        Update memory asVerified = _update(".oldCommitteeEpoch1");
        asVerified.committee = committees[1];
        vm.expectRevert(
            abi.encodeWithSelector(
                ILightClient.InvalidProof.selector, committees[1], keccak256(abi.encode(_inputs(asVerified)))
            )
        );
        _apply(lc, forged);
        // The same proof is valid for A: a light client that still trusts A for epoch 1 (one that
        // never saw the hand-off) would accept it, which is why the hand-off cannot be skipped.
        vm.assertTrue(verifier.verifyProof(forged.proof, _inputs(forged)), "the proof is valid for A");
    }

    /// @dev The four public inputs of `u` (as LightClient computes them).
    function _inputs(Update memory u) internal pure returns (uint256[4] memory) {
        return StateInputs.compute(u.state, u.committee);
    }
}
