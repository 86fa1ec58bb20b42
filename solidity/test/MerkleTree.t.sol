// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "./utils/Test.sol";
import {MerkleReference} from "./utils/MerkleReference.sol";
import {MerkleTree} from "../src/lib/MerkleTree.sol";

/// @notice Exposes MerkleTree's internal functions externally, so tests pass proofs as calldata
/// and can expect reverts.
contract MerkleTreeHarness {
    /// @notice See MerkleTree.verify.
    function verify(bytes32 leafDigest, MerkleTree.Proof calldata proof, bytes32 root) external pure returns (bool) {
        return MerkleTree.verify(leafDigest, proof, root);
    }

    /// @notice See MerkleTree.verifyOrRevert.
    function verifyOrRevert(bytes32 leafDigest, MerkleTree.Proof calldata proof, bytes32 root) external pure {
        MerkleTree.verifyOrRevert(leafDigest, proof, root);
    }

    /// @notice See MerkleTree.computeRoot.
    function computeRoot(bytes32 leafDigest, MerkleTree.Proof calldata proof) external pure returns (bytes32) {
        return MerkleTree.computeRoot(leafDigest, proof);
    }

    /// @notice See MerkleTree.proofLength.
    function proofLength(uint64 index, uint64 count) external pure returns (uint256) {
        return MerkleTree.proofLength(index, count);
    }

    /// @notice See MerkleTree.hashLeaf.
    function hashLeaf(bytes32 digest) external pure returns (bytes32) {
        return MerkleTree.hashLeaf(digest);
    }

    /// @notice See MerkleTree.hashNode.
    function hashNode(bytes32 left, bytes32 right) external pure returns (bytes32) {
        return MerkleTree.hashNode(left, right);
    }

    /// @notice See MerkleTree.committedRoot.
    function committedRoot(uint64 count, bytes32 mth) external pure returns (bytes32) {
        return MerkleTree.committedRoot(count, mth);
    }
}

