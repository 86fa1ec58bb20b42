// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "./Test.sol";
import {MerkleReference} from "./MerkleReference.sol";
import {MerkleTree} from "../../src/lib/MerkleTree.sol";
import {
    Header,
    LightClientState,
    NamespaceAbsenceProof,
    NamespaceLeaf,
    NamespaceProof,
    TransactionProof
} from "../../src/lib/Protocol.sol";

/// @notice Reads the golden vectors that the Rust side writes to test/fixtures (`cargo run --
/// vectors`). Every struct is read field by field with an explicit JSON path, so the Solidity
/// field order never depends on forge's alphabetical decoding of JSON objects.
abstract contract Fixtures is Test {
    /// @dev Relative to the project root (forge's working directory); see fs_permissions.
    string internal constant FIXTURES = "test/fixtures/";

    /// @notice The content of fixture file `name`.
    function _readFixture(string memory name) internal view returns (string memory) {
        return vm.readFile(string.concat(FIXTURES, name));
    }

    /// @notice `path[i]`.
    function _at(string memory path, uint256 i) internal pure returns (string memory) {
        return string.concat(path, "[", vm.toString(i), "]");
    }

    /// @notice `path.field`.
    function _dot(string memory path, string memory field) internal pure returns (string memory) {
        return string.concat(path, ".", field);
    }

    /// @notice Length of the JSON array at `path` (0 if there is none).
    function _length(string memory json, string memory path) internal view returns (uint256 n) {
        while (vm.keyExistsJson(json, _at(path, n))) {
            ++n;
        }
    }

    /// @notice The JSON number at `key`, which must fit in uint64.
    function _u64(string memory json, string memory key) internal pure returns (uint64) {
        return MerkleReference.u64(vm.parseJsonUint(json, key));
    }

    /// @notice The 0x-hex bytes32 at `key`.
    function _b32(string memory json, string memory key) internal pure returns (bytes32) {
        return vm.parseJsonBytes32(json, key);
    }

    /// @notice The Merkle proof `{index, count, siblings}` at `key`.
    function _merkleProof(string memory json, string memory key) internal pure returns (MerkleTree.Proof memory) {
        return MerkleTree.Proof({
            index: _u64(json, _dot(key, "index")),
            count: _u64(json, _dot(key, "count")),
            siblings: vm.parseJsonBytes32Array(json, _dot(key, "siblings"))
        });
    }

    /// @notice The namespace leaf `{namespace, txCount, txRoot}` at `key`.
    function _namespaceLeaf(string memory json, string memory key) internal pure returns (NamespaceLeaf memory) {
        return NamespaceLeaf({
            namespace: _u64(json, _dot(key, "namespace")),
            txCount: _u64(json, _dot(key, "txCount")),
            txRoot: _b32(json, _dot(key, "txRoot"))
        });
    }

    /// @notice The namespace proof `{leaf, proof}` at `key`.
    function _namespaceProof(string memory json, string memory key) internal pure returns (NamespaceProof memory) {
        return
            NamespaceProof({
                leaf: _namespaceLeaf(json, _dot(key, "leaf")), proof: _merkleProof(json, _dot(key, "proof"))
            });
    }

    /// @notice The transaction proof of the payload.json transaction at `key`, whose `txProof` and
    /// `namespaceProof` are fields of the transaction entry.
    function _transactionProof(string memory json, string memory key) internal pure returns (TransactionProof memory) {
        return TransactionProof({
            txProof: _merkleProof(json, _dot(key, "txProof")),
            namespaceProof: _namespaceProof(json, _dot(key, "namespaceProof"))
        });
    }

    /// @notice The absence proof `{leafCount, neighbours}` at `key`.
    function _absenceProof(string memory json, string memory key)
        internal
        view
        returns (NamespaceAbsenceProof memory proof)
    {
        proof.leafCount = _u64(json, _dot(key, "leafCount"));
        string memory path = _dot(key, "neighbours");
        proof.neighbours = new NamespaceProof[](_length(json, path));
        for (uint256 i = 0; i < proof.neighbours.length; ++i) {
            proof.neighbours[i] = _namespaceProof(json, _at(path, i));
        }
    }

    /// @notice The header object at `key`.
    function _header(string memory json, string memory key) internal pure returns (Header memory) {
        return Header({
            chainId: _u64(json, _dot(key, "chainId")),
            epoch: _u64(json, _dot(key, "epoch")),
            height: _u64(json, _dot(key, "height")),
            viewNumber: _u64(json, _dot(key, "viewNumber")),
            timestampMs: _u64(json, _dot(key, "timestampMs")),
            parent: _b32(json, _dot(key, "parent")),
            payloadRoot: _b32(json, _dot(key, "payloadRoot")),
            historyRoot: _b32(json, _dot(key, "historyRoot")),
            committee: _b32(json, _dot(key, "committee"))
        });
    }

    /// @notice The light-client state object at `key`.
    function _state(string memory json, string memory key) internal pure returns (LightClientState memory) {
        return LightClientState({
            chainId: _u64(json, _dot(key, "chainId")),
            epoch: _u64(json, _dot(key, "epoch")),
            height: _u64(json, _dot(key, "height")),
            historyRoot: _b32(json, _dot(key, "historyRoot")),
            nextCommittee: _b32(json, _dot(key, "nextCommittee"))
        });
    }
}
