// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {StakeTableTestBase} from "./utils/StakeTableTestBase.sol";
import {BabyJubjubReference} from "./utils/BabyJubjubReference.sol";
import {StakeTable} from "../src/StakeTable.sol";
import {IStakeTable, Validator, ValidatorStatus} from "../src/interfaces/IStakeTable.sol";

/// @notice A withdrawal recipient that refuses ether.
contract RefusingRecipient {
    receive() external payable {
        revert("no thanks");
    }
}

/// @notice A withdrawal recipient that tries to withdraw again while being paid.
contract ReenteringRecipient {
    StakeTable internal immutable table;
    /// @notice How the re-entered withdraw ended (its revert data).
    bytes public reentryError;

    constructor(StakeTable table_) {
        table = table_;
    }

    /// @notice Registers through this contract, so that it is the validator.
    function register(bytes32 consensusKey, bytes32[2] calldata lightClientKey) external payable {
        table.register{value: msg.value}(
            consensusKey,
            lightClientKey,
            "10.0.0.9:3000",
            [bytes32(0), bytes32(0)],
            [bytes32(0), bytes32(0), bytes32(0)]
        );
    }

    /// @notice Deregisters this contract.
    function deregister() external {
        table.deregister();
    }

    /// @notice Withdraws to itself.
    function withdraw() external {
        table.withdraw(payable(address(this)));
    }

    receive() external payable {
        try table.withdraw(payable(address(this))) {}
        catch (bytes memory reason) {
            reentryError = reason;
        }
    }
}

