// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Fixtures} from "./utils/Fixtures.sol";
import {LightClientTestBase, MockStateProofVerifier} from "./LightClient.t.sol";
import {LightClient} from "../src/LightClient.sol";
import {ILightClient} from "../src/interfaces/ILightClient.sol";
import {LightClientState} from "../src/lib/Protocol.sol";

/// @notice Pins LightClient's epoch rules to the Rust kernel's epoch arithmetic
/// (light-client/src/epoch.rs), through the golden vectors in epochs.json: for each case a light
/// client deployed at `latest` accepts exactly what the kernel says. The epoch of every height is
/// the one the kernel computes (the constructor and update refuse any other with EpochMismatch), a
/// genesis may name a new committee exactly when the kernel calls `latest` an epoch's last height,
/// the kernel's next target is accepted, and the height after the kernel's furthest reachable one
/// is refused with EpochBoundarySkipped naming that height.
contract EpochVectorsTest is Fixtures, LightClientTestBase {
    uint64 internal constant CHAIN = 31_337;
    bytes32 internal constant C1 = bytes32(uint256(0xc1));
    bytes32 internal constant C2 = bytes32(uint256(0xc2));

    MockStateProofVerifier internal verifier;

    /// @notice Deploys the mock verifier.
    function setUp() public {
        verifier = new MockStateProofVerifier();
    }

    /// @notice Every case of epochs.json holds for LightClient.
    function test_epochs_lightClientFollowsTheKernel() public {
        string memory json = _readFixture("epochs.json");
        uint256 n = _length(json, ".cases");
        vm.assertLe(150, n, "epoch vectors");
        for (uint256 i = 0; i < n; ++i) {
            _check(json, _at(".cases", i));
        }
    }

    function _check(string memory json, string memory key) internal {
        uint64 length = _dec(json, _dot(key, "epochLength"));
        uint64 latest = _dec(json, _dot(key, "latest"));
        uint64 latestEpoch = _dec(json, _dot(key, "latestEpoch"));
        LightClient lc = new LightClient(_state(latestEpoch, latest, C1), C1, length, verifier);

        // A genesis naming another committee is accepted only at an epoch's last height.
        bool isLast = vm.parseJsonBool(json, _dot(key, "latestIsLast"));
        if (!isLast) {
            vm.expectRevert(abi.encodeWithSelector(ILightClient.NextCommitteeChanged.selector, latest, C1, C2));
        }
        new LightClient(_state(latestEpoch, latest, C2), C1, length, verifier);

        // Beyond the furthest reachable height: EpochBoundarySkipped, naming that height.
        if (vm.keyExistsJson(json, _dot(key, "furthest"))) {
            uint64 furthest = _dec(json, _dot(key, "furthest"));
            uint64 furthestEpoch = _dec(json, _dot(key, "furthestEpoch"));
            if (furthest < type(uint64).max) {
                uint64 beyond = furthest + 1;
                LightClientState memory skip = _state(beyond / length, beyond, C1);
                uint256[8] memory skipProof = _prove(skip, C1);
                vm.expectRevert(
                    abi.encodeWithSelector(ILightClient.EpochBoundarySkipped.selector, furthestEpoch, furthest)
                );
                lc.update(skip, skipProof);
            }
        }

        // The kernel's next target on the way to `wanted` is accepted.
        if (vm.keyExistsJson(json, _dot(key, "target"))) {
            uint64 target = _dec(json, _dot(key, "target"));
            uint64 wanted = _dec(json, _dot(key, "wanted"));
            vm.assertLe(target, wanted, "target beyond wanted");
            LightClientState memory next = _state(_dec(json, _dot(key, "targetEpoch")), target, C1);
            lc.update(next, _prove(next, C1));
            vm.assertEq(lc.latestHeight(), target, "target accepted");
        }
    }

    function _state(uint64 epoch, uint64 height, bytes32 next) internal pure returns (LightClientState memory) {
        return LightClientState({
            chainId: CHAIN,
            epoch: epoch,
            height: height,
            historyRoot: keccak256(abi.encode("epoch vectors", epoch, height)),
            nextCommittee: next
        });
    }

    /// @dev The decimal string at `key` as a uint64.
    function _dec(string memory json, string memory key) internal pure returns (uint64) {
        uint256 value = vm.parseUint(vm.parseJsonString(json, key));
        vm.assertLe(value, type(uint64).max, "uint64");
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(value);
    }
}
