// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {StateInputs} from "./utils/StateInputs.sol";
import {Test} from "./utils/Test.sol";
import {LightClient} from "../src/LightClient.sol";
import {ILightClient} from "../src/interfaces/ILightClient.sol";
import {IStateProofVerifier} from "../src/interfaces/IStateProofVerifier.sol";
import {LightClientState} from "../src/lib/Protocol.sol";

/// @notice A stand-in for the Groth16 verifier in unit tests of LightClient (the code that calls
/// it): a "proof" is valid iff its first word is keccak256(abi.encode(publicInputs)), so a test
/// proves exactly the public inputs it computed itself, and LightClient must pass the same ones.
/// It can also be told to revert with given data, as the real verifier does on malformed proofs.
contract MockStateProofVerifier is IStateProofVerifier {
    /// @notice If non-empty, verifyProof reverts with these bytes.
    bytes public revertData;

    /// @notice Makes verifyProof revert with `data` (empty: stop reverting).
    function setRevertData(bytes calldata data) external {
        revertData = data;
    }

    /// @inheritdoc IStateProofVerifier
    function verifyProof(uint256[8] calldata proof, uint256[4] calldata publicInputs) external view returns (bool) {
        bytes memory data = revertData;
        if (data.length != 0) {
            assembly ("memory-safe") {
                revert(add(data, 0x20), mload(data))
            }
        }
        return proof[0] == uint256(keccak256(abi.encode(publicInputs)));
    }
}

/// @notice Helpers shared by the LightClient tests and its invariant handler: the public inputs of
/// a state computed from the spec (independently of LightClient), mock proofs, and a reference
/// model of the update rules written the way the brief states them.
abstract contract LightClientTestBase is Test {
    /// @dev BN254 scalar field order.
    uint256 internal constant R = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;

    /// @notice What the reference model remembers of the latest state.
    struct Model {
        uint64 chainId;
        uint64 epochLength;
        uint64 epoch;
        uint64 height;
        bytes32 committee;
        bytes32 nextCommittee;
    }

    /// @notice The public inputs of `state` signed by `signers` (test/utils/StateInputs.sol).
    function _inputs(LightClientState memory state, bytes32 signers) internal pure returns (uint256[4] memory x) {
        x = StateInputs.compute(state, signers);
    }

    /// @notice A mock proof that `signers` signed `state`.
    function _prove(LightClientState memory state, bytes32 signers) internal pure returns (uint256[8] memory proof) {
        proof[0] = uint256(keccak256(abi.encode(_inputs(state, signers))));
    }

    /// @notice The error LightClient must revert with when `state` with a proof by `proofSigners`
    /// is submitted after the model's latest state, or empty bytes if it must accept it.
    function _expectedError(Model memory m, LightClientState memory s, bytes32 proofSigners)
        internal
        pure
        returns (bytes memory)
    {
        if (s.chainId != m.chainId) {
            return abi.encodeWithSelector(ILightClient.WrongChain.selector, m.chainId, s.chainId);
        }
        if (s.height <= m.height) {
            return abi.encodeWithSelector(ILightClient.HeightNotIncreasing.selector, m.height, s.height);
        }
        uint64 epochOfHeight = s.height / m.epochLength;
        if (s.epoch != epochOfHeight) {
            return abi.encodeWithSelector(ILightClient.EpochMismatch.selector, s.height, s.epoch, epochOfHeight);
        }
        uint256 length = m.epochLength;
        if (s.epoch > m.epoch) {
            uint256 lastOfCurrent = (uint256(m.epoch) + 1) * length - 1;
            if (m.height != lastOfCurrent) {
                return abi.encodeWithSelector(ILightClient.EpochBoundarySkipped.selector, m.epoch, lastOfCurrent);
            }
            if (s.epoch > m.epoch + 1) {
                return abi.encodeWithSelector(
                    ILightClient.EpochBoundarySkipped.selector, m.epoch + 1, (uint256(m.epoch) + 2) * length - 1
                );
            }
        }
        // Same epoch: the current committee signs; next epoch: the committee the last state named.
        bytes32 signers = s.epoch == m.epoch ? m.committee : m.nextCommittee;
        bool last = uint256(s.height) == (uint256(s.epoch) + 1) * length - 1;
        if (!last && s.nextCommittee != signers) {
            return
                abi.encodeWithSelector(ILightClient.NextCommitteeChanged.selector, s.height, signers, s.nextCommittee);
        }
        if (uint256(s.nextCommittee) >= R) {
            return abi.encodeWithSelector(ILightClient.FieldOverflow.selector, s.nextCommittee);
        }
        uint256 tag = uint256(s.historyRoot) ^ s.height;
        if (tag == 0 || tag == type(uint256).max) {
            return abi.encodeWithSelector(ILightClient.RootUnrepresentable.selector, s.historyRoot, s.height);
        }
        if (proofSigners != signers) {
            return abi.encodeWithSelector(
                ILightClient.InvalidProof.selector, signers, keccak256(abi.encode(_inputs(s, signers)))
            );
        }
        return "";
    }

    /// @notice The model after accepting `s`.
    function _advance(Model memory m, LightClientState memory s) internal pure {
        if (s.epoch != m.epoch) m.committee = m.nextCommittee;
        m.epoch = s.epoch;
        m.height = s.height;
        m.nextCommittee = s.nextCommittee;
    }

    /// @notice Asserts that the light client's views show the model's state with root `root`.
    function _assertMatches(ILightClient lc, Model memory m, bytes32 root) internal view {
        LightClientState memory latest = lc.latestState();
        vm.assertEq(latest.chainId, m.chainId, "chainId");
        vm.assertEq(latest.epoch, m.epoch, "epoch");
        vm.assertEq(latest.height, m.height, "height");
        vm.assertEq(latest.historyRoot, root, "historyRoot");
        vm.assertEq(latest.nextCommittee, m.nextCommittee, "nextCommittee");
        vm.assertEq(lc.latestHeight(), m.height, "latestHeight");
        vm.assertEq(lc.committee(), m.committee, "committee");
        vm.assertTrue(lc.isKnownRoot(root, m.height), "root known at its height");
        if (m.height > 0) vm.assertFalse(lc.isKnownRoot(root, m.height - 1), "root unknown at another height");
    }
}

