// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice Where an account's registration stands. `Unregistered` is also where an account is
/// again after it withdrew: it may then register anew, with keys never used before.
enum ValidatorStatus {
    Unregistered,
    Active,
    Exiting
}

/// @notice A registration, as stored (the proofs of possession are in ValidatorRegistered only).
/// @param status Where the registration stands.
/// @param registeredBlock L1 block number of the registration.
/// @param withdrawableAt While Exiting: the timestamp from which the stake can be withdrawn.
/// @param stake The deposit, in wei (96 bits: 79 billion ether, so status to stake share one slot).
/// @param consensusKey ed25519 public key (consensus votes and p2p identity).
/// @param lightClientKeyX Baby Jubjub light-client public key, x (circomlib coordinates).
/// @param lightClientKeyY Baby Jubjub light-client public key, y.
/// @param p2pAddress Where peers reach the validator ("host:port").
struct Validator {
    ValidatorStatus status;
    uint64 registeredBlock;
    uint64 withdrawableAt;
    uint96 stake;
    bytes32 consensusKey;
    bytes32 lightClientKeyX;
    bytes32 lightClientKeyY;
    string p2pAddress;
}

/// @title IStakeTable
/// @notice trestle's validator registry on L1 (DESIGN.md section 3a). Validators register their
/// keys with a deposit; every node rebuilds the table from these events up to the L1 block the
/// trestle chain finalized as its reference, and derives each epoch's committee from it (top-N by
/// stake). Proofs of possession are checked by the nodes, off-chain and identically: a
/// registration whose proofs do not verify stays in this table but never enters a committee.
interface IStakeTable {
    /// @notice An account registered as a validator.
    /// @param account The registering account (whose stake it is).
    /// @param consensusKey ed25519 public key.
    /// @param lightClientKey Baby Jubjub public key (x, y).
    /// @param p2pAddress Where peers reach it.
    /// @param consensusPop ed25519 signature of popMessage(account, keys) (R, s).
    /// @param lightClientPop EdDSA-Poseidon signature of popMessage(...) mod r (R8.x, R8.y, s).
    /// @param stake The deposit.
    event ValidatorRegistered(
        address indexed account,
        bytes32 indexed consensusKey,
        bytes32[2] lightClientKey,
        string p2pAddress,
        bytes32[2] consensusPop,
        bytes32[3] lightClientPop,
        uint256 stake
    );
    /// @notice An active validator added to its deposit.
    /// @param account The validator.
    /// @param amount What was added.
    /// @param stake Its deposit now.
    event StakeAdded(address indexed account, uint256 amount, uint256 stake);
    /// @notice An active validator moved.
    /// @param account The validator.
    /// @param p2pAddress Where peers reach it now.
    event P2pAddressUpdated(address indexed account, string p2pAddress);
    /// @notice A validator left the table; its stake is locked until `withdrawableAt`.
    /// @param account The validator.
    /// @param withdrawableAt Timestamp from which it may withdraw.
    event ValidatorDeregistered(address indexed account, uint256 withdrawableAt);
    /// @notice An exited validator's deposit was paid out.
    /// @param account The validator.
    /// @param recipient Who received it.
    /// @param amount The deposit.
    event StakeWithdrawn(address indexed account, address indexed recipient, uint256 amount);

