// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MerkleTree} from "../lib/MerkleTree.sol";
import {Header, TransactionProof} from "../lib/Protocol.sol";
import {ILightClient} from "./ILightClient.sol";

/// @notice A cross-chain message (CIRC, in the style of ERC-7841): its metadata and payload. On
/// trestle it travels as the transaction `{namespace: the source chain's namespace, payload:
/// abi.encode(message)}`, and `keccak256(abi.encode(message))` is its hash. The field order is
/// that encoding: ERC-7841's metadata first, trestle's additions (destMailbox, gasLimit) after.
/// @dev ERC-7841 types are adapted to trestle: chain ids are uint64 (trestle's counters, and
/// every EVM chain id), addresses are EVM addresses, and the nonce is assigned by the mailbox
/// (see solidity/README.md for the full comparison).
/// @param srcChainId Chain the message was sent from.
/// @param destChainId Chain the message is for.
/// @param srcAddress The account that called send on the source chain.
/// @param destAddress The IMessageRecipient contract on the destination chain.
/// @param sessionId Identifier of the cross-chain interaction, chosen by the sender.
/// @param nonce Position of the message on its route (source chain, destChainId, destMailbox),
/// from 0 without gaps.
/// @param destMailbox The Mailbox on destChainId this message is for; no other accepts it.
/// @param gasLimit The exact gas the recipient's onMessage call gets on the destination.
/// @param payload Opaque bytes for the recipient.
struct Message {
    uint64 srcChainId;
    uint64 destChainId;
    address srcAddress;
    address destAddress;
    uint128 sessionId;
    uint64 nonce;
    address destMailbox;
    uint64 gasLimit;
    bytes payload;
}