/// @notice A light client at height 150 of epoch 1 (epochs of 100 heights, committee C1), its
/// model, and helpers that submit states and check the client against the model.
abstract contract LightClientFixture is LightClientTestBase {
    uint64 internal constant CHAIN = 1337;
    /// @dev Epoch e covers heights [100e, 100e + 99].
    uint64 internal constant L = 100;
    bytes32 internal constant C1 = bytes32(uint256(0x1111));
    bytes32 internal constant C2 = bytes32(uint256(0x2222));
    bytes32 internal constant C3 = bytes32(uint256(0x3333));
    bytes32 internal constant GENESIS_ROOT = keccak256("genesis root");

    MockStateProofVerifier internal verifier;
    LightClient internal lc;
    Model internal model;

    /// @notice A light client at height 150 (epoch 1) with committee C1.
    function setUp() public {
        verifier = new MockStateProofVerifier();
        lc = new LightClient(_state(1, 150, GENESIS_ROOT, C1), C1, L, verifier);
        model = Model({chainId: CHAIN, epochLength: L, epoch: 1, height: 150, committee: C1, nextCommittee: C1});
    }

    function _state(uint64 epoch, uint64 height, bytes32 root, bytes32 next)
        internal
        pure
        returns (LightClientState memory)
    {
        return LightClientState({chainId: CHAIN, epoch: epoch, height: height, historyRoot: root, nextCommittee: next});
    }

    function _root(uint256 height) internal pure returns (bytes32) {
        return keccak256(abi.encode("root", height));
    }

    /// @dev Submits `s` signed by `signers` and checks it against the model.
    function _updateOk(LightClientState memory s, bytes32 signers) internal {
        Model memory m = model;
        vm.assertEq(_expectedError(m, s, signers), "", "model accepts");
        vm.expectEmit(address(lc));
        emit ILightClient.StateUpdated(s.height, s.epoch, s.historyRoot, signers);
        lc.update(s, _prove(s, signers));
        _advance(m, s);
        model = m;
        _assertMatches(lc, m, s.historyRoot);
    }

    /// @dev Submits `s` signed by `signers` and expects exactly `err`, which the model must agree with.
    function _updateFails(LightClientState memory s, bytes32 signers, bytes memory err) internal {
        vm.assertEq(_expectedError(model, s, signers), err, "model agrees");
        uint256[8] memory proof = _prove(s, signers);
        vm.expectRevert(err);
        lc.update(s, proof);
    }
}

