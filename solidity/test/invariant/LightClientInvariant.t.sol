// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "../utils/Test.sol";
import {LightClientTestBase, MockStateProofVerifier} from "../LightClient.t.sol";
import {LightClient} from "../../src/LightClient.sol";
import {ILightClient} from "../../src/interfaces/ILightClient.sol";
import {LightClientState} from "../../src/lib/Protocol.sol";

/// @notice Drives a LightClient (mock verifier, epochs of 4 heights, so that boundaries and
/// rotations are frequent) with sequences of candidate states: mostly near the latest height,
/// mostly with the right epoch and committee, sometimes with a garbage proof. Each outcome is
/// compared with the reference model of LightClientTestBase; ghost variables record what the
/// invariants check.
contract LightClientHandler is LightClientTestBase {
    uint64 internal constant CHAIN = 1337;
    uint64 internal constant L = 4;
    bytes32 internal constant C1 = bytes32(uint256(0x1111));
    bytes32 internal constant C2 = bytes32(uint256(0x2222));
    bytes32 internal constant C3 = bytes32(uint256(0x3333));

    /// @notice The light client under test.
    LightClient public lc;
    /// @notice The root of the genesis state.
    bytes32 public constant GENESIS_ROOT = keccak256("invariant genesis");

    /// @notice Outcomes (accepted or the revert data) that differed from the model's.
    uint256 public mismatches;
    /// @notice Calls after which the latest height was below the height before the call.
    uint256 public decreases;
    /// @notice Roots of accepted states, and their heights.
    bytes32[] public acceptedRoots;
    uint64[] public acceptedHeights;
    /// @notice Roots of refused states (each root is used once).
    bytes32[] public rejectedRoots;
    uint64[] public rejectedHeights;
    /// @notice The latest accepted root.
    bytes32 public latestRoot;
    /// @notice Accepted states that started an epoch with another committee than the last.
    uint256 public rotations;

    Model internal _model;
    uint256 internal _nonce;

    constructor() {
        MockStateProofVerifier verifier = new MockStateProofVerifier();
        lc = new LightClient(LightClientState(CHAIN, 1, 5, GENESIS_ROOT, C1), C1, L, verifier);
        _model = Model({chainId: CHAIN, epochLength: L, epoch: 1, height: 5, committee: C1, nextCommittee: C1});
        latestRoot = GENESIS_ROOT;
    }

    /// @notice Submits a candidate state with a mock proof by a chosen committee.
    function update(uint64 step, uint256 choices) external {
        Model memory m = _model;
        (LightClientState memory s, bytes32 signers) = _candidate(m, step, choices);
        _submit(m, s, _prove(s, signers), _expectedError(m, s, signers));
    }

    /// @notice Submits a state the rules allow, with a garbage proof: always refused.
    function updateWithGarbageProof(uint64 step, uint256 word) external {
        Model memory m = _model;
        (LightClientState memory s, bytes32 signers) = _candidate(m, step, 0);
        bytes memory err = _expectedError(m, s, signers);
        if (err.length == 0) {
            err = abi.encodeWithSelector(
                ILightClient.InvalidProof.selector, signers, keccak256(abi.encode(_inputs(s, signers)))
            );
        }
        uint256[8] memory proof;
        proof[0] = word;
        if (word == uint256(keccak256(abi.encode(_inputs(s, signers))))) return;
        _submit(m, s, proof, err);
    }

    /// @notice Number of accepted states.
    function acceptedCount() external view returns (uint256) {
        return acceptedRoots.length;
    }

    /// @notice Number of refused states.
    function rejectedCount() external view returns (uint256) {
        return rejectedRoots.length;
    }

    /// @notice The model's latest state.
    function model() external view returns (Model memory) {
        return _model;
    }

    function _submit(Model memory m, LightClientState memory s, uint256[8] memory proof, bytes memory err) internal {
        uint64 before = lc.latestHeight();
        try lc.update(s, proof) {
            if (err.length != 0) ++mismatches;
            if (s.epoch != m.epoch && m.nextCommittee != m.committee) ++rotations;
            _advance(m, s);
            _model = m;
            acceptedRoots.push(s.historyRoot);
            acceptedHeights.push(s.height);
            latestRoot = s.historyRoot;
        } catch (bytes memory reason) {
            if (keccak256(reason) != keccak256(err)) ++mismatches;
            rejectedRoots.push(s.historyRoot);
            rejectedHeights.push(s.height);
        }
        if (lc.latestHeight() < before) ++decreases;
    }

    /// @dev A candidate: half of the time the next height, otherwise up to two epochs past the
    /// latest (or not above it); epoch mostly right; next committee and signers mostly what the
    /// rules call for. The fuzzer's inputs are hashed first, so that its favourite values (0,
    /// max, ...) do not all land on the same kind of candidate.
    function _candidate(Model memory m, uint64 step, uint256 choices)
        internal
        returns (LightClientState memory s, bytes32 signers)
    {
        uint256 r = uint256(keccak256(abi.encode(step, choices)));
        uint256 height = uint256(m.height) + (r % 2 == 0 ? 1 : (r >> 1) % (2 * L + 1));
        s.chainId = (r >> 8) % 64 == 1 ? CHAIN + 1 : CHAIN;
        // casting to 'uint64' is safe: heights stay far below 2^64 in these runs
        // forge-lint: disable-next-line(unsafe-typecast)
        s.height = uint64(height);
        s.epoch = s.height / L;
        if ((r >> 16) % 16 == 1) s.epoch += 1;
        s.historyRoot = keccak256(abi.encode("root", ++_nonce));
        bytes32 expected = s.epoch == m.epoch ? m.committee : m.nextCommittee;
        bytes32[6] memory committees = [expected, expected, expected, C1, C2, C3];
        bool last = (uint256(s.height) + 1) % L == 0;
        s.nextCommittee = last ? committees[(r >> 24) % 6] : expected;
        if ((r >> 32) % 16 == 1) s.nextCommittee = committees[(r >> 40) % 6];
        if ((r >> 48) % 64 == 1) s.nextCommittee = bytes32(R);
        signers = (r >> 56) % 8 == 1 ? committees[3 + (r >> 64) % 3] : expected;
    }
}

