// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IStakeTable, Validator, ValidatorStatus} from "./interfaces/IStakeTable.sol";

/// @title StakeTable
/// @notice trestle's validator registry on L1 (DESIGN.md section 3a): register keys with a deposit
/// in ETH, add to it, move, deregister, and withdraw after the exit delay. Permissionless and
/// without an owner: the parameters are fixed at deployment.
/// @dev What the contract checks and what the nodes check. On chain: deposits, the state machine
/// (Unregistered -> Active -> Exiting -> Unregistered), that no key is ever registered twice, and
/// that the light-client key is a Baby Jubjub point (cheap: a few mulmods). Off chain, by every
/// node identically: both proofs of possession (an ed25519 verification costs about a million gas
/// without a precompile), the prime-order subgroup of the light-client key, and the p2p address's
/// syntax; a registration that fails them never enters a committee. Because proofs are not checked
/// here, anyone who learns a key before it is registered can claim it first with a worthless proof
/// (their deposit is locked for the exit delay, and the victim generates new keys): an operator
/// registers keys before the node that holds them first connects to peers.
/// The exit delay must cover the time a deregistered validator still signs: its committees run
/// until the end of the epoch after the one whose last block referenced the deregistration (about
/// two epochs of trestle time plus the L1 safe depth). Nothing is slashed today; the deposit is what
/// the table ranks by.
contract StakeTable is IStakeTable {
    /// @notice The largest exit delay a deployment accepts.
    uint256 public constant MAX_EXIT_DELAY = 365 days;
    /// @notice The longest p2p address, in bytes (a DNS name of 253 and ":65535" fit).
    uint256 public constant MAX_P2P_ADDRESS_LENGTH = 260;
    /// @notice Domain of popMessage.
    bytes32 public constant POP_DOMAIN = keccak256("trestle.StakeTable.proofOfPossession.v1");

    /// @dev The BN254 scalar field, over which Baby Jubjub is defined.
    uint256 internal constant FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @dev Baby Jubjub in circomlib's twisted Edwards form: A x^2 + y^2 = 1 + D x^2 y^2.
    uint256 internal constant CURVE_A = 168700;
    uint256 internal constant CURVE_D = 168696;

    /// @inheritdoc IStakeTable
    uint256 public immutable override minimumStake;
    /// @inheritdoc IStakeTable
    uint256 public immutable override exitDelay;
    /// @inheritdoc IStakeTable
    uint256 public override activeCount;
    /// @inheritdoc IStakeTable
    uint256 public override totalStake;
    /// @inheritdoc IStakeTable
    mapping(bytes32 consensusKey => address holder) public override consensusKeyHolder;

    /// @dev Registrations by account.
    mapping(address account => Validator registration) internal _validators;
    /// @dev keccak256(x, y) of a light-client key => who registered it.
    mapping(bytes32 keyHash => address holder) internal _lightClientKeyHolders;

    /// @notice Deploys a table with fixed parameters.
    /// @param minimumStake_ Smallest deposit, in wei (positive).
    /// @param exitDelay_ Seconds between deregister and withdraw, in [1, MAX_EXIT_DELAY].
    constructor(uint256 minimumStake_, uint256 exitDelay_) {
        if (minimumStake_ == 0 || exitDelay_ == 0 || exitDelay_ > MAX_EXIT_DELAY) {
            revert InvalidParameters(minimumStake_, exitDelay_);
        }
        minimumStake = minimumStake_;
        exitDelay = exitDelay_;
    }

    /// @inheritdoc IStakeTable
    function register(
        bytes32 consensusKey,
        bytes32[2] calldata lightClientKey,
        string calldata p2pAddress,
        bytes32[2] calldata consensusPop,
        bytes32[3] calldata lightClientPop
    ) external payable override {
        Validator storage entry = _validators[msg.sender];
        if (entry.status != ValidatorStatus.Unregistered) revert AlreadyRegistered(msg.sender, entry.status);
        if (msg.value < minimumStake) revert StakeBelowMinimum(msg.value, minimumStake);
        if (consensusKey == bytes32(0)) revert ZeroConsensusKey();
        address consensusHolder = consensusKeyHolder[consensusKey];
        if (consensusHolder != address(0)) revert ConsensusKeyAlreadyUsed(consensusKey, consensusHolder);
        if (!_isCurvePoint(uint256(lightClientKey[0]), uint256(lightClientKey[1]))) {
            revert InvalidLightClientKey(lightClientKey[0], lightClientKey[1]);
        }
        bytes32 keyHash = _keyHash(lightClientKey);
        address lightClientHolder = _lightClientKeyHolders[keyHash];
        if (lightClientHolder != address(0)) {
            revert LightClientKeyAlreadyUsed(lightClientKey[0], lightClientKey[1], lightClientHolder);
        }
        _checkP2pAddress(p2pAddress);
        if (msg.value > type(uint96).max) revert StakeOverflow(msg.value);

        consensusKeyHolder[consensusKey] = msg.sender;
        _lightClientKeyHolders[keyHash] = msg.sender;
        entry.status = ValidatorStatus.Active;
        // No chain reaches 2^64 blocks; the deposit was checked above.
        // forge-lint: disable-next-line(unsafe-typecast)
        entry.registeredBlock = uint64(block.number);
        // forge-lint: disable-next-line(unsafe-typecast)
        entry.stake = uint96(msg.value);
        entry.consensusKey = consensusKey;
        entry.lightClientKeyX = lightClientKey[0];
        entry.lightClientKeyY = lightClientKey[1];
        entry.p2pAddress = p2pAddress;
        ++activeCount;
        totalStake += msg.value;
        emit ValidatorRegistered(
            msg.sender, consensusKey, lightClientKey, p2pAddress, consensusPop, lightClientPop, msg.value
        );
    }

    /// @inheritdoc IStakeTable
    function addStake() external payable override {
        Validator storage entry = _active(msg.sender);
        if (msg.value == 0) revert ZeroAmount();
        uint256 stake = uint256(entry.stake) + msg.value;
        if (stake > type(uint96).max) revert StakeOverflow(stake);
        // Checked just above.
        // forge-lint: disable-next-line(unsafe-typecast)
        entry.stake = uint96(stake);
        totalStake += msg.value;
        emit StakeAdded(msg.sender, msg.value, stake);
    }

    /// @inheritdoc IStakeTable
    function updateP2pAddress(string calldata p2pAddress) external override {
        Validator storage entry = _active(msg.sender);
        _checkP2pAddress(p2pAddress);
        entry.p2pAddress = p2pAddress;
        emit P2pAddressUpdated(msg.sender, p2pAddress);
    }

    /// @inheritdoc IStakeTable
    function deregister() external override {
        Validator storage entry = _active(msg.sender);
        uint256 withdrawableAt = block.timestamp + exitDelay;
        entry.status = ValidatorStatus.Exiting;
        // Timestamps fit in 64 bits for the next 500 billion years.
        // forge-lint: disable-next-line(unsafe-typecast)
        entry.withdrawableAt = uint64(withdrawableAt);
        --activeCount;
        emit ValidatorDeregistered(msg.sender, withdrawableAt);
    }

    /// @inheritdoc IStakeTable
    function withdraw(address payable recipient) external override {
        if (recipient == address(0)) revert ZeroRecipient();
        Validator storage entry = _validators[msg.sender];
        if (entry.status != ValidatorStatus.Exiting) revert NotExiting(msg.sender, entry.status);
        // The few seconds a block producer can shift a timestamp are nothing against a delay of days.
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < entry.withdrawableAt) {
            revert ExitDelayNotElapsed(msg.sender, entry.withdrawableAt, block.timestamp);
        }
        uint256 amount = entry.stake;
        // Effects before the payment: a re-entering recipient finds the account Unregistered. The
        // keys stay in the holder maps, so they can never be registered again.
        delete _validators[msg.sender];
        totalStake -= amount;
        emit StakeWithdrawn(msg.sender, recipient, amount);
        (bool paid,) = recipient.call{value: amount}("");
        if (!paid) revert WithdrawalFailed(recipient, amount);
    }

    /// @inheritdoc IStakeTable
    function validator(address account) external view override returns (Validator memory) {
        return _validators[account];
    }

    /// @inheritdoc IStakeTable
    function lightClientKeyHolder(bytes32[2] calldata lightClientKey) external view override returns (address) {
        return _lightClientKeyHolders[_keyHash(lightClientKey)];
    }

    /// @inheritdoc IStakeTable
    function popMessage(address account, bytes32 consensusKey, bytes32[2] calldata lightClientKey)
        external
        view
        override
        returns (bytes32)
    {
        return keccak256(
            abi.encode(
                POP_DOMAIN, block.chainid, address(this), account, consensusKey, lightClientKey[0], lightClientKey[1]
            )
        );
    }

    /// @dev The Active registration of `account`, or a NotActive revert.
    function _active(address account) internal view returns (Validator storage entry) {
        entry = _validators[account];
        if (entry.status != ValidatorStatus.Active) revert NotActive(account, entry.status);
    }

    /// @dev Reverts unless the address has 1 to MAX_P2P_ADDRESS_LENGTH bytes (syntax: off chain).
    function _checkP2pAddress(string calldata p2pAddress) internal pure {
        uint256 length = bytes(p2pAddress).length;
        if (length == 0 || length > MAX_P2P_ADDRESS_LENGTH) {
            revert InvalidP2pAddressLength(length, MAX_P2P_ADDRESS_LENGTH);
        }
    }

    /// @dev Canonical coordinates on Baby Jubjub, not the identity (0, 1).
    function _isCurvePoint(uint256 x, uint256 y) internal pure returns (bool) {
        if (x >= FIELD || y >= FIELD || (x == 0 && y == 1)) return false;
        uint256 x2 = mulmod(x, x, FIELD);
        uint256 y2 = mulmod(y, y, FIELD);
        uint256 lhs = addmod(mulmod(CURVE_A, x2, FIELD), y2, FIELD);
        uint256 rhs = addmod(1, mulmod(CURVE_D, mulmod(x2, y2, FIELD), FIELD), FIELD);
        return lhs == rhs;
    }

    /// @dev The light-client key's map key.
    function _keyHash(bytes32[2] calldata lightClientKey) internal pure returns (bytes32) {
        return keccak256(abi.encode(lightClientKey[0], lightClientKey[1]));
    }
}