/// @notice Unit and fuzz tests of LightClient with the mock verifier: every rule and every revert.
contract LightClientTest is LightClientFixture {
    // ---------------------------------------------------------------------------------------------
    // Constructor
    // ---------------------------------------------------------------------------------------------

    /// @notice The genesis state is stored, its root known, and StateUpdated emitted.
    function test_constructor_storesGenesis() public {
        vm.expectEmit();
        emit ILightClient.StateUpdated(150, 1, GENESIS_ROOT, C1);
        LightClient fresh = new LightClient(_state(1, 150, GENESIS_ROOT, C1), C1, L, verifier);
        _assertMatches(fresh, model, GENESIS_ROOT);
        vm.assertEq(fresh.chainId(), CHAIN, "chainId");
        vm.assertEq(fresh.epochLength(), L, "epochLength");
        vm.assertEq(address(fresh.verifier()), address(verifier), "verifier");
        vm.assertFalse(fresh.isKnownRoot(keccak256("unknown"), 150), "unknown root");
        vm.assertFalse(fresh.isKnownRoot(GENESIS_ROOT, 150 + fresh.ROOT_RING_SIZE()), "same slot, other height");
        vm.assertFalse(fresh.isKnownRoot(bytes32(0), 0), "an empty slot matches nothing");
    }

    /// @notice Genesis at height 0 is known at height 0 (its tag is the root itself).
    function test_constructor_genesisAtHeightZero() public {
        LightClient fresh = new LightClient(_state(0, 0, GENESIS_ROOT, C1), C1, L, verifier);
        vm.assertTrue(fresh.isKnownRoot(GENESIS_ROOT, 0), "known");
        vm.assertEq(fresh.latestState().historyRoot, GENESIS_ROOT, "latest root");
    }

    /// @notice A genesis state at its epoch's last height may name another next committee.
    function test_constructor_genesisAtEpochEndNamesNextCommittee() public {
        LightClient fresh = new LightClient(_state(1, 199, GENESIS_ROOT, C2), C1, L, verifier);
        vm.assertEq(fresh.committee(), C1, "committee");
        vm.assertEq(fresh.latestState().nextCommittee, C2, "next");
    }

    function test_constructor_revertsWhenZeroEpochLength() public {
        vm.expectRevert(abi.encodeWithSelector(ILightClient.ZeroEpochLength.selector));
        new LightClient(_state(0, 150, GENESIS_ROOT, C1), C1, 0, verifier);
    }

    function test_constructor_revertsWhenVerifierNotContract() public {
        address eoa = address(0xBEEF);
        vm.expectRevert(abi.encodeWithSelector(ILightClient.VerifierNotContract.selector, eoa));
        new LightClient(_state(1, 150, GENESIS_ROOT, C1), C1, L, IStateProofVerifier(eoa));
    }

    function test_constructor_revertsWhenEpochMismatch() public {
        vm.expectRevert(abi.encodeWithSelector(ILightClient.EpochMismatch.selector, 150, 2, 1));
        new LightClient(_state(2, 150, GENESIS_ROOT, C1), C1, L, verifier);
    }

    function test_constructor_revertsWhenFieldOverflow() public {
        bytes32 big = bytes32(R);
        vm.expectRevert(abi.encodeWithSelector(ILightClient.FieldOverflow.selector, big));
        new LightClient(_state(1, 150, GENESIS_ROOT, big), big, L, verifier);
        vm.expectRevert(abi.encodeWithSelector(ILightClient.FieldOverflow.selector, big));
        new LightClient(_state(1, 199, GENESIS_ROOT, big), C1, L, verifier);
    }

    function test_constructor_revertsWhenNextCommitteeChanged() public {
        vm.expectRevert(abi.encodeWithSelector(ILightClient.NextCommitteeChanged.selector, 150, C1, C2));
        new LightClient(_state(1, 150, GENESIS_ROOT, C2), C1, L, verifier);
    }

    // ---------------------------------------------------------------------------------------------
    // update: accepted
    // ---------------------------------------------------------------------------------------------

    /// @notice Later heights of the same epoch, signed by its committee, are accepted (heights may
    /// be skipped inside an epoch), and every root stays known at its height.
    function test_update_sameEpoch() public {
        _updateOk(_state(1, 151, _root(151), C1), C1);
        _updateOk(_state(1, 170, _root(170), C1), C1);
        vm.assertTrue(lc.isKnownRoot(GENESIS_ROOT, 150), "genesis root kept");
        vm.assertTrue(lc.isKnownRoot(_root(151), 151), "root 151 kept");
        vm.assertFalse(lc.isKnownRoot(_root(151), 170), "root 151 unknown at 170");
    }

    /// @notice The last height of epoch 1 names C2; epoch 2's states are then signed by C2, which
    /// becomes the committee; its own last height may hand over to C3.
    function test_update_acrossEpochBoundaries() public {
        _updateOk(_state(1, 199, _root(199), C2), C1);
        vm.assertEq(lc.committee(), C1, "still C1 until epoch 2");
        _updateOk(_state(2, 200, _root(200), C2), C2);
        vm.assertEq(lc.committee(), C2, "C2 in epoch 2");
        _updateOk(_state(2, 299, _root(299), C3), C2);
        _updateOk(_state(3, 350, _root(350), C3), C3);
        vm.assertEq(lc.committee(), C3, "C3 in epoch 3");
    }

    /// @notice An epoch's last state may keep the same committee; the next epoch goes on with it.
    function test_update_boundaryWithSameCommittee() public {
        _updateOk(_state(1, 199, _root(199), C1), C1);
        _updateOk(_state(2, 250, _root(250), C1), C1);
    }

    /// @notice Anyone may update.
    function test_update_isPermissionless() public {
        LightClientState memory s = _state(1, 151, _root(151), C1);
        uint256[8] memory proof = _prove(s, C1);
        vm.prank(address(0xA11CE));
        lc.update(s, proof);
        vm.assertEq(lc.latestHeight(), 151, "updated");
    }

    /// @notice With one height per epoch, every state is its epoch's last and may rotate.
    function test_update_epochLengthOne() public {
        LightClient one = new LightClient(_state(5, 5, GENESIS_ROOT, C2), C1, 1, verifier);
        Model memory m = Model({chainId: CHAIN, epochLength: 1, epoch: 5, height: 5, committee: C1, nextCommittee: C2});
        bytes32[3] memory committees = [C1, C2, C3];
        for (uint64 h = 6; h < 12; ++h) {
            LightClientState memory s = _state(h, h, _root(h), committees[h % 3]);
            vm.assertEq(_expectedError(m, s, m.nextCommittee), "", "model accepts");
            one.update(s, _prove(s, m.nextCommittee));
            _advance(m, s);
            _assertMatches(one, m, s.historyRoot);
        }
        // Skipping a height skips an epoch's last height.
        LightClientState memory skip = _state(13, 13, _root(13), C1);
        vm.expectRevert(abi.encodeWithSelector(ILightClient.EpochBoundarySkipped.selector, 12, 12));
        one.update(skip, _prove(skip, m.nextCommittee));
    }

    // ---------------------------------------------------------------------------------------------
    // update: rejected
    // ---------------------------------------------------------------------------------------------

    function test_update_revertsWhenWrongChain() public {
        LightClientState memory s = _state(1, 151, _root(151), C1);
        s.chainId = CHAIN + 1;
        _updateFails(s, C1, abi.encodeWithSelector(ILightClient.WrongChain.selector, CHAIN, CHAIN + 1));
    }

    function test_update_revertsWhenHeightNotIncreasing() public {
        _updateFails(
            _state(1, 150, _root(150), C1),
            C1,
            abi.encodeWithSelector(ILightClient.HeightNotIncreasing.selector, 150, 150)
        );
        _updateFails(
            _state(1, 149, _root(149), C1),
            C1,
            abi.encodeWithSelector(ILightClient.HeightNotIncreasing.selector, 150, 149)
        );
        _updateFails(
            _state(0, 0, _root(0), C1), C1, abi.encodeWithSelector(ILightClient.HeightNotIncreasing.selector, 150, 0)
        );
    }

    function test_update_revertsWhenEpochMismatch() public {
        _updateFails(
            _state(2, 151, _root(151), C1), C1, abi.encodeWithSelector(ILightClient.EpochMismatch.selector, 151, 2, 1)
        );
        _updateFails(
            _state(1, 200, _root(200), C1), C1, abi.encodeWithSelector(ILightClient.EpochMismatch.selector, 200, 1, 2)
        );
    }

    /// @notice Height 199 (the last of epoch 1) must be proven before any state of epoch 2.
    function test_update_revertsWhenEpochBoundarySkipped() public {
        _updateFails(
            _state(2, 200, _root(200), C1),
            C1,
            abi.encodeWithSelector(ILightClient.EpochBoundarySkipped.selector, 1, 199)
        );
        _updateFails(
            _state(3, 300, _root(300), C1),
            C1,
            abi.encodeWithSelector(ILightClient.EpochBoundarySkipped.selector, 1, 199)
        );
    }

    /// @notice At the last height of epoch 1, a state of epoch 3 would skip epoch 2's last height.
    function test_update_revertsWhenEpochBoundarySkippedFromEpochEnd() public {
        _updateOk(_state(1, 199, _root(199), C2), C1);
        _updateFails(
            _state(3, 300, _root(300), C2),
            C2,
            abi.encodeWithSelector(ILightClient.EpochBoundarySkipped.selector, 2, 299)
        );
    }

    /// @notice Only an epoch's last state may name another committee.
    function test_update_revertsWhenNextCommitteeChanged() public {
        _updateFails(
            _state(1, 151, _root(151), C2),
            C1,
            abi.encodeWithSelector(ILightClient.NextCommitteeChanged.selector, 151, C1, C2)
        );
        _updateFails(
            _state(1, 198, _root(198), C2),
            C1,
            abi.encodeWithSelector(ILightClient.NextCommitteeChanged.selector, 198, C1, C2)
        );
    }

    /// @notice A next committee outside the BN254 scalar field is refused (no committee has it).
    function test_update_revertsWhenFieldOverflow() public {
        bytes32 big = bytes32(R);
        _updateFails(
            _state(1, 199, _root(199), big), C1, abi.encodeWithSelector(ILightClient.FieldOverflow.selector, big)
        );
        big = bytes32(type(uint256).max);
        _updateFails(
            _state(1, 199, _root(199), big), C1, abi.encodeWithSelector(ILightClient.FieldOverflow.selector, big)
        );
    }

    /// @notice A proof by any other committee than the epoch's is refused.
    function test_update_revertsWhenInvalidProof() public {
        LightClientState memory s = _state(1, 151, _root(151), C1);
        bytes memory err =
            abi.encodeWithSelector(ILightClient.InvalidProof.selector, C1, keccak256(abi.encode(_inputs(s, C1))));
        _updateFails(s, C2, err);
        // A garbage proof.
        vm.expectRevert(err);
        lc.update(s, [uint256(1), 2, 3, 4, 5, 6, 7, 8]);
    }

    /// @notice After a rotation the old committee can no longer sign, and across a boundary the
    /// current committee cannot sign for the next epoch.
    function test_update_revertsWhenWrongCommitteeAcrossRotation() public {
        _updateOk(_state(1, 199, _root(199), C2), C1);
        LightClientState memory s = _state(2, 200, _root(200), C2);
        _updateFails(
            s, C1, abi.encodeWithSelector(ILightClient.InvalidProof.selector, C2, keccak256(abi.encode(_inputs(s, C2))))
        );
        _updateOk(s, C2);
        s = _state(2, 201, _root(201), C2);
        _updateFails(
            s, C1, abi.encodeWithSelector(ILightClient.InvalidProof.selector, C2, keccak256(abi.encode(_inputs(s, C2))))
        );
    }

    /// @notice The proof is bound to every field of the state: a proof of one state does not
    /// prove another that differs in any field.
    function test_update_revertsWhenProofIsForAnotherState() public {
        LightClientState memory s = _state(1, 199, _root(199), C2);
        uint256[8] memory proof = _prove(s, C1);
        LightClientState[4] memory others = [
            _state(1, 199, _root(199), C3),
            _state(1, 199, _root(198), C2),
            _state(1, 199, _root(199) ^ bytes32(uint256(1)), C2),
            _state(1, 199, _root(199) ^ bytes32(uint256(1) << 255), C2)
        ];
        for (uint256 i = 0; i < others.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    ILightClient.InvalidProof.selector, C1, keccak256(abi.encode(_inputs(others[i], C1)))
                )
            );
            lc.update(others[i], proof);
        }
        // Height (and so the packed counters) is covered by the same proof of 198.
        LightClientState memory h = _state(1, 198, _root(199), C1);
        vm.expectRevert(
            abi.encodeWithSelector(ILightClient.InvalidProof.selector, C1, keccak256(abi.encode(_inputs(h, C1))))
        );
        lc.update(h, _prove(_state(1, 197, _root(199), C1), C1));
        lc.update(s, proof);
    }

    /// @notice The verifier's own error for a malformed proof reaches the caller unchanged.
    function test_update_revertsWithVerifierError() public {
        bytes memory err = abi.encodeWithSignature("ProofCoordinateNotInField(uint256)", 3);
        verifier.setRevertData(err);
        LightClientState memory s = _state(1, 151, _root(151), C1);
        uint256[8] memory proof = _prove(s, C1);
        vm.expectRevert(err);
        lc.update(s, proof);
    }

    /// @notice A rejected update changes nothing.
    function test_update_rejectedLeavesStateUnchanged() public {
        LightClientState memory s = _state(1, 151, _root(151), C1);
        uint256[8] memory proof = _prove(s, C2);
        try lc.update(s, proof) {
            vm.assertTrue(false, "must revert");
        } catch {}
        _assertMatches(lc, model, GENESIS_ROOT);
        vm.assertFalse(lc.isKnownRoot(_root(151), 151), "rejected root unknown");
    }

    // ---------------------------------------------------------------------------------------------
    // Fuzz
    // ---------------------------------------------------------------------------------------------

    /// @notice For any epoch length, genesis and candidate state, LightClient accepts exactly what
    /// the reference model accepts and otherwise reverts with the model's error.
    function testFuzz_update_matchesModel(
        uint64 epochLength,
        uint64 genesisHeight,
        bool genesisRotates,
        uint64 step,
        uint256 choices,
        bytes32 root
    ) public {
        (LightClient fresh, Model memory m) = _deployAt(epochLength, genesisHeight, genesisRotates);
        (LightClientState memory s, bytes32 signers) = _candidate(m, step, choices, root);
        bytes memory err = _expectedError(m, s, signers);
        uint256[8] memory proof = _prove(s, signers);
        if (err.length != 0) {
            vm.expectRevert(err);
            fresh.update(s, proof);
        } else {
            fresh.update(s, proof);
            _advance(m, s);
            _assertMatches(fresh, m, root);
        }
    }

    /// @dev A light client with committee C1 at `genesisHeight` (next committee C2 if asked and
    /// the height ends its epoch), and its model.
    function _deployAt(uint64 epochLength, uint64 genesisHeight, bool rotates)
        internal
        returns (LightClient fresh, Model memory m)
    {
        epochLength = uint64(bound(epochLength, 1, 1_000));
        genesisHeight = uint64(bound(genesisHeight, 0, type(uint64).max - 1));
        uint64 epoch = genesisHeight / epochLength;
        bool last = (uint256(genesisHeight) + 1) % epochLength == 0;
        bytes32 next = rotates && last ? C2 : C1;
        fresh = new LightClient(_state(epoch, genesisHeight, GENESIS_ROOT, next), C1, epochLength, verifier);
        m = Model({
            chainId: CHAIN,
            epochLength: epochLength,
            epoch: epoch,
            height: genesisHeight,
            committee: C1,
            nextCommittee: next
        });
    }

    /// @dev A candidate state near the model's height (so that every epoch rule is reached), its
    /// epoch mostly right, its next committee and signers often the expected committee, otherwise
    /// C1, C2, C3 or (next committee only) a value out of the field.
    function _candidate(Model memory m, uint64 step, uint256 choices, bytes32 root)
        internal
        pure
        returns (LightClientState memory s, bytes32 signers)
    {
        uint256 height = uint256(m.height) + bound(step, 0, 3 * uint256(m.epochLength));
        height = height == 0 ? 0 : height - 1;
        if (height > type(uint64).max) height = type(uint64).max;
        // casting to 'uint64' is safe because of the clamp above
        // forge-lint: disable-next-line(unsafe-typecast)
        s = _state(0, uint64(height), root, C1);
        s.epoch = s.height / m.epochLength;
        uint256 epochTweak = choices % 8;
        if (epochTweak == 1 && s.epoch < type(uint64).max) s.epoch += 1;
        if (epochTweak == 2 && s.epoch > 0) s.epoch -= 1;
        // Half of the time the committee the rules call for, so that valid states are common.
        bytes32 expected = s.epoch == m.epoch ? m.committee : m.nextCommittee;
        bytes32[8] memory committees =
            [expected, expected, expected, expected, C1, C2, C3, bytes32(R + (choices >> 128))];
        s.nextCommittee = committees[(choices >> 8) % 8];
        signers = committees[(choices >> 16) % 7];
    }

    /// @notice A proof by any committee other than the epoch's is refused.
    function testFuzz_update_rejectsAnyOtherCommittee(bytes32 signers, uint64 step, bytes32 root) public {
        vm.assume(signers != C1);
        LightClientState memory s = _state(1, uint64(bound(step, 151, 199)), root, C1);
        _updateFails(
            s,
            signers,
            abi.encodeWithSelector(ILightClient.InvalidProof.selector, C1, keccak256(abi.encode(_inputs(s, C1))))
        );
    }

    /// @notice The public inputs are the reference packing, and flipping any one of the 448 bits of
    /// chainId ‖ epoch ‖ height ‖ historyRoot changes them (bit 0 is the root's lowest).
    function testFuzz_publicInputs_bindEveryBit(LightClientState memory s, bytes32 signers, uint256 bit) public view {
        s.nextCommittee = bytes32(uint256(s.nextCommittee) % R);
        signers = bytes32(uint256(signers) % R);
        bit = bound(bit, 0, 447);
        uint256[4] memory inputs = lc.publicInputs(s, signers);
        vm.assertEq(keccak256(abi.encode(inputs)), keccak256(abi.encode(_inputs(s, signers))), "reference");
        LightClientState memory flipped = s;
        if (bit < 256) flipped.historyRoot = s.historyRoot ^ bytes32(uint256(1) << bit);
        else if (bit < 320) flipped.height = s.height ^ uint64(2 ** (bit - 256));
        else if (bit < 384) flipped.epoch = s.epoch ^ uint64(2 ** (bit - 320));
        else flipped.chainId = s.chainId ^ uint64(2 ** (bit - 384));
        uint256[4] memory other = lc.publicInputs(flipped, signers);
        vm.assertTrue(other[0] != inputs[0] || other[1] != inputs[1], "a flipped bit changes the state words");
        vm.assertEq(other[2], inputs[2], "signers");
        vm.assertEq(other[3], inputs[3], "nextCommittee");
        for (uint256 i = 0; i < 4; ++i) {
            vm.assertLt(other[i], R, "field element");
        }
    }

    /// @notice update hands the verifier exactly the reference inputs: a proof of one state does
    /// not prove the state with any one bit of its root flipped.
    function testFuzz_update_proofBindsEveryRootBit(uint64 height, bytes32 root, uint8 bit) public {
        LightClientState memory s = _state(1, uint64(bound(height, 151, 199)), root, C1);
        uint256[8] memory proof = _prove(s, C1);
        LightClientState memory flipped = _state(1, s.height, root ^ bytes32(uint256(1) << bit), C1);
        vm.expectRevert(
            abi.encodeWithSelector(ILightClient.InvalidProof.selector, C1, keccak256(abi.encode(_inputs(flipped, C1))))
        );
        lc.update(flipped, proof);
        lc.update(s, proof);
    }

    /// @notice Any valid same-epoch state is accepted and its root recorded at its height.
    function testFuzz_update_acceptsValidSameEpoch(uint64 height, bytes32 root) public {
        vm.assume(root != GENESIS_ROOT);
        height = uint64(bound(height, 151, 199));
        _updateOk(_state(1, height, root, C1), C1);
    }
}

