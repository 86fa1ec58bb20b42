// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {BlockRecordsTestBase} from "./utils/BlockRecordsTestBase.sol";
import {RollupSettlement} from "../src/demo/RollupSettlement.sol";

/// @notice The demo RollupSettlement against the golden vectors: it accepts a state root for
/// every confirmed block of rollup 901 and refuses anything trestle did not confirm.
contract RollupSettlementTest is BlockRecordsTestBase {
    address internal constant PROPOSER = address(0x9809);

    RollupSettlement internal settlement;

    /// @notice Reads the fixture, deploys the confirmations and a settlement for rollup 901.
    function setUp() public {
        _setUpFixture();
        settlement = new RollupSettlement(confirmations, rollup, PROPOSER);
    }

    function _stateRoot(Case memory c) internal pure returns (bytes32) {
        return keccak256(abi.encode("state root", c.number));
    }

    function _submit(Case memory c) internal {
        vm.prank(PROPOSER);
        settlement.submitStateRoot(c.number, c.hash, c.parentHash, _stateRoot(c), c.proof);
    }

    /// @dev Expects BlockNotConfirmed(c.number, c.hash) from submitting `c`, and nothing stored.
    function _assertNotConfirmed(Case memory c) internal {
        vm.expectRevert(abi.encodeWithSelector(RollupSettlement.BlockNotConfirmed.selector, c.number, c.hash));
        _submit(c);
        vm.assertEq(settlement.stateRootOf(c.number), bytes32(0), "nothing stored");
    }

    /// @notice Every confirmed block of the fixture gets its state root, with StateRootAccepted.
    function test_submitStateRoot_acceptsConfirmedBlocks() public {
        vm.assertEq(settlement.rollupChainId(), rollup, "rollup");
        vm.assertEq(address(settlement.confirmations()), address(confirmations), "confirmations");
        vm.assertEq(settlement.proposer(), PROPOSER, "proposer");
        for (uint256 i = 0; i < cases.length; ++i) {
            Case memory c = _case(i);
            vm.expectEmit(address(settlement));
            emit RollupSettlement.StateRootAccepted(c.number, c.hash, _stateRoot(c));
            _submit(c);
            vm.assertEq(settlement.stateRootOf(c.number), _stateRoot(c), "state root stored");
            vm.assertEq(settlement.blockHashOf(c.number), c.hash, "block hash stored");
        }
    }

    /// @notice Another block hash at a confirmed number is refused.
    function test_submitStateRoot_revertsWhenBlockHashAltered() public {
        Case memory c = _case(2);
        c.hash = keccak256("a conflicting block");
        _assertNotConfirmed(c);
    }

    /// @notice A confirmed block submitted under another number is refused.
    function test_submitStateRoot_revertsWhenNumberAltered() public {
        Case memory c = _case(3);
        c.number += 1;
        _assertNotConfirmed(c);
    }

    /// @notice A parent hash other than the recorded one is refused.
    function test_submitStateRoot_revertsWhenParentHashAltered() public {
        Case memory c = _case(4);
        c.parentHash = keccak256("another parent");
        _assertNotConfirmed(c);
    }

    /// @notice A proof with one sibling changed is refused.
    function test_submitStateRoot_revertsWhenProofAltered() public {
        Case memory c = _case(5);
        c.proof.historyProof.siblings[0] ^= bytes32(uint256(1));
        _assertNotConfirmed(c);
    }

    /// @notice A proof against a history root the light client never accepted is refused.
    function test_submitStateRoot_revertsWhenHistoryRootUnknown() public {
        Case memory c = _case(0);
        c.proof.historyRoot = keccak256("unknown root");
        _assertNotConfirmed(c);
    }

    /// @notice Rollup 901's records do not settle rollup 902.
    function test_submitStateRoot_revertsWhenRecordOfAnotherRollup() public {
        RollupSettlement other = new RollupSettlement(confirmations, otherRollup, PROPOSER);
        Case memory c = _case(1);
        vm.expectRevert(abi.encodeWithSelector(RollupSettlement.BlockNotConfirmed.selector, c.number, c.hash));
        vm.prank(PROPOSER);
        other.submitStateRoot(c.number, c.hash, c.parentHash, _stateRoot(c), c.proof);
    }

    /// @notice Any block hash other than the confirmed one is refused.
    function testFuzz_submitStateRoot_revertsWhenBlockHashWrong(uint256 index, bytes32 hash) public {
        Case memory c = _case(bound(index, 0, cases.length - 1));
        vm.assume(hash != c.hash);
        c.hash = hash;
        _assertNotConfirmed(c);
    }

    /// @notice Only the proposer submits.
    function test_submitStateRoot_revertsWhenNotProposer() public {
        Case memory c = _case(0);
        address stranger = address(0xbad);
        vm.expectRevert(abi.encodeWithSelector(RollupSettlement.NotProposer.selector, stranger));
        vm.prank(stranger);
        settlement.submitStateRoot(c.number, c.hash, c.parentHash, _stateRoot(c), c.proof);
    }

    /// @notice A number's state root, once accepted, is final.
    function test_submitStateRoot_revertsWhenAlreadyAccepted() public {
        Case memory c = _case(0);
        _submit(c);
        vm.expectRevert(
            abi.encodeWithSelector(RollupSettlement.StateRootAlreadyAccepted.selector, c.number, _stateRoot(c))
        );
        vm.prank(PROPOSER);
        settlement.submitStateRoot(c.number, c.hash, c.parentHash, keccak256("another state root"), c.proof);
    }

    /// @notice A zero state root (which reads as "none") is refused.
    function test_submitStateRoot_revertsWhenZeroStateRoot() public {
        Case memory c = _case(0);
        vm.expectRevert(abi.encodeWithSelector(RollupSettlement.ZeroStateRoot.selector, c.number));
        vm.prank(PROPOSER);
        settlement.submitStateRoot(c.number, c.hash, c.parentHash, bytes32(0), c.proof);
    }

    /// @notice A settlement for a rollup the confirmations contract does not know is refused.
    function test_constructor_revertsWhenRollupNotRegistered() public {
        vm.expectRevert(abi.encodeWithSelector(RollupSettlement.RollupNotRegistered.selector, UNKNOWN_ROLLUP));
        new RollupSettlement(confirmations, UNKNOWN_ROLLUP, PROPOSER);
    }
}