/// @notice Invariants of LightClient under random sequences of updates (LightClientHandler).
contract LightClientInvariantTest is Test {
    LightClientHandler internal handler;

    /// @notice Deploys the handler (which deploys the light client).
    function setUp() public {
        handler = new LightClientHandler();
    }

    /// @notice Only the handler is called by the fuzzer.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice After each run: the run exercised both outcomes (a guard against a handler that
    /// only ever produces refused states, which would make the invariants vacuous).
    function afterInvariant() public view {
        vm.assertGe(handler.acceptedCount(), 1, "some states accepted");
        vm.assertGe(handler.rejectedCount(), 1, "some states refused");
    }

    /// @notice Every update was accepted or refused exactly as the reference model says, with
    /// the model's error.
    /// forge-config: default.invariant.runs = 64
    /// forge-config: default.invariant.depth = 64
    function invariant_matchesModel() public view {
        vm.assertEq(handler.mismatches(), 0, "outcomes differ from the model");
    }

    /// @notice The light client's height never decreases.
    /// forge-config: default.invariant.runs = 64
    /// forge-config: default.invariant.depth = 64
    function invariant_heightNeverDecreases() public view {
        vm.assertEq(handler.decreases(), 0, "height decreased");
        uint256 n = handler.acceptedCount();
        for (uint256 i = 1; i < n; ++i) {
            vm.assertLt(handler.acceptedHeights(i - 1), handler.acceptedHeights(i), "accepted heights increase");
        }
    }

    /// @notice Only proven roots are known, each at its height alone: the genesis root and the
    /// roots of accepted states, unless a later accepted state took its ring slot (a height in the
    /// same class modulo ROOT_RING_SIZE); no refused root is known; the latest state is the model's.
    /// forge-config: default.invariant.runs = 64
    /// forge-config: default.invariant.depth = 64
    function invariant_onlyProvenRootsKnown() public view {
        LightClient lc = handler.lc();
        uint64 ring = lc.ROOT_RING_SIZE();
        uint256 n = handler.acceptedCount();
        bool genesisEvicted;
        for (uint256 i = 0; i < n; ++i) {
            genesisEvicted = genesisEvicted || handler.acceptedHeights(i) % ring == 5 % ring;
        }
        vm.assertEq(lc.isKnownRoot(handler.GENESIS_ROOT(), 5), !genesisEvicted, "genesis root");
        for (uint256 i = 0; i < n; ++i) {
            uint64 height = handler.acceptedHeights(i);
            bool evicted;
            for (uint256 j = i + 1; j < n; ++j) {
                evicted = evicted || handler.acceptedHeights(j) % ring == height % ring;
            }
            bytes32 root = handler.acceptedRoots(i);
            vm.assertEq(lc.isKnownRoot(root, height), !evicted, "accepted root known until evicted");
            vm.assertFalse(lc.isKnownRoot(root, height + 1), "not at another height");
        }
        n = handler.rejectedCount();
        for (uint256 i = 0; i < n; ++i) {
            vm.assertFalse(lc.isKnownRoot(handler.rejectedRoots(i), handler.rejectedHeights(i)), "refused root unknown");
        }
        LightClientState memory latest = lc.latestState();
        LightClientHandler.Model memory m = handler.model();
        vm.assertEq(latest.height, m.height, "latest height");
        vm.assertEq(latest.epoch, m.epoch, "latest epoch");
        vm.assertEq(latest.historyRoot, handler.latestRoot(), "latest root");
        vm.assertEq(latest.nextCommittee, m.nextCommittee, "next committee");
        vm.assertEq(lc.committee(), m.committee, "committee");
    }
}
