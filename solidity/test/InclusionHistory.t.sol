// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {InclusionHarness} from "./utils/InclusionHarness.sol";
import {InclusionTestBase} from "./utils/InclusionTestBase.sol";
import {MerkleReference} from "./utils/MerkleReference.sol";
import {MerkleTree} from "../src/lib/MerkleTree.sol";
import {Inclusion} from "../src/lib/Inclusion.sol";
import {Header, Transaction, TransactionProof} from "../src/lib/Protocol.sol";

/// @notice Tests Inclusion's header and history checks, alone and chained with a transaction
/// proof, on headers and histories built by PayloadBuilder: valid proofs verify, and every revert
/// path is taken with its error and parameters.
contract InclusionHistoryTest is InclusionTestBase {
    // ---------------------------------------------------------------------------------------------
    // verifyHeader / verifyHeaderHash
    // ---------------------------------------------------------------------------------------------

    /// @notice Every header of a real 21-block history verifies against the root at every later
    /// height, and returns its hash.
    function test_verifyHeader_everyHeightAgainstEveryLaterRoot() public view {
        bytes32[] memory hashes = new bytes32[](21);
        Header[] memory headers = new Header[](21);
        for (uint256 h = 0; h < 21; ++h) {
            headers[h] = _header(MerkleReference.u64(h), keccak256(abi.encode("payload", h)), bytes32(h));
            hashes[h] = keccak256(abi.encode(headers[h]));
        }
        for (uint256 g = 0; g < 21; ++g) {
            bytes32[] memory prefix = new bytes32[](g + 1);
            for (uint256 h = 0; h <= g; ++h) {
                prefix[h] = hashes[h];
            }
            bytes32 root = MerkleReference.root(prefix);
            for (uint256 h = 0; h <= g; ++h) {
                MerkleTree.Proof memory proof = MerkleReference.proof(prefix, h);
                vm.assertEq(
                    harness.verifyHeader(headers[h], proof, root, MerkleReference.u64(g)), hashes[h], "header hash"
                );
            }
        }
    }

    /// @notice Any header at any height verifies against a history root at any later height.
    function testFuzz_verifyHeader_anyHeights(uint64 height, uint64 rootHeight, bytes32 seed) public view {
        rootHeight = MerkleReference.u64(bound(rootHeight, 0, type(uint64).max - 1));
        height = MerkleReference.u64(bound(height, 0, rootHeight));
        Header memory header = _header(height, seed, seed);
        (MerkleTree.Proof memory proof, bytes32 root) =
            _historyProof(height, rootHeight, keccak256(abi.encode(header)), seed);
        vm.assertEq(harness.verifyHeader(header, proof, root, rootHeight), keccak256(abi.encode(header)), "hash");
    }

    /// @notice A proof for another height than the header's.
    function testFuzz_verifyHeader_revertsWhenHeightMismatch(uint64 index) public {
        (Header memory header, MerkleTree.Proof memory proof, bytes32 root) = _sampleHistory();
        vm.assume(index != HEIGHT);
        proof.index = index;
        vm.expectRevert(abi.encodeWithSelector(Inclusion.HeightMismatch.selector, index, HEIGHT));
        harness.verifyHeader(header, proof, root, ROOT_HEIGHT);
    }

    /// @notice A proof whose count is not the root height + 1, including against the largest
    /// root height (whose count 2^64 no proof can carry).
    function testFuzz_verifyHeader_revertsWhenRootHeightMismatch(uint64 rootHeight) public {
        (Header memory header, MerkleTree.Proof memory proof, bytes32 root) = _sampleHistory();
        vm.assume(rootHeight != ROOT_HEIGHT);
        vm.expectRevert(abi.encodeWithSelector(Inclusion.RootHeightMismatch.selector, ROOT_HEIGHT + 1, rootHeight));
        harness.verifyHeader(header, proof, root, rootHeight);
    }

    /// @notice The root height's count 2^64 does not wrap around to 0.
    function test_verifyHeader_revertsWhenRootHeightIsMaxAndCountZero() public {
        (Header memory header, MerkleTree.Proof memory proof, bytes32 root) = _sampleHistory();
        proof.count = 0;
        uint64 max = type(uint64).max;
        vm.expectRevert(abi.encodeWithSelector(Inclusion.RootHeightMismatch.selector, 0, max));
        harness.verifyHeader(header, proof, root, max);
    }

    /// @notice A header above the root's height: consistent index and count, refused by MerkleTree.
    function test_verifyHeader_revertsWhenHeightAboveRootHeight() public {
        (Header memory header, MerkleTree.Proof memory proof, bytes32 root) = _sampleHistory();
        proof.count = 900;
        vm.expectRevert(abi.encodeWithSelector(MerkleTree.IndexOutOfRange.selector, HEIGHT, 900));
        harness.verifyHeader(header, proof, root, 899);
    }

    /// @notice Any change to any header field changes its hash, which the history refuses.
    function testFuzz_verifyHeader_revertsWhenHeaderChanged(uint256 field, bytes32 mask) public {
        (Header memory header, MerkleTree.Proof memory proof, bytes32 root) = _sampleHistory();
        vm.assume(mask != 0 && uint64(uint256(mask)) != 0);
        field = bound(field, 0, 8);
        // height (field 2) is covered by HeightMismatch; change the others.
        vm.assume(field != 2);
        _flipField(header, field, mask);
        bytes32 computed =
            MerkleReference.rootFromPath(HEIGHT, ROOT_HEIGHT + 1, keccak256(abi.encode(header)), proof.siblings);
        vm.expectRevert(abi.encodeWithSelector(Inclusion.HeaderNotInHistory.selector, computed, root));
        harness.verifyHeader(header, proof, root, ROOT_HEIGHT);
    }

    /// @notice A valid proof against another history root.
    function test_verifyHeaderHash_revertsWhenHeaderNotInHistory() public {
        (Header memory header, MerkleTree.Proof memory proof, bytes32 root) = _sampleHistory();
        bytes32 headerHash = keccak256(abi.encode(header));
        harness.verifyHeaderHash(headerHash, HEIGHT, proof, root, ROOT_HEIGHT);
        vm.expectRevert(abi.encodeWithSelector(Inclusion.HeaderNotInHistory.selector, root, bytes32(0)));
        harness.verifyHeaderHash(headerHash, HEIGHT, proof, bytes32(0), ROOT_HEIGHT);
    }

    /// @notice A history path with a sibling missing is refused by MerkleTree.
    function test_verifyHeaderHash_revertsWhenPathTooShort() public {
        (Header memory header, MerkleTree.Proof memory proof, bytes32 root) = _sampleHistory();
        uint256 length = proof.siblings.length;
        proof.siblings = _drop(proof.siblings);
        vm.expectRevert(abi.encodeWithSelector(MerkleTree.ProofTooShort.selector, length - 1, length));
        harness.verifyHeaderHash(keccak256(abi.encode(header)), HEIGHT, proof, root, ROOT_HEIGHT);
    }

    function _sampleHistory()
        internal
        pure
        returns (Header memory header, MerkleTree.Proof memory proof, bytes32 root)
    {
        header = _header(HEIGHT, keccak256("payload"), "history");
        (proof, root) = _historyProof(HEIGHT, ROOT_HEIGHT, keccak256(abi.encode(header)), "history");
    }

    function _flipField(Header memory header, uint256 field, bytes32 mask) internal pure {
        uint64 m64 = uint64(uint256(mask));
        if (field == 0) header.chainId ^= m64;
        else if (field == 1) header.epoch ^= m64;
        else if (field == 3) header.viewNumber ^= m64;
        else if (field == 4) header.timestampMs ^= m64;
        else if (field == 5) header.parent ^= mask;
        else if (field == 6) header.payloadRoot ^= mask;
        else if (field == 7) header.historyRoot ^= mask;
        else header.committee ^= mask;
    }

    // ---------------------------------------------------------------------------------------------
    // verifyTransactionInHistory / verifyTransactionHashInHistory
    // ---------------------------------------------------------------------------------------------

    struct Chain {
        Block b;
        Transaction transaction;
        bytes32 txHash;
        Header header;
        TransactionProof txProof;
        MerkleTree.Proof historyProof;
        bytes32 historyRoot;
    }

    function _chain(uint256 j, uint256 i) internal pure returns (Chain memory c) {
        c.b = _sample();
        c.transaction = c.b.transactions[j][i];
        c.txHash = c.b.txHashes[j][i];
        c.header = _header(HEIGHT, c.b.root, "chain");
        c.txProof = _transactionProof(c.b, j, i);
        (c.historyProof, c.historyRoot) = _historyProof(HEIGHT, ROOT_HEIGHT, keccak256(abi.encode(c.header)), "chain");
    }

    function _verifyChain(Chain memory c) internal view returns (bytes32) {
        return harness.verifyTransactionInHistory(
            c.transaction, c.header, c.txProof, c.historyProof, c.historyRoot, ROOT_HEIGHT
        );
    }

    /// @notice Every transaction of the sample block verifies all the way to a history root, by
    /// value and by hash.
    function test_verifyTransactionInHistory_everyTransaction() public view {
        Block memory b = _sample();
        for (uint256 j = 0; j < b.leaves.length; ++j) {
            for (uint256 i = 0; i < b.transactions[j].length; ++i) {
                Chain memory c = _chain(j, i);
                vm.assertEq(_verifyChain(c), c.txHash, "txHash");
                harness.verifyTransactionHashInHistory(
                    c.transaction.namespace, c.txHash, c.header, c.txProof, c.historyProof, c.historyRoot, ROOT_HEIGHT
                );
            }
        }
    }

    /// @notice A transaction that is not in the block.
    function test_verifyTransactionInHistory_revertsWhenTransactionNotInNamespace() public {
        Chain memory c = _chain(2, 1);
        c.transaction.payload = "not in the block";
        vm.expectPartialRevert(Inclusion.TransactionNotInNamespace.selector);
        _verifyChain(c);
    }

    /// @notice A transaction of another namespace than the proof's.
    function test_verifyTransactionInHistory_revertsWhenNamespaceMismatch() public {
        Chain memory c = _chain(2, 1);
        vm.expectRevert(abi.encodeWithSelector(Inclusion.NamespaceMismatch.selector, 30, 31));
        harness.verifyTransactionHashInHistory(
            31, c.txHash, c.header, c.txProof, c.historyProof, c.historyRoot, ROOT_HEIGHT
        );
    }

    /// @notice A header (in the history) whose payload root is not the transaction's block's.
    function test_verifyTransactionInHistory_revertsWhenNamespaceNotInPayload() public {
        Chain memory c = _chain(2, 1);
        c.header.payloadRoot = keccak256("another payload");
        (c.historyProof, c.historyRoot) = _historyProof(HEIGHT, ROOT_HEIGHT, keccak256(abi.encode(c.header)), "chain");
        vm.expectRevert(
            abi.encodeWithSelector(Inclusion.NamespaceNotInPayload.selector, c.b.root, c.header.payloadRoot)
        );
        _verifyChain(c);
    }

    /// @notice The block's header with a field changed is not in the history.
    function test_verifyTransactionInHistory_revertsWhenHeaderNotInHistory() public {
        Chain memory c = _chain(2, 1);
        c.header.timestampMs += 1;
        vm.expectPartialRevert(Inclusion.HeaderNotInHistory.selector);
        _verifyChain(c);
    }

    /// @notice A history proof for another height than the header's.
    function test_verifyTransactionInHistory_revertsWhenHeightMismatch() public {
        Chain memory c = _chain(2, 1);
        c.historyProof.index = HEIGHT + 1;
        vm.expectRevert(abi.encodeWithSelector(Inclusion.HeightMismatch.selector, HEIGHT + 1, HEIGHT));
        _verifyChain(c);
    }

    /// @notice A history root claimed at another height than the proof's count says.
    function test_verifyTransactionInHistory_revertsWhenRootHeightMismatch() public {
        Chain memory c = _chain(2, 1);
        vm.expectRevert(abi.encodeWithSelector(Inclusion.RootHeightMismatch.selector, ROOT_HEIGHT + 1, ROOT_HEIGHT - 1));
        harness.verifyTransactionInHistory(
            c.transaction, c.header, c.txProof, c.historyProof, c.historyRoot, ROOT_HEIGHT - 1
        );
    }

    /// @notice A header with a dirty uint64 field in calldata is refused like an ABI decoding
    /// error (no data), even if the clean header is in the history.
    function test_verifyTransactionInHistory_revertsWhenHeaderFieldDirty() public view {
        Chain memory c = _chain(2, 1);
        vm.assertEq(_verifyChain(c), c.txHash, "clean header verifies");
        bytes memory data = abi.encodeCall(
            InclusionHarness.verifyTransactionInHistory,
            (c.transaction, c.header, c.txProof, c.historyProof, c.historyRoot, ROOT_HEIGHT)
        );
        // Head: selector, offset of the transaction, then the header inline; its epoch is word 1.
        uint256 offset = 4 + 32 + 32;
        assembly ("memory-safe") {
            let p := add(add(data, 0x20), offset)
            mstore(p, or(mload(p), shl(64, 1)))
        }
        (bool ok, bytes memory reason) = address(harness).staticcall(data);
        vm.assertFalse(ok, "dirty header accepted");
        vm.assertEq(reason.length, 0, "revert without data");
    }
}
