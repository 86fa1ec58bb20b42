// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "./utils/Test.sol";
import {Deploy} from "../script/Deploy.s.sol";
import {RollupConfirmations} from "../src/RollupConfirmations.sol";
import {RollupSettlement} from "../src/demo/RollupSettlement.sol";
import {IRollupConfirmations} from "../src/interfaces/IRollupConfirmations.sol";

/// @notice script/Deploy.s.sol deploys RollupConfirmations when the genesis lists "rollups", the
/// demo RollupSettlement when it also names "settlementChainId", and neither (nor their keys in
/// the deployment JSON) otherwise. The files live under deployments/ (fs_permissions).
contract DeployRollupsTest is Test {
    /// @dev Where each test writes its own files (forge runs the tests in parallel).
    string internal constant DIR = "deployments/test-deploy-rollups";
    /// @dev script/genesis.example.json's state and committee, without its sources.
    string internal constant BASE = '{"state":{"chainId":1337,"epoch":1,"height":999,'
        '"historyRoot":"0x5e1f8c0d1a3b2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5",'
        '"nextCommittee":"0x2a42e867804de52c5689b2d38087f37ef0fe3ecc7ab7757b2b7e38fa73edec5e"},'
        '"committee":"0x0000000000000000000000000000000000000000000000000000000000000007","epochLength":500';
    string internal constant ROLLUPS =
        ',"rollups":[{"chainId":901,"blockNamespace":1000901},{"chainId":902,"blockNamespace":1000902}]';

    /// @dev Writes `genesis` to `<DIR>/<name>-genesis.json` (returned), the output is to go to
    /// `<DIR>/<name>.json` (returned).
    function _prepare(string memory name, string memory genesis)
        internal
        returns (string memory genesisPath, string memory output)
    {
        vm.createDir(DIR, true);
        genesisPath = string.concat(DIR, "/", name, "-genesis.json");
        vm.writeFile(genesisPath, genesis);
        output = string.concat(DIR, "/", name, ".json");
    }

    /// @dev Runs the script's deployFrom on `genesis`; returns its result and the JSON written.
    function _run(string memory name, string memory genesis)
        internal
        returns (Deploy.Deployment memory d, string memory out)
    {
        (string memory genesisPath, string memory output) = _prepare(name, genesis);
        d = new Deploy().deployFrom(genesisPath, output);
        out = vm.readFile(output);
    }

    /// @notice Without "rollups": no RollupConfirmations, no new keys.
    function test_run_deploysNoRollupContractsByDefault() public {
        (Deploy.Deployment memory d, string memory out) = _run("none", string.concat(BASE, "}"));
        vm.assertEq(d.rollupConfirmations, address(0), "no confirmations");
        vm.assertEq(d.rollupSettlement, address(0), "no settlement");
        vm.assertFalse(vm.keyExistsJson(out, ".rollupConfirmations"), "no rollupConfirmations key");
        vm.assertFalse(vm.keyExistsJson(out, ".rollupSettlement"), "no rollupSettlement key");
        vm.assertEq(vm.parseJsonAddress(out, ".lightClient"), d.lightClient, "light client written");
    }

    /// @notice With "rollups": RollupConfirmations over the new LightClient with that registry,
    /// its address under "rollupConfirmations"; no settlement.
    function test_run_deploysRollupConfirmations() public {
        (Deploy.Deployment memory d, string memory out) = _run("confirmations", string.concat(BASE, ROLLUPS, "}"));
        vm.assertEq(vm.parseJsonAddress(out, ".rollupConfirmations"), d.rollupConfirmations, "written");
        vm.assertFalse(vm.keyExistsJson(out, ".rollupSettlement"), "no settlement key");
        RollupConfirmations confirmations = RollupConfirmations(d.rollupConfirmations);
        vm.assertEq(address(confirmations.lightClient()), d.lightClient, "over the light client");
        IRollupConfirmations.Rollup[] memory rollups = confirmations.rollups();
        vm.assertEq(rollups.length, 2, "two rollups");
        vm.assertEq(rollups[1].chainId, 902, "second rollup");
        vm.assertEq(rollups[1].blockNamespace, 1_000_902, "its block namespace");
    }

    /// @notice With "settlementChainId" too: the settlement of that rollup, proposer given or the
    /// deployer, under "rollupSettlement".
    function test_run_deploysRollupSettlement() public {
        string memory genesis = string.concat(
            BASE, ROLLUPS, ',"settlementChainId":901,"settlementProposer":"0x0000000000000000000000000000000000009809"}'
        );
        (Deploy.Deployment memory d, string memory out) = _run("settlement", genesis);
        vm.assertEq(vm.parseJsonAddress(out, ".rollupSettlement"), d.rollupSettlement, "written");
        RollupSettlement settlement = RollupSettlement(d.rollupSettlement);
        vm.assertEq(address(settlement.confirmations()), d.rollupConfirmations, "its confirmations");
        vm.assertEq(settlement.rollupChainId(), 901, "its rollup");
        vm.assertEq(settlement.proposer(), address(0x9809), "its proposer");

        (d,) = _run("settlement-default", string.concat(BASE, ROLLUPS, ',"settlementChainId":902}'));
        vm.assertEq(RollupSettlement(d.rollupSettlement).proposer(), address(this), "default proposer: deployer");
    }

    /// @notice "settlementChainId" without "rollups" is refused.
    function test_run_revertsWhenSettlementWithoutRollups() public {
        (string memory genesisPath, string memory output) =
            _prepare("no-rollups", string.concat(BASE, ',"settlementChainId":901}'));
        Deploy script = new Deploy();
        vm.expectRevert(Deploy.SettlementWithoutRollups.selector);
        script.deployFrom(genesisPath, output);
    }

    /// @notice "settlementChainId" naming a rollup that "rollups" does not list is refused.
    function test_run_revertsWhenSettlementRollupNotListed() public {
        (string memory genesisPath, string memory output) =
            _prepare("unlisted", string.concat(BASE, ROLLUPS, ',"settlementChainId":903}'));
        Deploy script = new Deploy();
        vm.expectRevert(abi.encodeWithSelector(RollupSettlement.RollupNotRegistered.selector, 903));
        script.deployFrom(genesisPath, output);
    }
}
