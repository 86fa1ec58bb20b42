// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Inclusion} from "./lib/Inclusion.sol";
import {MerkleTree} from "./lib/MerkleTree.sol";
import {Header, TransactionProof} from "./lib/Protocol.sol";
import {ILightClient} from "./interfaces/ILightClient.sol";
import {IMailbox, Message} from "./interfaces/IMailbox.sol";
import {IMessageRecipient} from "./interfaces/IMessageRecipient.sol";

/// @title Mailbox
/// @notice A CIRC mailbox (ERC-7841 style, DESIGN.md section 6). On a source chain, `send`
/// assigns the message the next nonce of its route (this chain, destination chain, destination
/// mailbox), extends that route's outbox digest and emits MessageSent; the relayer posts
/// abi.encode(message) to the source chain's trestle namespace. On the destination chain, anyone
/// may `deliver` (or `deliverBatch`) the message with a proof that this transaction is in a block
/// of a history whose root the light client accepted; the mailbox receives it and calls the
/// recipient with exactly the message's gasLimit.
/// @dev Enforced order with stored failures. A source chain's messages are received strictly in
/// nonce order: inboxNonce(src) counts them and inboxDigest(src) chains their hashes, so
/// - ERC-7841's consistency check holds exactly: after n messages, inboxDigest(src) equals the
///   source's outboxDigest(this chain, this mailbox) after its first n;
/// - replay protection is the nonce counter (one slot per source, shared with its namespace)
///   instead of a fresh 20,000-gas slot per message;
/// - one failing recipient cannot block its route: a message whose recipient reverts (or does not
///   return its selector) is still received, only stored as failed (`failed`), and anyone may
///   `retry` it; the next nonce is deliverable at once.
/// Exact gas. The recipient gets exactly message.gasLimit, never less (deliver and retry revert
/// with InsufficientGas, changing nothing, when the 63/64 rule would leave it less) and never
/// more, so whoever submits the transaction cannot influence the outcome: not make it fail by
/// under-supplying gas (a stored failure is then the recipient's own result with its own gas),
/// nor make a recipient that catches the failure of its inner work return success without doing
/// it. Only 32 bytes of return data are copied on success and at most 256 on failure.
/// Binding. A message names its destination chain and mailbox, and only that mailbox on that
/// chain receives it; the nonce then makes every message, and so its hash, unique. The trust in a
/// source chain's messages is the trust in who may post to its registered namespace (an owned
/// namespace, DESIGN.md section 4), which must hold one source mailbox's messages only.
contract Mailbox is IMailbox {
    /// @dev A source chain's registration and inbox position (one slot). The position survives
    /// removeSource and setSourceNamespace.
    struct Source {
        uint64 namespace;
        bool registered;
        uint64 inboxNonce;
    }

    /// @dev abi.encode(message) without the payload: the offset word, eight static fields, the
    /// payload's offset and length. The encoding is this plus the payload padded to 32 bytes.
    uint256 internal constant _MESSAGE_HEAD_BYTES = 0x160;
    /// @dev Longest revert reason kept from a recipient (in MessageFailed, RecipientReverted).
    uint256 internal constant _MAX_REASON_BYTES = 256;
    /// @dev Gas set aside, on top of the 63/64 rule, between the gas check and the CALL: the
    /// CALL's cold account access (2,600), that of an EIP-7702 delegation target (2,600) and the
    /// few instructions between them.
    uint256 internal constant _CALL_RESERVE_GAS = 6_000;
    /// @dev Outcomes of _callRecipient.
    uint256 private constant _ACCEPTED = 0;
    uint256 private constant _REVERTED = 1;
    uint256 private constant _NOT_A_RECIPIENT = 2;

    /// @inheritdoc IMailbox
    ILightClient public immutable override lightClient;
    /// @inheritdoc IMailbox
    uint64 public immutable override chainId;
    /// @inheritdoc IMailbox
    uint256 public immutable override maxMessageBytes;
    /// @inheritdoc IMailbox
    uint64 public immutable override maxGasLimit;
    /// @inheritdoc IMailbox
    address public override owner;

    /// @dev Source chain => its namespace and inbox position.
    mapping(uint64 srcChainId => Source source) internal _sources;
    /// @inheritdoc IMailbox
    mapping(uint64 srcChainId => bytes32 digest) public override inboxDigest;
    /// @inheritdoc IMailbox
    mapping(bytes32 messageHash => bool isFailed) public override failed;
    /// @inheritdoc IMailbox
    mapping(uint64 destChainId => mapping(address destMailbox => uint64 nonce)) public override nextNonce;
    /// @inheritdoc IMailbox
    mapping(uint64 destChainId => mapping(address destMailbox => bytes32 digest)) public override outboxDigest;

    /// @dev Reverts with NotOwner unless the caller is the owner.
    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    /// @notice Deploys a mailbox for this chain that trusts `lightClient_`'s history roots.
    /// @param lightClient_ The light client of the trestle network.
    /// @param owner_ Who may register source chains (zero: nobody, the registry stays empty).
    /// @param maxMessageBytes_ The network's per-transaction payload limit (trestle's default is
    /// 1,048,576); at least 352, the length of a message with an empty payload.
    /// @param maxGasLimit_ The highest gasLimit a message may ask for (not 0); keep it well
    /// below the block gas limit of every destination chain.
    constructor(ILightClient lightClient_, address owner_, uint256 maxMessageBytes_, uint64 maxGasLimit_) {
        if (block.chainid > type(uint64).max) revert ChainIdTooLarge(block.chainid);
        if (address(lightClient_).code.length == 0) revert LightClientNotContract(address(lightClient_));
        if (maxMessageBytes_ < _MESSAGE_HEAD_BYTES) {
            revert MaxMessageBytesTooSmall(maxMessageBytes_, _MESSAGE_HEAD_BYTES);
        }
        if (maxGasLimit_ == 0) revert ZeroMaxGasLimit();
        lightClient = lightClient_;
        // Checked above.
        // forge-lint: disable-next-line(unsafe-typecast)
        chainId = uint64(block.chainid);
        maxMessageBytes = maxMessageBytes_;
        maxGasLimit = maxGasLimit_;
        owner = owner_;
        emit OwnershipTransferred(address(0), owner_);
    }

    // ---------------------------------------------------------------------------------------------
    // Sending
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IMailbox
    function send(
        uint64 destChainId,
        address destMailbox,
        address destAddress,
        uint128 sessionId,
        uint64 gasLimit,
        bytes calldata payload
    ) external override returns (bytes32 messageHash, uint64 nonce) {
        if (destMailbox == address(0)) revert ZeroDestinationMailbox();
        if (gasLimit == 0) revert ZeroGasLimit();
        if (gasLimit > maxGasLimit) revert GasLimitTooHigh(gasLimit, maxGasLimit);
        // Cannot overflow: payload lies in calldata.
        uint256 encodedLength = _MESSAGE_HEAD_BYTES + ((payload.length + 31) & ~uint256(31));
        if (encodedLength > maxMessageBytes) revert MessageTooLarge(encodedLength, maxMessageBytes);

        nonce = nextNonce[destChainId][destMailbox];
        nextNonce[destChainId][destMailbox] = nonce + 1;
        bytes memory encoded = abi.encode(
            Message({
                srcChainId: chainId,
                destChainId: destChainId,
                srcAddress: msg.sender,
                destAddress: destAddress,
                sessionId: sessionId,
                nonce: nonce,
                destMailbox: destMailbox,
                gasLimit: gasLimit,
                payload: payload
            })
        );
        messageHash = keccak256(encoded);
        outboxDigest[destChainId][destMailbox] = _chain(outboxDigest[destChainId][destMailbox], messageHash);
        // emit MessageSent(messageHash, message), whose data is exactly `encoded`: logged as it
        // is rather than encoded a second time.
        bytes32 topic = MessageSent.selector;
        assembly ("memory-safe") {
            log2(add(encoded, 0x20), mload(encoded), topic, messageHash)
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Delivering
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IMailbox
    /// @dev Checks, in order: the destination chain (WrongDestinationChain) and mailbox
    /// (WrongMailbox), the source chain (UnknownSourceChain), the history root
    /// (UnknownHistoryRoot), the nonce (AlreadyReceived, NonceOutOfOrder), the inclusion proof
    /// (Inclusion's and MerkleTree's errors); then receives the message (_receive).
    function deliver(
        Message calldata message,
        Header calldata header,
        TransactionProof calldata txProof,
        MerkleTree.Proof calldata historyProof,
        bytes32 historyRoot
    ) external override {
        Source memory source = _route(message);
        uint64 rootHeight = _rootHeight(historyRoot, historyProof);
        uint64 nonce = message.nonce;
        if (nonce != source.inboxNonce) {
            if (nonce < source.inboxNonce) revert AlreadyReceived(message.srcChainId, nonce);
            revert NonceOutOfOrder(message.srcChainId, source.inboxNonce, nonce);
        }
        (bytes32 messageHash, bytes32 txHash) = _hashes(message, source.namespace);
        Inclusion.verifyTransactionHashInHistory(
            source.namespace, txHash, header, txProof, historyProof, historyRoot, rootHeight
        );
        _receive(message, messageHash, nonce);
    }

    /// @inheritdoc IMailbox
    /// @dev Checks the history root and the header once, then each message as deliver does, its
    /// transaction against header.payloadRoot (Inclusion.verifyTransactionHashWithKnownLeaf).
    function deliverBatch(
        Message[] calldata messages,
        Header calldata header,
        TransactionProof[] calldata txProofs,
        MerkleTree.Proof calldata historyProof,
        bytes32 historyRoot
    ) external override returns (bool[] memory skipped) {
        uint256 count = messages.length;
        if (txProofs.length != count) revert LengthMismatch(count, txProofs.length);
        Inclusion.verifyHeader(header, historyProof, historyRoot, _rootHeight(historyRoot, historyProof));
        bytes32 payloadRoot = header.payloadRoot;
        bytes32 knownLeaf;
        skipped = new bool[](count);
        for (uint256 i = 0; i < count; ++i) {
            (skipped[i], knownLeaf) = _deliverInBlock(messages[i], txProofs[i], payloadRoot, knownLeaf);
        }
    }

    /// @inheritdoc IMailbox
    function retry(Message calldata message) external override {
        bytes32 messageHash = keccak256(abi.encode(message));
        if (!failed[messageHash]) revert NotFailed(messageHash);
        // Cleared before the call: a re-entering retry of this message finds it not failed.
        delete failed[messageHash];
        (uint256 outcome, bytes memory reason) = _callRecipient(messageHash, message);
        if (outcome == _REVERTED) revert RecipientReverted(messageHash, reason);
        if (outcome == _NOT_A_RECIPIENT) revert NotARecipient(messageHash, message.destAddress);
        emit MessageDelivered(messageHash, message.srcChainId, message.destAddress, message.nonce);
    }

    // ---------------------------------------------------------------------------------------------
    // Registry
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IMailbox
    function setSourceNamespace(uint64 srcChainId, uint64 namespace) external override onlyOwner {
        Source storage source = _sources[srcChainId];
        source.namespace = namespace;
        source.registered = true;
        emit SourceNamespaceSet(srcChainId, namespace);
    }

    /// @inheritdoc IMailbox
    function removeSource(uint64 srcChainId) external override onlyOwner {
        Source storage source = _sources[srcChainId];
        source.namespace = 0;
        source.registered = false;
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
    function inboxNonce(uint64 srcChainId) external view override returns (uint64) {
        return _sources[srcChainId].inboxNonce;
    }

    /// @inheritdoc IMailbox
    function hashMessage(Message calldata message) external pure override returns (bytes32) {
        return keccak256(abi.encode(message));
    }

    // ---------------------------------------------------------------------------------------------
    // Internal
    // ---------------------------------------------------------------------------------------------

    /// @dev Reverts unless `message` is for this chain and this mailbox and its source chain is
    /// registered; returns the source's registration.
    function _route(Message calldata message) internal view returns (Source memory source) {
        uint64 destChainId = message.destChainId;
        if (destChainId != block.chainid) revert WrongDestinationChain(block.chainid, destChainId);
        address destMailbox = message.destMailbox;
        if (destMailbox != address(this)) revert WrongMailbox(address(this), destMailbox);
        uint64 srcChainId = message.srcChainId;
        source = _sources[srcChainId];
        if (!source.registered) revert UnknownSourceChain(srcChainId);
    }

    /// @dev The height `historyProof` claims for `historyRoot` (its leaf count - 1), if the light
    /// client holds that root at that height; reverts with UnknownHistoryRoot otherwise (a root
    /// never accepted, evicted from the light client's ring, or claimed for another height).
    function _rootHeight(bytes32 historyRoot, MerkleTree.Proof calldata historyProof)
        internal
        view
        returns (uint64 rootHeight)
    {
        uint64 count = historyProof.count;
        if (count == 0) revert UnknownHistoryRoot(historyRoot);
        unchecked {
            rootHeight = count - 1;
        }
        if (!lightClient.isKnownRoot(historyRoot, rootHeight)) revert UnknownHistoryRoot(historyRoot);
    }

    /// @dev deliverBatch's work for one message of the block with payload root `payloadRoot`
    /// (whose header is verified): skips it if its nonce was received, otherwise checks it as
    /// deliver does and receives it. `knownLeaf` and `leaf` as in
    /// Inclusion.verifyTransactionHashWithKnownLeaf.
    function _deliverInBlock(
        Message calldata message,
        TransactionProof calldata txProof,
        bytes32 payloadRoot,
        bytes32 knownLeaf
    ) internal returns (bool skipped, bytes32 leaf) {
        // Read for every message (warm after the first): a recipient may have re-entered.
        Source memory source = _route(message);
        uint64 nonce = message.nonce;
        if (nonce < source.inboxNonce) return (true, knownLeaf);
        if (nonce > source.inboxNonce) revert NonceOutOfOrder(message.srcChainId, source.inboxNonce, nonce);
        (bytes32 messageHash, bytes32 txHash) = _hashes(message, source.namespace);
        leaf = Inclusion.verifyTransactionHashWithKnownLeaf(source.namespace, txHash, txProof, payloadRoot, knownLeaf);
        _receive(message, messageHash, nonce);
    }

    /// @dev Receives the proven message `nonce` of its source: advances the inbox, then calls the
    /// recipient (or not, above maxGasLimit) and records the outcome.
    function _receive(Message calldata message, bytes32 messageHash, uint64 nonce) internal {
        uint64 srcChainId = message.srcChainId;
        _sources[srcChainId].inboxNonce = nonce + 1;
        inboxDigest[srcChainId] = _chain(inboxDigest[srcChainId], messageHash);
        uint64 gasLimit = message.gasLimit;
        if (gasLimit > maxGasLimit) {
            // Nobody might ever supply that much gas: received as failed, so the route goes on.
            _fail(
                messageHash, srcChainId, nonce, abi.encodeWithSelector(GasLimitTooHigh.selector, gasLimit, maxGasLimit)
            );
            return;
        }
        (uint256 outcome, bytes memory reason) = _callRecipient(messageHash, message);
        if (outcome == _ACCEPTED) {
            emit MessageDelivered(messageHash, srcChainId, message.destAddress, nonce);
        } else {
            if (outcome == _NOT_A_RECIPIENT) {
                reason = abi.encodeWithSelector(NotARecipient.selector, messageHash, message.destAddress);
            }
            _fail(messageHash, srcChainId, nonce, reason);
        }
    }

    /// @dev Stores a received message as failed.
    function _fail(bytes32 messageHash, uint64 srcChainId, uint64 nonce, bytes memory reason) internal {
        failed[messageHash] = true;
        emit MessageFailed(messageHash, srcChainId, nonce, reason);
    }

    /// @dev Calls the recipient's onMessage with exactly message.gasLimit gas, or reverts with
    /// InsufficientGas if the 63/64 rule would give it less. Copies 32 bytes of return data on
    /// success, at most _MAX_REASON_BYTES of revert data (returned as `reason`) on failure.
    /// @return outcome _ACCEPTED, _REVERTED or _NOT_A_RECIPIENT (no 32-byte selector returned).
    /// @return reason The (truncated) revert data when _REVERTED, empty otherwise.
    function _callRecipient(bytes32 messageHash, Message calldata message)
        internal
        returns (uint256 outcome, bytes memory reason)
    {
        bytes memory data = abi.encodeCall(
            IMessageRecipient.onMessage,
            (message.srcChainId, message.srcAddress, message.sessionId, message.nonce, message.payload)
        );
        address recipient = message.destAddress;
        uint64 gasLimit = message.gasLimit;
        bytes32 magic = bytes32(IMessageRecipient.onMessage.selector);
        bool enough;
        assembly ("memory-safe") {
            // The CALL gets min(gasLimit, available - available / 64) with `available` what is
            // left after its own cost, which _CALL_RESERVE_GAS covers; 63/64 of it must be enough.
            let available := gas()
            enough := iszero(
                or(lt(available, _CALL_RESERVE_GAS), lt(mul(sub(available, _CALL_RESERVE_GAS), 63), mul(gasLimit, 64)))
            )
            if enough {
                switch call(gasLimit, recipient, 0, add(data, 0x20), mload(data), 0x00, 0x20)
                case 0 {
                    outcome := _REVERTED
                    let size := returndatasize()
                    if gt(size, _MAX_REASON_BYTES) { size := _MAX_REASON_BYTES }
                    reason := mload(0x40)
                    mstore(reason, size)
                    returndatacopy(add(reason, 0x20), 0, size)
                    // Zero the padding after the data, then allocate whole words.
                    mstore(add(add(reason, 0x20), size), 0)
                    mstore(0x40, add(add(reason, 0x20), and(add(size, 0x1f), not(0x1f))))
                }
                default {
                    if iszero(and(eq(returndatasize(), 0x20), eq(mload(0x00), magic))) {
                        outcome := _NOT_A_RECIPIENT
                    }
                }
            }
        }
        if (!enough) revert InsufficientGas(messageHash, gasLimit, gasleft());
    }

    /// @dev keccak256(abi.encode(message)) and the hash of the transaction carrying it,
    /// keccak256(abi.encode(Transaction(namespace, abi.encode(message)))), with the message
    /// encoded once in memory past the free memory pointer (left untouched, as Protocol does).
    /// Reverts without data, as the ABI decoder does, if a static field has dirty upper bits, so
    /// both are hashes of the canonical encoding.
    function _hashes(Message calldata message, uint64 namespace)
        internal
        pure
        returns (bytes32 messageHash, bytes32 txHash)
    {
        // The compiler checks that the payload lies inside calldata.
        bytes calldata payload = message.payload;
        assembly ("memory-safe") {
            // ptr: abi.encode(Transaction) = 0x20, namespace, 0x40, length, then at enc the
            // message's encoding = 0x20, eight static fields, 0x120, payload length, payload.
            let ptr := mload(0x40)
            let enc := add(ptr, 0x80)
            mstore(enc, 0x20)
            calldatacopy(add(enc, 0x20), message, 0x100)
            // uint64: srcChainId, destChainId, nonce, gasLimit; address: srcAddress, destAddress,
            // destMailbox; uint128: sessionId.
            let u64s :=
                or(or(mload(add(enc, 0x20)), mload(add(enc, 0x40))), or(mload(add(enc, 0xc0)), mload(add(enc, 0x100))))
            let addresses := or(or(mload(add(enc, 0x60)), mload(add(enc, 0x80))), mload(add(enc, 0xe0)))
            if or(or(shr(64, u64s), shr(160, addresses)), shr(128, mload(add(enc, 0xa0)))) { revert(0, 0) }
            mstore(add(enc, 0x120), 0x120)
            mstore(add(enc, 0x140), payload.length)
            calldatacopy(add(enc, 0x160), payload.offset, payload.length)
            // Zero the padding; the length is rounded up by itself, as the free memory pointer
            // need not be a multiple of 32.
            mstore(add(add(enc, 0x160), payload.length), 0)
            let length := add(0x160, and(add(payload.length, 0x1f), not(0x1f)))
            messageHash := keccak256(enc, length)
            mstore(ptr, 0x20)
            mstore(add(ptr, 0x20), and(namespace, 0xffffffffffffffff))
            mstore(add(ptr, 0x40), 0x40)
            mstore(add(ptr, 0x60), length)
            txHash := keccak256(ptr, add(length, 0x80))
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
