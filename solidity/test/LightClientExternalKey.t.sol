// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Fixtures} from "./utils/Fixtures.sol";
import {LightClient} from "../src/LightClient.sol";
import {LightClientVerifier} from "../src/generated/LightClientVerifier.sol";
import {ILightClient} from "../src/interfaces/ILightClient.sol";
import {IStateProofVerifier} from "../src/interfaces/IStateProofVerifier.sol";
import {LightClientState} from "../src/lib/Protocol.sol";

/// @notice LightClient with a verifier for a key made outside this build: a ceremony's. The
/// ceremony test (tests/ceremony.rs) compiles the verifier it generated from the imported key,
/// proves a state with that key and passes both as JSON in LIGHT_CLIENT_KEY_FIXTURE
/// (`verifierRuntimeCode` plus the fields of test/fixtures/groth16/proof.json). Without it, the
/// committed devnet verifier and proof stand in, so the test always runs the same path: the
/// verifier's code installed at an address, a light client for which the proof is the next
/// valid update, the update accepted, and a changed proof or input refused.
contract LightClientExternalKeyTest is Fixtures {
    string internal constant DEFAULT_FIXTURE = "test/fixtures/groth16/proof.json";
    address internal constant VERIFIER = address(0x7e57ed);
    /// @dev The BN254 base field order q: (x, q - y) is the negation of (x, y).
    uint256 internal constant BASE_FIELD_ORDER =
        21888242871839275222246405745257275088696311157297823662689037894645226208583;
    bytes32 internal constant GENESIS_ROOT = keccak256("genesis root before the fixture");

    LightClientState internal fixtureState;
    bytes32 internal fixtureCommittee;
    uint256[8] internal proof;
    LightClient internal lightClient;

    function setUp() public {
        string memory json = vm.envOr("LIGHT_CLIENT_KEY_FIXTURE", string(""));
        bytes memory runtimeCode;
        if (bytes(json).length == 0) {
            json = vm.readFile(DEFAULT_FIXTURE);
            runtimeCode = type(LightClientVerifier).runtimeCode;
        } else {
            runtimeCode = vm.parseJsonBytes(json, ".verifierRuntimeCode");
        }
        vm.etch(VERIFIER, runtimeCode);
        fixtureState = _state(json, ".state");
        fixtureCommittee = vm.parseJsonBytes32(json, ".committee");
        uint256[] memory p = vm.parseJsonUintArray(json, ".proof");
        vm.assertEq(p.length, 8, "proof words");
        for (uint256 i = 0; i < 8; ++i) {
            proof[i] = p[i];
        }
        // Genesis one height below the fixture, in the same epoch, signed over to the fixture's
        // committee: the fixture state is then the next valid update.
        LightClientState memory genesis = LightClientState({
            chainId: fixtureState.chainId,
            epoch: fixtureState.epoch,
            height: fixtureState.height - 1,
            historyRoot: GENESIS_ROOT,
            nextCommittee: fixtureCommittee
        });
        vm.assertEq(fixtureState.nextCommittee, fixtureCommittee, "fixture keeps its committee");
        uint64 epochLength = _sameEpochLength(fixtureState.epoch, fixtureState.height);
        lightClient = new LightClient(genesis, fixtureCommittee, epochLength, IStateProofVerifier(VERIFIER));
    }

    /// @dev An epoch length for which `height - 1` and `height` both lie in `epoch`
    /// (epoch = height / length).
    function _sameEpochLength(uint64 epoch, uint64 height) internal pure returns (uint64 length) {
        require(epoch > 0, "fixture epoch 0");
        // The largest length with epoch * length <= height - 1.
        length = (height - 1) / epoch;
        require(height / length == epoch && (height - 1) / length == epoch, "no epoch length fits");
    }

    /// @notice The proof made with the external key moves the light client to the fixture state.
    function test_update_acceptsProofOfExternalKey() public {
        LightClientState memory s = fixtureState;
        vm.expectEmit(address(lightClient));
        emit ILightClient.StateUpdated(s.height, s.epoch, s.historyRoot, fixtureCommittee);
        lightClient.update(s, proof);
        vm.assertEq(lightClient.latestHeight(), s.height, "updated");
    }

    /// @notice Another valid curve point as the proof's C (its negation) is refused.
    function test_update_revertsWhenProofChanged() public {
        uint256[8] memory p = proof;
        p[7] = BASE_FIELD_ORDER - p[7];
        vm.expectRevert();
        lightClient.update(fixtureState, p);
        vm.assertEq(lightClient.latestHeight(), fixtureState.height - 1, "not updated");
    }

    /// @notice A changed history root (a public input) is refused.
    function test_update_revertsWhenStateChanged() public {
        LightClientState memory s = fixtureState;
        s.historyRoot = keccak256("another root");
        vm.expectRevert();
        lightClient.update(s, proof);
    }
}
