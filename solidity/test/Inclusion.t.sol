// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {InclusionTestBase} from "./utils/InclusionTestBase.sol";
import {MerkleReference} from "./utils/MerkleReference.sol";
import {MerkleTree} from "../src/lib/MerkleTree.sol";
import {Inclusion} from "../src/lib/Inclusion.sol";
import {NamespaceAbsenceProof, NamespaceProof, Transaction, TransactionProof} from "../src/lib/Protocol.sol";

/// @notice Tests Inclusion's transaction, namespace and namespace-absence proofs on payloads built
/// by PayloadBuilder: valid proofs verify, and every revert path is taken with its error and
/// parameters. The header and history checks are in InclusionHistoryTest.
contract InclusionTest is InclusionTestBase {
    // ---------------------------------------------------------------------------------------------
    // verifyTransaction / verifyTransactionHash
    // ---------------------------------------------------------------------------------------------

    /// @notice Every transaction of the sample block verifies, by value and by hash.
    function test_verifyTransaction_everyTransactionOfABlock() public view {
        Block memory b = _sample();
        for (uint256 j = 0; j < b.leaves.length; ++j) {
            for (uint256 i = 0; i < b.transactions[j].length; ++i) {
                TransactionProof memory proof = _transactionProof(b, j, i);
                vm.assertEq(harness.verifyTransaction(b.transactions[j][i], proof, b.root), b.txHashes[j][i], "hash");
                harness.verifyTransactionHash(b.leaves[j].namespace, b.txHashes[j][i], proof, b.root);
            }
        }
    }

    /// @notice A random transaction of a random block verifies.
    function testFuzz_verifyTransaction_randomBlock(
        uint256 namespaceCount,
        uint256 jSeed,
        uint256 iSeed,
        uint256 payloadLength,
        bytes32 seed
    ) public view {
        (Block memory b, uint256 j, uint256 i) = _randomBlock(namespaceCount, jSeed, iSeed, payloadLength, seed);
        TransactionProof memory proof = _transactionProof(b, j, i);
        vm.assertEq(harness.verifyTransaction(b.transactions[j][i], proof, b.root), b.txHashes[j][i], "hash");
    }

    /// @notice The proof is for another namespace than the transaction's.
    function test_verifyTransaction_revertsWhenNamespaceMismatch() public {
        Block memory b = _sample();
        TransactionProof memory proof = _transactionProof(b, 2, 1);
        Transaction memory transaction = b.transactions[2][1];
        transaction.namespace = 40;
        vm.expectRevert(abi.encodeWithSelector(Inclusion.NamespaceMismatch.selector, 30, 40));
        harness.verifyTransaction(transaction, proof, b.root);
    }

    /// @notice The transaction path counts other leaves than the namespace leaf's txCount.
    function test_verifyTransaction_revertsWhenTxCountMismatch() public {
        Block memory b = _sample();
        TransactionProof memory proof = _transactionProof(b, 2, 1);
        proof.txProof.count = 5;
        vm.expectRevert(abi.encodeWithSelector(Inclusion.TxCountMismatch.selector, 5, 4));
        harness.verifyTransaction(b.transactions[2][1], proof, b.root);
    }

    /// @notice The transaction is not the one at the proof's position.
    function test_verifyTransaction_revertsWhenTransactionNotInNamespace() public {
        Block memory b = _sample();
        TransactionProof memory proof = _transactionProof(b, 2, 1);
        Transaction memory other = b.transactions[2][2];
        bytes32 computed = MerkleReference.rootFromPath(1, 4, b.txHashes[2][2], proof.txProof.siblings);
        vm.expectRevert(
            abi.encodeWithSelector(Inclusion.TransactionNotInNamespace.selector, computed, b.leaves[2].txRoot)
        );
        harness.verifyTransaction(other, proof, b.root);
    }

    // ---------------------------------------------------------------------------------------------
    // verifyTransactionHashWithKnownLeaf
    // ---------------------------------------------------------------------------------------------

    /// @notice All transactions of a namespace verify in a row, each returning the leaf digest.
    function test_verifyTransactionHashWithKnownLeaf_chainsThroughANamespace() public view {
        Block memory b = _sample();
        bytes32 known;
        for (uint256 j = 0; j < b.leaves.length; ++j) {
            for (uint256 i = 0; i < b.transactions[j].length; ++i) {
                known = harness.verifyTransactionHashWithKnownLeaf(
                    b.leaves[j].namespace, b.txHashes[j][i], _transactionProof(b, j, i), b.root, known
                );
                vm.assertEq(known, b.digests[j], "the namespace leaf's digest");
            }
        }
    }

    /// @notice With the proof's leaf known, its namespace path is not read (a broken one passes);
    /// the transaction path still is.
    function test_verifyTransactionHashWithKnownLeaf_skipsThePathOfTheKnownLeafOnly() public {
        Block memory b = _sample();
        TransactionProof memory proof = _transactionProof(b, 2, 1);
        proof.namespaceProof.proof.siblings[0] = keccak256("broken");
        vm.assertEq(
            harness.verifyTransactionHashWithKnownLeaf(30, b.txHashes[2][1], proof, b.root, b.digests[2]),
            b.digests[2],
            "known leaf: path not checked"
        );
        vm.expectPartialRevert(Inclusion.NamespaceNotInPayload.selector);
        harness.verifyTransactionHashWithKnownLeaf(30, b.txHashes[2][1], proof, b.root, b.digests[1]);
        vm.expectPartialRevert(Inclusion.NamespaceNotInPayload.selector);
        harness.verifyTransactionHashWithKnownLeaf(30, b.txHashes[2][1], proof, b.root, bytes32(0));

        proof = _transactionProof(b, 2, 1);
        vm.expectPartialRevert(Inclusion.TransactionNotInNamespace.selector);
        harness.verifyTransactionHashWithKnownLeaf(30, b.txHashes[2][2], proof, b.root, b.digests[2]);
        vm.expectRevert(abi.encodeWithSelector(Inclusion.NamespaceMismatch.selector, 30, 40));
        harness.verifyTransactionHashWithKnownLeaf(40, b.txHashes[2][1], proof, b.root, b.digests[2]);
    }

    /// @notice A made-up leaf (here one whose tree holds only the transaction) is not known, so
    /// its path is checked and fails.
    function test_verifyTransactionHashWithKnownLeaf_revertsWhenLeafMadeUp() public {
        Block memory b = _sample();
        TransactionProof memory proof = _transactionProof(b, 2, 1);
        bytes32[] memory only = new bytes32[](1);
        only[0] = b.txHashes[2][1];
        proof.txProof = MerkleReference.proof(only, 0);
        proof.namespaceProof.leaf.txCount = 1;
        proof.namespaceProof.leaf.txRoot = MerkleReference.root(only);
        vm.expectPartialRevert(Inclusion.NamespaceNotInPayload.selector);
        harness.verifyTransactionHashWithKnownLeaf(30, b.txHashes[2][1], proof, b.root, b.digests[2]);
    }

    /// @notice A valid proof checked against another block's payload root.
    function test_verifyTransaction_revertsWhenNamespaceNotInPayload() public {
        Block memory b = _sample();
        TransactionProof memory proof = _transactionProof(b, 4, 4);
        bytes32 otherRoot = keccak256("other block");
        vm.expectRevert(abi.encodeWithSelector(Inclusion.NamespaceNotInPayload.selector, b.root, otherRoot));
        harness.verifyTransaction(b.transactions[4][4], proof, otherRoot);
    }

    /// @notice A transaction index past the namespace's count is refused by MerkleTree.
    function test_verifyTransaction_revertsWhenTxIndexOutOfRange() public {
        Block memory b = _sample();
        TransactionProof memory proof = _transactionProof(b, 2, 3);
        proof.txProof.index = 4;
        vm.expectRevert(abi.encodeWithSelector(MerkleTree.IndexOutOfRange.selector, 4, 4));
        harness.verifyTransaction(b.transactions[2][3], proof, b.root);
    }

    /// @notice A transaction path one sibling short is refused by MerkleTree.
    function test_verifyTransaction_revertsWhenTxPathTooShort() public {
        Block memory b = _sample();
        TransactionProof memory proof = _transactionProof(b, 4, 0);
        proof.txProof.siblings = _drop(proof.txProof.siblings);
        vm.expectRevert(abi.encodeWithSelector(MerkleTree.ProofTooShort.selector, 2, 3));
        harness.verifyTransaction(b.transactions[4][0], proof, b.root);
    }

    /// @notice A namespace path with an extra sibling is refused by MerkleTree.
    function test_verifyTransaction_revertsWhenNamespacePathTooLong() public {
        Block memory b = _sample();
        TransactionProof memory proof = _transactionProof(b, 1, 0);
        proof.namespaceProof.proof.siblings = _append(proof.namespaceProof.proof.siblings, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(MerkleTree.ProofTooLong.selector, 4, 3));
        harness.verifyTransaction(b.transactions[1][0], proof, b.root);
    }

    /// @notice Moving either path to another index fails.
    function testFuzz_verifyTransaction_revertsWhenIndexChanged(
        uint256 jSeed,
        uint256 iSeed,
        uint64 index,
        bool namespacePath,
        bytes32 seed
    ) public {
        (Block memory b, uint256 j, uint256 i) = _randomBlock(8, jSeed, iSeed, 32, seed);
        TransactionProof memory proof = _transactionProof(b, j, i);
        MerkleTree.Proof memory path = namespacePath ? proof.namespaceProof.proof : proof.txProof;
        vm.assume(index != path.index);
        path.index = index;
        vm.expectRevert();
        harness.verifyTransaction(b.transactions[j][i], proof, b.root);
    }

    /// @notice Changing the count of either path (or the leaf's txCount with it) fails.
    function testFuzz_verifyTransaction_revertsWhenCountChanged(
        uint256 jSeed,
        uint256 iSeed,
        uint64 count,
        uint256 which,
        bytes32 seed
    ) public {
        (Block memory b, uint256 j, uint256 i) = _randomBlock(8, jSeed, iSeed, 32, seed);
        TransactionProof memory proof = _transactionProof(b, j, i);
        which = bound(which, 0, 2);
        if (which == 0) {
            vm.assume(count != proof.txProof.count);
            vm.expectRevert(
                abi.encodeWithSelector(Inclusion.TxCountMismatch.selector, count, proof.namespaceProof.leaf.txCount)
            );
            proof.txProof.count = count;
        } else if (which == 1) {
            // Path and leaf agree on a wrong count: the committed txRoot still refuses it.
            vm.assume(count != proof.txProof.count);
            proof.txProof.count = count;
            proof.namespaceProof.leaf.txCount = count;
            vm.expectRevert();
        } else {
            vm.assume(count != proof.namespaceProof.proof.count);
            proof.namespaceProof.proof.count = count;
            vm.expectRevert();
        }
        harness.verifyTransaction(b.transactions[j][i], proof, b.root);
    }

    /// @notice Flipping bits of any sibling of either path, or of the namespace leaf, fails with
    /// the error of the level that broke.
    function testFuzz_verifyTransaction_revertsWhenProofBitsFlipped(
        uint256 jSeed,
        uint256 iSeed,
        uint256 position,
        bytes32 mask,
        bytes32 seed
    ) public {
        vm.assume(mask != 0);
        (Block memory b, uint256 j, uint256 i) = _randomBlock(8, jSeed, iSeed, 32, seed);
        TransactionProof memory proof = _transactionProof(b, j, i);
        uint256 txLength = proof.txProof.siblings.length;
        uint256 nsLength = proof.namespaceProof.proof.siblings.length;
        position = bound(position, 0, txLength + nsLength);
        if (position < txLength) {
            proof.txProof.siblings[position] ^= mask;
            vm.expectPartialRevert(Inclusion.TransactionNotInNamespace.selector);
        } else if (position < txLength + nsLength) {
            proof.namespaceProof.proof.siblings[position - txLength] ^= mask;
            vm.expectPartialRevert(Inclusion.NamespaceNotInPayload.selector);
        } else {
            // The leaf's txRoot: the transaction path then leads elsewhere.
            proof.namespaceProof.leaf.txRoot ^= mask;
            vm.expectPartialRevert(Inclusion.TransactionNotInNamespace.selector);
        }
        harness.verifyTransaction(b.transactions[j][i], proof, b.root);
    }

    /// @notice Any change to the payload makes another transaction, which the proof refuses.
    function testFuzz_verifyTransaction_revertsWhenPayloadChanged(
        uint256 jSeed,
        uint256 iSeed,
        bytes memory payload,
        bytes32 seed
    ) public {
        (Block memory b, uint256 j, uint256 i) = _randomBlock(8, jSeed, iSeed, 32, seed);
        Transaction memory transaction = b.transactions[j][i];
        vm.assume(keccak256(payload) != keccak256(transaction.payload));
        TransactionProof memory proof = _transactionProof(b, j, i);
        transaction.payload = payload;
        vm.expectPartialRevert(Inclusion.TransactionNotInNamespace.selector);
        harness.verifyTransaction(transaction, proof, b.root);
    }

    // ---------------------------------------------------------------------------------------------
    // verifyNamespace
    // ---------------------------------------------------------------------------------------------

    /// @notice Every namespace of the sample block verifies.
    function test_verifyNamespace_everyNamespaceOfABlock() public view {
        Block memory b = _sample();
        for (uint256 j = 0; j < b.leaves.length; ++j) {
            harness.verifyNamespace(_namespaceProof(b, j), b.root);
        }
    }

    /// @notice A namespace leaf claiming one transaction fewer (to hide one) is refused.
    function test_verifyNamespace_revertsWhenNamespaceNotInPayload() public {
        Block memory b = _sample();
        NamespaceProof memory proof = _namespaceProof(b, 4);
        proof.leaf.txCount = 4;
        bytes32 computed = MerkleReference.rootFromPath(4, 5, keccak256(abi.encode(proof.leaf)), proof.proof.siblings);
        vm.expectRevert(abi.encodeWithSelector(Inclusion.NamespaceNotInPayload.selector, computed, b.root));
        harness.verifyNamespace(proof, b.root);
    }

    /// @notice An index past the payload's leaf count is refused by MerkleTree.
    function test_verifyNamespace_revertsWhenIndexOutOfRange() public {
        Block memory b = _sample();
        NamespaceProof memory proof = _namespaceProof(b, 4);
        proof.proof.index = 7;
        vm.expectRevert(abi.encodeWithSelector(MerkleTree.IndexOutOfRange.selector, 7, 5));
        harness.verifyNamespace(proof, b.root);
    }

    // ---------------------------------------------------------------------------------------------
    // verifyNamespaceAbsence
    // ---------------------------------------------------------------------------------------------

    /// @notice Namespaces below, between and above the sample's verify absent; present ones have
    /// no absence proof and reuse a neighbour's proof only to be refused.
    function test_verifyNamespaceAbsence_belowBetweenAbove() public view {
        Block memory b = _sample();
        uint64[8] memory absent = [uint64(0), 9, 11, 25, 39, 41, 51, type(uint64).max];
        for (uint256 k = 0; k < absent.length; ++k) {
            (bool present, NamespaceAbsenceProof memory proof) = _absenceProof(b, absent[k]);
            vm.assertFalse(present, "absent");
            harness.verifyNamespaceAbsence(absent[k], proof, b.root);
        }
    }

    /// @notice For a random block and namespace: an absent namespace's proof verifies, and accepts
    /// exactly the namespaces of the same gap; a present namespace is refused with either
    /// neighbouring gap's proof.
    function testFuzz_verifyNamespaceAbsence_randomBlock(
        uint256 namespaceCount,
        uint64 namespace,
        uint64 other,
        bytes32 seed
    ) public view {
        (Block memory b,,) = _randomBlock(namespaceCount, 0, 0, 0, seed);
        uint64 last = b.leaves[b.leaves.length - 1].namespace;
        // Mostly inside the block's range, so gaps and present namespaces both come up.
        namespace = MerkleReference.u64(bound(namespace, 0, uint256(last) + 2));
        other = MerkleReference.u64(bound(other, 0, uint256(last) + 2));
        (bool present, NamespaceAbsenceProof memory proof) = _absenceProof(b, namespace);
        if (present) {
            if (namespace > 0) {
                (bool below, NamespaceAbsenceProof memory belowProof) = _absenceProof(b, namespace - 1);
                if (!below) _assertAbsenceReverts(namespace, belowProof, b.root);
            }
            (bool above, NamespaceAbsenceProof memory aboveProof) = _absenceProof(b, namespace + 1);
            if (!above) _assertAbsenceReverts(namespace, aboveProof, b.root);
            return;
        }
        harness.verifyNamespaceAbsence(namespace, proof, b.root);
        (bool otherPresent, NamespaceAbsenceProof memory otherProof) = _absenceProof(b, other);
        bool sameGap = !otherPresent && keccak256(abi.encode(otherProof)) == keccak256(abi.encode(proof));
        if (sameGap) {
            harness.verifyNamespaceAbsence(other, proof, b.root);
        } else {
            _assertAbsenceReverts(other, proof, b.root);
        }
    }

    function _assertAbsenceReverts(uint64 namespace, NamespaceAbsenceProof memory proof, bytes32 root) internal view {
        try harness.verifyNamespaceAbsence(namespace, proof, root) {
            vm.assertTrue(false, "absence proof accepted");
        } catch (bytes memory reason) {
            bytes4 selector = _selector(reason);
            vm.assertTrue(
                selector == Inclusion.NamespacePresent.selector || selector == Inclusion.NamespaceNotExcluded.selector,
                "NamespacePresent or NamespaceNotExcluded"
            );
        }
    }

    /// @notice A neighbour that is the namespace itself.
    function test_verifyNamespaceAbsence_revertsWhenNamespacePresent() public {
        Block memory b = _sample();
        (, NamespaceAbsenceProof memory proof) = _absenceProof(b, 25);
        vm.expectRevert(abi.encodeWithSelector(Inclusion.NamespacePresent.selector, 20));
        harness.verifyNamespaceAbsence(20, proof, b.root);
    }

    /// @notice No neighbours, for a payload that is not empty.
    function test_verifyNamespaceAbsence_revertsWhenNoNeighboursButPayloadNotEmpty() public {
        Block memory b = _sample();
        NamespaceAbsenceProof memory proof;
        vm.expectRevert(abi.encodeWithSelector(Inclusion.NamespaceNotExcluded.selector, 25));
        harness.verifyNamespaceAbsence(25, proof, b.root);
    }

    /// @notice No neighbours, with the empty payload's root, but a leaf count other than zero.
    function test_verifyNamespaceAbsence_revertsWhenNoNeighboursButLeafCountNotZero() public {
        bytes32 emptyRoot = MerkleReference.root(new bytes32[](0));
        NamespaceAbsenceProof memory proof;
        harness.verifyNamespaceAbsence(25, proof, emptyRoot);
        proof.leafCount = 1;
        vm.expectRevert(abi.encodeWithSelector(Inclusion.NamespaceNotExcluded.selector, 25));
        harness.verifyNamespaceAbsence(25, proof, emptyRoot);
    }

    /// @notice Three neighbours, even valid ones.
    function test_verifyNamespaceAbsence_revertsWhenMoreThanTwoNeighbours() public {
        Block memory b = _sample();
        NamespaceAbsenceProof memory proof;
        proof.leafCount = 5;
        proof.neighbours = new NamespaceProof[](3);
        for (uint256 k = 0; k < 3; ++k) {
            proof.neighbours[k] = _namespaceProof(b, k + 1);
        }
        vm.expectRevert(abi.encodeWithSelector(Inclusion.NamespaceNotExcluded.selector, 25));
        harness.verifyNamespaceAbsence(25, proof, b.root);
    }

    /// @notice A neighbour whose path counts other leaves than the proof's leafCount.
    function test_verifyNamespaceAbsence_revertsWhenLeafCountMismatch() public {
        Block memory b = _sample();
        (, NamespaceAbsenceProof memory proof) = _absenceProof(b, 25);
        proof.leafCount = 6;
        vm.expectRevert(abi.encodeWithSelector(Inclusion.NamespaceNotExcluded.selector, 25));
        harness.verifyNamespaceAbsence(25, proof, b.root);
    }

    /// @notice A neighbour whose leaf is not in the payload.
    function test_verifyNamespaceAbsence_revertsWhenNeighbourNotInPayload() public {
        Block memory b = _sample();
        (, NamespaceAbsenceProof memory proof) = _absenceProof(b, 25);
        proof.neighbours[1].leaf.txRoot = bytes32(0);
        bytes32 computed = MerkleReference.rootFromPath(
            2, 5, keccak256(abi.encode(proof.neighbours[1].leaf)), proof.neighbours[1].proof.siblings
        );
        vm.expectRevert(abi.encodeWithSelector(Inclusion.NamespaceNotInPayload.selector, computed, b.root));
        harness.verifyNamespaceAbsence(25, proof, b.root);
    }

    /// @notice One neighbour, the first leaf, but the namespace is above it.
    function test_verifyNamespaceAbsence_revertsWhenOnlyNeighbourIsFirstAndBelow() public {
        Block memory b = _sample();
        NamespaceAbsenceProof memory proof = _single(b, 0);
        vm.expectRevert(abi.encodeWithSelector(Inclusion.NamespaceNotExcluded.selector, 15));
        harness.verifyNamespaceAbsence(15, proof, b.root);
    }

    /// @notice One neighbour, the last leaf, but the namespace is below it.
    function test_verifyNamespaceAbsence_revertsWhenOnlyNeighbourIsLastAndAbove() public {
        Block memory b = _sample();
        NamespaceAbsenceProof memory proof = _single(b, 4);
        vm.expectRevert(abi.encodeWithSelector(Inclusion.NamespaceNotExcluded.selector, 45));
        harness.verifyNamespaceAbsence(45, proof, b.root);
    }

    /// @notice One neighbour in the middle of the payload, on either side of the namespace.
    function test_verifyNamespaceAbsence_revertsWhenOnlyNeighbourIsInTheMiddle() public {
        Block memory b = _sample();
        NamespaceAbsenceProof memory proof = _single(b, 2);
        vm.expectRevert(abi.encodeWithSelector(Inclusion.NamespaceNotExcluded.selector, 25));
        harness.verifyNamespaceAbsence(25, proof, b.root);
        vm.expectRevert(abi.encodeWithSelector(Inclusion.NamespaceNotExcluded.selector, 35));
        harness.verifyNamespaceAbsence(35, proof, b.root);
    }

    /// @notice Two neighbours around the namespace that are not adjacent.
    function test_verifyNamespaceAbsence_revertsWhenNeighboursNotAdjacent() public {
        Block memory b = _sample();
        NamespaceAbsenceProof memory proof = _pair(b, 1, 3);
        vm.expectRevert(abi.encodeWithSelector(Inclusion.NamespaceNotExcluded.selector, 25));
        harness.verifyNamespaceAbsence(25, proof, b.root);
    }

    /// @notice Two adjacent neighbours in the wrong order.
    function test_verifyNamespaceAbsence_revertsWhenNeighboursReversed() public {
        Block memory b = _sample();
        NamespaceAbsenceProof memory proof = _pair(b, 2, 1);
        vm.expectRevert(abi.encodeWithSelector(Inclusion.NamespaceNotExcluded.selector, 25));
        harness.verifyNamespaceAbsence(25, proof, b.root);
    }

    /// @notice Two adjacent neighbours that do not bracket the namespace.
    function test_verifyNamespaceAbsence_revertsWhenNamespaceOutsideNeighbours() public {
        Block memory b = _sample();
        NamespaceAbsenceProof memory proof = _pair(b, 1, 2);
        vm.expectRevert(abi.encodeWithSelector(Inclusion.NamespaceNotExcluded.selector, 35));
        harness.verifyNamespaceAbsence(35, proof, b.root);
        vm.expectRevert(abi.encodeWithSelector(Inclusion.NamespaceNotExcluded.selector, 15));
        harness.verifyNamespaceAbsence(15, proof, b.root);
    }

    function _single(Block memory b, uint256 j) internal pure returns (NamespaceAbsenceProof memory proof) {
        proof.leafCount = MerkleReference.u64(b.leaves.length);
        proof.neighbours = new NamespaceProof[](1);
        proof.neighbours[0] = _namespaceProof(b, j);
    }

    function _pair(Block memory b, uint256 j, uint256 k) internal pure returns (NamespaceAbsenceProof memory proof) {
        proof.leafCount = MerkleReference.u64(b.leaves.length);
        proof.neighbours = new NamespaceProof[](2);
        proof.neighbours[0] = _namespaceProof(b, j);
        proof.neighbours[1] = _namespaceProof(b, k);
    }

    // ---------------------------------------------------------------------------------------------
    // Helpers
    // ---------------------------------------------------------------------------------------------

    /// @dev A block of 1..=maxNamespaces namespaces at random ascending positions with 1..=40
    /// transactions each, and a random transaction (namespace index j, index i) in it.
    function _randomBlock(uint256 maxNamespaces, uint256 jSeed, uint256 iSeed, uint256 payloadLength, bytes32 seed)
        internal
        pure
        returns (Block memory b, uint256 j, uint256 i)
    {
        uint256 m = bound(maxNamespaces, 1, 12);
        uint64[] memory namespaces = new uint64[](m);
        uint256[] memory counts = new uint256[](m);
        uint256 ns = uint256(keccak256(abi.encode(seed, "first"))) % 1000;
        for (uint256 k = 0; k < m; ++k) {
            uint256 r = uint256(keccak256(abi.encode(seed, k)));
            namespaces[k] = MerkleReference.u64(ns);
            counts[k] = 1 + r % 40;
            ns += 1 + (r >> 128) % 4;
        }
        b = _block(namespaces, counts, bound(payloadLength, 0, 100), seed);
        j = bound(jSeed, 0, m - 1);
        i = bound(iSeed, 0, counts[j] - 1);
    }

    function _selector(bytes memory reason) internal pure returns (bytes4 selector) {
        if (reason.length < 4) return bytes4(0);
        assembly ("memory-safe") {
            selector := mload(add(reason, 0x20))
        }
    }

    function _append(bytes32[] memory a, bytes32 x) internal pure returns (bytes32[] memory r) {
        r = new bytes32[](a.length + 1);
        for (uint256 k = 0; k < a.length; ++k) {
            r[k] = a[k];
        }
        r[a.length] = x;
    }
}
