// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice The forge cheatcodes these tests use, declared by hand (forge-std is not available
/// offline). Signatures must match forge's exactly; add more as tests need them.
interface Vm {
    function assume(bool condition) external pure;
    function expectRevert() external;
    function expectRevert(bytes calldata revertData) external;
    function assertTrue(bool condition, string calldata error) external pure;
    function assertFalse(bool condition, string calldata error) external pure;
    function assertEq(uint256 left, uint256 right, string calldata error) external pure;
    function assertEq(bytes32 left, bytes32 right, string calldata error) external pure;
    function assertEq(bytes calldata left, bytes calldata right, string calldata error) external pure;
    function assertEq(bytes32[] calldata left, bytes32[] calldata right, string calldata error) external pure;
    function assertLt(uint256 left, uint256 right, string calldata error) external pure;
    function assertLe(uint256 left, uint256 right, string calldata error) external pure;
    function expectPartialRevert(bytes4 revertData) external;
    function readFile(string calldata path) external view returns (string memory data);
    function keyExistsJson(string calldata json, string calldata key) external view returns (bool);
    function parseJsonUint(string calldata json, string calldata key) external pure returns (uint256);
    function parseJsonBytes32(string calldata json, string calldata key) external pure returns (bytes32);
    function parseJsonBytes32Array(string calldata json, string calldata key) external pure returns (bytes32[] memory);
    function parseJsonBytes(string calldata json, string calldata key) external pure returns (bytes memory);
    function parseJsonBool(string calldata json, string calldata key) external pure returns (bool);
    function parseJsonString(string calldata json, string calldata key) external pure returns (string memory);
    function parseUint(string calldata value) external pure returns (uint256);
    function toString(uint256 value) external pure returns (string memory stringifiedValue);
    function snapshotGasLastCall(string calldata group, string calldata name) external returns (uint256 gasUsed);
    function snapshotValue(string calldata group, string calldata name, uint256 value) external;

    // Added for the LightClient and Mailbox tests.
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }
    function assertEq(bool left, bool right, string calldata error) external pure;
    function assertEq(address left, address right, string calldata error) external pure;
    function assertGe(uint256 left, uint256 right, string calldata error) external pure;
    function expectEmit() external;
    function expectEmit(address emitter) external;
    function expectCall(address callee, bytes calldata data) external;
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);
    function prank(address msgSender) external;
    function chainId(uint256 newChainId) external;
    function parseJsonUintArray(string calldata json, string calldata key) external pure returns (uint256[] memory);
    function getNonce(address account) external view returns (uint64 nonce);
    function computeCreateAddress(address deployer, uint256 nonce) external pure returns (address);

    // Added for the StakeTable tests.
    function deal(address account, uint256 newBalance) external;
    function warp(uint256 newTimestamp) external;
    function roll(uint256 newHeight) external;
    function expectRevert(bytes4 revertData) external;
    function etch(address target, bytes calldata newRuntimeBytecode) external;
    function envOr(string calldata name, string calldata defaultValue) external view returns (string memory value);
    function parseJsonAddress(string calldata json, string calldata key) external pure returns (address);

    // Added for the Mailbox gas tests.
    function snapshotState() external returns (uint256 snapshotId);
    function revertToState(uint256 snapshotId) external returns (bool success);

    // Added for the Deploy script tests.
    function writeFile(string calldata path, string calldata data) external;
    function createDir(string calldata path, bool recursive) external;
}

/// @notice Minimal base for forge tests: the cheatcode handle and a few helpers. Failing checks
/// revert (through the assert cheatcodes), which is how forge detects a failed test.
abstract contract Test {
    /// @dev Address of forge's cheatcode contract: address(bytes20(uint160(uint256(keccak256("hevm cheat code"))))).
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    /// @notice Marks this contract as a test contract for tools that look for it.
    bool public constant IS_TEST = true;

    /// @dev Maps a fuzzed `x` into [min, max]; values already in range are kept, so the fuzzer's
    /// edge cases (0, 1, max, ...) stay edge cases.
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x;
        uint256 size = max - min + 1; // cannot be 0: the whole range was handled above
        return min + (x % size);
    }
}
