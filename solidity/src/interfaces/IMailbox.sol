// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MerkleTree} from "../lib/MerkleTree.sol";
import {Header, TransactionProof} from "../lib/Protocol.sol";
import {ILightClient} from "./ILightClient.sol";

/// @notice A cross-chain message (CIRC, in the style of ERC-7841): its metadata and payload. On
/// trestle it travels as the transaction `{namespace: the source chain's namespace, payload:
/// abi.encode(message)}`, and `keccak256(abi.encode(message))` is its hash.
/// @dev ERC-7841 types are adapted to trestle: chain ids are uint64 (trestle's counters, and
/// every EVM chain id), addresses are EVM addresses, and the nonce is assigned by the mailbox.
/// @param srcChainId Chain the message was sent from.
/// @param destChainId Chain the message is for.
/// @param srcAddress The account that called send on the source chain.
/// @param destAddress The IMessageRecipient contract on the destination chain.
/// @param sessionId Identifier of the cross-chain interaction, chosen by the sender.
/// @param nonce Position of the message among those its source mailbox sent to destChainId.
/// @param payload Opaque bytes for the recipient.
struct Message {
    uint64 srcChainId;
    uint64 destChainId;
    address srcAddress;
    address destAddress;
    uint128 sessionId;
    uint64 nonce;
    bytes payload;
}

/// @title IMailbox
/// @notice A CIRC mailbox (DESIGN.md section 6): `send` on the source chain, `deliver` with an
/// inclusion proof back to a history root the light client accepted on the destination chain.
interface IMailbox {
    /// @notice A message was sent from this chain.
    /// @param messageHash keccak256(abi.encode(message)).
    /// @param message The message; abi.encode(message) is the payload of its trestle transaction.
    event MessageSent(bytes32 indexed messageHash, Message message);
    /// @notice A message was delivered to its recipient on this chain.
    /// @param messageHash keccak256(abi.encode(message)).
    /// @param srcChainId Chain the message was sent from.
    /// @param destAddress The recipient.
    /// @param nonce The message's nonce on its route.
    event MessageDelivered(
        bytes32 indexed messageHash, uint64 indexed srcChainId, address indexed destAddress, uint64 nonce
    );
    /// @notice The namespace holding a source chain's messages was set.
    /// @param srcChainId The source chain.
    /// @param namespace Its trestle namespace.
    event SourceNamespaceSet(uint64 indexed srcChainId, uint64 namespace);
    /// @notice A source chain was removed: its messages are no longer accepted.
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
    /// @notice The light client has not accepted this history root.
    /// @param historyRoot The root.
    error UnknownHistoryRoot(bytes32 historyRoot);
    /// @notice No namespace is registered for the message's source chain.
    /// @param srcChainId The source chain.
    error UnknownSourceChain(uint64 srcChainId);
    /// @notice The message was delivered already.
    /// @param messageHash Its hash.
    error AlreadyDelivered(bytes32 messageHash);
    /// @notice The recipient reverted; the delivery was undone and may be retried.
    /// @param messageHash The message's hash.
    /// @param reason The recipient's revert data.
    error RecipientReverted(bytes32 messageHash, bytes reason);
    /// @notice The recipient did not return IMessageRecipient.onMessage.selector (for example it
    /// has no code, or only a fallback function).
    /// @param messageHash The message's hash.
    /// @param recipient The recipient.
    error NotARecipient(bytes32 messageHash, address recipient);
    /// @notice Only the owner may change the registry.
    /// @param caller The caller.
    error NotOwner(address caller);
    /// @notice This chain's id does not fit in uint64.
    /// @param chainId The chain id.
    error ChainIdTooLarge(uint256 chainId);
    /// @notice The constructor was given a light client address without code.
    /// @param lightClient The address.
    error LightClientNotContract(address lightClient);

    /// @notice Sends a message to `destAddress` on chain `destChainId`, from msg.sender.
    /// @param destChainId The destination chain.
    /// @param destAddress The recipient there.
    /// @param sessionId Identifier of the cross-chain interaction, chosen by the sender.
    /// @param payload The payload.
    /// @return messageHash keccak256(abi.encode(message)).
    /// @return nonce The nonce assigned to the message.
    function send(uint64 destChainId, address destAddress, uint128 sessionId, bytes calldata payload)
        external
        returns (bytes32 messageHash, uint64 nonce);

    /// @notice Delivers `message`, proven to be a transaction in its source chain's namespace of a
    /// block in the history with root `historyRoot`, and calls its recipient. Anyone may deliver.
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

    /// @notice The light client whose history roots deliveries are proven against.
    /// @return The light client.
    function lightClient() external view returns (ILightClient);

    /// @notice This chain's id, the srcChainId of the messages sent here.
    /// @return The chain id.
    function chainId() external view returns (uint64);

    /// @notice The owner of the source registry (zero once frozen).
    /// @return The owner.
    function owner() external view returns (address);

    /// @notice The namespace registered for a source chain.
    /// @param srcChainId The source chain.
    /// @return registered Whether one is registered.
    /// @return namespace The namespace (0 if none).
    function sourceNamespace(uint64 srcChainId) external view returns (bool registered, uint64 namespace);

    /// @notice Whether a message was delivered.
    /// @param messageHash keccak256(abi.encode(message)).
    /// @return True once delivered.
    function delivered(bytes32 messageHash) external view returns (bool);

    /// @notice The nonce the next message to `destChainId` will get (= messages sent there so far).
    /// @param destChainId The destination chain.
    /// @return The nonce.
    function nextNonce(uint64 destChainId) external view returns (uint64);

    /// @notice Hash chain over the hashes of the messages sent to `destChainId`, in nonce order:
    /// d_0 = 0, d_{n+1} = keccak256(d_n ‖ messageHash_n).
    /// @param destChainId The destination chain.
    /// @return The digest.
    function outboxDigest(uint64 destChainId) external view returns (bytes32);

    /// @notice Hash chain over the hashes of the messages delivered from `srcChainId`, in delivery
    /// order (equal to the source's outboxDigest(this chain) when delivered in nonce order).
    /// @param srcChainId The source chain.
    /// @return The digest.
    function inboxDigest(uint64 srcChainId) external view returns (bytes32);

    /// @notice keccak256(abi.encode(message)): the key of the message in `delivered`.
    /// @param message The message.
    /// @return The hash.
    function hashMessage(Message calldata message) external pure returns (bytes32);

    /// @notice Registers (or changes) the namespace holding `srcChainId`'s messages. Owner only.
    /// @dev The namespace should be owned (only the source's poster may submit to it) and hold
    /// nothing but that chain's messages, since any of its transactions that ABI-decodes as a
    /// Message from `srcChainId` is accepted as one.
    /// @param srcChainId The source chain.
    /// @param namespace Its trestle namespace.
    function setSourceNamespace(uint64 srcChainId, uint64 namespace) external;

    /// @notice Stops accepting messages from `srcChainId`. Owner only.
    /// @param srcChainId The source chain.
    function removeSource(uint64 srcChainId) external;

    /// @notice Hands the registry to `newOwner`; the zero address freezes it. Owner only.
    /// @param newOwner The new owner.
    function transferOwnership(address newOwner) external;
}
