// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "../utils/Test.sol";
import {StakeTableTestBase} from "../utils/StakeTableTestBase.sol";
import {StakeTable} from "../../src/StakeTable.sol";
import {Validator, ValidatorStatus} from "../../src/interfaces/IStakeTable.sol";

/// @notice Drives a StakeTable with four accounts that register (with keys drawn from a pool of
/// twelve, so collisions are frequent), add stake, move, deregister, wait and withdraw, in any
/// order. Ghost variables record what the table must reflect.
contract StakeTableHandler is StakeTableTestBase {
    uint256 internal constant ACCOUNTS = 4;
    uint256 internal constant KEYS = 12;

    /// @notice The accounts.
    address[] public accounts;
    /// @notice Light-client keys of the pool, precomputed (x, y).
    bytes32[2][] internal _keys;
    /// @notice First account that registered consensus key i of the pool (zero: none yet).
    mapping(uint256 keyIndex => address holder) public firstHolder;
    /// @notice First account that registered light-client key i of the pool (zero: none yet).
    mapping(uint256 keyIndex => address holder) public firstLightClientHolder;
    /// @notice Ether paid out by withdraw, in total.
    uint256 public paidOut;
    /// @notice Ether deposited by register and addStake, in total.
    uint256 public deposited;
    /// @notice Successful registrations.
    uint256 public registrations;
    /// @notice Successful withdrawals.
    uint256 public withdrawals;

    constructor() {
        _deployTable();
        for (uint256 i = 0; i < ACCOUNTS; ++i) {
            // i < 4: no truncation.
            // forge-lint: disable-next-line(unsafe-typecast)
            address account = address(uint160(0x1000 + i));
            accounts.push(account);
            vm.deal(account, 1_000_000 ether);
        }
        for (uint256 k = 0; k < KEYS; ++k) {
            _keys.push(_lightClientKey(k));
        }
    }

    /// @notice The table under test.
    function stakeTable() external view returns (StakeTable) {
        return table;
    }

    /// @notice Number of accounts.
    function accountCount() external pure returns (uint256) {
        return ACCOUNTS;
    }

    /// @notice Number of keys in the pool.
    function keyCount() external pure returns (uint256) {
        return KEYS;
    }

    /// @notice Key i of the pool.
    function key(uint256 i) external view returns (bytes32[2] memory) {
        return _keys[i];
    }

    /// @notice `account` registers consensus key `c` and light-client key `l` of the pool.
    function register(uint256 account, uint256 c, uint256 l, uint256 stake) external {
        address who = accounts[account % ACCOUNTS];
        (c, l) = (c % KEYS, l % KEYS);
        stake = bound(stake, MINIMUM - 1, 100 ether);
        vm.prank(who);
        try table.register{value: stake}(_consensusKey(c), _keys[l], P2P, _consensusPop(c), _lightClientPop(l)) {
            ++registrations;
            deposited += stake;
            // Only a key nobody registered before may be accepted (checked by the invariants).
            if (firstHolder[c] == address(0)) firstHolder[c] = who;
            if (firstLightClientHolder[l] == address(0)) firstLightClientHolder[l] = who;
        } catch {}
    }

    /// @notice `account` adds to its deposit.
    function addStake(uint256 account, uint256 amount) external {
        amount = bound(amount, 0, 10 ether);
        vm.prank(accounts[account % ACCOUNTS]);
        try table.addStake{value: amount}() {
            deposited += amount;
        } catch {}
    }

    /// @notice `account` moves.
    function updateP2pAddress(uint256 account) external {
        vm.prank(accounts[account % ACCOUNTS]);
        try table.updateP2pAddress("10.0.0.2:3001") {} catch {}
    }

    /// @notice `account` deregisters.
    function deregister(uint256 account) external {
        vm.prank(accounts[account % ACCOUNTS]);
        try table.deregister() {} catch {}
    }

    /// @notice Time passes.
    function wait(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 0, 2 * EXIT_DELAY));
    }

    /// @notice `account` withdraws to itself.
    function withdraw(uint256 account) external {
        address who = accounts[account % ACCOUNTS];
        uint256 before = who.balance;
        vm.prank(who);
        try table.withdraw(payable(who)) {
            paidOut += who.balance - before;
            ++withdrawals;
        } catch {}
    }
}

/// @notice Invariants of StakeTable under random operation sequences (StakeTableHandler).
contract StakeTableInvariantTest is Test {
    StakeTableHandler internal handler;

    /// @notice Deploys the handler (which deploys the table).
    function setUp() public {
        handler = new StakeTableHandler();
    }

    /// @notice Only the handler is called by the fuzzer.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice After each run: something registered (a guard against vacuous invariants).
    function afterInvariant() public view {
        vm.assertGe(handler.registrations(), 1, "some registrations");
    }

    /// @notice The table holds exactly the deposits not yet paid out, totalStake says so, and it
    /// is the sum of the Active and Exiting entries; activeCount counts the Active ones.
    /// forge-config: default.invariant.runs = 64
    /// forge-config: default.invariant.depth = 64
    function invariant_depositsAreAccounted() public view {
        StakeTable table = handler.stakeTable();
        uint256 sum;
        uint256 active;
        for (uint256 i = 0; i < handler.accountCount(); ++i) {
            Validator memory entry = table.validator(handler.accounts(i));
            sum += entry.stake;
            if (entry.status == ValidatorStatus.Active) ++active;
            if (entry.status == ValidatorStatus.Unregistered) vm.assertEq(entry.stake, 0, "no stake when gone");
        }
        vm.assertEq(address(table).balance, handler.deposited() - handler.paidOut(), "balance");
        vm.assertEq(table.totalStake(), sum, "total stake");
        vm.assertEq(table.totalStake(), address(table).balance, "total is the balance");
        vm.assertEq(table.activeCount(), active, "active count");
    }

    /// @notice A key has one holder forever: the first account that registered it, whatever
    /// happened since (deregistration, withdrawal, attempts by others).
    /// forge-config: default.invariant.runs = 64
    /// forge-config: default.invariant.depth = 64
    function invariant_keysHaveOneHolderForever() public view {
        StakeTable table = handler.stakeTable();
        for (uint256 i = 0; i < handler.keyCount(); ++i) {
            address first = handler.firstHolder(i);
            vm.assertEq(
                table.consensusKeyHolder(keccak256(abi.encode("consensus key", i))), first, "consensus key holder"
            );
            vm.assertEq(
                table.lightClientKeyHolder(handler.key(i)), handler.firstLightClientHolder(i), "light-client holder"
            );
        }
        // Every registered entry's light-client key is held by that account.
        for (uint256 a = 0; a < handler.accountCount(); ++a) {
            address account = handler.accounts(a);
            Validator memory entry = table.validator(account);
            if (entry.status == ValidatorStatus.Unregistered) continue;
            vm.assertEq(
                table.lightClientKeyHolder([entry.lightClientKeyX, entry.lightClientKeyY]),
                account,
                "light-client key holder"
            );
            vm.assertEq(table.consensusKeyHolder(entry.consensusKey), account, "own consensus key");
        }
    }
}
