// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {LightClient} from "../src/LightClient.sol";
import {Mailbox} from "../src/Mailbox.sol";
import {RollupConfirmations} from "../src/RollupConfirmations.sol";
import {Counter} from "../src/demo/Counter.sol";
import {RollupSettlement} from "../src/demo/RollupSettlement.sol";
import {LightClientVerifier} from "../src/generated/LightClientVerifier.sol";
import {IRollupConfirmations} from "../src/interfaces/IRollupConfirmations.sol";
import {IStateProofVerifier} from "../src/interfaces/IStateProofVerifier.sol";
import {LightClientState} from "../src/lib/Protocol.sol";

/// @notice The forge cheatcodes this script uses (forge-std is not available offline).
/// Signatures match forge's.
interface ScriptVm {
    function envString(string calldata name) external view returns (string memory value);
    function envOr(string calldata name, address defaultValue) external view returns (address value);
    function envOr(string calldata name, string calldata defaultValue) external view returns (string memory value);
    function envOr(string calldata name, bytes calldata defaultValue) external view returns (bytes memory value);
    function readFile(string calldata path) external view returns (string memory data);
    function keyExistsJson(string calldata json, string calldata key) external view returns (bool);
    function parseJsonUint(string calldata json, string calldata key) external pure returns (uint256);
    function parseJsonBytes32(string calldata json, string calldata key) external pure returns (bytes32);
    function parseJsonAddress(string calldata json, string calldata key) external pure returns (address);
    function toString(uint256 value) external pure returns (string memory);
    function startBroadcast() external;
    function stopBroadcast() external;
    function serializeAddress(string calldata objectKey, string calldata valueKey, address value)
        external
        returns (string memory json);
    function serializeUint(string calldata objectKey, string calldata valueKey, uint256 value)
        external
        returns (string memory json);
    function writeJson(string calldata json, string calldata path) external;
    function createDir(string calldata path, bool recursive) external;
}