/// @notice A verifier that accepts every proof: isolates LightClient's own gas.
contract AcceptingVerifier is IStateProofVerifier {
    /// @inheritdoc IStateProofVerifier
    function verifyProof(uint256[8] calldata, uint256[4] calldata) external pure returns (bool) {
        return true;
    }
}

/// @notice LightClient's own gas per kind of update (the verifier accepting at once), recorded in
/// snapshots/LightClient.json beside the Groth16 numbers of LightClientGroth16Test: an update
/// costs about update_lcOnly_* + verifyProof_groth16. The clients are deployed in setUp so that
/// each measured update meets cold storage, as on chain, and their ring slots are prepaid (the
/// steady state); update_lcOnly_unusedRingSlot is the first use of a slot.
contract LightClientGasTest is LightClientTestBase {
    bytes32 internal constant C1 = bytes32(uint256(0x1111));
    bytes32 internal constant C2 = bytes32(uint256(0x2222));

    LightClient internal inEpoch;
    LightClient internal atEpochEnd;
    LightClient internal unwarmed;

    /// @notice One client at height 150 (epoch 1 of 100 heights), one at 199 handing over to C2.
    function setUp() public {
        IStateProofVerifier yes = new AcceptingVerifier();
        inEpoch = new LightClient(LightClientState(1, 1, 150, keccak256("g"), C1), C1, 100, yes);
        atEpochEnd = new LightClient(LightClientState(1, 1, 199, keccak256("g"), C2), C1, 100, yes);
        unwarmed = new LightClient(LightClientState(1, 1, 150, keccak256("g"), C1), C1, 100, yes);
        inEpoch.warmRootRing(151, 49);
        atEpochEnd.warmRootRing(200, 1);
    }

    /// @notice A state inside the epoch whose ring slot no state has used yet.
    function test_gas_unusedRingSlot() public {
        uint256[8] memory proof;
        unwarmed.update(LightClientState(1, 1, 151, keccak256("151"), C1), proof);
        vm.snapshotGasLastCall("LightClient", "update_lcOnly_unusedRingSlot");
    }

    /// @notice Prepaying the whole ring once (warmRootRing over every slot).
    function test_gas_warmWholeRing() public {
        unwarmed.warmRootRing(0, unwarmed.ROOT_RING_SIZE());
        vm.snapshotGasLastCall("LightClient", "warmRootRing_wholeRing");
    }

    /// @notice A state inside the epoch: the common case.
    function test_gas_sameEpoch() public {
        uint256[8] memory proof;
        inEpoch.update(LightClientState(1, 1, 151, keccak256("151"), C1), proof);
        vm.snapshotGasLastCall("LightClient", "update_lcOnly_sameEpoch");
    }

    /// @notice The last state of an epoch, naming a new committee.
    function test_gas_epochEndRotating() public {
        uint256[8] memory proof;
        inEpoch.update(LightClientState(1, 1, 199, keccak256("199"), C2), proof);
        vm.snapshotGasLastCall("LightClient", "update_lcOnly_epochEndRotating");
    }

    /// @notice The first state of an epoch whose committee changed.
    function test_gas_newEpochRotated() public {
        uint256[8] memory proof;
        atEpochEnd.update(LightClientState(1, 2, 200, keccak256("200"), C2), proof);
        vm.snapshotGasLastCall("LightClient", "update_lcOnly_newEpochRotated");
    }
}