/// @notice Tests MerkleTree against a straightforward reference built here from the spec
/// (recursive MTH and audit paths as in RFC 6962 section 2.1, hashes via abi.encodePacked).
contract MerkleTreeTest is Test {
    MerkleTreeHarness internal harness;

    /// @notice Deploys the harness.
    function setUp() public {
        harness = new MerkleTreeHarness();
    }

    // ------------------------------------------------------------------------------------------
    // Reference implementation
    // ------------------------------------------------------------------------------------------

    function _leaves(uint256 n, bytes32 seed) internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](n);
        for (uint256 i = 0; i < n; i++) {
            leaves[i] = keccak256(abi.encode(seed, i));
        }
    }

    /// @dev A random tree of 1..=maxN leaves, a leaf in it and its proof.
    function _randomProof(uint256 nSeed, uint256 indexSeed, bytes32 seed, uint256 maxN)
        internal
        pure
        returns (bytes32[] memory leaves, MerkleTree.Proof memory proof)
    {
        leaves = _leaves(bound(nSeed, 1, maxN), seed);
        proof = MerkleReference.proof(leaves, bound(indexSeed, 0, leaves.length - 1));
    }

    // ------------------------------------------------------------------------------------------
    // Hashes
    // ------------------------------------------------------------------------------------------

    /// @notice Known answers computed outside Solidity (`cast keccak` over hand-built preimages)
    /// for leaves bytes32(uint256(1)), bytes32(uint256(2)), ...
    function test_committedRoot_knownAnswers() public view {
        bytes32[] memory leaves = new bytes32[](5);
        for (uint256 i = 0; i < 5; i++) {
            leaves[i] = bytes32(i + 1);
        }
        vm.assertEq(
            harness.hashLeaf(leaves[0]), 0xc13ad76448cbefd1ee83b801bcd8f33061f2577d6118395e7b44ea21c7ef62e0, "leaf"
        );
        vm.assertEq(
            harness.hashNode(harness.hashLeaf(leaves[0]), harness.hashLeaf(leaves[1])),
            0x251fcb979f14e4dde1a3fd0887ab08d91f9f46b6e577e534a508a6ed6ba33b93,
            "node"
        );
        vm.assertEq(
            harness.committedRoot(0, bytes32(0)),
            0xf28d766e14bfa9767b97ce2a50d9b632eb10ef9c4aa085943ece3a4fcd5ef287,
            "empty root"
        );
        bytes32[] memory one = new bytes32[](1);
        one[0] = leaves[0];
        vm.assertEq(
            MerkleReference.root(one), 0xe47b66592194c2d0a120bfcaf53e35a8cd46ed87da98181a5319739b6cd1e48b, "n=1"
        );
        bytes32[] memory three = new bytes32[](3);
        for (uint256 i = 0; i < 3; i++) {
            three[i] = leaves[i];
        }
        vm.assertEq(
            MerkleReference.root(three), 0x8fc394d449b819309f279bbcc49076a9442f43a2caf1e4fd87ae848602230dff, "n=3"
        );
        vm.assertEq(
            MerkleReference.root(leaves), 0xa92cb96a352abd6cd5d707acadaa11d6a1593340f905eb321ca75fc718a1d941, "n=5"
        );
        for (uint256 i = 0; i < 5; i++) {
            vm.assertTrue(
                harness.verify(leaves[i], MerkleReference.proof(leaves, i), MerkleReference.root(leaves)), "n=5 proof"
            );
        }
    }

    /// @notice The library's assembly hashes equal the abi.encodePacked definitions.
    function testFuzz_hashes_matchSpec(bytes32 a, bytes32 b, uint64 count) public view {
        vm.assertEq(harness.hashLeaf(a), MerkleReference.leafNode(a), "hashLeaf");
        vm.assertEq(harness.hashNode(a, b), MerkleReference.node(a, b), "hashNode");
        vm.assertEq(
            harness.committedRoot(count, a), keccak256(abi.encodePacked(bytes1(0x02), count, a)), "committedRoot"
        );
    }

    // ------------------------------------------------------------------------------------------
    // Valid proofs
    // ------------------------------------------------------------------------------------------

    /// @notice Every leaf of every tree of 1..=17 leaves verifies, through all three entry points.
    function test_verify_everyLeafOfSmallTrees() public view {
        for (uint256 n = 1; n <= 17; n++) {
            bytes32[] memory leaves = _leaves(n, bytes32(n));
            bytes32 root = MerkleReference.root(leaves);
            for (uint256 i = 0; i < n; i++) {
                MerkleTree.Proof memory proof = MerkleReference.proof(leaves, i);
                vm.assertTrue(harness.verify(leaves[i], proof, root), "verify");
                harness.verifyOrRevert(leaves[i], proof, root);
                vm.assertEq(harness.computeRoot(leaves[i], proof), root, "computeRoot");
                vm.assertEq(
                    harness.proofLength(MerkleReference.u64(i), MerkleReference.u64(n)),
                    proof.siblings.length,
                    "proofLength"
                );
            }
        }
    }

    /// @notice A random leaf of a random tree verifies.
    function testFuzz_verify_randomTree(uint256 nSeed, uint256 indexSeed, bytes32 seed) public view {
        (bytes32[] memory leaves, MerkleTree.Proof memory proof) = _randomProof(nSeed, indexSeed, seed, 1000);
        bytes32 root = MerkleReference.root(leaves);
        vm.assertTrue(harness.verify(leaves[proof.index], proof, root), "verify");
        harness.verifyOrRevert(leaves[proof.index], proof, root);
    }

    /// @notice For any (index, count) up to 2^64 - 1 the walk matches the recursive definition:
    /// same path length, same root from the same (arbitrary) siblings.
    function testFuzz_computeRoot_matchesRecursiveDefinition(uint64 index, uint64 count, bytes32 leaf, bytes32 seed)
        public
        view
    {
        count = MerkleReference.u64(bound(count, 1, type(uint64).max));
        index = MerkleReference.u64(bound(index, 0, count - 1));
        uint256 len = MerkleReference.pathLength(index, count);
        vm.assertEq(harness.proofLength(index, count), len, "proofLength");
        MerkleTree.Proof memory proof = MerkleTree.Proof({index: index, count: count, siblings: _leaves(len, seed)});
        vm.assertEq(
            harness.computeRoot(leaf, proof),
            MerkleReference.rootFromPath(index, count, leaf, proof.siblings),
            "computeRoot"
        );
    }

    /// @notice Path lengths at the extremes of the uint64 range.
    function test_proofLength_extremes() public view {
        uint64 max = type(uint64).max;
        vm.assertEq(harness.proofLength(0, 1), 0, "single leaf");
        vm.assertEq(harness.proofLength(0, max), 64, "first of 2^64-1");
        vm.assertEq(harness.proofLength(max - 1, max), 63, "last of 2^64-1");
        vm.assertEq(harness.proofLength(uint64(1) << 63, max), 64, "first of right half");
        vm.assertEq(harness.proofLength(0, uint64(1) << 63), 63, "first of 2^63");
    }

    // ------------------------------------------------------------------------------------------
    // Malformed and wrong proofs
    // ------------------------------------------------------------------------------------------

    /// @notice The empty tree has a root, but no proof verifies against it.
    function test_verify_revertsWhenTreeIsEmpty() public {
        bytes32 root = MerkleReference.root(new bytes32[](0));
        MerkleTree.Proof memory proof = MerkleTree.Proof({index: 0, count: 0, siblings: new bytes32[](0)});
        vm.assertFalse(harness.verify(bytes32(0), proof, root), "verify");
        vm.expectRevert(abi.encodeWithSelector(MerkleTree.IndexOutOfRange.selector, 0, 0));
        harness.verifyOrRevert(bytes32(0), proof, root);
    }

    /// @notice An index at or past the leaf count is rejected before any hashing.
    function testFuzz_verify_revertsWhenIndexOutOfRange(uint256 nSeed, uint64 index) public {
        bytes32[] memory leaves = _leaves(bound(nSeed, 1, 17), bytes32(0));
        MerkleTree.Proof memory proof = MerkleReference.proof(leaves, leaves.length - 1);
        proof.index = MerkleReference.u64(bound(index, leaves.length, type(uint64).max));
        bytes32 root = MerkleReference.root(leaves);
        vm.assertFalse(harness.verify(leaves[leaves.length - 1], proof, root), "verify");
        vm.expectRevert(abi.encodeWithSelector(MerkleTree.IndexOutOfRange.selector, proof.index, proof.count));
        harness.verifyOrRevert(leaves[leaves.length - 1], proof, root);
    }

    /// @notice A proof moved to another index of the same tree fails.
    function testFuzz_verify_revertsWhenIndexChanged(uint256 nSeed, uint256 indexSeed, uint64 otherIndex, bytes32 seed)
        public
    {
        (bytes32[] memory leaves, MerkleTree.Proof memory proof) = _randomProof(nSeed, indexSeed, seed, 64);
        bytes32 leaf = leaves[proof.index];
        vm.assume(otherIndex != proof.index);
        proof.index = otherIndex;
        bytes32 root = MerkleReference.root(leaves);
        vm.assertFalse(harness.verify(leaf, proof, root), "verify");
        vm.expectRevert();
        harness.verifyOrRevert(leaf, proof, root);
    }

    /// @notice A proof claiming another leaf count fails (the count is committed in the root).
    function testFuzz_verify_revertsWhenCountChanged(uint256 nSeed, uint256 indexSeed, uint64 otherCount, bytes32 seed)
        public
    {
        (bytes32[] memory leaves, MerkleTree.Proof memory proof) = _randomProof(nSeed, indexSeed, seed, 64);
        bytes32 leaf = leaves[proof.index];
        vm.assume(otherCount != proof.count);
        proof.count = otherCount;
        bytes32 root = MerkleReference.root(leaves);
        vm.assertFalse(harness.verify(leaf, proof, root), "verify");
        vm.expectRevert();
        harness.verifyOrRevert(leaf, proof, root);
    }

    /// @notice Changing any bit of any sibling fails with RootMismatch.
    function testFuzz_verify_revertsWhenSiblingFlipped(
        uint256 nSeed,
        uint256 indexSeed,
        uint256 siblingSeed,
        bytes32 mask,
        bytes32 seed
    ) public {
        (bytes32[] memory leaves, MerkleTree.Proof memory proof) = _randomProof(nSeed, indexSeed, seed, 64);
        vm.assume(proof.siblings.length > 0 && mask != bytes32(0));
        uint256 j = bound(siblingSeed, 0, proof.siblings.length - 1);
        proof.siblings[j] ^= mask;
        _assertRootMismatch(leaves[proof.index], proof, MerkleReference.root(leaves));
    }

    /// @notice Changing any bit of the leaf fails with RootMismatch.
    function testFuzz_verify_revertsWhenLeafFlipped(uint256 nSeed, uint256 indexSeed, bytes32 mask, bytes32 seed)
        public
    {
        (bytes32[] memory leaves, MerkleTree.Proof memory proof) = _randomProof(nSeed, indexSeed, seed, 64);
        vm.assume(mask != bytes32(0));
        _assertRootMismatch(leaves[proof.index] ^ mask, proof, MerkleReference.root(leaves));
    }

    /// @notice A valid proof checked against another root fails with RootMismatch.
    function testFuzz_verify_revertsWhenRootDiffers(uint256 nSeed, uint256 indexSeed, bytes32 root, bytes32 seed)
        public
    {
        (bytes32[] memory leaves, MerkleTree.Proof memory proof) = _randomProof(nSeed, indexSeed, seed, 64);
        vm.assume(root != MerkleReference.root(leaves));
        _assertRootMismatch(leaves[proof.index], proof, root);
    }

    /// @notice A proof missing its last sibling fails with ProofTooShort.
    function testFuzz_verify_revertsWhenProofTooShort(uint256 nSeed, uint256 indexSeed, bytes32 seed) public {
        (bytes32[] memory leaves, MerkleTree.Proof memory proof) = _randomProof(nSeed, indexSeed, seed, 64);
        uint256 len = proof.siblings.length;
        vm.assume(len > 0);
        bytes32[] memory shorter = new bytes32[](len - 1);
        for (uint256 i = 0; i < len - 1; i++) {
            shorter[i] = proof.siblings[i];
        }
        proof.siblings = shorter;
        bytes32 root = MerkleReference.root(leaves);
        vm.assertFalse(harness.verify(leaves[proof.index], proof, root), "verify");
        vm.expectRevert(abi.encodeWithSelector(MerkleTree.ProofTooShort.selector, len - 1, len));
        harness.verifyOrRevert(leaves[proof.index], proof, root);
    }

    /// @notice A proof with an extra sibling fails with ProofTooLong.
    function testFuzz_verify_revertsWhenProofTooLong(uint256 nSeed, uint256 indexSeed, bytes32 extra, bytes32 seed)
        public
    {
        (bytes32[] memory leaves, MerkleTree.Proof memory proof) = _randomProof(nSeed, indexSeed, seed, 64);
        uint256 len = proof.siblings.length;
        bytes32[] memory longer = new bytes32[](len + 1);
        for (uint256 i = 0; i < len; i++) {
            longer[i] = proof.siblings[i];
        }
        longer[len] = extra;
        proof.siblings = longer;
        bytes32 root = MerkleReference.root(leaves);
        vm.assertFalse(harness.verify(leaves[proof.index], proof, root), "verify");
        vm.expectRevert(abi.encodeWithSelector(MerkleTree.ProofTooLong.selector, len + 1, len));
        harness.verifyOrRevert(leaves[proof.index], proof, root);
    }

    /// @notice The first node of a two-leaf tree cannot pass for a leaf: domain separation.
    function test_verify_revertsWhenInnerNodeGivenAsLeaf() public {
        bytes32[] memory leaves = _leaves(4, keccak256("x"));
        bytes32 root = MerkleReference.root(leaves);
        // Pretend the 4-leaf tree is a 2-leaf tree whose "leaf digests" are its inner nodes.
        bytes32 left = MerkleReference.node(MerkleReference.leafNode(leaves[0]), MerkleReference.leafNode(leaves[1]));
        bytes32[] memory siblings = new bytes32[](1);
        siblings[0] = MerkleReference.node(MerkleReference.leafNode(leaves[2]), MerkleReference.leafNode(leaves[3]));
        MerkleTree.Proof memory proof = MerkleTree.Proof({index: 0, count: 4, siblings: siblings});
        vm.assertFalse(harness.verify(left, proof, root), "count 4");
        proof.count = 2;
        vm.assertFalse(harness.verify(left, proof, root), "count 2");
        vm.expectRevert();
        harness.verifyOrRevert(left, proof, root);
    }

    function _assertRootMismatch(bytes32 leaf, MerkleTree.Proof memory proof, bytes32 root) internal {
        vm.assertFalse(harness.verify(leaf, proof, root), "verify");
        bytes32 computed = harness.computeRoot(leaf, proof);
        vm.expectRevert(abi.encodeWithSelector(MerkleTree.RootMismatch.selector, computed, root));
        harness.verifyOrRevert(leaf, proof, root);
    }
}