/// @title Deploy
/// @notice Deploys trestle's contracts on an EVM chain: the Groth16 verifier (unless one is given),
/// the LightClient started at a genesis read from JSON, the Mailbox (sources registered from the
/// same JSON) and the demo Counter recipient, and, when the genesis lists rollups, the
/// RollupConfirmations (and optionally the demo RollupSettlement of one rollup); writes their
/// addresses as JSON.
/// @dev Environment:
/// - GENESIS_JSON (required): path of the genesis file, relative to solidity/.
/// - DEPLOYMENT_JSON (optional): where to write the addresses; default deployments/<chainid>.json.
/// - VERIFIER (optional): an already deployed IStateProofVerifier to use instead of a new one
///   (the committed LightClientVerifier is the INSECURE dev key's). Outside devnet chain ids
///   (isDevnetChain) the verifier must say `INSECURE_DEV_SETUP() == false`, else the script
///   reverts with InsecureVerifier.
/// - VERIFIER_CREATION_CODE (optional, 0x-hex): the creation code of a verifier to deploy instead
///   of the committed one, when VERIFIER is not set: the verifier `trestle circuit import-zkey`
///   generates for a ceremony key, compiled by the caller (`trestle devnet --keys` does both).
/// - MAILBOX_OWNER (optional): who ends up owning the mailbox's source registry; default the
///   broadcasting account (which registers the sources either way).
/// Both files must lie under solidity/deployments/, the only directory foundry.toml's
/// fs_permissions open to scripts (forge does not let the environment widen them).
/// Genesis file (numbers as JSON numbers or decimal strings, hashes as 0x-hex):
///   { "state": { "chainId", "epoch", "height", "historyRoot", "nextCommittee" },
///     "committee": "0x..", "epochLength": 1000,
///     "sources": [ { "chainId": 31337, "namespace": 100 }, ... ],   (optional)
///     "maxMessageBytes": 1048576,   (optional)
///     "maxGasLimit": 10000000,      (optional)
///     "rollups": [ { "chainId": 901, "blockNamespace": 1000901 }, ... ],   (optional)
///     "settlementChainId": 901,     (optional, needs "rollups")
///     "settlementProposer": "0x.." }   (optional; default the broadcasting account)
/// "state" and "committee" have the shape of test/fixtures/groth16/proof.json's.
/// "maxMessageBytes" is the network's per-transaction payload limit (default 1,048,576 = 1 << 20,
/// trestle's default): the Mailbox refuses to send a message whose ABI encoding is longer.
/// "maxGasLimit" (default 10,000,000) is the highest gasLimit a message may give its recipient:
/// the Mailbox refuses to send above it, and receives messages above it as failed without
/// calling their recipient. Use the same values on every chain of a deployment.
/// "rollups" (each rollup's chain id and trestle block namespace) deploys a RollupConfirmations
/// over the LightClient with that fixed registry; "settlementChainId" then also deploys the demo
/// RollupSettlement of that rollup (which must be listed), whose state roots only
/// "settlementProposer" may submit.
/// Output: { "chainId", "trestleChainId", "epochLength", "genesisHeight", "deployer",
///   "mailboxOwner", "maxMessageBytes", "maxGasLimit", "verifier", "lightClient", "mailbox",
///   "counter" }, plus "rollupConfirmations" when "rollups" is given and "rollupSettlement"
///   when "settlementChainId" is.
/// Usage: GENESIS_JSON=deployments/genesis.json tools/forge script script/Deploy.s.sol
///   --rpc-url <url> --broadcast --private-key <key>
contract Deploy {
    /// @dev Address of forge's cheatcode contract.
    ScriptVm internal constant vm = ScriptVm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    /// @notice Marks this contract as a forge script.
    bool public constant IS_SCRIPT = true;
    /// @notice Default of "maxMessageBytes": trestle's per-transaction payload limit.
    uint256 public constant DEFAULT_MAX_MESSAGE_BYTES = 1 << 20;
    /// @notice Default of "maxGasLimit".
    uint64 public constant DEFAULT_MAX_GAS_LIMIT = 10_000_000;

    /// @notice The verifier's key comes from the INSECURE dev setup (or it does not say where
    /// its key comes from), and `chainId` is not a devnet chain: anyone could forge proofs.
    /// @param chainId The chain deployed to.
    /// @param verifier The verifier.
    error InsecureVerifier(uint256 chainId, address verifier);
    /// @notice VERIFIER_CREATION_CODE did not deploy a contract.
    error VerifierNotCreated();

    /// @notice The genesis has "settlementChainId" but no "rollups".
    error SettlementWithoutRollups();

    /// @notice The deployed contracts.
    struct Deployment {
        address verifier;
        address lightClient;
        address mailbox;
        address counter;
        address rollupConfirmations;
        address rollupSettlement;
    }

    /// @notice Reads the genesis named by GENESIS_JSON, deploys, registers the sources, writes
    /// the addresses to DEPLOYMENT_JSON (see deployFrom).
    /// @return d The deployed contracts (also printed by forge).
    function run() external returns (Deployment memory d) {
        string memory deploymentPath =
            vm.envOr("DEPLOYMENT_JSON", string.concat("deployments/", vm.toString(block.chainid), ".json"));
        return deployFrom(vm.envString("GENESIS_JSON"), deploymentPath);
    }

    /// @notice Reads the genesis at `genesisPath`, deploys, registers the sources, writes the
    /// addresses to `deploymentPath` (both relative to solidity/, under deployments/ or script/).
    /// @param genesisPath The genesis file.
    /// @param deploymentPath Where to write the addresses.
    /// @return d The deployed contracts.
    function deployFrom(string memory genesisPath, string memory deploymentPath) public returns (Deployment memory d) {
        string memory json = vm.readFile(genesisPath);
        LightClientState memory genesis = LightClientState({
            chainId: _u64(vm.parseJsonUint(json, ".state.chainId")),
            epoch: _u64(vm.parseJsonUint(json, ".state.epoch")),
            height: _u64(vm.parseJsonUint(json, ".state.height")),
            historyRoot: vm.parseJsonBytes32(json, ".state.historyRoot"),
            nextCommittee: vm.parseJsonBytes32(json, ".state.nextCommittee")
        });
        bytes32 committee = vm.parseJsonBytes32(json, ".committee");
        uint64 epochLength = _u64(vm.parseJsonUint(json, ".epochLength"));
        address deployer = msg.sender;
        address owner = vm.envOr("MAILBOX_OWNER", deployer);

        vm.startBroadcast();
        d.verifier = vm.envOr("VERIFIER", address(0));
        if (d.verifier == address(0)) {
            bytes memory creationCode = vm.envOr("VERIFIER_CREATION_CODE", bytes(""));
            d.verifier = creationCode.length == 0 ? address(new LightClientVerifier()) : _create(creationCode);
        }
        checkVerifier(d.verifier, block.chainid);
        LightClient lightClient = new LightClient(genesis, committee, epochLength, IStateProofVerifier(d.verifier));
        d.lightClient = address(lightClient);
        Mailbox mailbox = _deployMailbox(lightClient, json, deployer, owner);
        d.mailbox = address(mailbox);
        d.counter = address(new Counter(mailbox));
        (d.rollupConfirmations, d.rollupSettlement) = _deployRollups(lightClient, json, deployer);
        vm.stopBroadcast();

        _write(d, genesis, epochLength, deployer, owner, deploymentPath);
    }

    /// @notice Deploys `creationCode` (a verifier compiled outside this project).
    /// @dev Reverts with VerifierNotCreated if the creation fails or leaves no code.
    function _create(bytes memory creationCode) internal returns (address created) {
        assembly ("memory-safe") {
            created := create(0, add(creationCode, 0x20), mload(creationCode))
        }
        if (created == address(0) || created.code.length == 0) revert VerifierNotCreated();
    }

    /// @notice Refuses (InsecureVerifier) a verifier whose key anyone can forge proofs for on a
    /// chain that is not a devnet's: outside devnet chain ids the verifier must answer
    /// `INSECURE_DEV_SETUP() == false` (a key from a ceremony); one that says true, or says
    /// nothing, is refused.
    /// @param verifier The verifier to check.
    /// @param chainId The chain it is deployed for.
    function checkVerifier(address verifier, uint256 chainId) public view {
        if (isDevnetChain(chainId)) return;
        (bool ok, bytes memory result) = verifier.staticcall(abi.encodeWithSignature("INSECURE_DEV_SETUP()"));
        if (!ok || result.length != 32 || abi.decode(result, (uint256)) != 0) {
            revert InsecureVerifier(chainId, verifier);
        }
    }

    /// @notice Whether `chainId` is a devnet's, where the INSECURE dev verifier is allowed:
    /// anvil's default ids (31337, 31338) and `trestle devnet`'s chains (900 to 999).
    /// @param chainId The chain id.
    /// @return True for a devnet chain id.
    function isDevnetChain(uint256 chainId) public pure returns (bool) {
        return chainId == 31_337 || chainId == 31_338 || (chainId >= 900 && chainId <= 999);
    }

    /// @dev Deploys the Mailbox with the genesis's limits (or the defaults), registers its
    /// "sources" and hands it to `owner`.
    function _deployMailbox(LightClient lightClient, string memory json, address deployer, address owner)
        internal
        returns (Mailbox mailbox)
    {
        uint256 maxMessageBytes = vm.keyExistsJson(json, ".maxMessageBytes")
            ? vm.parseJsonUint(json, ".maxMessageBytes")
            : DEFAULT_MAX_MESSAGE_BYTES;
        uint64 maxGasLimit = vm.keyExistsJson(json, ".maxGasLimit")
            ? _u64(vm.parseJsonUint(json, ".maxGasLimit"))
            : DEFAULT_MAX_GAS_LIMIT;
        mailbox = new Mailbox(lightClient, deployer, maxMessageBytes, maxGasLimit);
        _registerSources(mailbox, json);
        if (owner != deployer) mailbox.transferOwnership(owner);
    }

    /// @dev Deploys RollupConfirmations for the genesis's "rollups" and the RollupSettlement of its
    /// "settlementChainId"; zero addresses for what the genesis does not ask for.
    function _deployRollups(LightClient lightClient, string memory json, address deployer)
        internal
        returns (address confirmations, address settlement)
    {
        uint256 n = 0;
        while (vm.keyExistsJson(json, _rollup(n, ""))) {
            ++n;
        }
        bool wantsSettlement = vm.keyExistsJson(json, ".settlementChainId");
        if (n == 0) {
            if (wantsSettlement) revert SettlementWithoutRollups();
            return (address(0), address(0));
        }
        IRollupConfirmations.Rollup[] memory rollups = new IRollupConfirmations.Rollup[](n);
        for (uint256 i = 0; i < n; ++i) {
            rollups[i] = IRollupConfirmations.Rollup({
                chainId: _u64(vm.parseJsonUint(json, _rollup(i, ".chainId"))),
                blockNamespace: _u64(vm.parseJsonUint(json, _rollup(i, ".blockNamespace")))
            });
        }
        RollupConfirmations deployed = new RollupConfirmations(lightClient, rollups);
        confirmations = address(deployed);
        if (wantsSettlement) {
            address proposer = vm.keyExistsJson(json, ".settlementProposer")
                ? vm.parseJsonAddress(json, ".settlementProposer")
                : deployer;
            settlement =
                address(new RollupSettlement(deployed, _u64(vm.parseJsonUint(json, ".settlementChainId")), proposer));
        }
    }

    /// @dev Registers the genesis's "sources" in `mailbox`.
    function _registerSources(Mailbox mailbox, string memory json) internal {
        for (uint256 i = 0; vm.keyExistsJson(json, _source(i, "")); ++i) {
            mailbox.setSourceNamespace(
                _u64(vm.parseJsonUint(json, _source(i, ".chainId"))),
                _u64(vm.parseJsonUint(json, _source(i, ".namespace")))
            );
        }
    }

    /// @dev Writes the deployment JSON, creating its directory if needed.
    function _write(
        Deployment memory d,
        LightClientState memory genesis,
        uint64 epochLength,
        address deployer,
        address owner,
        string memory path
    ) internal {
        string memory key = "deployment";
        vm.serializeUint(key, "chainId", block.chainid);
        vm.serializeUint(key, "trestleChainId", genesis.chainId);
        vm.serializeUint(key, "epochLength", epochLength);
        vm.serializeUint(key, "genesisHeight", genesis.height);
        vm.serializeAddress(key, "deployer", deployer);
        vm.serializeAddress(key, "mailboxOwner", owner);
        vm.serializeUint(key, "maxMessageBytes", Mailbox(d.mailbox).maxMessageBytes());
        vm.serializeUint(key, "maxGasLimit", Mailbox(d.mailbox).maxGasLimit());
        vm.serializeAddress(key, "verifier", d.verifier);
        vm.serializeAddress(key, "lightClient", d.lightClient);
        vm.serializeAddress(key, "mailbox", d.mailbox);
        string memory out = vm.serializeAddress(key, "counter", d.counter);
        if (d.rollupConfirmations != address(0)) {
            out = vm.serializeAddress(key, "rollupConfirmations", d.rollupConfirmations);
        }
        if (d.rollupSettlement != address(0)) {
            out = vm.serializeAddress(key, "rollupSettlement", d.rollupSettlement);
        }
        string memory dir = _dirname(path);
        if (bytes(dir).length != 0) vm.createDir(dir, true);
        vm.writeJson(out, path);
    }

    /// @dev The part of `path` before its last "/" (empty if none).
    function _dirname(string memory path) internal pure returns (string memory dir) {
        bytes memory p = bytes(path);
        uint256 end = p.length;
        while (end > 0 && p[end - 1] != "/") {
            --end;
        }
        if (end <= 1) return "";
        bytes memory d = new bytes(end - 1);
        for (uint256 i = 0; i < d.length; ++i) {
            d[i] = p[i];
        }
        return string(d);
    }

    /// @dev `.sources[i]` followed by `field`.
    function _source(uint256 i, string memory field) internal pure returns (string memory) {
        return string.concat(".sources[", vm.toString(i), "]", field);
    }

    /// @dev `.rollups[i]` followed by `field`.
    function _rollup(uint256 i, string memory field) internal pure returns (string memory) {
        return string.concat(".rollups[", vm.toString(i), "]", field);
    }

    /// @dev `x` as a uint64, checked.
    function _u64(uint256 x) internal pure returns (uint64) {
        require(x <= type(uint64).max, "Deploy: value does not fit in uint64");
        // casting to 'uint64' is safe because of the check above
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(x);
    }
}