/// @title IMailbox
/// @notice A CIRC mailbox (DESIGN.md section 6): `send` on the source chain; on the destination
/// chain `deliver` (or `deliverBatch`) with an inclusion proof back to a history root the light
/// client accepted, in nonce order per source chain, and `retry` for messages whose recipient
/// failed.
/// @dev Delivery is in enforced order with stored failures: a source chain's messages are
/// received exactly in nonce order (so the ERC-7841 check inboxDigest == outboxDigest holds
/// exactly, and replay protection is a nonce counter rather than a storage slot per message); a
/// recipient that fails does not block the route, its message is received, stored as failed and
/// can be retried by anyone. The recipient always gets exactly the message's gasLimit, so no
/// caller can make a message fail (or "succeed" without its work) by choosing the gas.
interface IMailbox {
    /// @notice A message was sent from this chain.
    /// @param messageHash keccak256(abi.encode(message)).
    /// @param message The message; abi.encode(message), which is also this event's data, is the
    /// payload of its trestle transaction.
    event MessageSent(bytes32 indexed messageHash, Message message);
    /// @notice A message's recipient accepted it (at its delivery, or at a retry).
    /// @param messageHash keccak256(abi.encode(message)).
    /// @param srcChainId Chain the message was sent from.
    /// @param destAddress The recipient.
    /// @param nonce The message's nonce on its route.
    event MessageDelivered(
        bytes32 indexed messageHash, uint64 indexed srcChainId, address indexed destAddress, uint64 nonce
    );
    /// @notice A message was received but its recipient did not accept it: it is stored as
    /// failed (see `failed`) and anyone may `retry` it.
    /// @param messageHash keccak256(abi.encode(message)).
    /// @param srcChainId Chain the message was sent from.
    /// @param nonce The message's nonce on its route.
    /// @param reason The recipient's revert data (at most 256 bytes, truncated), or the error the
    /// mailbox stands for: NotARecipient(messageHash, recipient) when the call succeeded without
    /// returning the selector, GasLimitTooHigh(gasLimit, maxGasLimit) when the mailbox did not call.
    event MessageFailed(bytes32 indexed messageHash, uint64 indexed srcChainId, uint64 nonce, bytes reason);
    /// @notice The namespace holding a source chain's messages was set.
    /// @param srcChainId The source chain.
    /// @param namespace Its trestle namespace.
    event SourceNamespaceSet(uint64 indexed srcChainId, uint64 namespace);
    /// @notice A source chain was removed: its messages are no longer accepted (its inbox
    /// position is kept).
    /// @param srcChainId The source chain.
    event SourceRemoved(uint64 indexed srcChainId);
    /// @notice The owner changed (to the zero address: the registry is frozen).
    /// @param previousOwner The previous owner.
    /// @param newOwner The new owner.
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @notice The message is for another chain.
    /// @param chainId This chain's id.
    /// @param destChainId The message's destination chain.
    error WrongDestinationChain(uint256 chainId, uint64 destChainId);
    /// @notice The message is for another mailbox of this chain.
    /// @param expected This mailbox.
    /// @param got The message's destMailbox.
    error WrongMailbox(address expected, address got);
    /// @notice The light client does not hold this history root at the height the history proof
    /// claims (count - 1): never accepted, claimed for another height, or evicted from its ring of
    /// recent roots (rebuild the proof against a newer root).
    /// @param historyRoot The root.
    error UnknownHistoryRoot(bytes32 historyRoot);
    /// @notice No namespace is registered for the message's source chain.
    /// @param srcChainId The source chain.
    error UnknownSourceChain(uint64 srcChainId);
    /// @notice The message's nonce was received already (delivered, or stored as failed).
    /// @param srcChainId The source chain.
    /// @param nonce The message's nonce.
    error AlreadyReceived(uint64 srcChainId, uint64 nonce);
    /// @notice The message is not the next one of its source chain: messages are received in
    /// nonce order.
    /// @param srcChainId The source chain.
    /// @param expected The next nonce, inboxNonce(srcChainId).
    /// @param got The message's nonce.
    error NonceOutOfOrder(uint64 srcChainId, uint64 expected, uint64 got);
    /// @notice Too little gas is left to give the recipient exactly the message's gasLimit; nothing
    /// changed and the message can be delivered (or retried) with more gas.
    /// @param messageHash The message's hash.
    /// @param gasLimit The gas the recipient must get.
    /// @param gasLeft The gas that was left.
    error InsufficientGas(bytes32 messageHash, uint64 gasLimit, uint256 gasLeft);
    /// @notice retry was called for a message that is not stored as failed.
    /// @param messageHash The message's hash.
    error NotFailed(bytes32 messageHash);
    /// @notice The recipient reverted during a retry; the message stays failed and retryable.
    /// @param messageHash The message's hash.
    /// @param reason The recipient's revert data (at most 256 bytes, truncated).
    error RecipientReverted(bytes32 messageHash, bytes reason);
    /// @notice The recipient did not return IMessageRecipient.onMessage.selector (for example it
    /// has no code, or only a fallback function).
    /// @param messageHash The message's hash.
    /// @param recipient The recipient.
    error NotARecipient(bytes32 messageHash, address recipient);
    /// @notice deliverBatch got a different number of transaction proofs than messages.
    /// @param messages Number of messages.
    /// @param txProofs Number of transaction proofs.
    error LengthMismatch(uint256 messages, uint256 txProofs);
    /// @notice The message's ABI encoding would be longer than a trestle transaction's payload may
    /// be, so it could never be posted.
    /// @param encodedLength Length of abi.encode(message): 352 + the payload length rounded up to 32.
    /// @param maxMessageBytes The network's per-transaction payload limit.
    error MessageTooLarge(uint256 encodedLength, uint256 maxMessageBytes);
    /// @notice The gas limit is above what this mailbox lets a message ask for.
    /// @param gasLimit The message's gas limit.
    /// @param maxGasLimit The mailbox's maximum.
    error GasLimitTooHigh(uint64 gasLimit, uint64 maxGasLimit);
    /// @notice A gas limit of 0: the recipient could never run.
    error ZeroGasLimit();
    /// @notice A destination mailbox of 0: nobody could receive the message.
    error ZeroDestinationMailbox();
    /// @notice Only the owner may change the registry.
    /// @param caller The caller.
    error NotOwner(address caller);
    /// @notice This chain's id does not fit in uint64.
    /// @param chainId The chain id.
    error ChainIdTooLarge(uint256 chainId);
    /// @notice The constructor was given a light client address without code.
    /// @param lightClient The address.
    error LightClientNotContract(address lightClient);
    /// @notice The constructor was given a payload limit below the size of an empty message.
    /// @param maxMessageBytes The limit given.
    /// @param minimum The length of abi.encode of a message with an empty payload (352).
    error MaxMessageBytesTooSmall(uint256 maxMessageBytes, uint256 minimum);
    /// @notice The constructor was given a maximum gas limit of 0.
    error ZeroMaxGasLimit();

