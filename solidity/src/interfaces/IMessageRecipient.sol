// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title IMessageRecipient
/// @notice What a contract implements to receive cross-chain messages from a Mailbox.
interface IMessageRecipient {
    /// @notice Handles a message the mailbox has verified and received. The mailbox calls it with
    /// exactly the message's gasLimit, for each message of a source chain in nonce order. If it
    /// reverts (or does not return the selector), the message stays received but is stored as
    /// failed, the source's next messages go on, and anyone may retry it later with the same
    /// gasLimit; it is called again only then, and succeeds at most once per message.
    /// @dev Must return its own selector, IMessageRecipient.onMessage.selector: a contract that
    /// merely has a fallback function must not consume messages. Implementations should check
    /// that msg.sender is the mailbox they trust, and usually the source chain and address. The
    /// gasLimit is the sender's choice and whoever delivers cannot change it: a recipient that
    /// catches the failure of its own work (try/catch, low-level calls) should not return the
    /// selector for work that ran out of gas unless that is the outcome it wants kept.
    /// @param srcChainId Chain the message was sent from.
    /// @param srcAddress The account that sent it there.
    /// @param sessionId The sender's session identifier.
    /// @param nonce The message's nonce on its route (source chain → this chain and mailbox).
    /// @param payload The message's payload.
    /// @return magic IMessageRecipient.onMessage.selector.
    function onMessage(uint64 srcChainId, address srcAddress, uint128 sessionId, uint64 nonce, bytes calldata payload)
        external
        returns (bytes4 magic);
}
