// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "./utils/Test.sol";
import {LightClientVerifier} from "../src/generated/LightClientVerifier.sol";

/// @notice The cheatcodes this test needs beyond utils/Test.sol, declared here so the shared file
/// stays as it is. Signatures match forge's.
interface Groth16FixtureVm {
    function readFile(string calldata path) external view returns (string memory data);
    function parseJsonUint(string calldata json, string calldata key) external pure returns (uint256);
    function parseJsonUintArray(string calldata json, string calldata key) external pure returns (uint256[] memory);
}

/// @notice The generated Groth16 verifier (solidity/src/generated/LightClientVerifier.sol) against
/// the proof the Rust prover wrote to test/fixtures/groth16/proof.json (same INSECURE dev key,
/// seeded prover; a Rust test regenerates both and fails on drift): it accepts that proof and
/// rejects it as soon as any public input or proof word changes.
contract Groth16VerifierTest is Test {
    Groth16FixtureVm internal constant FVM = Groth16FixtureVm(address(vm));

    /// @dev BN254 scalar field order.
    uint256 internal constant R = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;
    /// @dev BN254 base field order.
    uint256 internal constant Q = 0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47;

    LightClientVerifier internal verifier;
    uint256[8] internal proof;
    uint256[4] internal inputs;
    uint256 internal capacity;

    /// @notice Deploys the verifier and loads the fixture.
    function setUp() public {
        verifier = new LightClientVerifier();
        string memory json = FVM.readFile("test/fixtures/groth16/proof.json");
        uint256[] memory p = FVM.parseJsonUintArray(json, ".proof");
        uint256[] memory x = FVM.parseJsonUintArray(json, ".publicInputs");
        vm.assertEq(p.length, 8, "proof words");
        vm.assertEq(x.length, 4, "public inputs");
        for (uint256 i = 0; i < 8; ++i) {
            proof[i] = p[i];
        }
        for (uint256 i = 0; i < 4; ++i) {
            inputs[i] = x[i];
        }
        capacity = FVM.parseJsonUint(json, ".capacity");
    }

    /// @notice The fixture proof verifies, for the capacity it was made for.
    function test_acceptsFixtureProof() public view {
        vm.assertEq(verifier.CAPACITY(), capacity, "capacity");
        vm.assertEq(verifier.NUM_PUBLIC_INPUTS(), 4, "inputs");
        vm.assertTrue(verifier.verifyProof(proof, inputs), "fixture proof must verify");
    }

    /// @notice Verification stays within the gas budget of a light-client update.
    /// (The precompiles alone cost 4 pairings = 181,000, 4 ecMul = 24,000 and 4 ecAdd = 600.)
    function test_gas() public view {
        uint256[8] memory p = proof;
        uint256[4] memory x = inputs;
        uint256 before = gasleft();
        bool valid = verifier.verifyProof(p, x);
        uint256 used = before - gasleft();
        vm.assertTrue(valid, "valid");
        vm.assertLt(used, 216_000, "verifyProof gas");
    }

    /// @notice Each public input, plus or minus one, is rejected.
    function test_rejectsEveryChangedPublicInput() public view {
        for (uint256 i = 0; i < 4; ++i) {
            uint256[4] memory x = inputs;
            x[i] = addmod(x[i], 1, R);
            vm.assertFalse(verifier.verifyProof(proof, x), "input + 1");
            x[i] = addmod(inputs[i], R - 1, R);
            vm.assertFalse(verifier.verifyProof(proof, x), "input - 1");
        }
    }

    /// @notice Any other value of any public input is rejected.
    function testFuzz_rejectsChangedPublicInput(uint256 index, uint256 value) public view {
        index = bound(index, 0, 3);
        value = bound(value, 0, R - 1);
        vm.assume(value != inputs[index]);
        uint256[4] memory x = inputs;
        x[index] = value;
        vm.assertFalse(verifier.verifyProof(proof, x), "changed input");
    }

    /// @notice Swapped public inputs (the two state words) are rejected.
    function test_rejectsSwappedInputs() public view {
        uint256[4] memory x = inputs;
        (x[0], x[1]) = (x[1], x[0]);
        vm.assertFalse(verifier.verifyProof(proof, x), "swapped state words");
    }

    /// @notice A modified proof with valid points is rejected: -A instead of A, the generator
    /// instead of C, A and C swapped.
    function test_rejectsTamperedProof() public view {
        uint256[8] memory p = proof;
        p[1] = Q - p[1];
        vm.assertFalse(verifier.verifyProof(p, inputs), "-A");
        p = proof;
        (p[6], p[7]) = (1, 2);
        vm.assertFalse(verifier.verifyProof(p, inputs), "C = G1 generator");
        p = proof;
        (p[0], p[1], p[6], p[7]) = (p[6], p[7], p[0], p[1]);
        vm.assertFalse(verifier.verifyProof(p, inputs), "A and C swapped");
    }

    /// @notice A public input >= r is refused even though it is congruent to a valid one
    /// (ecMul would reduce it and accept).
    function test_revertsOnPublicInputNotInField() public {
        uint256[4] memory x = inputs;
        x[0] += R;
        vm.expectRevert(abi.encodeWithSelector(LightClientVerifier.PublicInputNotInField.selector, 0));
        verifier.verifyProof(proof, x);
        x = inputs;
        x[3] = type(uint256).max;
        vm.expectRevert(abi.encodeWithSelector(LightClientVerifier.PublicInputNotInField.selector, 3));
        verifier.verifyProof(proof, x);
    }

    /// @notice A proof word >= q is refused.
    function test_revertsOnCoordinateNotInField() public {
        uint256[8] memory p = proof;
        p[0] += Q;
        vm.expectRevert(abi.encodeWithSelector(LightClientVerifier.ProofCoordinateNotInField.selector, 0));
        verifier.verifyProof(p, inputs);
        p = proof;
        p[5] = Q;
        vm.expectRevert(abi.encodeWithSelector(LightClientVerifier.ProofCoordinateNotInField.selector, 5));
        verifier.verifyProof(p, inputs);
    }

    /// @notice Points off their curves make the pairing precompile fail: the verifier reverts.
    function test_revertsOnPointOffCurve() public {
        uint256[8] memory p = proof;
        (p[0], p[1]) = (1, 3);
        vm.expectRevert(abi.encodeWithSelector(LightClientVerifier.PairingPrecompileFailed.selector));
        verifier.verifyProof(p, inputs);
        p = proof;
        p[2] = addmod(p[2], 1, Q);
        vm.expectRevert(abi.encodeWithSelector(LightClientVerifier.PairingPrecompileFailed.selector));
        verifier.verifyProof(p, inputs);
    }
}
