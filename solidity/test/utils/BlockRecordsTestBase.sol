// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Fixtures} from "./Fixtures.sol";
import {LightClient} from "../../src/LightClient.sol";
import {RollupConfirmations} from "../../src/RollupConfirmations.sol";
import {LightClientVerifier} from "../../src/generated/LightClientVerifier.sol";
import {IRollupConfirmations} from "../../src/interfaces/IRollupConfirmations.sol";
import {IStateProofVerifier} from "../../src/interfaces/IStateProofVerifier.sol";
import {LightClientState, RecordProof} from "../../src/lib/Protocol.sol";

/// @notice The golden vectors of test/fixtures/block_records.json (Rust: src/vectors/records.rs):
/// a short trestle chain whose blocks carry rollup 901's block records in namespace 1,000,901,
/// each with its RecordProof against the tip state. Deploys a real LightClient started at that
/// state (with the real generated verifier, never called here) and a RollupConfirmations that
/// registers rollup 901 and the chain's other rollup, 902.
abstract contract BlockRecordsTestBase is Fixtures {
    /// @notice One record of the fixture with its proof.
    struct Case {
        uint64 chainId;
        uint64 number;
        bytes32 hash;
        bytes32 parentHash;
        RecordProof proof;
        uint64 height;
    }

    string internal constant FIXTURE = "block_records.json";
    /// @dev A chain id no contract here registers.
    uint64 internal constant UNKNOWN_ROLLUP = 903;

    uint64 internal rollup;
    uint64 internal blockNamespace;
    uint64 internal otherRollup;
    uint64 internal otherNamespace;
    LightClientState internal tipState;
    LightClient internal lightClient;
    RollupConfirmations internal confirmations;
    /// @dev abi.encode(Case) of every record, in the fixture's order.
    bytes[] internal cases;
    /// @dev The fixture's payload, txHash and encodedRecordProof of every record.
    bytes[] internal payloads;
    bytes32[] internal txHashes;
    bytes[] internal encodedProofs;

    /// @dev Reads the fixture and deploys the light client and the confirmations contract.
    function _setUpFixture() internal {
        string memory json = _readFixture(FIXTURE);
        rollup = _u64(json, ".rollup.chainId");
        blockNamespace = _u64(json, ".rollup.blockNamespace");
        otherRollup = _u64(json, ".otherRollup.chainId");
        otherNamespace = _u64(json, ".otherRollup.blockNamespace");
        tipState = _state(json, ".state");
        uint256 n = _length(json, ".records");
        for (uint256 i = 0; i < n; ++i) {
            string memory key = _at(".records", i);
            Case memory c;
            c.chainId = _u64(json, _dot(key, "record.chainId"));
            c.number = _u64(json, _dot(key, "record.number"));
            c.hash = _b32(json, _dot(key, "record.hash"));
            c.parentHash = _b32(json, _dot(key, "record.parentHash"));
            c.proof = _recordProof(json, _dot(key, "recordProof"));
            c.height = _u64(json, _dot(key, "height"));
            cases.push(abi.encode(c));
            payloads.push(vm.parseJsonBytes(json, _dot(key, "payload")));
            txHashes.push(_b32(json, _dot(key, "txHash")));
            encodedProofs.push(vm.parseJsonBytes(json, _dot(key, "encodedRecordProof")));
        }

        IStateProofVerifier verifier = IStateProofVerifier(address(new LightClientVerifier()));
        lightClient = new LightClient(tipState, _b32(json, ".committee"), 1_000, verifier);
        confirmations =
            new RollupConfirmations(lightClient, _rollups(rollup, blockNamespace, otherRollup, otherNamespace));
    }

    /// @notice The RecordProof `{header, txProof: {txProof, namespaceProof}, historyProof,
    /// historyRoot}` at `key`.
    function _recordProof(string memory json, string memory key) internal pure returns (RecordProof memory) {
        return RecordProof({
            header: _header(json, _dot(key, "header")),
            txProof: _transactionProof(json, _dot(key, "txProof")),
            historyProof: _merkleProof(json, _dot(key, "historyProof")),
            historyRoot: _b32(json, _dot(key, "historyRoot"))
        });
    }

    /// @dev The two-rollup registry (a, na), (b, nb).
    function _rollups(uint64 a, uint64 na, uint64 b, uint64 nb)
        internal
        pure
        returns (IRollupConfirmations.Rollup[] memory list)
    {
        list = new IRollupConfirmations.Rollup[](2);
        list[0] = IRollupConfirmations.Rollup({chainId: a, blockNamespace: na});
        list[1] = IRollupConfirmations.Rollup({chainId: b, blockNamespace: nb});
    }

    /// @dev Record `i` of the fixture.
    function _case(uint256 i) internal view returns (Case memory) {
        return abi.decode(cases[i], (Case));
    }

    /// @dev isConfirmed of `c` on `target`.
    function _isConfirmed(IRollupConfirmations target, Case memory c) internal view returns (bool) {
        return target.isConfirmed(c.chainId, c.number, c.hash, c.parentHash, c.proof);
    }
}
