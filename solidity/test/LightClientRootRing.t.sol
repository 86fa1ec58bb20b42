// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {LightClientFixture} from "./LightClient.t.sol";
import {LightClient} from "../src/LightClient.sol";
import {ILightClient} from "../src/interfaces/ILightClient.sol";
import {LightClientState} from "../src/lib/Protocol.sol";

/// @notice The ring of recent roots: which roots LightClient.isKnownRoot knows, for how long, and
/// what warmRootRing changes (mock verifier).
contract LightClientRootRingTest is LightClientFixture {
    /// @notice A state at h + ROOT_RING_SIZE takes the slot of the state at h: h's root is
    /// forgotten, the new one known; the roots between are kept.
    function test_isKnownRoot_evictedByTheSameClassOfHeights() public {
        LightClient long = _longEpochClient();
        uint64 ring = long.ROOT_RING_SIZE();
        _updateLong(long, 1);
        _updateLong(long, 2);
        vm.assertTrue(long.isKnownRoot(_root(1), 1), "root 1 known");
        _updateLong(long, 1 + ring);
        vm.assertFalse(long.isKnownRoot(_root(1), 1), "root 1 evicted");
        vm.assertFalse(long.isKnownRoot(_root(1), 1 + ring), "not known at the new height either");
        vm.assertTrue(long.isKnownRoot(_root(1 + ring), 1 + ring), "new root known");
        vm.assertTrue(long.isKnownRoot(_root(2), 2), "root 2 kept");
        vm.assertTrue(long.isKnownRoot(GENESIS_ROOT, 0), "genesis kept");
        vm.assertEq(long.latestState().historyRoot, _root(1 + ring), "latest root");
    }

    /// @notice States at a constant spacing of heights (3, coprime with the prime ring size) visit
    /// every slot before one is reused: the last ROOT_RING_SIZE roots are all known, the one
    /// before them is not.
    function test_isKnownRoot_keepsTheLastRingOfStatesAtAConstantSpacing() public {
        LightClient long = _longEpochClient();
        uint64 ring = long.ROOT_RING_SIZE();
        for (uint64 i = 1; i <= ring; ++i) {
            _updateLong(long, 3 * i);
        }
        vm.assertFalse(long.isKnownRoot(GENESIS_ROOT, 0), "genesis (height 0) evicted by height 3 * ring");
        for (uint64 i = 1; i <= ring; ++i) {
            vm.assertTrue(long.isKnownRoot(_root(3 * i), 3 * i), "one of the last ring of roots");
        }
        _updateLong(long, 3 * (ring + 1));
        vm.assertFalse(long.isKnownRoot(_root(3), 3), "the oldest evicted");
        vm.assertTrue(long.isKnownRoot(_root(6), 6), "the next kept");
    }

    /// @notice Prepaying slots changes no answer: the placeholder matches no root, and a state
    /// then written into a prepaid slot is known.
    function test_warmRootRing_changesNoAnswer() public {
        LightClient long = _longEpochClient();
        uint64 ring = long.ROOT_RING_SIZE();
        long.warmRootRing(0, ring);
        vm.assertTrue(long.isKnownRoot(GENESIS_ROOT, 0), "genesis slot untouched");
        vm.assertFalse(long.isKnownRoot(bytes32(type(uint256).max ^ 5), 5), "the placeholder matches nothing");
        vm.assertFalse(long.isKnownRoot(bytes32(0), 5), "nor does zero");
        _updateLong(long, 5);
        vm.assertTrue(long.isKnownRoot(_root(5), 5), "written into a prepaid slot");
        long.warmRootRing(5, 1);
        vm.assertTrue(long.isKnownRoot(_root(5), 5), "warming never overwrites a state");
    }

    function test_warmRootRing_revertsWhenBeyondTheRing() public {
        uint64 ring = lc.ROOT_RING_SIZE();
        vm.expectRevert(abi.encodeWithSelector(ILightClient.RingRangeInvalid.selector, ring, 1));
        lc.warmRootRing(ring, 1);
        vm.expectRevert(abi.encodeWithSelector(ILightClient.RingRangeInvalid.selector, 1, ring));
        lc.warmRootRing(1, ring);
        vm.expectRevert(abi.encodeWithSelector(ILightClient.RingRangeInvalid.selector, 1, type(uint256).max));
        lc.warmRootRing(1, type(uint256).max);
        lc.warmRootRing(0, ring);
    }

    /// @notice A state whose tag would read as an empty slot (root = height as a word) or as a
    /// prepaid one (its complement) is refused before the proof is checked: accepting it would
    /// leave its root unknown.
    function test_update_revertsWhenRootUnrepresentable() public {
        uint64 height = 160;
        bytes32[2] memory roots = [bytes32(uint256(height)), ~bytes32(uint256(height))];
        for (uint256 i = 0; i < roots.length; ++i) {
            _updateFails(
                _state(1, height, roots[i], C1),
                C1,
                abi.encodeWithSelector(ILightClient.RootUnrepresentable.selector, roots[i], height)
            );
        }
        // The same roots one height later tag to small non-zero words and are accepted.
        _updateOk(_state(1, height + 1, roots[0], C1), C1);
        vm.assertTrue(lc.isKnownRoot(roots[0], height + 1), "known at the next height");
    }

    function test_constructor_revertsWhenRootUnrepresentable() public {
        bytes32 complement = ~bytes32(uint256(150));
        vm.expectRevert(abi.encodeWithSelector(ILightClient.RootUnrepresentable.selector, bytes32(0), 0));
        new LightClient(_state(0, 0, bytes32(0), C1), C1, L, verifier);
        vm.expectRevert(abi.encodeWithSelector(ILightClient.RootUnrepresentable.selector, complement, 150));
        new LightClient(_state(1, 150, complement, C1), C1, L, verifier);
    }

    /// @notice A root is known only at the height it was accepted at, and no other root is known
    /// at that height.
    function testFuzz_isKnownRoot_onlyTheAcceptedPair(
        uint64 height,
        bytes32 root,
        bytes32 otherRoot,
        uint64 otherHeight
    ) public {
        height = uint64(bound(height, 151, 199));
        vm.assume(root != bytes32(uint256(height)) && root != ~bytes32(uint256(height)));
        _updateOk(_state(1, height, root, C1), C1);
        vm.assertTrue(lc.isKnownRoot(root, height), "accepted pair");
        vm.assume(otherRoot != root && otherHeight != height);
        vm.assertFalse(lc.isKnownRoot(otherRoot, height), "another root at the height");
        vm.assertFalse(lc.isKnownRoot(root, otherHeight), "the root at another height");
    }

    /// @dev A light client whose one epoch spans every height used here (committee C1 throughout),
    /// at genesis height 0.
    function _longEpochClient() internal returns (LightClient) {
        return new LightClient(_state(0, 0, GENESIS_ROOT, C1), C1, type(uint64).max, verifier);
    }

    /// @dev Accepts the state at `height` with root _root(height) into `long`.
    function _updateLong(LightClient long, uint64 height) internal {
        LightClientState memory s = _state(0, height, _root(height), C1);
        long.update(s, _prove(s, C1));
    }
}
