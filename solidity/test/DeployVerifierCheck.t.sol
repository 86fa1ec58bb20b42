// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "./utils/Test.sol";
import {Deploy} from "../script/Deploy.s.sol";
import {LightClientVerifier} from "../src/generated/LightClientVerifier.sol";

/// @notice A verifier that says its key comes from a ceremony.
contract CeremonyVerifier {
    /// @notice Not the INSECURE dev setup.
    bool public constant INSECURE_DEV_SETUP = false;
}

/// @notice A contract that does not say where its key comes from.
contract SilentVerifier {
    /// @notice Something else entirely.
    function capacity() external pure returns (uint256) {
        return 8;
    }
}

/// @notice A verifier that answers the question with something that is not a bool.
contract GarbledVerifier {
    /// @notice Two words instead of one.
    function INSECURE_DEV_SETUP() external pure returns (uint256, uint256) {
        return (0, 0);
    }
}

/// @notice script/Deploy.s.sol refuses the INSECURE dev verifier outside devnet chain ids, and
/// fails closed on a verifier that does not say where its key comes from.
contract DeployVerifierCheckTest is Test {
    Deploy internal script;
    address internal insecure;

    /// @notice Deploys the script contract and the committed (INSECURE dev) verifier.
    function setUp() public {
        script = new Deploy();
        insecure = address(new LightClientVerifier());
    }

    /// @notice The committed verifier says what it is.
    function test_generatedVerifier_saysItIsInsecure() public view {
        vm.assertTrue(LightClientVerifier(insecure).INSECURE_DEV_SETUP(), "generated dev verifier");
    }

    /// @notice Devnet chain ids accept the dev verifier.
    function test_checkVerifier_acceptsTheDevVerifierOnDevnets() public view {
        uint256[6] memory devnets = [uint256(31_337), 31_338, 900, 901, 902, 999];
        for (uint256 i = 0; i < devnets.length; ++i) {
            vm.assertTrue(script.isDevnetChain(devnets[i]), "devnet chain id");
            script.checkVerifier(insecure, devnets[i]);
        }
    }

    /// @notice Mainnet, a testnet and the ids around the devnet range refuse it.
    function test_checkVerifier_revertsWhenInsecureOutsideDevnets() public {
        uint256[5] memory others = [uint256(1), 11_155_111, 899, 1_000, 31_336];
        for (uint256 i = 0; i < others.length; ++i) {
            vm.assertFalse(script.isDevnetChain(others[i]), "not a devnet chain id");
            vm.expectRevert(abi.encodeWithSelector(Deploy.InsecureVerifier.selector, others[i], insecure));
            script.checkVerifier(insecure, others[i]);
        }
    }

    /// @notice A verifier from a ceremony is accepted anywhere.
    function test_checkVerifier_acceptsACeremonyVerifier() public {
        address ceremony = address(new CeremonyVerifier());
        script.checkVerifier(ceremony, 1);
        script.checkVerifier(ceremony, 901);
    }

    /// @notice Fails closed: no answer, a garbled answer or no code at all is refused.
    function test_checkVerifier_revertsWhenTheVerifierDoesNotSay() public {
        address[3] memory silent = [address(new SilentVerifier()), address(new GarbledVerifier()), address(0xdead)];
        for (uint256 i = 0; i < silent.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(Deploy.InsecureVerifier.selector, 1, silent[i]));
            script.checkVerifier(silent[i], 1);
        }
    }
}
