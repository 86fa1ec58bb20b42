// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {BlockRecordsTestBase} from "./utils/BlockRecordsTestBase.sol";
import {RollupConfirmations} from "../src/RollupConfirmations.sol";
import {ILightClient} from "../src/interfaces/ILightClient.sol";
import {IRollupConfirmations} from "../src/interfaces/IRollupConfirmations.sol";
import {Inclusion} from "../src/lib/Inclusion.sol";
import {MerkleTree} from "../src/lib/MerkleTree.sol";
import {BlockRecord} from "../src/lib/Protocol.sol";

/// @notice RollupConfirmations against the golden vectors: every record of the fixture is
/// confirmed, and every mutation of the record, the proof or the registry is refused, by
/// isConfirmed (false) and by requireConfirmed (the reason).
contract RollupConfirmationsTest is BlockRecordsTestBase {
    /// @dev Mutation kinds of _mutate (see there).
    uint256 internal constant KINDS = 20;
    /// @dev Kinds whose refusal has no single expected error (a path reshaped by a new index or
    /// count): any revert will do.
    bytes4 internal constant ANY = bytes4(0);

    /// @notice Reads the fixture and deploys.
    function setUp() public {
        _setUpFixture();
    }

    // ---------------------------------------------------------------------------------------------
    // Golden vectors
    // ---------------------------------------------------------------------------------------------

    /// @notice The fixture is what it claims: several records, numbered contiguously, each
    /// parentHash the previous record's hash, all of rollup 901, in blocks of the tip's history.
    function test_fixture_recordsAreContiguousAndChained() public view {
        vm.assertGe(cases.length, 5, "several records");
        for (uint256 i = 0; i < cases.length; ++i) {
            Case memory c = _case(i);
            vm.assertEq(c.chainId, rollup, "rollup 901's record");
            vm.assertLe(c.height, tipState.height, "in the tip's history");
            if (i > 0) {
                Case memory previous = _case(i - 1);
                vm.assertEq(c.number, previous.number + 1, "contiguous");
                vm.assertEq(c.parentHash, previous.hash, "chained");
                vm.assertLe(previous.height, c.height, "in block order");
            }
        }
    }

    /// @notice Solidity encodes and hashes each record as Rust does: the payload is
    /// abi.encode(record), txHash and recordTxHash agree with the fixture, and abi.encode of the
    /// proof read from JSON is the fixture's encodedRecordProof.
    function test_goldenVectors_encodingsMatch() public view {
        for (uint256 i = 0; i < cases.length; ++i) {
            Case memory c = _case(i);
            BlockRecord memory record =
                BlockRecord({chainId: c.chainId, number: c.number, hash: c.hash, parentHash: c.parentHash});
            vm.assertEq(abi.encode(record), payloads[i], "payload");
            vm.assertEq(
                confirmations.recordTxHash(c.chainId, c.number, c.hash, c.parentHash), txHashes[i], "recordTxHash"
            );
            vm.assertEq(abi.encode(c.proof), encodedProofs[i], "encodedRecordProof");
            vm.assertEq(c.proof.historyRoot, tipState.historyRoot, "against the tip's root");
        }
    }

    /// @notice Every record of the fixture is confirmed, at the height that holds it.
    function test_goldenVectors_everyRecordConfirmed() public view {
        for (uint256 i = 0; i < cases.length; ++i) {
            Case memory c = _case(i);
            vm.assertTrue(_isConfirmed(confirmations, c), "isConfirmed");
            vm.assertEq(
                confirmations.requireConfirmed(c.chainId, c.number, c.hash, c.parentHash, c.proof),
                c.height,
                "requireConfirmed returns the trestle height"
            );
        }
    }

    /// @notice A record's proof does not confirm another record of the chain (same rollup,
    /// other number, hash and parent): the proofs are not interchangeable.
    function test_isConfirmed_falseForAnotherRecordsProof() public {
        for (uint256 i = 0; i < cases.length; ++i) {
            Case memory c = _case(i);
            c.proof = _case((i + 1) % cases.length).proof;
            _assertRefused(confirmations, c, ANY, "another record's proof");
        }
    }

    /// @notice Every mutation of every record is refused: each record field, the chain id (an
    /// unknown rollup, or the other registered one), every header field, every sibling, index
    /// and count of the three paths, the namespace leaf, a sibling added or removed, and the
    /// history root.
    function test_isConfirmed_falseForEveryMutation() public {
        for (uint256 i = 0; i < cases.length; ++i) {
            for (uint256 kind = 0; kind < KINDS; ++kind) {
                uint256 positions = _positions(_case(i), kind);
                for (uint256 pos = 0; pos < positions; ++pos) {
                    Case memory c = _case(i);
                    bytes4 expected = _mutate(c, kind, pos, bytes32(uint256(1)));
                    _assertRefused(confirmations, c, expected, "mutation refused");
                }
            }
        }
    }

    /// @notice Random mutations (any record, kind, position and non-zero change) are refused.
    function testFuzz_isConfirmed_falseForMutations(uint256 index, uint256 kind, uint256 pos, bytes32 delta) public {
        Case memory c = _case(bound(index, 0, cases.length - 1));
        kind = bound(kind, 0, KINDS - 1);
        pos = bound(pos, 0, _positions(c, kind) - 1);
        if (delta == bytes32(0)) delta = bytes32(uint256(1));
        bytes4 expected = _mutate(c, kind, pos, delta);
        _assertRefused(confirmations, c, expected, "fuzzed mutation refused");
    }

    /// @notice A random block hash is not confirmed for any recorded number.
    function testFuzz_isConfirmed_falseForWrongHash(uint256 index, bytes32 hash) public {
        Case memory c = _case(bound(index, 0, cases.length - 1));
        vm.assume(hash != c.hash);
        c.hash = hash;
        _assertRefused(confirmations, c, Inclusion.TransactionNotInNamespace.selector, "wrong hash");
    }

    /// @notice A registry that binds rollup 901 to another namespace (the other rollup's block
    /// namespace, or 901's message namespace) confirms none of its records.
    function test_isConfirmed_falseWhenRollupBoundToAnotherNamespace() public {
        uint64[2] memory wrong = [otherNamespace, rollup];
        for (uint256 k = 0; k < wrong.length; ++k) {
            RollupConfirmations other = new RollupConfirmations(lightClient, _rollups(rollup, wrong[k], 1, 2));
            for (uint256 i = 0; i < cases.length; ++i) {
                _assertRefused(other, _case(i), Inclusion.NamespaceMismatch.selector, "other namespace");
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Registry
    // ---------------------------------------------------------------------------------------------

    /// @notice The constructor registers each rollup, emits RollupRegistered for each, and the
    /// views report the registry.
    function test_constructor_registersRollups() public {
        IRollupConfirmations.Rollup[] memory list = _rollups(rollup, blockNamespace, otherRollup, otherNamespace);
        vm.expectEmit();
        emit IRollupConfirmations.RollupRegistered(rollup, blockNamespace);
        vm.expectEmit();
        emit IRollupConfirmations.RollupRegistered(otherRollup, otherNamespace);
        RollupConfirmations fresh = new RollupConfirmations(lightClient, list);
        vm.assertEq(address(fresh.lightClient()), address(lightClient), "light client");
        IRollupConfirmations.Rollup[] memory listed = fresh.rollups();
        vm.assertEq(listed.length, 2, "two rollups");
        vm.assertEq(listed[1].chainId, otherRollup, "order kept");
        vm.assertEq(listed[1].blockNamespace, otherNamespace, "namespace kept");
        (bool registered, uint64 namespace) = fresh.blockNamespace(rollup);
        vm.assertTrue(registered, "registered");
        vm.assertEq(namespace, blockNamespace, "block namespace");
        (registered, namespace) = fresh.blockNamespace(UNKNOWN_ROLLUP);
        vm.assertFalse(registered, "unknown");
        vm.assertEq(namespace, 0, "no namespace");
    }

    /// @notice A rollup registered with namespace 0 is registered (0 is a namespace like any).
    function test_constructor_acceptsNamespaceZero() public {
        RollupConfirmations fresh = new RollupConfirmations(lightClient, _rollups(7, 0, 8, 1));
        (bool registered, uint64 namespace) = fresh.blockNamespace(7);
        vm.assertTrue(registered, "registered");
        vm.assertEq(namespace, 0, "namespace 0");
    }

    /// @notice The constructor refuses a rollup listed twice.
    function test_constructor_revertsWhenDuplicateRollup() public {
        vm.expectRevert(abi.encodeWithSelector(IRollupConfirmations.DuplicateRollup.selector, rollup));
        new RollupConfirmations(lightClient, _rollups(rollup, 1, rollup, 2));
    }

    /// @notice The constructor refuses an empty registry.
    function test_constructor_revertsWhenNoRollups() public {
        vm.expectRevert(IRollupConfirmations.NoRollups.selector);
        new RollupConfirmations(lightClient, new IRollupConfirmations.Rollup[](0));
    }

    /// @notice The constructor refuses a light client without code.
    function test_constructor_revertsWhenLightClientNotContract() public {
        address nobody = address(0xdead);
        vm.expectRevert(abi.encodeWithSelector(IRollupConfirmations.LightClientNotContract.selector, nobody));
        new RollupConfirmations(ILightClient(nobody), _rollups(1, 1, 2, 2));
    }

    /// @notice recordTxHash refuses an unknown rollup.
    function test_recordTxHash_revertsWhenUnknownRollup() public {
        vm.expectRevert(abi.encodeWithSelector(IRollupConfirmations.UnknownRollup.selector, UNKNOWN_ROLLUP));
        confirmations.recordTxHash(UNKNOWN_ROLLUP, 1, bytes32(0), bytes32(0));
    }

    /// @notice requireConfirmed names the unknown rollup and the unknown history root.
    function test_requireConfirmed_revertsWithTheReason() public {
        Case memory c = _case(0);
        vm.expectRevert(abi.encodeWithSelector(IRollupConfirmations.UnknownRollup.selector, UNKNOWN_ROLLUP));
        confirmations.requireConfirmed(UNKNOWN_ROLLUP, c.number, c.hash, c.parentHash, c.proof);
        bytes32 root = keccak256("unknown root");
        c.proof.historyRoot = root;
        vm.expectRevert(abi.encodeWithSelector(IRollupConfirmations.UnknownHistoryRoot.selector, root));
        confirmations.requireConfirmed(c.chainId, c.number, c.hash, c.parentHash, c.proof);
    }

    // ---------------------------------------------------------------------------------------------
    // Mutations
    // ---------------------------------------------------------------------------------------------

    /// @dev isConfirmed answers false and requireConfirmed reverts (with `expected`, unless ANY).
    function _assertRefused(IRollupConfirmations target, Case memory c, bytes4 expected, string memory label) internal {
        vm.assertFalse(_isConfirmed(target, c), label);
        if (expected == ANY) {
            vm.expectRevert();
        } else {
            vm.expectPartialRevert(expected);
        }
        target.requireConfirmed(c.chainId, c.number, c.hash, c.parentHash, c.proof);
    }

    /// @dev How many positions mutation `kind` has for `c` (at least 1).
    function _positions(Case memory c, uint256 kind) internal pure returns (uint256) {
        if (kind == 4) return 9; // header fields
        if (kind >= 5 && kind <= 7) {
            uint256 n = _path(c, kind - 5).siblings.length;
            return n == 0 ? 1 : n;
        }
        if (kind == 18 || kind == 19) return 3; // which path
        return 1;
    }

    /// @dev Path 0 (transaction), 1 (namespace) or 2 (history) of `c`'s proof.
    function _path(Case memory c, uint256 which) internal pure returns (MerkleTree.Proof memory) {
        if (which == 0) return c.proof.txProof.txProof;
        if (which == 1) return c.proof.txProof.namespaceProof.proof;
        return c.proof.historyProof;
    }

    /// @dev Changes one thing of `c` by `delta` (non-zero) and returns the error requireConfirmed
    /// must give (ANY where the reshaped path has no single one). Kinds: 0 number, 1 hash,
    /// 2 parentHash, 3 chainId, 4 header field `pos`, 5-7 sibling `pos` of the transaction,
    /// namespace, history path (added when the path is empty), 8-10 their index, 11-13 their
    /// count, 14-16 the namespace leaf's namespace, txCount, txRoot, 17 the history root,
    /// 18 a sibling appended to path `pos`, 19 the last sibling of path `pos` removed.
    function _mutate(Case memory c, uint256 kind, uint256 pos, bytes32 delta) internal view returns (bytes4) {
        uint64 d = uint64(uint256(delta));
        if (d == 0) d = 1;
        if (kind == 0) {
            c.number ^= d;
            return Inclusion.TransactionNotInNamespace.selector;
        }
        if (kind == 1) {
            c.hash ^= delta;
            return Inclusion.TransactionNotInNamespace.selector;
        }
        if (kind == 2) {
            c.parentHash ^= delta;
            return Inclusion.TransactionNotInNamespace.selector;
        }
        if (kind == 3) {
            c.chainId ^= d;
            if (c.chainId == otherRollup) return Inclusion.NamespaceMismatch.selector;
            return IRollupConfirmations.UnknownRollup.selector;
        }
        if (kind == 4) return _mutateHeader(c, pos, delta, d);
        if (kind >= 5 && kind <= 7) {
            MerkleTree.Proof memory path = _path(c, kind - 5);
            if (path.siblings.length == 0) return _append(path, delta);
            path.siblings[pos] ^= delta;
            if (kind == 5) return Inclusion.TransactionNotInNamespace.selector;
            if (kind == 6) return Inclusion.NamespaceNotInPayload.selector;
            return Inclusion.HeaderNotInHistory.selector;
        }
        if (kind >= 8 && kind <= 10) {
            _path(c, kind - 8).index ^= d;
            return kind == 10 ? Inclusion.HeightMismatch.selector : ANY;
        }
        if (kind >= 11 && kind <= 13) {
            _path(c, kind - 11).count ^= d;
            if (kind == 11) return Inclusion.TxCountMismatch.selector;
            // The history proof's count claims the root's height: another count asks the light
            // client for the root at another height.
            return kind == 13 ? IRollupConfirmations.UnknownHistoryRoot.selector : ANY;
        }
        if (kind == 14) {
            c.proof.txProof.namespaceProof.leaf.namespace ^= d;
            return Inclusion.NamespaceMismatch.selector;
        }
        if (kind == 15) {
            c.proof.txProof.namespaceProof.leaf.txCount ^= d;
            return Inclusion.TxCountMismatch.selector;
        }
        if (kind == 16) {
            c.proof.txProof.namespaceProof.leaf.txRoot ^= delta;
            return Inclusion.TransactionNotInNamespace.selector;
        }
        if (kind == 17) {
            c.proof.historyRoot ^= delta;
            return IRollupConfirmations.UnknownHistoryRoot.selector;
        }
        MerkleTree.Proof memory target = _path(c, pos);
        if (kind == 18 || target.siblings.length == 0) return _append(target, delta);
        bytes32[] memory shorter = new bytes32[](target.siblings.length - 1);
        for (uint256 k = 0; k < shorter.length; ++k) {
            shorter[k] = target.siblings[k];
        }
        target.siblings = shorter;
        return MerkleTree.ProofTooShort.selector;
    }

    /// @dev Header field `pos` changed.
    function _mutateHeader(Case memory c, uint256 pos, bytes32 delta, uint64 d) internal pure returns (bytes4) {
        pos %= 9;
        if (pos == 0) c.proof.header.chainId ^= d;
        else if (pos == 1) c.proof.header.epoch ^= d;
        else if (pos == 2) c.proof.header.height ^= d;
        else if (pos == 3) c.proof.header.viewNumber ^= d;
        else if (pos == 4) c.proof.header.timestampMs ^= d;
        else if (pos == 5) c.proof.header.parent ^= delta;
        else if (pos == 6) c.proof.header.payloadRoot ^= delta;
        else if (pos == 7) c.proof.header.historyRoot ^= delta;
        else c.proof.header.committee ^= delta;
        if (pos == 2) return Inclusion.HeightMismatch.selector;
        if (pos == 6) return Inclusion.NamespaceNotInPayload.selector;
        return Inclusion.HeaderNotInHistory.selector;
    }

    /// @dev A sibling appended to `path`: always one too many.
    function _append(MerkleTree.Proof memory path, bytes32 sibling) internal pure returns (bytes4) {
        bytes32[] memory longer = new bytes32[](path.siblings.length + 1);
        for (uint256 k = 0; k < path.siblings.length; ++k) {
            longer[k] = path.siblings[k];
        }
        longer[path.siblings.length] = sibling;
        path.siblings = longer;
        return MerkleTree.ProofTooLong.selector;
    }
}