    /// @notice Sends a message to `destAddress` on chain `destChainId`, through the mailbox
    /// `destMailbox` there, from msg.sender. Its nonce is the next one of the route (this chain,
    /// destChainId, destMailbox); it extends that route's outbox digest and emits MessageSent.
    /// @dev Reverts with ZeroDestinationMailbox, ZeroGasLimit, GasLimitTooHigh (above this
    /// mailbox's maxGasLimit) or MessageTooLarge (abi.encode(message) longer than maxMessageBytes).
    /// @param destChainId The destination chain.
    /// @param destMailbox The Mailbox on the destination chain that will deliver it.
    /// @param destAddress The recipient there.
    /// @param sessionId Identifier of the cross-chain interaction, chosen by the sender.
    /// @param gasLimit The exact gas the recipient's onMessage will get (1..maxGasLimit).
    /// @param payload The payload.
    /// @return messageHash keccak256(abi.encode(message)).
    /// @return nonce The nonce assigned to the message.
    function send(
        uint64 destChainId,
        address destMailbox,
        address destAddress,
        uint128 sessionId,
        uint64 gasLimit,
        bytes calldata payload
    ) external returns (bytes32 messageHash, uint64 nonce);

    /// @notice Receives `message`, proven to be a transaction in its source chain's namespace of
    /// a block in the history with root `historyRoot`, and calls its recipient with exactly
    /// message.gasLimit gas. Anyone may deliver.
    /// @dev The message must be the next one of its source chain (nonce == inboxNonce(srcChainId)).
    /// It is received (inboxNonce incremented, inboxDigest extended) whatever the recipient does:
    /// if the call reverts or does not return the selector, or if gasLimit exceeds maxGasLimit
    /// (then without calling), the message is stored as failed and MessageFailed is emitted;
    /// otherwise MessageDelivered. Reverts, changing nothing, with InsufficientGas when too little
    /// gas is left to give the recipient its full gasLimit.
    /// @param message The message.
    /// @param header The header of the trestle block holding its transaction.
    /// @param txProof The transaction's proof against header.payloadRoot.
    /// @param historyProof The header's path in the history tree of `historyRoot`.
    /// @param historyRoot A history root the light client accepted.
    function deliver(
        Message calldata message,
        Header calldata header,
        TransactionProof calldata txProof,
        MerkleTree.Proof calldata historyProof,
        bytes32 historyRoot
    ) external;

    /// @notice Receives several messages of one trestle block, proven against one header and one
    /// history proof, each as `deliver` does, in the order given. Anyone may deliver.
    /// @dev Race-safe for competing relayers: a message whose nonce was received already is
    /// skipped (neither checked further nor reverted); every other message must be the next of
    /// its source chain at its turn (NonceOutOfOrder otherwise). A message whose namespace leaf
    /// is the one of the previous proven message does not have its namespace path checked again,
    /// so its proof may carry an empty path there (saving calldata). The transaction needs the
    /// gas of every recipient's gasLimit (InsufficientGas reverts the whole batch otherwise).
    /// @param messages The messages, in nonce order per source chain.
    /// @param header The header of the trestle block holding their transactions.
    /// @param txProofs The transactions' proofs against header.payloadRoot, one per message.
    /// @param historyProof The header's path in the history tree of `historyRoot`.
    /// @param historyRoot A history root the light client accepted.
    /// @return skipped skipped[i] is true if messages[i] had been received before (the others
    /// were received by this call and each has a MessageDelivered or MessageFailed event).
    function deliverBatch(
        Message[] calldata messages,
        Header calldata header,
        TransactionProof[] calldata txProofs,
        MerkleTree.Proof calldata historyProof,
        bytes32 historyRoot
    ) external returns (bool[] memory skipped);

    /// @notice Calls the recipient of a message stored as failed again, with exactly its gasLimit.
    /// Anyone may retry.
    /// @dev Clears the failure mark before calling. If the recipient reverts (RecipientReverted) or
    /// does not return the selector (NotARecipient), the whole retry reverts and the message stays
    /// failed and retryable; otherwise MessageDelivered is emitted. Retry gives exactly gasLimit,
    /// like deliver, because a caller choosing more gas could make a recipient that catches the
    /// failure of its own work "succeed" at a later try without doing it, and with less it could
    /// make it fail. Reverts with NotFailed unless the message is stored as failed, and with
    /// InsufficientGas as deliver does.
    /// @param message The message, as it was received.
    function retry(Message calldata message) external;

