// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "./utils/Test.sol";
import {InclusionHarness} from "./utils/InclusionHarness.sol";
import {Header, NamespaceLeaf, Protocol, Transaction} from "../src/lib/Protocol.sol";

/// @notice Runs Protocol's hashes after filling the scratch memory they use with ones, so a hash
/// that relied on zeroed memory (the payload's padding) would come out wrong, and after moving the
/// free memory pointer off a word boundary (as an abi.encodeCall of a 4-byte selector plus words
/// leaves it), so a hash that rounded absolute addresses to words would too.
contract DirtyScratchHarness {
    /// @notice Protocol.txHash after dirtying the scratch memory.
    function txHash(uint64 namespace, bytes calldata payload) external pure returns (bytes32) {
        _dirtyScratch(payload.length);
        return Protocol.txHash(namespace, payload);
    }

    /// @notice Protocol.hash(Transaction) after dirtying the scratch memory.
    function hashTransaction(Transaction calldata transaction) external pure returns (bytes32) {
        _dirtyScratch(transaction.payload.length);
        return Protocol.hash(transaction);
    }

    /// @notice Protocol.txHashMemory after dirtying the scratch memory.
    function txHashMemory(uint64 namespace, bytes memory payload) external pure returns (bytes32) {
        _dirtyScratch(payload.length);
        return Protocol.txHashMemory(namespace, payload);
    }

    function _dirtyScratch(uint256 length) private pure {
        assembly ("memory-safe") {
            let ptr := add(mload(0x40), 4)
            mstore(0x40, ptr)
            let end := add(ptr, add(length, 0xc0))
            for { let p := ptr } lt(p, end) { p := add(p, 0x20) } { mstore(p, not(0)) }
        }
    }
}