/// @notice StakeTable's rules, one by one: registration, deposits, moves, exit and withdrawal,
/// key uniqueness forever, and the curve check on light-client keys.
contract StakeTableTest is StakeTableTestBase {
    /// @notice Deploys the table and funds the accounts.
    function setUp() public {
        _deployTable();
    }

    // ---------------------------------------------------------------------------------------------
    // constructor
    // ---------------------------------------------------------------------------------------------

    function test_constructor_setsParameters() public view {
        vm.assertEq(table.minimumStake(), MINIMUM, "minimum");
        vm.assertEq(table.exitDelay(), EXIT_DELAY, "exit delay");
        vm.assertEq(table.activeCount(), 0, "active");
        vm.assertEq(table.totalStake(), 0, "total");
    }

    function test_constructor_revertsWhenMinimumStakeZero() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeTable.InvalidParameters.selector, 0, EXIT_DELAY));
        new StakeTable(0, EXIT_DELAY);
    }

    function testFuzz_constructor_revertsWhenExitDelayOutOfRange(uint256 exitDelay) public {
        uint256 maxDelay = table.MAX_EXIT_DELAY();
        vm.assume(exitDelay == 0 || exitDelay > maxDelay);
        vm.expectRevert(abi.encodeWithSelector(IStakeTable.InvalidParameters.selector, MINIMUM, exitDelay));
        new StakeTable(MINIMUM, exitDelay);
    }

    // ---------------------------------------------------------------------------------------------
    // register
    // ---------------------------------------------------------------------------------------------

    function test_register_storesTheEntryAndEmits() public {
        bytes32[2] memory key = _lightClientKey(0);
        vm.roll(1234);
        vm.expectEmit(address(table));
        emit IStakeTable.ValidatorRegistered(
            ALICE, _consensusKey(0), key, P2P, _consensusPop(0), _lightClientPop(0), 5 ether
        );
        _register(ALICE, 0, 5 ether);

        Validator memory entry = table.validator(ALICE);
        vm.assertTrue(entry.status == ValidatorStatus.Active, "active");
        vm.assertEq(entry.registeredBlock, 1234, "registered block");
        vm.assertEq(entry.withdrawableAt, 0, "not exiting");
        vm.assertEq(entry.stake, 5 ether, "stake");
        vm.assertEq(entry.consensusKey, _consensusKey(0), "consensus key");
        vm.assertEq(entry.lightClientKeyX, key[0], "light-client x");
        vm.assertEq(entry.lightClientKeyY, key[1], "light-client y");
        vm.assertEq(bytes(entry.p2pAddress), bytes(P2P), "p2p");
        vm.assertEq(table.consensusKeyHolder(_consensusKey(0)), ALICE, "consensus holder");
        vm.assertEq(table.lightClientKeyHolder(key), ALICE, "light-client holder");
        vm.assertEq(table.activeCount(), 1, "active");
        vm.assertEq(table.totalStake(), 5 ether, "total");
        vm.assertEq(address(table).balance, 5 ether, "balance");
    }

    function test_register_acceptsExactlyTheMinimum() public {
        _register(ALICE, 0, MINIMUM);
        vm.assertEq(table.validator(ALICE).stake, MINIMUM, "stake");
    }

    function testFuzz_register_revertsWhenStakeBelowMinimum(uint256 stake) public {
        stake = bound(stake, 0, MINIMUM - 1);
        bytes32[2] memory key = _lightClientKey(0);
        vm.expectRevert(abi.encodeWithSelector(IStakeTable.StakeBelowMinimum.selector, stake, MINIMUM));
        vm.prank(ALICE);
        table.register{value: stake}(_consensusKey(0), key, P2P, _consensusPop(0), _lightClientPop(0));
    }

    function test_register_revertsWhenAlreadyRegistered() public {
        _register(ALICE, 0, MINIMUM);
        bytes32[2] memory key = _lightClientKey(1);
        vm.expectRevert(abi.encodeWithSelector(IStakeTable.AlreadyRegistered.selector, ALICE, ValidatorStatus.Active));
        vm.prank(ALICE);
        table.register{value: MINIMUM}(_consensusKey(1), key, P2P, _consensusPop(1), _lightClientPop(1));
    }

    function test_register_revertsWhenExiting() public {
        _register(ALICE, 0, MINIMUM);
        vm.prank(ALICE);
        table.deregister();
        bytes32[2] memory key = _lightClientKey(1);
        vm.expectRevert(abi.encodeWithSelector(IStakeTable.AlreadyRegistered.selector, ALICE, ValidatorStatus.Exiting));
        vm.prank(ALICE);
        table.register{value: MINIMUM}(_consensusKey(1), key, P2P, _consensusPop(1), _lightClientPop(1));
    }

    function test_register_revertsWhenConsensusKeyZero() public {
        bytes32[2] memory key = _lightClientKey(0);
        vm.expectRevert(IStakeTable.ZeroConsensusKey.selector);
        vm.prank(ALICE);
        table.register{value: MINIMUM}(bytes32(0), key, P2P, _consensusPop(0), _lightClientPop(0));
    }

    function test_register_revertsWhenConsensusKeyAlreadyUsed() public {
        _register(ALICE, 0, MINIMUM);
        bytes32[2] memory key = _lightClientKey(1);
        vm.expectRevert(abi.encodeWithSelector(IStakeTable.ConsensusKeyAlreadyUsed.selector, _consensusKey(0), ALICE));
        vm.prank(BOB);
        table.register{value: MINIMUM}(_consensusKey(0), key, P2P, _consensusPop(1), _lightClientPop(1));
    }

    function test_register_revertsWhenLightClientKeyAlreadyUsed() public {
        _register(ALICE, 0, MINIMUM);
        bytes32[2] memory key = _lightClientKey(0);
        vm.expectRevert(abi.encodeWithSelector(IStakeTable.LightClientKeyAlreadyUsed.selector, key[0], key[1], ALICE));
        vm.prank(BOB);
        table.register{value: MINIMUM}(_consensusKey(1), key, P2P, _consensusPop(1), _lightClientPop(1));
    }

    /// @notice Keys stay used after their holder left and withdrew, and the account may come back
    /// only with new keys.
    function test_register_keysNeverReusableAfterWithdrawal() public {
        _register(ALICE, 0, MINIMUM);
        vm.prank(ALICE);
        table.deregister();
        vm.warp(block.timestamp + EXIT_DELAY);
        vm.prank(ALICE);
        table.withdraw(payable(ALICE));

        bytes32[2] memory oldKey = _lightClientKey(0);
        vm.expectRevert(abi.encodeWithSelector(IStakeTable.ConsensusKeyAlreadyUsed.selector, _consensusKey(0), ALICE));
        vm.prank(BOB);
        table.register{value: MINIMUM}(_consensusKey(0), oldKey, P2P, _consensusPop(0), _lightClientPop(0));
        vm.expectRevert(
            abi.encodeWithSelector(IStakeTable.LightClientKeyAlreadyUsed.selector, oldKey[0], oldKey[1], ALICE)
        );
        vm.prank(ALICE);
        table.register{value: MINIMUM}(_consensusKey(1), oldKey, P2P, _consensusPop(1), _lightClientPop(1));

        _register(ALICE, 2, MINIMUM);
        vm.assertTrue(table.validator(ALICE).status == ValidatorStatus.Active, "back with new keys");
    }

    function testFuzz_register_acceptsEveryMultipleOfBase8(uint64 k) public {
        vm.assume(k != 0);
        (uint256 x, uint256 y) = BabyJubjubReference.mulBase8(k);
        vm.prank(ALICE);
        table.register{value: MINIMUM}(
            _consensusKey(0), [bytes32(x), bytes32(y)], P2P, _consensusPop(0), _lightClientPop(0)
        );
        vm.assertEq(table.validator(ALICE).lightClientKeyX, bytes32(x), "stored");
    }

    function testFuzz_register_revertsWhenLightClientKeyOffCurve(bytes32 x, bytes32 y) public {
        vm.assume(!BabyJubjubReference.onCurve(uint256(x), uint256(y)));
        _expectInvalidLightClientKey(x, y);
    }

    function test_register_revertsWhenLightClientKeyIsTheIdentity() public {
        _expectInvalidLightClientKey(bytes32(0), bytes32(uint256(1)));
    }

    /// @notice A coordinate plus the field modulus satisfies the equation mod p but is not the
    /// canonical encoding: two encodings of one key would defeat the uniqueness check.
    function test_register_revertsWhenLightClientKeyNotCanonical() public {
        bytes32[2] memory key = _lightClientKey(0);
        bytes32 xPlusP = bytes32(uint256(key[0]) + BabyJubjubReference.FIELD);
        vm.assertTrue(BabyJubjubReference.onCurve(uint256(xPlusP), uint256(key[1])), "still on the curve mod p");
        _expectInvalidLightClientKey(xPlusP, key[1]);
    }

    function test_register_revertsWhenP2pAddressEmpty() public {
        bytes32[2] memory key = _lightClientKey(0);
        vm.expectRevert(abi.encodeWithSelector(IStakeTable.InvalidP2pAddressLength.selector, 0, 260));
        vm.prank(ALICE);
        table.register{value: MINIMUM}(_consensusKey(0), key, "", _consensusPop(0), _lightClientPop(0));
    }

    function testFuzz_register_p2pAddressLengthLimit(uint16 length) public {
        length = uint16(bound(length, 1, 400));
        bytes32[2] memory key = _lightClientKey(0);
        string memory p2p = string(new bytes(length));
        if (length > table.MAX_P2P_ADDRESS_LENGTH()) {
            vm.expectRevert(abi.encodeWithSelector(IStakeTable.InvalidP2pAddressLength.selector, length, 260));
        }
        vm.prank(ALICE);
        table.register{value: MINIMUM}(_consensusKey(0), key, p2p, _consensusPop(0), _lightClientPop(0));
    }

    function test_register_revertsWhenStakeOverflows() public {
        uint256 tooMuch = uint256(type(uint96).max) + 1;
        vm.deal(ALICE, tooMuch);
        bytes32[2] memory key = _lightClientKey(0);
        vm.expectRevert(abi.encodeWithSelector(IStakeTable.StakeOverflow.selector, tooMuch));
        vm.prank(ALICE);
        table.register{value: tooMuch}(_consensusKey(0), key, P2P, _consensusPop(0), _lightClientPop(0));
    }

    // ---------------------------------------------------------------------------------------------
    // addStake, updateP2pAddress
    // ---------------------------------------------------------------------------------------------

    function testFuzz_addStake_addsToTheDeposit(uint96 amount) public {
        vm.assume(amount > 0 && amount <= 500 ether);
        _register(ALICE, 0, MINIMUM);
        vm.expectEmit(address(table));
        emit IStakeTable.StakeAdded(ALICE, amount, MINIMUM + amount);
        vm.prank(ALICE);
        table.addStake{value: amount}();
        vm.assertEq(table.validator(ALICE).stake, MINIMUM + amount, "stake");
        vm.assertEq(table.totalStake(), MINIMUM + amount, "total");
    }

    function test_addStake_revertsWhenNotActive() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeTable.NotActive.selector, ALICE, ValidatorStatus.Unregistered));
        vm.prank(ALICE);
        table.addStake{value: 1 ether}();
    }

    function test_addStake_revertsWhenExiting() public {
        _register(ALICE, 0, MINIMUM);
        vm.prank(ALICE);
        table.deregister();
        vm.expectRevert(abi.encodeWithSelector(IStakeTable.NotActive.selector, ALICE, ValidatorStatus.Exiting));
        vm.prank(ALICE);
        table.addStake{value: 1 ether}();
    }

    function test_addStake_revertsWhenZero() public {
        _register(ALICE, 0, MINIMUM);
        vm.expectRevert(IStakeTable.ZeroAmount.selector);
        vm.prank(ALICE);
        table.addStake();
    }

    function test_addStake_revertsWhenStakeOverflows() public {
        _register(ALICE, 0, MINIMUM);
        uint256 rest = uint256(type(uint96).max) - MINIMUM + 1;
        vm.deal(ALICE, rest);
        vm.expectRevert(abi.encodeWithSelector(IStakeTable.StakeOverflow.selector, MINIMUM + rest));
        vm.prank(ALICE);
        table.addStake{value: rest}();
    }

    function test_updateP2pAddress_changesTheAddressAndEmits() public {
        _register(ALICE, 0, MINIMUM);
        vm.expectEmit(address(table));
        emit IStakeTable.P2pAddressUpdated(ALICE, "node.example.org:4000");
        vm.prank(ALICE);
        table.updateP2pAddress("node.example.org:4000");
        vm.assertEq(bytes(table.validator(ALICE).p2pAddress), bytes("node.example.org:4000"), "p2p");
    }

    function test_updateP2pAddress_revertsWhenNotActive() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeTable.NotActive.selector, BOB, ValidatorStatus.Unregistered));
        vm.prank(BOB);
        table.updateP2pAddress("10.0.0.2:3000");
    }

    function test_updateP2pAddress_revertsWhenEmpty() public {
        _register(ALICE, 0, MINIMUM);
        vm.expectRevert(abi.encodeWithSelector(IStakeTable.InvalidP2pAddressLength.selector, 0, 260));
        vm.prank(ALICE);
        table.updateP2pAddress("");
    }

    // ---------------------------------------------------------------------------------------------
    // deregister, withdraw
    // ---------------------------------------------------------------------------------------------

    function test_deregister_startsTheExitDelay() public {
        _register(ALICE, 0, 3 ether);
        vm.warp(1_000_000);
        vm.expectEmit(address(table));
        emit IStakeTable.ValidatorDeregistered(ALICE, 1_000_000 + EXIT_DELAY);
        vm.prank(ALICE);
        table.deregister();
        Validator memory entry = table.validator(ALICE);
        vm.assertTrue(entry.status == ValidatorStatus.Exiting, "exiting");
        vm.assertEq(entry.withdrawableAt, 1_000_000 + EXIT_DELAY, "withdrawable at");
        vm.assertEq(table.activeCount(), 0, "active");
        vm.assertEq(table.totalStake(), 3 ether, "still held");
    }

    function test_deregister_revertsWhenNotActive() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeTable.NotActive.selector, ALICE, ValidatorStatus.Unregistered));
        vm.prank(ALICE);
        table.deregister();
    }

    function test_withdraw_paysTheDepositAfterTheDelay() public {
        _register(ALICE, 0, 3 ether);
        vm.warp(1_000_000);
        vm.prank(ALICE);
        table.deregister();
        vm.warp(1_000_000 + EXIT_DELAY);
        uint256 before = BOB.balance;
        vm.expectEmit(address(table));
        emit IStakeTable.StakeWithdrawn(ALICE, BOB, 3 ether);
        vm.prank(ALICE);
        table.withdraw(payable(BOB));
        vm.assertEq(BOB.balance, before + 3 ether, "paid");
        vm.assertEq(address(table).balance, 0, "nothing left");
        vm.assertEq(table.totalStake(), 0, "total");
        vm.assertTrue(table.validator(ALICE).status == ValidatorStatus.Unregistered, "unregistered");
    }

    function testFuzz_withdraw_revertsWhenDelayNotElapsed(uint256 wait) public {
        wait = bound(wait, 0, EXIT_DELAY - 1);
        _register(ALICE, 0, MINIMUM);
        vm.warp(1_000_000);
        vm.prank(ALICE);
        table.deregister();
        vm.warp(1_000_000 + wait);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakeTable.ExitDelayNotElapsed.selector, ALICE, 1_000_000 + EXIT_DELAY, 1_000_000 + wait
            )
        );
        vm.prank(ALICE);
        table.withdraw(payable(ALICE));
    }

    function test_withdraw_revertsWhenActive() public {
        _register(ALICE, 0, MINIMUM);
        vm.expectRevert(abi.encodeWithSelector(IStakeTable.NotExiting.selector, ALICE, ValidatorStatus.Active));
        vm.prank(ALICE);
        table.withdraw(payable(ALICE));
    }

    function test_withdraw_revertsWhenZeroRecipient() public {
        vm.expectRevert(IStakeTable.ZeroRecipient.selector);
        vm.prank(ALICE);
        table.withdraw(payable(address(0)));
    }

    function test_withdraw_revertsWhenRecipientRefuses() public {
        _register(ALICE, 0, MINIMUM);
        vm.prank(ALICE);
        table.deregister();
        vm.warp(block.timestamp + EXIT_DELAY);
        address refusing = address(new RefusingRecipient());
        vm.expectRevert(abi.encodeWithSelector(IStakeTable.WithdrawalFailed.selector, refusing, MINIMUM));
        vm.prank(ALICE);
        table.withdraw(payable(refusing));
        vm.assertTrue(table.validator(ALICE).status == ValidatorStatus.Exiting, "still exiting");
        vm.assertEq(table.totalStake(), MINIMUM, "still held");
    }

    /// @notice A recipient that re-enters withdraw while being paid finds itself Unregistered and
    /// is paid exactly once.
    function test_withdraw_reentryPaysOnce() public {
        ReenteringRecipient validator = new ReenteringRecipient(table);
        validator.register{value: 2 ether}(_consensusKey(7), _lightClientKey(7));
        vm.deal(address(table), 10 ether); // other deposits a re-entry would try to take
        validator.deregister();
        vm.warp(block.timestamp + EXIT_DELAY);
        validator.withdraw();
        vm.assertEq(address(validator).balance, 2 ether, "paid once");
        vm.assertEq(
            validator.reentryError(),
            abi.encodeWithSelector(IStakeTable.NotExiting.selector, address(validator), ValidatorStatus.Unregistered),
            "re-entry refused"
        );
    }

    // ---------------------------------------------------------------------------------------------
    // popMessage
    // ---------------------------------------------------------------------------------------------

    /// @notice The message binds the account, both keys, the chain and the table: change any one
    /// and it changes.
    function testFuzz_popMessage_bindsEveryField(address other, bytes32 otherKey, uint64 otherChain) public {
        vm.assume(other != ALICE && otherKey != _consensusKey(0) && otherChain != block.chainid);
        bytes32[2] memory key = _lightClientKey(0);
        bytes32 message = table.popMessage(ALICE, _consensusKey(0), key);
        vm.assertTrue(message != table.popMessage(other, _consensusKey(0), key), "account");
        vm.assertTrue(message != table.popMessage(ALICE, otherKey, key), "consensus key");
        vm.assertTrue(message != table.popMessage(ALICE, _consensusKey(0), [key[1], key[0]]), "light-client key");
        StakeTable second = new StakeTable(MINIMUM, EXIT_DELAY);
        vm.assertTrue(message != second.popMessage(ALICE, _consensusKey(0), key), "table");
        vm.chainId(otherChain);
        vm.assertTrue(message != table.popMessage(ALICE, _consensusKey(0), key), "chain");
    }

    function _expectInvalidLightClientKey(bytes32 x, bytes32 y) internal {
        vm.expectRevert(abi.encodeWithSelector(IStakeTable.InvalidLightClientKey.selector, x, y));
        vm.prank(ALICE);
        table.register{value: MINIMUM}(_consensusKey(0), [x, y], P2P, _consensusPop(0), _lightClientPop(0));
    }
}
