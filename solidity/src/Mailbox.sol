// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Inclusion} from "./lib/Inclusion.sol";
import {MerkleTree} from "./lib/MerkleTree.sol";
import {Header, Protocol, TransactionProof} from "./lib/Protocol.sol";
import {ILightClient} from "./interfaces/ILightClient.sol";
import {IMailbox, Message} from "./interfaces/IMailbox.sol";
import {IMessageRecipient} from "./interfaces/IMessageRecipient.sol";

/// @title Mailbox
/// @notice A CIRC mailbox (ERC-7841 style, DESIGN.md section 6). On a source chain, `send` assigns
/// the message its nonce, extends the outbox digest and emits MessageSent; the relayer posts
/// abi.encode(message) to the source chain's trestle namespace. On a destination chain, anyone may
/// `deliver` a message with a proof that this transaction is in a block of a history whose root
/// the light client accepted; the mailbox marks it delivered, extends the inbox digest and calls
/// the recipient.
/// @dev Nonces count per destination chain: the n-th message (from 0) that this mailbox sends to
/// chain D has nonce n. Every route (source, destination) thus numbers its messages 0, 1, 2, ...
/// without gaps, which is what a destination (or a relayer) needs to see that none is missing,
/// and delivered in nonce order the destination's inboxDigest(source) equals the source's
/// outboxDigest(destination). The triple (srcChainId, destChainId, nonce) makes every message,
/// and so its hash, unique, whatever its sender, session and payload.
/// Replay: a message is marked delivered before its recipient is called and the whole delivery
/// reverts if the recipient does, so a message is delivered at most once, and one whose recipient
/// failed stays deliverable. The trust in a source chain's messages is the trust in who may post
/// to its registered namespace (an owned namespace, DESIGN.md section 4).
contract Mailbox is IMailbox {
    /// @dev A source chain's registration (one slot).
    struct Source {
        uint64 namespace;
        bool registered;
    }

    /// @inheritdoc IMailbox
    ILightClient public immutable override lightClient;
    /// @inheritdoc IMailbox
    uint64 public immutable override chainId;
    /// @inheritdoc IMailbox
    address public override owner;

    /// @dev Source chain => its namespace.
    mapping(uint64 srcChainId => Source source) internal _sources;
    /// @inheritdoc IMailbox
    mapping(bytes32 messageHash => bool isDelivered) public override delivered;
    /// @inheritdoc IMailbox
    mapping(uint64 destChainId => uint64 nonce) public override nextNonce;
    /// @inheritdoc IMailbox
    mapping(uint64 destChainId => bytes32 digest) public override outboxDigest;
    /// @inheritdoc IMailbox
    mapping(uint64 srcChainId => bytes32 digest) public override inboxDigest;

    /// @dev Reverts with NotOwner unless the caller is the owner.
    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    /// @notice Deploys a mailbox for this chain that trusts `lightClient_`'s history roots.
    /// @param lightClient_ The light client of the trestle network.
    /// @param owner_ Who may register source chains (zero: nobody, the registry stays empty).
    constructor(ILightClient lightClient_, address owner_) {
        if (block.chainid > type(uint64).max) revert ChainIdTooLarge(block.chainid);
        if (address(lightClient_).code.length == 0) revert LightClientNotContract(address(lightClient_));
        lightClient = lightClient_;
        // Checked above.
        // forge-lint: disable-next-line(unsafe-typecast)
        chainId = uint64(block.chainid);
        owner = owner_;
        emit OwnershipTransferred(address(0), owner_);
    }

    // ---------------------------------------------------------------------------------------------
    // Sending
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IMailbox
    function send(uint64 destChainId, address destAddress, uint128 sessionId, bytes calldata payload)
        external
        override
        returns (bytes32 messageHash, uint64 nonce)
    {
        nonce = nextNonce[destChainId];
        nextNonce[destChainId] = nonce + 1;
        Message memory message = Message({
            srcChainId: chainId,
            destChainId: destChainId,
            srcAddress: msg.sender,
            destAddress: destAddress,
            sessionId: sessionId,
            nonce: nonce,
            payload: payload
        });
        messageHash = keccak256(abi.encode(message));
        outboxDigest[destChainId] = _chain(outboxDigest[destChainId], messageHash);
        emit MessageSent(messageHash, message);
    }

    // ---------------------------------------------------------------------------------------------
    // Delivering
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IMailbox
    /// @dev Checks, in order: the destination chain (WrongDestinationChain), the source chain
    /// (UnknownSourceChain), the history root (UnknownHistoryRoot), replay (AlreadyDelivered), the
    /// inclusion proof (Inclusion's and MerkleTree's errors); then marks the message delivered,
    /// extends inboxDigest(srcChainId), emits MessageDelivered and calls the recipient
    /// (RecipientReverted, NotARecipient).
    function deliver(
        Message calldata message,
        Header calldata header,
        TransactionProof calldata txProof,
        MerkleTree.Proof calldata historyProof,
        bytes32 historyRoot
    ) external override {
        uint64 destChainId = message.destChainId;
        if (destChainId != block.chainid) revert WrongDestinationChain(block.chainid, destChainId);
        uint64 srcChainId = message.srcChainId;
        Source memory source = _sources[srcChainId];
        if (!source.registered) revert UnknownSourceChain(srcChainId);
        (bool known, uint64 rootHeight) = lightClient.rootHeight(historyRoot);
        if (!known) revert UnknownHistoryRoot(historyRoot);

        bytes memory encoded = abi.encode(message);
        bytes32 messageHash = keccak256(encoded);
        if (delivered[messageHash]) revert AlreadyDelivered(messageHash);
        Inclusion.verifyTransactionHashInHistory(
            source.namespace,
            Protocol.txHashMemory(source.namespace, encoded),
            header,
            txProof,
            historyProof,
            historyRoot,
            rootHeight
        );

        delivered[messageHash] = true;
        inboxDigest[srcChainId] = _chain(inboxDigest[srcChainId], messageHash);
        emit MessageDelivered(messageHash, srcChainId, message.destAddress, message.nonce);
        _callRecipient(messageHash, message);
    }

    // ---------------------------------------------------------------------------------------------
    // Registry
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IMailbox
    function setSourceNamespace(uint64 srcChainId, uint64 namespace) external override onlyOwner {
        _sources[srcChainId] = Source({namespace: namespace, registered: true});
        emit SourceNamespaceSet(srcChainId, namespace);
    }

    /// @inheritdoc IMailbox
    function removeSource(uint64 srcChainId) external override onlyOwner {
        delete _sources[srcChainId];
        emit SourceRemoved(srcChainId);
    }

    /// @inheritdoc IMailbox
    function transferOwnership(address newOwner) external override onlyOwner {
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    // ---------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IMailbox
    function sourceNamespace(uint64 srcChainId) external view override returns (bool registered, uint64 namespace) {
        Source memory source = _sources[srcChainId];
        return (source.registered, source.namespace);
    }

    /// @inheritdoc IMailbox
    function hashMessage(Message calldata message) external pure override returns (bytes32) {
        return keccak256(abi.encode(message));
    }

    // ---------------------------------------------------------------------------------------------
    // Internal
    // ---------------------------------------------------------------------------------------------

    /// @dev Calls the recipient's onMessage with all remaining gas but the 1/64 kept by the EVM;
    /// reverts with RecipientReverted if it reverts, NotARecipient unless it returns its selector.
    function _callRecipient(bytes32 messageHash, Message calldata message) internal {
        address recipient = message.destAddress;
        (bool ok, bytes memory result) = recipient.call(
            abi.encodeCall(
                IMessageRecipient.onMessage,
                (message.srcChainId, message.srcAddress, message.sessionId, message.nonce, message.payload)
            )
        );
        if (!ok) revert RecipientReverted(messageHash, result);
        // casting to 'bytes32' is safe because it is only compared, and only when 32 bytes long
        // forge-lint: disable-next-line(unsafe-typecast)
        if (result.length != 32 || bytes32(result) != bytes32(IMessageRecipient.onMessage.selector)) {
            revert NotARecipient(messageHash, recipient);
        }
    }

    /// @dev One step of a hash chain: keccak256(digest ‖ messageHash).
    function _chain(bytes32 digest, bytes32 messageHash) internal pure returns (bytes32 next) {
        assembly ("memory-safe") {
            mstore(0x00, digest)
            mstore(0x20, messageHash)
            next := keccak256(0x00, 0x40)
        }
    }
}
