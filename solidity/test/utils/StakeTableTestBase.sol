// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "./Test.sol";
import {BabyJubjubReference} from "./BabyJubjubReference.sol";
import {StakeTable} from "../../src/StakeTable.sol";

/// @notice What the StakeTable tests share: a table (1 ether minimum, one week's exit delay),
/// funded accounts, and distinct valid keys made from an index.
abstract contract StakeTableTestBase is Test {
    uint256 internal constant MINIMUM = 1 ether;
    uint256 internal constant EXIT_DELAY = 7 days;
    string internal constant P2P = "10.0.0.1:3000";

    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);

    StakeTable internal table;

    /// @dev Deploys the table and gives ALICE and BOB 1,000 ether each.
    function _deployTable() internal {
        table = new StakeTable(MINIMUM, EXIT_DELAY);
        vm.deal(ALICE, 1_000 ether);
        vm.deal(BOB, 1_000 ether);
    }

    /// @dev The ed25519 key of index i: any non-zero 32 bytes (the table does not decode it).
    function _consensusKey(uint256 i) internal pure returns (bytes32) {
        return keccak256(abi.encode("consensus key", i));
    }

    /// @dev The light-client key of index i: (i + 1) * Base8, distinct for distinct small i.
    function _lightClientKey(uint256 i) internal view returns (bytes32[2] memory key) {
        (uint256 x, uint256 y) = BabyJubjubReference.mulBase8(i + 1);
        key = [bytes32(x), bytes32(y)];
    }

    /// @dev Proofs of possession are opaque to the table: any bytes stand for them in these tests.
    function _consensusPop(uint256 i) internal pure returns (bytes32[2] memory) {
        return [keccak256(abi.encode("pop R", i)), keccak256(abi.encode("pop s", i))];
    }

    /// @dev See _consensusPop.
    function _lightClientPop(uint256 i) internal pure returns (bytes32[3] memory) {
        return [bytes32(uint256(1)), bytes32(uint256(2)), keccak256(abi.encode("pop", i))];
    }

    /// @dev Registers `account` with the keys of index i and `stake`.
    function _register(address account, uint256 i, uint256 stake) internal {
        bytes32[2] memory key = _lightClientKey(i);
        vm.prank(account);
        table.register{value: stake}(_consensusKey(i), key, P2P, _consensusPop(i), _lightClientPop(i));
    }
}
