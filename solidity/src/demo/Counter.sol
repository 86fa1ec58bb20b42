// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IMailbox} from "../interfaces/IMailbox.sol";
import {IMessageRecipient} from "../interfaces/IMessageRecipient.sol";

/// @title Counter
/// @notice Demo recipient for the devnet: counts the messages its mailbox delivers, per source
/// chain, and keeps the last one. It can also send (`ping`), so two counters on two chains can
/// message each other. A payload of exactly "reject" makes it revert, to show a failed message:
/// the mailbox receives it all the same, stores it as failed (retryable, though this counter
/// will always reject it) and delivers the next message of the route.
contract Counter is IMessageRecipient {
    /// @notice The last message delivered here.
    /// @param srcChainId Chain it came from.
    /// @param srcAddress Its sender there.
    /// @param sessionId Its session id.
    /// @param nonce Its nonce on its route.
    /// @param payload Its payload.
    struct LastMessage {
        uint64 srcChainId;
        address srcAddress;
        uint128 sessionId;
        uint64 nonce;
        bytes payload;
    }

    /// @notice A message was counted.
    /// @param srcChainId Chain it came from.
    /// @param srcAddress Its sender there.
    /// @param nonce Its nonce on its route.
    /// @param count Messages counted from srcChainId so far, this one included.
    event Counted(uint64 indexed srcChainId, address indexed srcAddress, uint64 nonce, uint256 count);

    /// @notice onMessage was called by another account than the mailbox.
    /// @param caller The caller.
    error NotMailbox(address caller);
    /// @notice The payload was "reject": the demo's way to make a delivery fail.
    /// @param srcChainId Chain the message came from.
    /// @param nonce Its nonce.
    error Rejected(uint64 srcChainId, uint64 nonce);

    /// @notice The mailbox allowed to deliver here and used by `ping`.
    IMailbox public immutable mailbox;
    /// @notice Messages counted from all chains.
    uint256 public total;
    /// @notice Messages counted per source chain.
    mapping(uint64 srcChainId => uint256 count) public countBySource;
    /// @dev See lastMessage.
    LastMessage internal _last;

    /// @notice Deploys a counter for `mailbox_`.
    /// @param mailbox_ The mailbox of this chain.
    constructor(IMailbox mailbox_) {
        mailbox = mailbox_;
    }

    /// @inheritdoc IMessageRecipient
    /// @dev Reverts with NotMailbox unless called by the mailbox, and with Rejected for the
    /// payload "reject".
    function onMessage(uint64 srcChainId, address srcAddress, uint128 sessionId, uint64 nonce, bytes calldata payload)
        external
        override
        returns (bytes4)
    {
        if (msg.sender != address(mailbox)) revert NotMailbox(msg.sender);
        if (keccak256(payload) == keccak256("reject")) revert Rejected(srcChainId, nonce);
        uint256 count = ++countBySource[srcChainId];
        ++total;
        _last = LastMessage({
            srcChainId: srcChainId, srcAddress: srcAddress, sessionId: sessionId, nonce: nonce, payload: payload
        });
        emit Counted(srcChainId, srcAddress, nonce, count);
        return IMessageRecipient.onMessage.selector;
    }

    /// @notice Sends `payload` to `destCounter` on chain `destChainId` through the mailbox (with
    /// session id 0), from this contract, for delivery by `destMailbox` there.
    /// @dev onMessage stores the message: it needs about 115,000 gas for a short payload the first
    /// time (fresh storage slots), plus about 22,100 per further 32 bytes of payload.
    /// @param destChainId The destination chain.
    /// @param destMailbox The mailbox on the destination chain (the destination counter's).
    /// @param destCounter The recipient there (typically another Counter).
    /// @param gasLimit The gas the destination counter's onMessage gets.
    /// @param payload The payload.
    /// @return messageHash The message's hash.
    /// @return nonce Its nonce.
    function ping(uint64 destChainId, address destMailbox, address destCounter, uint64 gasLimit, bytes calldata payload)
        external
        returns (bytes32 messageHash, uint64 nonce)
    {
        return mailbox.send(destChainId, destMailbox, destCounter, 0, gasLimit, payload);
    }

    /// @notice The last message delivered here (all zero before the first).
    /// @return The message.
    function lastMessage() external view returns (LastMessage memory) {
        return _last;
    }
}
