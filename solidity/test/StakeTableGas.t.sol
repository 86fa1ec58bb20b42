// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {StakeTableTestBase} from "./utils/StakeTableTestBase.sol";

/// @notice Gas of the StakeTable operations, recorded in snapshots/StakeTable.json: the gas of the
/// call itself (without the 21,000 base cost and the calldata of a transaction). Each measured call
/// is its test's first call to the table (forge runs every test as its own transaction after setUp),
/// so it meets cold storage as on chain; the p2p address is 13 bytes.
contract StakeTableGasTest is StakeTableTestBase {
    address internal constant CAROL = address(0xCA201);

    /// @notice Deploys the table, registers BOB (so that the measured registration is not the
    /// table's first, whose counters start at zero) and registers and deregisters CAROL.
    function setUp() public {
        _deployTable();
        vm.deal(CAROL, 10 ether);
        _register(BOB, 1, MINIMUM);
        _register(CAROL, 2, MINIMUM);
        vm.prank(CAROL);
        table.deregister();
    }

    function test_gas_register() public {
        _register(ALICE, 0, MINIMUM);
        vm.snapshotGasLastCall("StakeTable", "register");
    }

    function test_gas_addStake() public {
        vm.prank(BOB);
        table.addStake{value: 1 ether}();
        vm.snapshotGasLastCall("StakeTable", "addStake");
    }

    function test_gas_deregister() public {
        vm.prank(BOB);
        table.deregister();
        vm.snapshotGasLastCall("StakeTable", "deregister");
    }

    function test_gas_withdraw() public {
        vm.warp(block.timestamp + EXIT_DELAY);
        vm.prank(CAROL);
        table.withdraw(payable(CAROL));
        vm.snapshotGasLastCall("StakeTable", "withdraw");
    }
}