    /// @notice The light client whose history roots deliveries are proven against.
    /// @return The light client.
    function lightClient() external view returns (ILightClient);

    /// @notice This chain's id, the srcChainId of the messages sent here.
    /// @return The chain id.
    function chainId() external view returns (uint64);

    /// @notice The network's per-transaction payload limit: send refuses a message whose
    /// abi.encode is longer.
    /// @return The limit in bytes.
    function maxMessageBytes() external view returns (uint256);

    /// @notice The highest gasLimit send accepts; delivered messages above it are stored as failed
    /// without calling their recipient (they could otherwise block their route).
    /// @return The maximum gas limit.
    function maxGasLimit() external view returns (uint64);

    /// @notice The owner of the source registry (zero once frozen).
    /// @return The owner.
    function owner() external view returns (address);

    /// @notice The namespace registered for a source chain.
    /// @param srcChainId The source chain.
    /// @return registered Whether one is registered.
    /// @return namespace The namespace (0 if none).
    function sourceNamespace(uint64 srcChainId) external view returns (bool registered, uint64 namespace);

    /// @notice The number of messages received from `srcChainId` (delivered or stored as failed),
    /// which is the nonce the next one must have.
    /// @param srcChainId The source chain.
    /// @return The inbox position.
    function inboxNonce(uint64 srcChainId) external view returns (uint64);

    /// @notice Hash chain over the hashes of the messages received from `srcChainId`, in nonce
    /// order: d_0 = 0, d_{n+1} = keccak256(d_n ‖ messageHash_n), delivered and failed messages
    /// alike. After inboxNonce(srcChainId) = n messages it equals the source mailbox's
    /// outboxDigest(this chain, this mailbox) after its first n messages on that route.
    /// @param srcChainId The source chain.
    /// @return The digest.
    function inboxDigest(uint64 srcChainId) external view returns (bytes32);

    /// @notice Whether a received message's recipient failed and it awaits a successful retry.
    /// @param messageHash keccak256(abi.encode(message)).
    /// @return True while stored as failed.
    function failed(bytes32 messageHash) external view returns (bool);

    /// @notice The nonce the next message on the route (this chain, destChainId, destMailbox) will
    /// get (= messages sent on it so far).
    /// @param destChainId The destination chain.
    /// @param destMailbox The destination mailbox.
    /// @return The nonce.
    function nextNonce(uint64 destChainId, address destMailbox) external view returns (uint64);

    /// @notice Hash chain over the hashes of the messages sent on the route (this chain,
    /// destChainId, destMailbox), in nonce order: d_0 = 0, d_{n+1} = keccak256(d_n ‖ messageHash_n).
    /// @param destChainId The destination chain.
    /// @param destMailbox The destination mailbox.
    /// @return The digest.
    function outboxDigest(uint64 destChainId, address destMailbox) external view returns (bytes32);

    /// @notice keccak256(abi.encode(message)): the message's hash, the key of `failed`.
    /// @param message The message.
    /// @return The hash.
    function hashMessage(Message calldata message) external pure returns (bytes32);

    /// @notice Registers (or changes) the namespace holding `srcChainId`'s messages. Owner only.
    /// @dev The namespace should be owned (only the source's poster may submit to it) and hold
    /// nothing but that chain's messages, since any of its transactions that ABI-decodes as a
    /// Message from `srcChainId` is accepted as one. Changing the namespace of a registered
    /// source keeps its inbox position and digest: the new namespace must carry on the same
    /// sequence of messages.
    /// @param srcChainId The source chain.
    /// @param namespace Its trestle namespace.
    function setSourceNamespace(uint64 srcChainId, uint64 namespace) external;

    /// @notice Stops accepting messages from `srcChainId`. Owner only.
    /// @dev Keeps the inbox position and digest, so that registering the source again resumes
    /// where it stopped and can never let a received message be received twice.
    /// @param srcChainId The source chain.
    function removeSource(uint64 srcChainId) external;

    /// @notice Hands the registry to `newOwner`; the zero address freezes it. Owner only.
    /// @param newOwner The new owner.
    function transferOwnership(address newOwner) external;
}
