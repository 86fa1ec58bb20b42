// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title IMessageRecipient
/// @notice What a contract implements to receive cross-chain messages from a Mailbox.
interface IMessageRecipient {
    /// @notice Handles a message the mailbox has verified. The mailbox has marked the message
    /// delivered before calling; if this function reverts, the whole delivery reverts (the mark
    /// too), so the message stays deliverable and can be retried.
    /// @dev Must return its own selector, IMessageRecipient.onMessage.selector: a contract that
    /// merely has a fallback function must not consume messages. Implementations should check
    /// that msg.sender is the mailbox they trust, and usually the source chain and address.
    /// @param srcChainId Chain the message was sent from.
    /// @param srcAddress The account that sent it there.
    /// @param sessionId The sender's session identifier.
    /// @param nonce The message's nonce on its route (source chain → this chain).
    /// @param payload The message's payload.
    /// @return magic IMessageRecipient.onMessage.selector.
    function onMessage(uint64 srcChainId, address srcAddress, uint128 sessionId, uint64 nonce, bytes calldata payload)
        external
        returns (bytes4 magic);
}
