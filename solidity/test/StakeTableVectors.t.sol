// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Fixtures} from "./utils/Fixtures.sol";
import {StakeTable} from "../src/StakeTable.sol";
import {Validator} from "../src/interfaces/IStakeTable.sol";

/// @notice Pins StakeTable to the Rust kernel (light-client/src/stake.rs) through stake_table.json:
/// for each case, a table at the case's address on the case's chain computes the kernel's
/// proof-of-possession message, and accepts the kernel's light-client key as a curve point (so
/// both sides read a key's coordinates the same way round).
contract StakeTableVectorsTest is Fixtures {
    /// @notice Every case of stake_table.json holds for StakeTable.
    function test_popMessage_matchesTheKernel() public {
        string memory json = _readFixture("stake_table.json");
        StakeTable template = new StakeTable(1 ether, 1 days);
        vm.assertEq(template.POP_DOMAIN(), _b32(json, ".domain"), "domain");
        vm.assertEq(
            template.MAX_P2P_ADDRESS_LENGTH(), vm.parseJsonUint(json, ".maxP2pAddressLength"), "p2p address limit"
        );
        uint256 n = _length(json, ".cases");
        vm.assertEq(n, 4, "cases");
        for (uint256 i = 0; i < n; ++i) {
            string memory key = _at(".cases", i);
            vm.chainId(vm.parseUint(vm.parseJsonString(json, _dot(key, "chainId"))));
            StakeTable table = StakeTable(vm.parseJsonAddress(json, _dot(key, "table")));
            // The code carries the immutables; popMessage reads only address(this) and the chain.
            vm.etch(address(table), address(template).code);
            address account = vm.parseJsonAddress(json, _dot(key, "account"));
            bytes32 consensusKey = _b32(json, _dot(key, "consensusKey"));
            bytes32[2] memory lightClientKey =
                [_b32(json, _dot(key, "lightClientKeyX")), _b32(json, _dot(key, "lightClientKeyY"))];
            vm.assertEq(
                table.popMessage(account, consensusKey, lightClientKey), _b32(json, _dot(key, "message")), "message"
            );

            vm.deal(account, 1 ether);
            vm.prank(account);
            table.register{value: 1 ether}(
                consensusKey,
                lightClientKey,
                "10.0.0.1:3000",
                [bytes32(0), bytes32(0)],
                [bytes32(0), bytes32(0), bytes32(0)]
            );
            Validator memory entry = table.validator(account);
            vm.assertEq(entry.lightClientKeyX, lightClientKey[0], "registered");
        }
    }
}
