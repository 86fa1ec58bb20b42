// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "./utils/Test.sol";
import {InclusionHarness} from "./utils/InclusionHarness.sol";
import {MerkleReference} from "./utils/MerkleReference.sol";
import {PayloadBuilder} from "./utils/PayloadBuilder.sol";
import {MerkleTree} from "../src/lib/MerkleTree.sol";
import {Header, NamespaceLeaf, NamespaceProof, Transaction, TransactionProof} from "../src/lib/Protocol.sol";

/// @notice Gas of the inclusion checks, recorded with forge's gas snapshot cheatcodes in
/// snapshots/Inclusion.json (gas of the harness call: ABI decoding plus the library, without the
/// 21,000 base cost and calldata of a transaction, whose size is recorded beside it).
/// @dev Trees are real where it is cheap: the namespace's transaction tree (up to 1,000 leaves)
/// and the payload tree are built with MerkleReference; the history's other subtrees are random
/// hashes with the root computed over them (any history of that size has that shape).
contract InclusionGasTest is Test, PayloadBuilder {
    /// @dev Upper bounds the measurements must stay under; a regression past them fails the test.
    uint256 internal constant FULL_CHECK_BUDGET = 25_000;

    InclusionHarness internal harness;

    /// @notice A transaction, the header of its block and every proof down to a history root.
    struct Scenario {
        Transaction transaction;
        Header header;
        TransactionProof txProof;
        MerkleTree.Proof historyProof;
        bytes32 historyRoot;
        uint64 rootHeight;
    }

    /// @notice Deploys the harness.
    function setUp() public {
        harness = new InclusionHarness();
    }

    /// @notice A 256-byte transaction, one of 1,000 in its namespace (index 500: 10 siblings, the
    /// most in a tree of 1,000), in a payload of 16 namespaces (4 siblings), in a history of 2^20
    /// headers (20 siblings).
    function test_gas_txInHistory_1000tx_16ns_2pow20() public {
        Scenario memory s = _scenario(1_000, 500, 16, 5, 256, (1 << 20) - 1, 1_000_000);
        vm.assertEq(s.txProof.txProof.siblings.length, 10, "tx path");
        vm.assertEq(s.txProof.namespaceProof.proof.siblings.length, 4, "namespace path");
        vm.assertEq(s.historyProof.siblings.length, 20, "history path");
        uint256 gasUsed = _measure(s, "txInHistory_1000tx_16ns_2pow20");
        vm.assertLt(gasUsed, FULL_CHECK_BUDGET, "full check within budget");

        // The same, given the transaction's hash, and its parts.
        bytes32 txHash = keccak256(abi.encode(s.transaction));
        harness.verifyTransactionHashInHistory(
            s.transaction.namespace, txHash, s.header, s.txProof, s.historyProof, s.historyRoot, s.rootHeight
        );
        vm.snapshotGasLastCall("Inclusion", "txHashInHistory_1000tx_16ns_2pow20");
        harness.verifyTransaction(s.transaction, s.txProof, s.header.payloadRoot);
        vm.snapshotGasLastCall("Inclusion", "txInPayload_1000tx_16ns");
        harness.verifyHeader(s.header, s.historyProof, s.historyRoot, s.rootHeight);
        vm.snapshotGasLastCall("Inclusion", "headerInHistory_2pow20");
    }

    /// @notice A 1,000-transaction block spread over 100 namespaces of 10 (tx path 4, namespace
    /// path 7), in a history of 2^20 headers.
    function test_gas_txInHistory_10tx_100ns_2pow20() public {
        Scenario memory s = _scenario(10, 3, 100, 42, 256, (1 << 20) - 1, 777_777);
        vm.assertEq(s.txProof.txProof.siblings.length + s.txProof.namespaceProof.proof.siblings.length, 11, "paths");
        vm.assertLt(_measure(s, "txInHistory_10tx_100ns_2pow20"), FULL_CHECK_BUDGET, "within budget");
    }

    /// @notice The smallest case: the only transaction of the only namespace of the genesis block,
    /// against the history root of height 0 (no siblings anywhere).
    function test_gas_txInHistory_genesisSingleTx() public {
        Scenario memory s = _scenario(1, 0, 1, 0, 256, 0, 0);
        vm.assertLt(_measure(s, "txInHistory_1tx_1ns_genesis"), FULL_CHECK_BUDGET, "within budget");
    }

    function _measure(Scenario memory s, string memory name) internal returns (uint256 gasUsed) {
        vm.assertEq(
            harness.verifyTransactionInHistory(
                s.transaction, s.header, s.txProof, s.historyProof, s.historyRoot, s.rootHeight
            ),
            keccak256(abi.encode(s.transaction)),
            "verifies"
        );
        gasUsed = vm.snapshotGasLastCall("Inclusion", name);
        bytes memory data = abi.encodeCall(
            InclusionHarness.verifyTransactionInHistory,
            (s.transaction, s.header, s.txProof, s.historyProof, s.historyRoot, s.rootHeight)
        );
        vm.snapshotValue("Inclusion", string.concat(name, "_calldataBytes"), data.length);
        vm.snapshotValue("Inclusion", string.concat(name, "_calldataGas"), _calldataGas(data));
    }

    /// @dev Transaction `txIndex` of `txCount` in the namespace at position `nsIndex` of
    /// `nsCount`, with the header at `height` in a history up to `rootHeight`.
    function _scenario(
        uint256 txCount,
        uint256 txIndex,
        uint256 nsCount,
        uint256 nsIndex,
        uint256 payloadLength,
        uint64 rootHeight,
        uint64 height
    ) internal pure returns (Scenario memory s) {
        uint64 namespace = MerkleReference.u64(1_000 + nsIndex);
        s.transaction = Transaction({namespace: namespace, payload: _txPayload("gas", 0, txIndex, payloadLength)});
        // The namespace's transactions: the measured one is real, the others only hashes.
        bytes32[] memory txHashes = new bytes32[](txCount);
        for (uint256 i = 0; i < txCount; ++i) {
            txHashes[i] = keccak256(abi.encode("tx", i));
        }
        txHashes[txIndex] = keccak256(abi.encode(s.transaction));
        NamespaceLeaf memory leaf = NamespaceLeaf({
            namespace: namespace, txCount: MerkleReference.u64(txCount), txRoot: MerkleReference.root(txHashes)
        });
        // The payload: namespaces 1000, 1001, ..., the others with made-up leaves.
        bytes32[] memory digests = new bytes32[](nsCount);
        for (uint256 j = 0; j < nsCount; ++j) {
            digests[j] = keccak256(
                abi.encode(
                    NamespaceLeaf({
                        namespace: MerkleReference.u64(1_000 + j), txCount: 7, txRoot: keccak256(abi.encode("ns", j))
                    })
                )
            );
        }
        digests[nsIndex] = keccak256(abi.encode(leaf));
        s.txProof = TransactionProof({
            txProof: MerkleReference.proof(txHashes, txIndex),
            namespaceProof: NamespaceProof({leaf: leaf, proof: MerkleReference.proof(digests, nsIndex)})
        });
        s.header = _header(height, MerkleReference.root(digests), "gas");
        s.rootHeight = rootHeight;
        (s.historyProof, s.historyRoot) = _historyProof(height, rootHeight, keccak256(abi.encode(s.header)), "gas");
    }

    /// @dev Calldata cost under EIP-2028: 16 gas per non-zero byte, 4 per zero byte (the selector
    /// included; the EIP-7623 floor, for calldata-heavy transactions, is not applied).
    function _calldataGas(bytes memory data) internal pure returns (uint256 total) {
        for (uint256 k = 0; k < data.length; ++k) {
            total += data[k] == 0 ? 4 : 16;
        }
    }
}
