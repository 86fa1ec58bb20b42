// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {StateInputs} from "./utils/StateInputs.sol";
import {Fixtures} from "./utils/Fixtures.sol";
import {InclusionHarness} from "./utils/InclusionHarness.sol";
import {MerkleReference} from "./utils/MerkleReference.sol";
import {MerkleTree} from "../src/lib/MerkleTree.sol";
import {Inclusion} from "../src/lib/Inclusion.sol";
import {
    Header,
    LightClientState,
    NamespaceAbsenceProof,
    NamespaceLeaf,
    NamespaceProof,
    Transaction,
    TransactionProof
} from "../src/lib/Protocol.sol";

/// @notice Checks the contracts against the golden vectors the Rust light client writes
/// (DESIGN.md section 4): the same encodings, the same hashes, the same roots, and every proof
/// Rust builds verifies here. Each check compares a value Rust computed with one Solidity computes
/// (through the libraries, via InclusionHarness), so a change on either side fails a test. The
/// minimum vector counts guard against a fixture or a JSON path that silently yields nothing.
contract GoldenVectorsTest is Fixtures {
    /// @dev BN254 scalar field order: committees and their commitments are elements of it.
    uint256 internal constant FR_MODULUS = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;

    InclusionHarness internal harness;

    /// @notice Deploys the harness.
    function setUp() public {
        harness = new InclusionHarness();
    }

    // ---------------------------------------------------------------------------------------------
    // headers.json
    // ---------------------------------------------------------------------------------------------

    /// @notice Every header's abi.encode is Rust's encoding and Protocol.hash is Rust's hash.
    function test_headers_encodingAndHashMatchRust() public view {
        string memory json = _readFixture("headers.json");
        uint256 n = _length(json, ".headers");
        vm.assertLe(6, n, "header vectors");
        for (uint256 i = 0; i < n; ++i) {
            string memory key = _at(".headers", i);
            Header memory header = _header(json, _dot(key, "header"));
            bytes memory encoded = vm.parseJsonBytes(json, _dot(key, "encoded"));
            bytes32 expected = _b32(json, _dot(key, "hash"));
            vm.assertEq(abi.encode(header), encoded, "abi.encode(Header)");
            vm.assertEq(harness.hashHeader(header), expected, "Protocol.hash(Header)");
            // Rust's bytes decode into the Solidity struct and hash the same.
            vm.assertEq(harness.hashHeader(abi.decode(encoded, (Header))), expected, "decoded header hash");
        }
    }

    /// @notice Every transaction's abi.encode is Rust's encoding, and all of Protocol's
    /// transaction hash functions give Rust's hash.
    function test_transactions_encodingAndHashMatchRust() public view {
        string memory json = _readFixture("headers.json");
        uint256 n = _length(json, ".transactions");
        vm.assertLe(3, n, "transaction vectors");
        for (uint256 i = 0; i < n; ++i) {
            string memory key = _at(".transactions", i);
            Transaction memory transaction = Transaction({
                namespace: _u64(json, _dot(key, "namespace")), payload: vm.parseJsonBytes(json, _dot(key, "payload"))
            });
            bytes32 expected = _b32(json, _dot(key, "hash"));
            vm.assertEq(abi.encode(transaction), vm.parseJsonBytes(json, _dot(key, "encoded")), "abi.encode(tx)");
            vm.assertEq(harness.hashTransaction(transaction), expected, "Protocol.hash(Transaction)");
            vm.assertEq(harness.txHash(transaction.namespace, transaction.payload), expected, "Protocol.txHash");
            vm.assertEq(
                harness.txHashMemory(transaction.namespace, transaction.payload), expected, "Protocol.txHashMemory"
            );
        }
    }

    // ---------------------------------------------------------------------------------------------
    // merkle.json
    // ---------------------------------------------------------------------------------------------

    /// @notice Every tree's root is the reference root of its leaves, every proof is the reference
    /// audit path and verifies against the root (and not for another leaf); the empty tree's root
    /// is committedRoot(0, 0) and no proof verifies against it.
    function test_merkle_everyProofVerifies() public view {
        string memory json = _readFixture("merkle.json");
        uint256 n = _length(json, ".trees");
        vm.assertLe(13, n, "tree vectors");
        bool sawEmpty;
        for (uint256 t = 0; t < n; ++t) {
            string memory key = _at(".trees", t);
            uint256 count = _u64(json, _dot(key, "count"));
            bytes32[] memory leaves = vm.parseJsonBytes32Array(json, _dot(key, "leaves"));
            bytes32 root = _b32(json, _dot(key, "root"));
            vm.assertEq(leaves.length, count, "leaves");
            vm.assertEq(MerkleReference.root(leaves), root, "root of the leaves");
            vm.assertEq(_length(json, _dot(key, "proofs")), count, "one proof per leaf");
            if (count == 0) {
                sawEmpty = true;
                vm.assertEq(MerkleTree.committedRoot(0, bytes32(0)), root, "empty root");
                _assertEmptyTreeRejects(root);
            }
            for (uint256 i = 0; i < count; ++i) {
                _checkMerkleProof(json, _at(_dot(key, "proofs"), i), leaves, i, root);
            }
        }
        vm.assertTrue(sawEmpty, "an empty tree vector");
    }

    /// @notice No proof of any index, with count 0 (the empty tree's) or another count, verifies
    /// against the empty tree's root from merkle.json.
    function testFuzz_merkle_emptyTreeRejectsEveryProof(
        uint64 index,
        uint64 count,
        bytes32 leaf,
        uint256 siblingCount,
        bytes32 seed
    ) public view {
        bytes32 emptyRoot = _b32(_readFixture("merkle.json"), ".trees[0].root");
        vm.assertEq(_u64(_readFixture("merkle.json"), ".trees[0].count"), 0, "tree 0 is empty");
        bytes32[] memory siblings = new bytes32[](bound(siblingCount, 0, 64));
        for (uint256 i = 0; i < siblings.length; ++i) {
            siblings[i] = keccak256(abi.encode(seed, i));
        }
        vm.assertFalse(
            harness.merkleVerify(leaf, MerkleTree.Proof({index: index, count: 0, siblings: siblings}), emptyRoot),
            "count 0"
        );
        vm.assertFalse(
            harness.merkleVerify(leaf, MerkleTree.Proof({index: index, count: count, siblings: siblings}), emptyRoot),
            "any count"
        );
    }

    function _checkMerkleProof(string memory json, string memory key, bytes32[] memory leaves, uint256 i, bytes32 root)
        internal
        view
    {
        MerkleTree.Proof memory proof = _merkleProof(json, key);
        vm.assertEq(proof.index, i, "proof index");
        vm.assertEq(proof.count, leaves.length, "proof count");
        vm.assertEq(proof.siblings, MerkleReference.path(leaves, i), "audit path");
        vm.assertTrue(harness.merkleVerify(leaves[i], proof, root), "verify");
        vm.assertEq(harness.merkleComputeRoot(leaves[i], proof), root, "computeRoot");
        if (leaves.length > 1) {
            vm.assertFalse(harness.merkleVerify(leaves[(i + 1) % leaves.length], proof, root), "other leaf");
        }
    }

    function _assertEmptyTreeRejects(bytes32 root) internal view {
        MerkleTree.Proof memory proof = MerkleTree.Proof({index: 0, count: 0, siblings: new bytes32[](0)});
        vm.assertFalse(harness.merkleVerify(bytes32(0), proof, root), "empty: zero leaf");
        vm.assertFalse(harness.merkleVerify(root, proof, root), "empty: root as leaf");
        proof.count = 1;
        vm.assertFalse(harness.merkleVerify(bytes32(0), proof, root), "empty: count 1");
    }

    // ---------------------------------------------------------------------------------------------
    // payload.json
    // ---------------------------------------------------------------------------------------------

    /// @notice Every transaction's hash is Rust's, its `encodedProof` is abi.encode of the
    /// TransactionProof read field by field (and decodes back to it), and the proof verifies
    /// against the payload root through every entry point, but not against another root.
    function test_payload_transactionProofsVerify() public view {
        string memory json = _readFixture("payload.json");
        bytes32 payloadRoot = _b32(json, ".payloadRoot");
        uint256 n = _length(json, ".transactions");
        vm.assertLe(24, n, "transaction vectors");
        for (uint256 i = 0; i < n; ++i) {
            _checkTransactionProof(json, _at(".transactions", i), payloadRoot);
        }
    }

    function _checkTransactionProof(string memory json, string memory key, bytes32 payloadRoot) internal view {
        Transaction memory transaction = Transaction({
            namespace: _u64(json, _dot(key, "namespace")), payload: vm.parseJsonBytes(json, _dot(key, "payload"))
        });
        bytes32 txHash = _b32(json, _dot(key, "hash"));
        vm.assertEq(harness.hashTransaction(transaction), txHash, "tx hash");

        TransactionProof memory proof = _transactionProof(json, key);
        bytes memory encoded = vm.parseJsonBytes(json, _dot(key, "encodedProof"));
        vm.assertEq(abi.encode(proof), encoded, "abi.encode(TransactionProof)");
        TransactionProof memory decoded = abi.decode(encoded, (TransactionProof));
        _assertTransactionProofEq(decoded, proof);

        vm.assertEq(harness.verifyTransaction(transaction, decoded, payloadRoot), txHash, "verifyTransaction");
        harness.verifyTransactionHash(transaction.namespace, txHash, proof, payloadRoot);
        harness.verifyNamespace(proof.namespaceProof, payloadRoot);

        bytes32 otherRoot = keccak256(abi.encode(payloadRoot));
        try harness.verifyTransaction(transaction, proof, otherRoot) {
            vm.assertTrue(false, "verified against another root");
        } catch (bytes memory reason) {
            vm.assertEq(
                reason,
                abi.encodeWithSelector(Inclusion.NamespaceNotInPayload.selector, payloadRoot, otherRoot),
                "NamespaceNotInPayload"
            );
        }
    }

    function _assertTransactionProofEq(TransactionProof memory a, TransactionProof memory b) internal pure {
        _assertMerkleProofEq(a.txProof, b.txProof);
        _assertMerkleProofEq(a.namespaceProof.proof, b.namespaceProof.proof);
        vm.assertEq(a.namespaceProof.leaf.namespace, b.namespaceProof.leaf.namespace, "leaf.namespace");
        vm.assertEq(a.namespaceProof.leaf.txCount, b.namespaceProof.leaf.txCount, "leaf.txCount");
        vm.assertEq(a.namespaceProof.leaf.txRoot, b.namespaceProof.leaf.txRoot, "leaf.txRoot");
    }

    function _assertMerkleProofEq(MerkleTree.Proof memory a, MerkleTree.Proof memory b) internal pure {
        vm.assertEq(a.index, b.index, "proof.index");
        vm.assertEq(a.count, b.count, "proof.count");
        vm.assertEq(a.siblings, b.siblings, "proof.siblings");
    }

    /// @notice The payload commitment rebuilds from the transactions alone: grouping them by
    /// namespace in block order gives each namespace leaf's txRoot and txCount (and each
    /// transaction's index in its proof), and the tree over the leaf digests (Protocol.leafDigest)
    /// in ascending namespace order is payloadRoot.
    function test_payload_rootRebuildsFromTransactions() public view {
        string memory json = _readFixture("payload.json");
        uint256 namespaceCount = _length(json, ".namespaces");
        uint256 txCount = _length(json, ".transactions");
        vm.assertLe(4, namespaceCount, "namespace vectors");
        bytes32[] memory digests = new bytes32[](namespaceCount);
        uint256 total;
        for (uint256 j = 0; j < namespaceCount; ++j) {
            NamespaceLeaf memory leaf = _namespaceLeaf(json, _dot(_at(".namespaces", j), "leaf"));
            bytes32[] memory hashes = _namespaceTxHashes(json, txCount, leaf.namespace);
            vm.assertEq(hashes.length, leaf.txCount, "txCount");
            vm.assertEq(MerkleReference.root(hashes), leaf.txRoot, "txRoot");
            digests[j] = harness.leafDigest(leaf);
            vm.assertEq(digests[j], keccak256(abi.encode(leaf)), "leaf digest");
            total += hashes.length;
        }
        vm.assertEq(total, txCount, "every transaction is in a namespace");
        vm.assertEq(MerkleReference.root(digests), _b32(json, ".payloadRoot"), "payloadRoot");
    }

    /// @dev Hashes of the transactions of `namespace` in block order; checks that each one's
    /// proof names its position among them.
    function _namespaceTxHashes(string memory json, uint256 txCount, uint64 namespace)
        internal
        view
        returns (bytes32[] memory hashes)
    {
        hashes = new bytes32[](txCount);
        uint256 found;
        for (uint256 i = 0; i < txCount; ++i) {
            string memory key = _at(".transactions", i);
            if (_u64(json, _dot(key, "namespace")) != namespace) continue;
            vm.assertEq(_u64(json, _dot(key, "txProof.index")), found, "tx index in its namespace");
            hashes[found++] = harness.txHash(namespace, vm.parseJsonBytes(json, _dot(key, "payload")));
        }
        assembly ("memory-safe") {
            mstore(hashes, found)
        }
    }

    /// @notice Every namespace proof verifies; the leaves are strictly ascending and their proofs
    /// name their positions in a tree of all of them.
    function test_payload_namespaceProofsVerify() public view {
        string memory json = _readFixture("payload.json");
        bytes32 payloadRoot = _b32(json, ".payloadRoot");
        uint256 n = _length(json, ".namespaces");
        vm.assertLe(4, n, "namespace vectors");
        uint64 previous;
        for (uint256 j = 0; j < n; ++j) {
            NamespaceProof memory proof = _namespaceProof(json, _at(".namespaces", j));
            vm.assertEq(proof.proof.index, j, "index");
            vm.assertEq(proof.proof.count, n, "count");
            if (j > 0) vm.assertLt(previous, proof.leaf.namespace, "ascending");
            previous = proof.leaf.namespace;
            harness.verifyNamespace(proof, payloadRoot);
        }
    }

    /// @notice Every absence proof verifies, for the namespace it was made for only: not for a
    /// present namespace, and not once tampered with.
    function test_payload_absenceProofsVerify() public view {
        string memory json = _readFixture("payload.json");
        bytes32 payloadRoot = _b32(json, ".payloadRoot");
        uint256 n = _length(json, ".absences");
        vm.assertLe(4, n, "absence vectors");
        bool sawOne;
        bool sawTwo;
        for (uint256 a = 0; a < n; ++a) {
            string memory key = _at(".absences", a);
            uint64 namespace = _u64(json, _dot(key, "namespace"));
            NamespaceAbsenceProof memory proof = _absenceProof(json, key);
            sawOne = sawOne || proof.neighbours.length == 1;
            sawTwo = sawTwo || proof.neighbours.length == 2;
            harness.verifyNamespaceAbsence(namespace, proof, payloadRoot);
            _assertPresentNamespacesRejected(json, proof, payloadRoot);
            _assertTamperedAbsenceRejected(namespace, proof, payloadRoot);
        }
        vm.assertTrue(sawOne && sawTwo, "one- and two-neighbour vectors");
    }

    function _assertPresentNamespacesRejected(string memory json, NamespaceAbsenceProof memory proof, bytes32 root)
        internal
        view
    {
        for (uint256 j = 0; j < _length(json, ".namespaces"); ++j) {
            uint64 present = _u64(json, _dot(_at(".namespaces", j), "leaf.namespace"));
            bool isNeighbour;
            for (uint256 k = 0; k < proof.neighbours.length; ++k) {
                isNeighbour = isNeighbour || proof.neighbours[k].leaf.namespace == present;
            }
            bytes memory expected = isNeighbour
                ? abi.encodeWithSelector(Inclusion.NamespacePresent.selector, present)
                : abi.encodeWithSelector(Inclusion.NamespaceNotExcluded.selector, present);
            _assertAbsenceReverts(present, proof, root, expected);
        }
    }

    function _assertTamperedAbsenceRejected(uint64 namespace, NamespaceAbsenceProof memory proof, bytes32 root)
        internal
        view
    {
        bytes memory notExcluded = abi.encodeWithSelector(Inclusion.NamespaceNotExcluded.selector, namespace);
        // Another leaf count.
        proof.leafCount += 1;
        _assertAbsenceReverts(namespace, proof, root, notExcluded);
        proof.leafCount -= 1;
        // A flipped sibling.
        NamespaceProof memory first = proof.neighbours[0];
        bytes32 sibling = first.proof.siblings[0];
        first.proof.siblings[0] = ~sibling;
        bytes32 computed = harness.merkleComputeRoot(keccak256(abi.encode(first.leaf)), first.proof);
        _assertAbsenceReverts(
            namespace, proof, root, abi.encodeWithSelector(Inclusion.NamespaceNotInPayload.selector, computed, root)
        );
        first.proof.siblings[0] = sibling;
        // One neighbour of two dropped, either one.
        if (proof.neighbours.length == 2) {
            NamespaceProof[] memory both = proof.neighbours;
            for (uint256 k = 0; k < 2; ++k) {
                proof.neighbours = new NamespaceProof[](1);
                proof.neighbours[0] = both[k];
                _assertAbsenceReverts(namespace, proof, root, notExcluded);
            }
            proof.neighbours = both;
        }
        // No neighbours: only for the empty payload.
        NamespaceProof[] memory saved = proof.neighbours;
        proof.neighbours = new NamespaceProof[](0);
        _assertAbsenceReverts(namespace, proof, root, notExcluded);
        proof.neighbours = saved;
        // Untouched, it still verifies.
        harness.verifyNamespaceAbsence(namespace, proof, root);
    }

    function _assertAbsenceReverts(
        uint64 namespace,
        NamespaceAbsenceProof memory proof,
        bytes32 root,
        bytes memory expected
    ) internal view {
        try harness.verifyNamespaceAbsence(namespace, proof, root) {
            vm.assertTrue(false, "absence proof accepted");
        } catch (bytes memory reason) {
            vm.assertEq(reason, expected, "revert reason");
        }
    }

    /// @notice The empty payload's root is committedRoot(0, 0), and an absence proof without
    /// neighbours verifies against it, for any namespace, and against no other root.
    function testFuzz_payload_emptyPayloadAbsence(uint64 namespace) public view {
        string memory json = _readFixture("payload.json");
        bytes32 emptyRoot = _b32(json, ".emptyPayloadRoot");
        vm.assertEq(MerkleTree.committedRoot(0, bytes32(0)), emptyRoot, "empty payload root");
        NamespaceAbsenceProof memory proof;
        harness.verifyNamespaceAbsence(namespace, proof, emptyRoot);
        _assertAbsenceReverts(
            namespace,
            proof,
            _b32(json, ".payloadRoot"),
            abi.encodeWithSelector(Inclusion.NamespaceNotExcluded.selector, namespace)
        );
    }

    // ---------------------------------------------------------------------------------------------
    // history.json
    // ---------------------------------------------------------------------------------------------

    /// @notice The root at every height is the reference root over the header hashes up to it
    /// (count height + 1), and every history proof verifies with its height and root height, and
    /// not with another root height.
    function test_history_proofsVerify() public view {
        string memory json = _readFixture("history.json");
        bytes32[] memory hashes = vm.parseJsonBytes32Array(json, ".headerHashes");
        bytes32[] memory roots = vm.parseJsonBytes32Array(json, ".roots");
        vm.assertLe(21, hashes.length, "history vectors");
        vm.assertEq(roots.length, hashes.length, "one root per height");
        for (uint256 g = 0; g < roots.length; ++g) {
            bytes32[] memory prefix = new bytes32[](g + 1);
            for (uint256 h = 0; h <= g; ++h) {
                prefix[h] = hashes[h];
            }
            vm.assertEq(MerkleReference.root(prefix), roots[g], "root over heights 0..=g");
        }
        uint256 n = _length(json, ".proofs");
        vm.assertLe(7, n, "history proof vectors");
        for (uint256 i = 0; i < n; ++i) {
            _checkHistoryProof(json, _at(".proofs", i), hashes, roots);
        }
    }

    function _checkHistoryProof(string memory json, string memory key, bytes32[] memory hashes, bytes32[] memory roots)
        internal
        view
    {
        uint64 height = _u64(json, _dot(key, "height"));
        uint64 rootHeight = _u64(json, _dot(key, "rootHeight"));
        bytes32 headerHash = _b32(json, _dot(key, "headerHash"));
        bytes32 root = _b32(json, _dot(key, "root"));
        MerkleTree.Proof memory proof = _merkleProof(json, _dot(key, "proof"));
        vm.assertEq(headerHash, hashes[height], "headerHash");
        vm.assertEq(root, roots[rootHeight], "root");
        harness.verifyHeaderHash(headerHash, height, proof, root, rootHeight);
        try harness.verifyHeaderHash(headerHash, height, proof, root, rootHeight + 1) {
            vm.assertTrue(false, "accepted another root height");
        } catch (bytes memory reason) {
            vm.assertEq(
                reason,
                abi.encodeWithSelector(Inclusion.RootHeightMismatch.selector, proof.count, rootHeight + 1),
                "RootHeightMismatch"
            );
        }
    }

    // ---------------------------------------------------------------------------------------------
    // chain.json: real blocks, end to end
    // ---------------------------------------------------------------------------------------------

    /// @notice On a chain of real blocks, every header's hash is Rust's, links to its parent and
    /// carries the history root over the headers before it; and every transaction proves
    /// tx ∈ namespace ∈ payloadRoot ∈ header ∈ historyRoot of the signed state in one call, but
    /// not against a root of another height.
    function test_chain_transactionsProveIntoTheStateHistoryRoot() public view {
        string memory json = _readFixture("chain.json");
        (Header[] memory headers, bytes32[] memory hashes) = _chainHeaders(json);
        LightClientState memory state = _state(json, ".state");
        vm.assertEq(state.historyRoot, MerkleReference.root(hashes), "state history root over 0..=tip");
        uint256 proofs = _length(json, ".proofs");
        vm.assertLe(10, proofs, "chain proofs");
        for (uint256 i = 0; i < proofs; ++i) {
            _checkChainProof(json, _at(".proofs", i), headers, state);
        }
    }

    function _chainHeaders(string memory json)
        internal
        view
        returns (Header[] memory headers, bytes32[] memory hashes)
    {
        uint256 n = _length(json, ".headers");
        vm.assertLe(6, n, "chain headers");
        headers = new Header[](n);
        hashes = new bytes32[](n);
        for (uint256 h = 0; h < n; ++h) {
            string memory key = _at(".headers", h);
            headers[h] = _header(json, _dot(key, "header"));
            hashes[h] = harness.hashHeader(headers[h]);
            vm.assertEq(hashes[h], _b32(json, _dot(key, "hash")), "header hash");
            vm.assertEq(headers[h].height, h, "contiguous heights");
            vm.assertEq(headers[h].parent, h == 0 ? bytes32(0) : hashes[h - 1], "parent link");
            bytes32[] memory before = new bytes32[](h);
            for (uint256 i = 0; i < h; ++i) {
                before[i] = hashes[i];
            }
            vm.assertEq(headers[h].historyRoot, MerkleReference.root(before), "history root over 0..h-1");
        }
    }

    function _checkChainProof(
        string memory json,
        string memory key,
        Header[] memory headers,
        LightClientState memory state
    ) internal view {
        Header memory header = headers[_u64(json, _dot(key, "height"))];
        Transaction memory transaction = Transaction({
            namespace: _u64(json, _dot(key, "namespace")), payload: vm.parseJsonBytes(json, _dot(key, "payload"))
        });
        TransactionProof memory txProof = _transactionProof(json, _dot(key, "transactionProof"));
        vm.assertEq(abi.encode(txProof), vm.parseJsonBytes(json, _dot(key, "encodedTransactionProof")), "proof");
        MerkleTree.Proof memory historyProof = _merkleProof(json, _dot(key, "historyProof"));
        bytes32 txHash = harness.verifyTransactionInHistory(
            transaction, header, txProof, historyProof, state.historyRoot, state.height
        );
        vm.assertEq(txHash, _b32(json, _dot(key, "txHash")), "tx hash");
        // The tip header's own history root covers one header less: the same proof must not pass.
        bytes32 previousRoot = headers[headers.length - 1].historyRoot;
        try harness.verifyTransactionInHistory(
            transaction, header, txProof, historyProof, previousRoot, state.height - 1
        ) {
            vm.assertTrue(false, "accepted the previous history root");
        } catch {}
    }

    // ---------------------------------------------------------------------------------------------
    // state.json and committee.json
    // ---------------------------------------------------------------------------------------------

    /// @notice abi.encode(LightClientState) is Rust's encoding; the state's history root is the
    /// history vectors' root at its height, its next committee the committee vector's commitment,
    /// and its packed counters chainId·2^128 + epoch·2^64 + height.
    function test_state_encodingMatchesRust() public view {
        string memory json = _readFixture("state.json");
        LightClientState memory state = _state(json, ".state");
        vm.assertEq(abi.encode(state), vm.parseJsonBytes(json, ".encoded"), "abi.encode(LightClientState)");
        bytes32[] memory roots = vm.parseJsonBytes32Array(_readFixture("history.json"), ".roots");
        vm.assertEq(state.historyRoot, roots[state.height], "history root at the state's height");
        vm.assertEq(state.nextCommittee, _b32(json, ".committee.commitment"), "next committee");
        vm.assertEq(
            uint256(_b32(json, ".packedCounters")),
            (uint256(state.chainId) << 128) | (uint256(state.epoch) << 64) | state.height,
            "packed counters"
        );
        // The proof's public inputs (signed by the committee of the vector, which is also the
        // state's next committee) as the circuit's Rust side packs them.
        uint256[4] memory inputs = StateInputs.compute(state, state.nextCommittee);
        bytes32[] memory expected = vm.parseJsonBytes32Array(json, ".publicInputs");
        vm.assertEq(expected.length, 4, "public inputs");
        for (uint256 i = 0; i < 4; ++i) {
            vm.assertEq(bytes32(inputs[i]), expected[i], "public input");
        }
        vm.assertLt(uint256(_b32(json, ".message")), FR_MODULUS, "message is a field element");
        vm.assertEq(vm.parseJsonUint(json, ".messageDecimal"), uint256(_b32(json, ".message")), "message decimal");
    }

    /// @notice Every committee commitment and member coordinate is a canonical BN254 field element
    /// as a big-endian bytes32, the form headers and the contracts carry (the Poseidon commitment
    /// itself is pinned by the Rust and circomlibjs tests, not here).
    function test_committee_valuesAreFieldElements() public view {
        string memory json = _readFixture("committee.json");
        uint256 n = _length(json, ".committees");
        vm.assertLe(4, n, "committee vectors");
        for (uint256 c = 0; c < n; ++c) {
            _checkCommittee(json, _at(".committees", c));
        }
        _checkCommittee(_readFixture("state.json"), ".committee");
    }

    function _checkCommittee(string memory json, string memory key) internal view {
        bytes32 commitment = _b32(json, _dot(key, "commitment"));
        vm.assertLt(uint256(commitment), FR_MODULUS, "commitment");
        vm.assertEq(vm.parseJsonUint(json, _dot(key, "commitmentDecimal")), uint256(commitment), "decimal");
        // `slots` lists the members; the commitment covers them padded to `capacity`.
        uint256 slots = _length(json, _dot(key, "slots"));
        vm.assertLt(0, slots, "members");
        vm.assertLe(slots, _u64(json, _dot(key, "capacity")), "members fit the capacity");
        uint256 totalWeight;
        for (uint256 s = 0; s < slots; ++s) {
            string memory slot = _at(_dot(key, "slots"), s);
            vm.assertLt(uint256(_b32(json, _dot(slot, "x"))), FR_MODULUS, "x");
            vm.assertLt(uint256(_b32(json, _dot(slot, "y"))), FR_MODULUS, "y");
            totalWeight += _u64(json, _dot(slot, "weight"));
        }
        vm.assertEq(totalWeight, _u64(json, _dot(key, "totalWeight")), "total weight");
    }
}