    /// @notice The deposit is below the minimum.
    /// @param stake The deposit offered.
    /// @param minimum The minimum stake.
    error StakeBelowMinimum(uint256 stake, uint256 minimum);
    /// @notice The account is registered (or exiting) already.
    /// @param account The account.
    /// @param status Its status.
    error AlreadyRegistered(address account, ValidatorStatus status);
    /// @notice The operation needs an Active registration.
    /// @param account The account.
    /// @param status Its status.
    error NotActive(address account, ValidatorStatus status);
    /// @notice The operation needs an Exiting registration.
    /// @param account The account.
    /// @param status Its status.
    error NotExiting(address account, ValidatorStatus status);
    /// @notice The exit delay has not passed yet.
    /// @param account The account.
    /// @param withdrawableAt When it will have.
    /// @param timestamp Now.
    error ExitDelayNotElapsed(address account, uint256 withdrawableAt, uint256 timestamp);
    /// @notice The zero consensus key (no ed25519 key) was given.
    error ZeroConsensusKey();
    /// @notice The consensus key was registered before (by anyone, ever).
    /// @param consensusKey The key.
    /// @param holder The account that registered it.
    error ConsensusKeyAlreadyUsed(bytes32 consensusKey, address holder);
    /// @notice The light-client key was registered before (by anyone, ever).
    /// @param x Its x coordinate.
    /// @param y Its y coordinate.
    /// @param holder The account that registered it.
    error LightClientKeyAlreadyUsed(bytes32 x, bytes32 y, address holder);
    /// @notice The light-client key is not a point of Baby Jubjub with canonical coordinates, or is
    /// the identity.
    /// @param x Its x coordinate.
    /// @param y Its y coordinate.
    error InvalidLightClientKey(bytes32 x, bytes32 y);
    /// @notice The p2p address is empty or longer than the limit.
    /// @param length Its length in bytes.
    /// @param maxLength The limit.
    error InvalidP2pAddressLength(uint256 length, uint256 maxLength);
    /// @notice The deposit would exceed 2^96 - 1 wei (more ether than exists).
    /// @param stake The deposit it would be.
    error StakeOverflow(uint256 stake);
    /// @notice Nothing was sent with addStake.
    error ZeroAmount();
    /// @notice Withdrawing to the zero address.
    error ZeroRecipient();
    /// @notice The recipient refused the payment; nothing changed.
    /// @param recipient The recipient.
    /// @param amount The deposit.
    error WithdrawalFailed(address recipient, uint256 amount);
    /// @notice A constructor parameter is out of range.
    /// @param minimumStake The minimum stake (must be positive).
    /// @param exitDelay The exit delay (must be in [1, MAX_EXIT_DELAY]).
    error InvalidParameters(uint256 minimumStake, uint256 exitDelay);

    /// @notice Registers the caller as a validator with the sent deposit (at least minimumStake).
    /// Each key can be registered once, ever, by anyone: publish keys only by registering them, or
    /// anyone may claim them first (see StakeTable's notes).
    /// @param consensusKey ed25519 public key.
    /// @param lightClientKey Baby Jubjub public key (x, y), on the curve.
    /// @param p2pAddress Where peers reach it ("host:port", 1 to MAX_P2P_ADDRESS_LENGTH bytes).
    /// @param consensusPop ed25519 signature of popMessage(msg.sender, keys).
    /// @param lightClientPop EdDSA-Poseidon signature of uint256(popMessage(...)) mod r.
    function register(
        bytes32 consensusKey,
        bytes32[2] calldata lightClientKey,
        string calldata p2pAddress,
        bytes32[2] calldata consensusPop,
        bytes32[3] calldata lightClientPop
    ) external payable;

    /// @notice Adds the sent value to the caller's deposit (Active only).
    function addStake() external payable;

    /// @notice Changes where peers reach the caller (Active only).
    /// @param p2pAddress The new address, 1 to MAX_P2P_ADDRESS_LENGTH bytes.
    function updateP2pAddress(string calldata p2pAddress) external;

    /// @notice Leaves the table: the caller stops counting for committees derived from any later
    /// L1 block, and may withdraw after the exit delay.
    function deregister() external;

    /// @notice Pays an exited caller's deposit to `recipient` once the exit delay has passed; the
    /// caller is Unregistered again (its keys stay used).
    /// @param recipient Who receives the deposit.
    function withdraw(address payable recipient) external;

    /// @notice The registration of `account`.
    /// @param account The account.
    /// @return The registration (all zero while Unregistered).
    function validator(address account) external view returns (Validator memory);

    /// @notice Who registered a consensus key (zero: nobody).
    /// @param consensusKey The key.
    /// @return The account.
    function consensusKeyHolder(bytes32 consensusKey) external view returns (address);

    /// @notice Who registered a light-client key (zero: nobody).
    /// @param lightClientKey The key (x, y).
    /// @return The account.
    function lightClientKeyHolder(bytes32[2] calldata lightClientKey) external view returns (address);

    /// @notice What both proofs of possession sign: binds the keys to this table (chain and address)
    /// and to the registering account, so a proof cannot be replayed for another account or table.
    /// @param account The registering account.
    /// @param consensusKey ed25519 public key.
    /// @param lightClientKey Baby Jubjub public key (x, y).
    /// @return The 32-byte message.
    function popMessage(address account, bytes32 consensusKey, bytes32[2] calldata lightClientKey)
        external
        view
        returns (bytes32);

    /// @notice The smallest deposit accepted by register, in wei.
    /// @return The minimum stake.
    function minimumStake() external view returns (uint256);

    /// @notice Seconds between deregister and withdraw.
    /// @return The exit delay.
    function exitDelay() external view returns (uint256);

    /// @notice Number of Active registrations.
    /// @return The count.
    function activeCount() external view returns (uint256);

    /// @notice Sum of the deposits held (Active and Exiting).
    /// @return The total, in wei.
    function totalStake() external view returns (uint256);
}