/// @notice Protocol's assembly hashes equal keccak256(abi.encode(value)) as the compiler computes
/// it, on any input, and reject non-canonical calldata as the ABI decoder does.
contract ProtocolTest is Test {
    InclusionHarness internal harness;
    DirtyScratchHarness internal dirty;

    /// @notice Deploys the harnesses.
    function setUp() public {
        harness = new InclusionHarness();
        dirty = new DirtyScratchHarness();
    }

    /// @notice Protocol.hash(Header) is keccak256(abi.encode(header)).
    function testFuzz_hashHeader_matchesAbiEncode(Header memory header) public view {
        vm.assertEq(harness.hashHeader(header), keccak256(abi.encode(header)), "hash(Header)");
    }

    /// @notice Every transaction hash function is keccak256(abi.encode(Transaction)).
    function testFuzz_txHash_matchesAbiEncode(uint64 namespace, bytes memory payload) public view {
        _assertTxHashes(namespace, payload);
    }

    /// @notice Payload lengths 0..=97 cover every padding length around three word boundaries.
    function test_txHash_matchesAbiEncodeAtEveryPaddingLength() public view {
        bytes memory all = abi.encodePacked(keccak256("a"), keccak256("b"), keccak256("c"), bytes1(0x01));
        for (uint64 length = 0; length <= all.length; ++length) {
            bytes memory payload = new bytes(length);
            for (uint256 i = 0; i < length; ++i) {
                payload[i] = all[i];
            }
            _assertTxHashes(length * 0x0101010101010101, payload);
        }
    }

    function _assertTxHashes(uint64 namespace, bytes memory payload) internal view {
        Transaction memory transaction = Transaction({namespace: namespace, payload: payload});
        bytes32 expected = keccak256(abi.encode(transaction));
        vm.assertEq(harness.hashTransaction(transaction), expected, "hash(Transaction)");
        vm.assertEq(harness.txHash(namespace, payload), expected, "txHash");
        vm.assertEq(harness.txHashMemory(namespace, payload), expected, "txHashMemory");
        vm.assertEq(dirty.hashTransaction(transaction), expected, "hash(Transaction), dirty scratch");
        vm.assertEq(dirty.txHash(namespace, payload), expected, "txHash, dirty scratch");
        vm.assertEq(dirty.txHashMemory(namespace, payload), expected, "txHashMemory, dirty scratch");
    }

    /// @notice Both leaf digest functions are keccak256(abi.encode(NamespaceLeaf)).
    function testFuzz_leafDigest_matchesAbiEncode(NamespaceLeaf memory leaf) public view {
        bytes32 expected = keccak256(abi.encode(leaf));
        vm.assertEq(harness.leafDigest(leaf), expected, "leafDigest(NamespaceLeaf)");
        vm.assertEq(harness.leafDigestOf(leaf.namespace, leaf.txCount, leaf.txRoot), expected, "leafDigest(...)");
    }

    /// @notice uint64 arguments with dirty upper bits on the stack (which inline assembly may
    /// see) hash as their uint64 value.
    function testFuzz_hashes_maskDirtyUint64Arguments(uint64 value, uint192 junk, bytes32 root, bytes memory payload)
        public
        pure
    {
        vm.assume(junk != 0);
        uint64 dirtyValue;
        assembly ("memory-safe") {
            dirtyValue := or(shl(64, junk), value)
        }
        vm.assertEq(
            Protocol.leafDigest(dirtyValue, dirtyValue, root),
            keccak256(abi.encode(NamespaceLeaf({namespace: value, txCount: value, txRoot: root}))),
            "leafDigest"
        );
        vm.assertEq(
            Protocol.txHashMemory(dirtyValue, payload),
            keccak256(abi.encode(Transaction({namespace: value, payload: payload}))),
            "txHashMemory"
        );
    }

    /// @notice A header whose uint64 field has dirty upper bits in calldata is not a valid
    /// encoding: hash(Header) reverts without data, as the compiler's abi.encode does.
    function testFuzz_hashHeader_revertsWhenUint64FieldDirty(Header memory header, uint256 field, uint192 junk)
        public
        view
    {
        vm.assume(junk != 0);
        field = bound(field, 0, 4);
        bytes memory data = abi.encodeCall(InclusionHarness.hashHeader, (header));
        _setWord(data, 4 + 32 * field, (uint256(junk) << 64) | _word(data, 4 + 32 * field));
        (bool ok, bytes memory reason) = address(harness).staticcall(data);
        vm.assertFalse(ok, "hashHeader accepted a dirty field");
        vm.assertEq(reason.length, 0, "revert without data");
        data = abi.encodeCall(InclusionHarness.hashHeaderByAbiEncode, (header));
        _setWord(data, 4 + 32 * field, (uint256(junk) << 64) | _word(data, 4 + 32 * field));
        (ok,) = address(harness).staticcall(data);
        vm.assertFalse(ok, "the compiler's abi.encode accepted a dirty field");
    }

    /// @notice A transaction whose namespace has dirty upper bits in calldata is rejected.
    function testFuzz_hashTransaction_revertsWhenNamespaceDirty(Transaction memory transaction, uint192 junk)
        public
        view
    {
        vm.assume(junk != 0);
        bytes memory data = abi.encodeCall(InclusionHarness.hashTransaction, (transaction));
        // Selector, offset of the struct, then the namespace word.
        _setWord(data, 4 + 32, (uint256(junk) << 64) | transaction.namespace);
        (bool ok, bytes memory reason) = address(harness).staticcall(data);
        vm.assertFalse(ok, "hashTransaction accepted a dirty namespace");
        vm.assertEq(reason.length, 0, "revert without data");
    }

    /// @notice A transaction whose payload length runs past the end of calldata is rejected
    /// without data (the compiler's bounds check, which Protocol.hash relies on).
    function testFuzz_hashTransaction_revertsWhenPayloadOutsideCalldata(Transaction memory transaction, uint256 extra)
        public
        view
    {
        bytes memory data = abi.encodeCall(InclusionHarness.hashTransaction, (transaction));
        // Selector, offset of the struct, namespace, offset of the payload, then its length.
        uint256 length = transaction.payload.length + bound(extra, 33, type(uint64).max);
        _setWord(data, 4 + 3 * 32, length);
        (bool ok, bytes memory reason) = address(harness).staticcall(data);
        vm.assertFalse(ok, "hashTransaction read past calldata");
        vm.assertEq(reason.length, 0, "revert without data");
    }

    /// @notice Known answer: the transaction (7, "hello"), hashed with `cast keccak` over the
    /// hand-built encoding 0x20 ‖ 7 ‖ 0x40 ‖ 5 ‖ "hello" zero-padded to a word (Rust writes the
    /// same hash to fixtures/headers.json).
    function test_txHash_knownAnswer() public view {
        vm.assertEq(
            harness.txHash(7, "hello"),
            0xafac757b4f1d4db01d810556dad85bc00bc43e11f907595cfb622ff85b20ca7f,
            "txHash(7, hello)"
        );
    }

    function _word(bytes memory data, uint256 offset) internal pure returns (uint256 value) {
        assembly ("memory-safe") {
            value := mload(add(add(data, 0x20), offset))
        }
    }

    function _setWord(bytes memory data, uint256 offset, uint256 value) internal pure {
        assembly ("memory-safe") {
            mstore(add(add(data, 0x20), offset), value)
        }
    }
}
