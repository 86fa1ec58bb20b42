// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "./utils/Test.sol";
import {MerkleReference} from "./utils/MerkleReference.sol";
import {PayloadBuilder} from "./utils/PayloadBuilder.sol";
import {LightClient} from "../src/LightClient.sol";
import {RollupConfirmations} from "../src/RollupConfirmations.sol";
import {RollupSettlement} from "../src/demo/RollupSettlement.sol";
import {LightClientVerifier} from "../src/generated/LightClientVerifier.sol";
import {IRollupConfirmations} from "../src/interfaces/IRollupConfirmations.sol";
import {IStateProofVerifier} from "../src/interfaces/IStateProofVerifier.sol";
import {
    BlockRecord,
    LightClientState,
    NamespaceLeaf,
    NamespaceProof,
    RecordProof,
    Transaction,
    TransactionProof
} from "../src/lib/Protocol.sol";

/// @notice Gas of RollupConfirmations.isConfirmed and requireConfirmed and of the demo
/// RollupSettlement.submitStateRoot, recorded in snapshots/RollupConfirmations.json the way
/// InclusionGasTest measures the inclusion checks: the gas of the call, without the 21,000 base
/// cost and the calldata of a transaction (whose size is recorded beside it).
/// @dev The record is transaction 500 of 1,000 in its block namespace (the others only hashes;
/// 10 siblings), in a payload of 16 namespaces (4 siblings), in a history of 2^20 headers (20
/// siblings) whose other subtrees are random hashes (any history of that size has that shape).
/// Everything is deployed in setUp, so the measured calls meet cold accounts and storage: the
/// registry slot, the light client and its root slot.
contract RollupConfirmationsGasTest is Test, PayloadBuilder {
    /// @dev DESIGN.md section 6 / issue 15: at most 25k gas per isConfirmed, calldata excluded.
    uint256 internal constant IS_CONFIRMED_BUDGET = 25_000;
    uint64 internal constant ROLLUP = 901;
    uint64 internal constant BLOCK_NS = 1_000_901;
    uint64 internal constant TRESTLE_CHAIN = 1337;
    uint64 internal constant ROOT_HEIGHT = (1 << 20) - 1;
    uint64 internal constant HEIGHT = 1_000_000;
    bytes32 internal constant COMMITTEE = bytes32(uint256(0xc0));

    RollupConfirmations internal confirmations;
    RollupSettlement internal settlement;
    BlockRecord internal record;
    /// @dev abi.encode(RecordProof) of the record.
    bytes internal encodedProof;

    /// @notice Builds the scenario and deploys the light client, RollupConfirmations and the
    /// settlement.
    function setUp() public {
        record = BlockRecord({
            chainId: ROLLUP, number: 123_456, hash: keccak256("block 123456"), parentHash: keccak256("block 123455")
        });
        bytes32[] memory txHashes = new bytes32[](1_000);
        for (uint256 i = 0; i < txHashes.length; ++i) {
            txHashes[i] = keccak256(abi.encode("tx", i));
        }
        txHashes[500] = keccak256(abi.encode(Transaction({namespace: BLOCK_NS, payload: abi.encode(record)})));
        NamespaceLeaf memory leaf =
            NamespaceLeaf({namespace: BLOCK_NS, txCount: 1_000, txRoot: MerkleReference.root(txHashes)});
        bytes32[] memory digests = new bytes32[](16);
        for (uint256 j = 0; j < 16; ++j) {
            digests[j] = keccak256(abi.encode("ns", j));
        }
        digests[5] = keccak256(abi.encode(leaf));

        RecordProof memory proof;
        proof.header = _header(HEIGHT, MerkleReference.root(digests), "rollup confirmations gas");
        proof.header.chainId = TRESTLE_CHAIN;
        proof.header.committee = COMMITTEE;
        proof.txProof = TransactionProof({
            txProof: MerkleReference.proof(txHashes, 500),
            namespaceProof: NamespaceProof({leaf: leaf, proof: MerkleReference.proof(digests, 5)})
        });
        (proof.historyProof, proof.historyRoot) =
            _historyProof(HEIGHT, ROOT_HEIGHT, keccak256(abi.encode(proof.header)), "rollup confirmations gas");
        vm.assertEq(proof.txProof.txProof.siblings.length, 10, "tx path");
        vm.assertEq(proof.txProof.namespaceProof.proof.siblings.length, 4, "namespace path");
        vm.assertEq(proof.historyProof.siblings.length, 20, "history path");
        encodedProof = abi.encode(proof);

        IStateProofVerifier verifier = IStateProofVerifier(address(new LightClientVerifier()));
        LightClient lc = new LightClient(
            LightClientState(TRESTLE_CHAIN, ROOT_HEIGHT / 1000, ROOT_HEIGHT, proof.historyRoot, COMMITTEE),
            COMMITTEE,
            1000,
            verifier
        );
        IRollupConfirmations.Rollup[] memory rollups = new IRollupConfirmations.Rollup[](2);
        rollups[0] = IRollupConfirmations.Rollup({chainId: 902, blockNamespace: 1_000_902});
        rollups[1] = IRollupConfirmations.Rollup({chainId: ROLLUP, blockNamespace: BLOCK_NS});
        confirmations = new RollupConfirmations(lc, rollups);
        settlement = new RollupSettlement(confirmations, ROLLUP, address(this));
    }

    function _proof() internal view returns (RecordProof memory) {
        return abi.decode(encodedProof, (RecordProof));
    }

    /// @notice isConfirmed of a record at 2^20 heights: within budget; calldata recorded.
    function test_gas_isConfirmed_1000tx_16ns_2pow20() public {
        RecordProof memory proof = _proof();
        BlockRecord memory r = record;
        vm.assertTrue(confirmations.isConfirmed(r.chainId, r.number, r.hash, r.parentHash, proof), "confirmed");
        uint256 gasUsed = vm.snapshotGasLastCall("RollupConfirmations", "isConfirmed_1000tx_16ns_2pow20");
        vm.assertLe(gasUsed, IS_CONFIRMED_BUDGET, "isConfirmed within budget");
        bytes memory data =
            abi.encodeCall(IRollupConfirmations.isConfirmed, (r.chainId, r.number, r.hash, r.parentHash, proof));
        vm.snapshotValue("RollupConfirmations", "isConfirmed_1000tx_16ns_2pow20_calldataBytes", data.length);
        vm.snapshotValue("RollupConfirmations", "isConfirmed_1000tx_16ns_2pow20_calldataGas", _calldataGas(data));
    }

    /// @notice A wrong block hash answers false once the transaction path misses the namespace's
    /// txRoot, before the namespace and history paths.
    function test_gas_isConfirmed_wrongHash() public {
        RecordProof memory proof = _proof();
        BlockRecord memory r = record;
        vm.assertFalse(
            confirmations.isConfirmed(r.chainId, r.number, keccak256("other"), r.parentHash, proof), "not confirmed"
        );
        uint256 gasUsed = vm.snapshotGasLastCall("RollupConfirmations", "isConfirmed_wrongHash");
        vm.assertLe(gasUsed, IS_CONFIRMED_BUDGET, "within budget");
    }

    /// @notice requireConfirmed of the same record.
    function test_gas_requireConfirmed_1000tx_16ns_2pow20() public {
        RecordProof memory proof = _proof();
        BlockRecord memory r = record;
        vm.assertEq(
            confirmations.requireConfirmed(r.chainId, r.number, r.hash, r.parentHash, proof), HEIGHT, "trestle height"
        );
        uint256 gasUsed = vm.snapshotGasLastCall("RollupConfirmations", "requireConfirmed_1000tx_16ns_2pow20");
        vm.assertLe(gasUsed, IS_CONFIRMED_BUDGET, "requireConfirmed within budget");
    }

    /// @notice The demo settlement accepting a state root for the record's block: the
    /// confirmation, two new storage slots and the event.
    function test_gas_submitStateRoot_1000tx_16ns_2pow20() public {
        RecordProof memory proof = _proof();
        BlockRecord memory r = record;
        bytes32 stateRoot = keccak256("state root");
        settlement.submitStateRoot(r.number, r.hash, r.parentHash, stateRoot, proof);
        vm.snapshotGasLastCall("RollupConfirmations", "settlement_submitStateRoot_1000tx_16ns_2pow20");
        vm.assertEq(settlement.stateRootOf(r.number), stateRoot, "accepted");
        bytes memory data =
            abi.encodeCall(RollupSettlement.submitStateRoot, (r.number, r.hash, r.parentHash, stateRoot, proof));
        vm.snapshotValue(
            "RollupConfirmations", "settlement_submitStateRoot_1000tx_16ns_2pow20_calldataBytes", data.length
        );
    }

    /// @dev Calldata cost under EIP-2028 (16 per non-zero byte, 4 per zero byte).
    function _calldataGas(bytes memory data) internal pure returns (uint256 total) {
        for (uint256 k = 0; k < data.length; ++k) {
            total += data[k] == 0 ? 4 : 16;
        }
    }
}
