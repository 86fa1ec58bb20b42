// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Vm} from "./utils/Test.sol";
import {MailboxScenario} from "./utils/MailboxScenario.sol";
import {MerkleReference} from "./utils/MerkleReference.sol";
import {Mailbox} from "../src/Mailbox.sol";
import {Counter} from "../src/demo/Counter.sol";
import {ILightClient} from "../src/interfaces/ILightClient.sol";
import {IMailbox, Message} from "../src/interfaces/IMailbox.sol";
import {Inclusion} from "../src/lib/Inclusion.sol";
import {MerkleTree} from "../src/lib/MerkleTree.sol";

/// @notice Mailbox unit tests: the constructor, send, deliver (every check and refusal), the
/// registry, Counter. Exact gas, stored failures, deliverBatch and retry: MailboxDeliveryTest.
/// The scenario: MailboxScenario.
contract MailboxTest is MailboxScenario {
    // ---------------------------------------------------------------------------------------------
    // Constructor and views
    // ---------------------------------------------------------------------------------------------

    function test_constructor_setsChainIdOwnerLightClientAndLimits() public view {
        vm.assertEq(mailbox.chainId(), DEST_CHAIN, "chain id");
        vm.assertEq(srcMailbox.chainId(), SRC_CHAIN, "source chain id");
        vm.assertEq(mailbox.owner(), address(this), "owner");
        vm.assertEq(address(mailbox.lightClient()), address(lc), "light client");
        vm.assertEq(mailbox.maxMessageBytes(), MAX_MESSAGE_BYTES, "max message bytes");
        vm.assertEq(mailbox.maxGasLimit(), DEST_MAX_GAS, "max gas limit");
        vm.assertEq(srcMailbox.maxGasLimit(), MAX_GAS_LIMIT, "source max gas limit");
    }

    function test_constructor_revertsWhenLightClientNotContract() public {
        vm.expectRevert(abi.encodeWithSelector(IMailbox.LightClientNotContract.selector, EOA));
        new Mailbox(ILightClient(EOA), address(this), MAX_MESSAGE_BYTES, MAX_GAS_LIMIT);
    }

    /// @notice The payload limit must admit an empty message (352 bytes encoded), and no less.
    function test_constructor_revertsWhenMaxMessageBytesTooSmall() public {
        vm.expectRevert(abi.encodeWithSelector(IMailbox.MaxMessageBytesTooSmall.selector, 351, 352));
        new Mailbox(lc, address(this), 351, MAX_GAS_LIMIT);
        Mailbox tight = new Mailbox(lc, address(this), 352, MAX_GAS_LIMIT);
        tight.send(OTHER_CHAIN, BOB, BOB, 0, 1, "");
    }

    function test_constructor_revertsWhenMaxGasLimitZero() public {
        vm.expectRevert(IMailbox.ZeroMaxGasLimit.selector);
        new Mailbox(lc, address(this), MAX_MESSAGE_BYTES, 0);
    }

    function test_hashMessage_isKeccakOfAbiEncode() public view {
        Delivery memory d = _load(M_COUNTER);
        vm.assertEq(mailbox.hashMessage(d.message), keccak256(abi.encode(d.message)), "hash");
    }

    // ---------------------------------------------------------------------------------------------
    // send
    // ---------------------------------------------------------------------------------------------

    /// @notice Nonces count per route (destination chain, destination mailbox) from 0, and the
    /// outbox digest of each route chains the hashes of its messages in nonce order.
    function test_send_assignsNoncesPerRoute() public view {
        for (uint256 i = 0; i < ROUTE_LENGTH; ++i) {
            vm.assertEq(_load(i).message.nonce, i, "nonce on the route to mailbox");
        }
        vm.assertEq(srcMailbox.outboxDigest(DEST_CHAIN, address(mailbox)), _outboxPrefix(ROUTE_LENGTH), "outbox");
        vm.assertEq(srcMailbox.nextNonce(DEST_CHAIN, address(mailbox)), ROUTE_LENGTH, "next nonce to mailbox");

        Delivery memory other = _load(M_OTHER_MAILBOX);
        vm.assertEq(other.message.nonce, 0, "first message to mailbox2");
        vm.assertEq(
            srcMailbox.outboxDigest(DEST_CHAIN, address(mailbox2)), _chain(bytes32(0), _hash(other)), "to mailbox2"
        );
        vm.assertEq(srcMailbox.nextNonce(DEST_CHAIN, address(mailbox2)), 1, "next nonce to mailbox2");
        Delivery memory elsewhere = _load(M_OTHER_DEST);
        vm.assertEq(elsewhere.message.nonce, 0, "first message to OTHER_CHAIN");
        vm.assertEq(srcMailbox.nextNonce(OTHER_CHAIN, address(mailbox)), 1, "next nonce to OTHER_CHAIN");
        vm.assertEq(srcMailbox.nextNonce(SRC_CHAIN, address(mailbox)), 0, "nothing sent to itself");
    }

    /// @notice send emits MessageSent with the message, whose ABI encoding is what goes to trestle.
    function test_send_emitsMessageSent() public {
        Message memory expected = Message(DEST_CHAIN, OTHER_CHAIN, ALICE, BOB, 42, 0, EOA, 77_000, "payload");
        vm.expectEmit(address(mailbox));
        emit IMailbox.MessageSent(keccak256(abi.encode(expected)), expected);
        vm.prank(ALICE);
        (bytes32 messageHash, uint64 nonce) = mailbox.send(OTHER_CHAIN, EOA, BOB, 42, 77_000, "payload");
        vm.assertEq(messageHash, keccak256(abi.encode(expected)), "hash");
        vm.assertEq(nonce, 0, "nonce");
        vm.assertEq(mailbox.outboxDigest(OTHER_CHAIN, EOA), _chain(bytes32(0), messageHash), "outbox digest");
    }

    /// @notice The event's data is abi.encode(message): a relayer can post it as it is.
    function testFuzz_send_eventDataIsTheTransactionPayload(
        uint64 destChainId,
        address mailboxThere,
        address to,
        uint128 sessionId,
        uint64 gasLimit,
        bytes calldata payload
    ) public {
        vm.assume(mailboxThere != address(0));
        gasLimit = uint64(bound(gasLimit, 1, DEST_MAX_GAS));
        vm.recordLogs();
        vm.prank(BOB);
        (bytes32 messageHash, uint64 nonce) = mailbox.send(destChainId, mailboxThere, to, sessionId, gasLimit, payload);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        vm.assertEq(logs.length, 1, "one event");
        vm.assertEq(logs[0].topics[0], IMailbox.MessageSent.selector, "MessageSent");
        vm.assertEq(logs[0].topics[1], messageHash, "indexed hash");
        Message memory expected =
            Message(DEST_CHAIN, destChainId, BOB, to, sessionId, nonce, mailboxThere, gasLimit, payload);
        vm.assertEq(logs[0].data, abi.encode(expected), "data = abi.encode(message)");
        vm.assertEq(messageHash, keccak256(logs[0].data), "hash of the data");
    }

    /// @notice The payload limit applies to abi.encode(message): 352 bytes plus the payload
    /// rounded up to 32. At the limit it is accepted, one byte of payload more is refused.
    function test_send_revertsWhenMessageTooLarge() public {
        Mailbox small = new Mailbox(lc, address(this), 352 + 64, MAX_GAS_LIMIT);
        small.send(OTHER_CHAIN, BOB, BOB, 0, 1, new bytes(63));
        small.send(OTHER_CHAIN, BOB, BOB, 0, 1, new bytes(64));
        vm.expectRevert(abi.encodeWithSelector(IMailbox.MessageTooLarge.selector, 352 + 96, 352 + 64));
        small.send(OTHER_CHAIN, BOB, BOB, 0, 1, new bytes(65));
    }

    /// @notice The same at trestle's default limit of 1 MiB.
    function test_send_revertsWhenMessageTooLarge_defaultLimit() public {
        uint256 largest = MAX_MESSAGE_BYTES - 352;
        bytes memory payload = new bytes(largest);
        (bytes32 messageHash,) = mailbox.send(OTHER_CHAIN, BOB, BOB, 0, 1, payload);
        Message memory sent = Message(DEST_CHAIN, OTHER_CHAIN, address(this), BOB, 0, 0, BOB, 1, payload);
        vm.assertEq(abi.encode(sent).length, MAX_MESSAGE_BYTES, "exactly the limit");
        vm.assertEq(messageHash, keccak256(abi.encode(sent)), "hash");
        vm.expectRevert(
            abi.encodeWithSelector(IMailbox.MessageTooLarge.selector, MAX_MESSAGE_BYTES + 32, MAX_MESSAGE_BYTES)
        );
        mailbox.send(OTHER_CHAIN, BOB, BOB, 0, 1, new bytes(largest + 1));
    }

    /// @notice The gas limit may be the maximum, not more.
    function test_send_revertsWhenGasLimitTooHigh() public {
        mailbox.send(OTHER_CHAIN, BOB, BOB, 0, DEST_MAX_GAS, "");
        vm.expectRevert(abi.encodeWithSelector(IMailbox.GasLimitTooHigh.selector, DEST_MAX_GAS + 1, DEST_MAX_GAS));
        mailbox.send(OTHER_CHAIN, BOB, BOB, 0, DEST_MAX_GAS + 1, "");
    }

    function test_send_revertsWhenGasLimitZero() public {
        vm.expectRevert(IMailbox.ZeroGasLimit.selector);
        mailbox.send(OTHER_CHAIN, BOB, BOB, 0, 0, "");
    }

    function test_send_revertsWhenDestinationMailboxZero() public {
        vm.expectRevert(IMailbox.ZeroDestinationMailbox.selector);
        mailbox.send(OTHER_CHAIN, address(0), BOB, 0, GAS_LIMIT, "");
    }

    // ---------------------------------------------------------------------------------------------
    // deliver: delivered
    // ---------------------------------------------------------------------------------------------

    /// @notice A proven message reaches Counter: received, inbox digest extended, event.
    function test_deliver_deliversToCounter() public {
        Delivery memory d = _load(M_COUNTER);
        bytes32 messageHash = _hash(d);
        vm.expectEmit(address(counter));
        emit Counter.Counted(SRC_CHAIN, ALICE, d.message.nonce, 1);
        vm.expectEmit(address(mailbox));
        emit IMailbox.MessageDelivered(messageHash, SRC_CHAIN, address(counter), d.message.nonce);
        _deliver(mailbox, d);
        vm.assertEq(mailbox.inboxNonce(SRC_CHAIN), 1, "inbox nonce");
        vm.assertFalse(mailbox.failed(messageHash), "not failed");
        vm.assertEq(mailbox.inboxDigest(SRC_CHAIN), _chain(bytes32(0), messageHash), "inbox digest");
        vm.assertEq(counter.total(), 1, "total");
        vm.assertEq(counter.countBySource(SRC_CHAIN), 1, "per source");
        Counter.LastMessage memory last = counter.lastMessage();
        vm.assertEq(last.srcChainId, SRC_CHAIN, "last srcChainId");
        vm.assertEq(last.srcAddress, ALICE, "last srcAddress");
        vm.assertEq(last.sessionId, 1, "last sessionId");
        vm.assertEq(last.nonce, d.message.nonce, "last nonce");
        vm.assertEq(last.payload, bytes("hello"), "last payload");
    }

    /// @notice Delivered in nonce order (from two blocks, the older header proven against the
    /// later root), whatever the recipients do, the inbox digest equals the source's outbox
    /// digest of the route after each message.
    function test_deliver_inboxDigestEqualsOutboxDigestInOrder() public {
        for (uint256 i = 0; i < ROUTE_LENGTH; ++i) {
            _deliver(mailbox, _load(i));
            vm.assertEq(mailbox.inboxNonce(SRC_CHAIN), i + 1, "inbox nonce");
            vm.assertEq(mailbox.inboxDigest(SRC_CHAIN), _outboxPrefix(i + 1), "inbox = outbox prefix");
        }
        vm.assertEq(
            mailbox.inboxDigest(SRC_CHAIN), srcMailbox.outboxDigest(DEST_CHAIN, address(mailbox)), "inbox = outbox"
        );
        vm.assertEq(counter.total(), 2, "counter's two good messages");
    }

    /// @notice Anyone may deliver.
    function test_deliver_isPermissionless() public {
        Delivery memory d = _load(M_COUNTER);
        vm.prank(address(0xE7E));
        _deliver(mailbox, d);
        vm.assertEq(mailbox.inboxNonce(SRC_CHAIN), 1, "received");
    }

    /// @notice The message is received before the recipient runs: re-entering deliver with the
    /// same message fails with AlreadyReceived.
    function test_deliver_receivesBeforeCallingRecipient() public {
        _deliverFirst(M_REENTRANT);
        Delivery memory d = _load(M_REENTRANT);
        _deliver(mailbox, d);
        vm.assertFalse(reentrant.innerSucceeded(), "re-entry failed");
        vm.assertEq(
            reentrant.innerRevertData(),
            abi.encodeWithSelector(IMailbox.AlreadyReceived.selector, SRC_CHAIN, d.message.nonce),
            "with AlreadyReceived"
        );
        vm.assertEq(mailbox.inboxNonce(SRC_CHAIN), M_REENTRANT + 1, "received once");
    }

    // ---------------------------------------------------------------------------------------------
    // deliver: refused
    // ---------------------------------------------------------------------------------------------

    /// @notice A proven message for another chain is refused.
    function test_deliver_revertsWhenWrongDestinationChain() public {
        Delivery memory d = _load(M_OTHER_DEST);
        vm.expectRevert(abi.encodeWithSelector(IMailbox.WrongDestinationChain.selector, DEST_CHAIN, OTHER_CHAIN));
        _deliver(mailbox, d);
        // On the chain it is for, another mailbox than the one it names refuses it too.
        vm.chainId(OTHER_CHAIN);
        Mailbox there = new Mailbox(lc, address(this), MAX_MESSAGE_BYTES, MAX_GAS_LIMIT);
        there.setSourceNamespace(SRC_CHAIN, SRC_NS);
        vm.expectRevert(abi.encodeWithSelector(IMailbox.WrongMailbox.selector, address(there), address(mailbox)));
        _deliver(there, d);
    }

    /// @notice A message is accepted by the mailbox it names only, not by another one following
    /// the same light client and source namespace.
    function test_deliver_revertsWhenWrongMailbox() public {
        Delivery memory d = _load(M_COUNTER);
        vm.expectRevert(abi.encodeWithSelector(IMailbox.WrongMailbox.selector, address(mailbox2), address(mailbox)));
        _deliver(mailbox2, d);
        Delivery memory other = _load(M_OTHER_MAILBOX);
        vm.expectRevert(abi.encodeWithSelector(IMailbox.WrongMailbox.selector, address(mailbox), address(mailbox2)));
        _deliver(mailbox, other);
        _deliver(mailbox2, other);
        vm.assertEq(toggle.received(), 1, "delivered by the mailbox it names");
        vm.assertEq(mailbox2.inboxNonce(SRC_CHAIN), 1, "mailbox2's route");
        vm.assertEq(mailbox.inboxNonce(SRC_CHAIN), 0, "mailbox's route untouched");
    }

    /// @notice A source chain with no registered namespace is refused.
    function test_deliver_revertsWhenUnknownSourceChain() public {
        Delivery memory d = _load(M_COUNTER);
        mailbox.removeSource(SRC_CHAIN);
        vm.expectRevert(abi.encodeWithSelector(IMailbox.UnknownSourceChain.selector, SRC_CHAIN));
        _deliver(mailbox, d);
        d.message.srcChainId = 333;
        vm.expectRevert(abi.encodeWithSelector(IMailbox.UnknownSourceChain.selector, 333));
        _deliver(mailbox, d);
    }

    /// @notice A history root the light client never accepted is refused, even a genuine one
    /// (here the root over heights 0..2, which proves the message correctly).
    function test_deliver_revertsWhenUnknownHistoryRoot() public {
        Delivery memory d = _load(M_COUNTER);
        bytes32[] memory firstThree = new bytes32[](3);
        for (uint256 i = 0; i < 3; ++i) {
            firstThree[i] = headerHashes[i];
        }
        d.historyProof = MerkleReference.proof(firstThree, 1);
        d.historyRoot = MerkleReference.root(firstThree);
        vm.expectRevert(abi.encodeWithSelector(IMailbox.UnknownHistoryRoot.selector, d.historyRoot));
        _deliver(mailbox, d);
    }

    /// @notice A received nonce is refused, whether its message was delivered or stored failed.
    function test_deliver_revertsWhenAlreadyReceived() public {
        _deliverFirst(M_TOGGLE);
        vm.expectRevert(abi.encodeWithSelector(IMailbox.AlreadyReceived.selector, SRC_CHAIN, M_COUNTER));
        _deliver(mailbox, _load(M_COUNTER));
        vm.assertTrue(mailbox.failed(_hashOf(M_REJECTED)), "failed");
        vm.expectRevert(abi.encodeWithSelector(IMailbox.AlreadyReceived.selector, SRC_CHAIN, M_REJECTED));
        _deliver(mailbox, _load(M_REJECTED));
    }

    /// @notice Messages are received in nonce order only.
    function test_deliver_revertsWhenNonceOutOfOrder() public {
        vm.expectRevert(abi.encodeWithSelector(IMailbox.NonceOutOfOrder.selector, SRC_CHAIN, 0, M_TOGGLE));
        _deliver(mailbox, _load(M_TOGGLE));
        vm.expectRevert(abi.encodeWithSelector(IMailbox.NonceOutOfOrder.selector, SRC_CHAIN, 0, M_SECOND));
        _deliver(mailbox, _load(M_SECOND));
        vm.assertEq(mailbox.inboxNonce(SRC_CHAIN), 0, "nothing received");
        vm.assertEq(mailbox.inboxDigest(SRC_CHAIN), bytes32(0), "inbox untouched");
    }

    /// @notice A message claiming SRC_CHAIN but posted in another chain's namespace is refused.
    function test_deliver_revertsWhenPostedInAnotherNamespace() public {
        Delivery memory d = _load(M_FORGED);
        vm.expectRevert(abi.encodeWithSelector(Inclusion.NamespaceMismatch.selector, OTHER_NS, SRC_NS));
        _deliver(mailbox, d);
    }

    /// @notice With the wrong namespace registered for its source, a genuine message is refused.
    function test_deliver_revertsWhenRegisteredNamespaceDiffers() public {
        mailbox.setSourceNamespace(SRC_CHAIN, 9_000);
        vm.expectRevert(abi.encodeWithSelector(Inclusion.NamespaceMismatch.selector, SRC_NS, 9_000));
        _deliver(mailbox, _load(M_COUNTER));
    }

    /// @notice Any changed field of a proven message breaks the transaction proof (the nonce and
    /// the destination fail earlier checks: see the fuzz test).
    function test_deliver_revertsWhenMessageTampered() public {
        for (uint256 field = 0; field < 5; ++field) {
            Delivery memory d = _load(M_COUNTER);
            if (field == 0) d.message.srcAddress = BOB;
            if (field == 1) d.message.destAddress = address(toggle);
            if (field == 2) d.message.sessionId += 1;
            if (field == 3) d.message.gasLimit += 1;
            if (field == 4) d.message.payload = "hellO";
            vm.expectPartialRevert(Inclusion.TransactionNotInNamespace.selector);
            _deliver(mailbox, d);
        }
    }

    /// @notice A changed header, or a history path for another position or tree size, is refused.
    function test_deliver_revertsWhenHistoryProofBroken() public {
        Delivery memory d = _load(M_COUNTER);
        d.header.timestampMs += 1;
        vm.expectPartialRevert(Inclusion.HeaderNotInHistory.selector);
        _deliver(mailbox, d);

        d = _load(M_COUNTER);
        d.historyProof.index = 2;
        vm.expectRevert(abi.encodeWithSelector(Inclusion.HeightMismatch.selector, 2, 1));
        _deliver(mailbox, d);

        // A count claiming another height for the root: the light client holds the root at its
        // own height only.
        d = _load(M_COUNTER);
        d.historyProof.count = 3;
        vm.expectRevert(abi.encodeWithSelector(IMailbox.UnknownHistoryRoot.selector, d.historyRoot));
        _deliver(mailbox, d);
        d.historyProof.count = 0;
        vm.expectRevert(abi.encodeWithSelector(IMailbox.UnknownHistoryRoot.selector, d.historyRoot));
        _deliver(mailbox, d);

        d = _load(M_COUNTER);
        d.header.payloadRoot = _load(M_SECOND).header.payloadRoot;
        vm.expectPartialRevert(Inclusion.NamespaceNotInPayload.selector);
        _deliver(mailbox, d);
    }

    /// @notice A malformed transaction path is refused.
    function test_deliver_revertsWhenTxProofMalformed() public {
        Delivery memory d = _load(M_COUNTER);
        bytes32[] memory shorter = new bytes32[](d.txProof.txProof.siblings.length - 1);
        for (uint256 i = 0; i < shorter.length; ++i) {
            shorter[i] = d.txProof.txProof.siblings[i];
        }
        d.txProof.txProof.siblings = shorter;
        vm.expectPartialRevert(MerkleTree.ProofTooShort.selector);
        _deliver(mailbox, d);

        d = _load(M_COUNTER);
        d.txProof.txProof.count = 13;
        vm.expectRevert(abi.encodeWithSelector(Inclusion.TxCountMismatch.selector, 13, 12));
        _deliver(mailbox, d);
    }

    /// @notice Whatever field of a proven message is changed, delivery fails and nothing changes.
    function testFuzz_deliver_rejectsAnyTamperedMessage(
        uint8 field,
        uint64 number,
        address account,
        uint128 session,
        bytes calldata payload
    ) public {
        Delivery memory d = _load(M_COUNTER);
        field = uint8(bound(field, 0, 8));
        if (field == 0) d.message.srcChainId = number;
        if (field == 1) d.message.destChainId = number;
        if (field == 2) d.message.srcAddress = account;
        if (field == 3) d.message.destAddress = account;
        if (field == 4) d.message.sessionId = session;
        if (field == 5) d.message.nonce = number;
        if (field == 6) d.message.destMailbox = account;
        if (field == 7) d.message.gasLimit = number;
        if (field == 8) d.message.payload = payload;
        vm.assume(_hash(d) != _hash(_load(M_COUNTER)));
        try mailbox.deliver(d.message, d.header, d.txProof, d.historyProof, d.historyRoot) {
            vm.assertTrue(false, "a tampered message was delivered");
        } catch {}
        vm.assertEq(mailbox.inboxNonce(SRC_CHAIN), 0, "not received");
        vm.assertFalse(mailbox.failed(_hash(d)), "not stored");
        vm.assertEq(counter.total(), 0, "not counted");
    }

    /// @notice A message whose calldata has dirty upper bits in any of its static fields is
    /// refused without data, as the ABI decoder refuses it, so only canonical encodings are hashed.
    function test_deliver_revertsWhenFieldDirty() public {
        Delivery memory d = _load(M_COUNTER);
        bytes memory data =
            abi.encodeCall(IMailbox.deliver, (d.message, d.header, d.txProof, d.historyProof, d.historyRoot));
        uint256 start;
        assembly ("memory-safe") {
            start := add(4, mload(add(data, 0x24)))
        }
        for (uint256 field = 0; field < 8; ++field) {
            bytes memory dirtyData = bytes.concat(data);
            dirtyData[start + 32 * field] = 0x01;
            (bool ok, bytes memory result) = address(mailbox).call(dirtyData);
            vm.assertFalse(ok, "refused");
            vm.assertEq(result.length, 0, "without data");
        }
        _deliver(mailbox, d);
        vm.assertEq(mailbox.inboxNonce(SRC_CHAIN), 1, "the clean one is delivered");
    }

    /// @notice Only the light client's root is accepted.
    function testFuzz_deliver_rejectsAnyOtherRoot(bytes32 root) public {
        Delivery memory d = _load(M_COUNTER);
        vm.assume(root != d.historyRoot);
        d.historyRoot = root;
        vm.expectRevert(abi.encodeWithSelector(IMailbox.UnknownHistoryRoot.selector, root));
        _deliver(mailbox, d);
    }

    // ---------------------------------------------------------------------------------------------
    // Registry
    // ---------------------------------------------------------------------------------------------

    function test_setSourceNamespace_registersAndEmits() public {
        vm.expectEmit(address(mailbox));
        emit IMailbox.SourceNamespaceSet(444, 0);
        mailbox.setSourceNamespace(444, 0);
        (bool registered, uint64 namespace) = mailbox.sourceNamespace(444);
        vm.assertTrue(registered, "registered (namespace 0 included)");
        vm.assertEq(namespace, 0, "namespace");
        (registered, namespace) = mailbox.sourceNamespace(SRC_CHAIN);
        vm.assertTrue(registered && namespace == SRC_NS, "source");
        vm.expectEmit(address(mailbox));
        emit IMailbox.SourceRemoved(444);
        mailbox.removeSource(444);
        (registered,) = mailbox.sourceNamespace(444);
        vm.assertFalse(registered, "removed");
    }

    /// @notice Changing a source's namespace keeps its inbox position and digest.
    function test_setSourceNamespace_keepsInboxPosition() public {
        _deliverFirst(2);
        mailbox.setSourceNamespace(SRC_CHAIN, 9_000);
        vm.assertEq(mailbox.inboxNonce(SRC_CHAIN), 2, "inbox nonce kept");
        vm.assertEq(mailbox.inboxDigest(SRC_CHAIN), _outboxPrefix(2), "inbox digest kept");
        (bool registered, uint64 namespace) = mailbox.sourceNamespace(SRC_CHAIN);
        vm.assertTrue(registered && namespace == 9_000, "new namespace");
    }

    /// @notice Removing a source keeps its position: registered again, it resumes where it
    /// stopped and nothing received can be received again.
    function test_removeSource_keepsInboxPosition() public {
        _deliverFirst(2);
        mailbox.removeSource(SRC_CHAIN);
        vm.assertEq(mailbox.inboxNonce(SRC_CHAIN), 2, "inbox nonce kept");
        vm.expectRevert(abi.encodeWithSelector(IMailbox.UnknownSourceChain.selector, SRC_CHAIN));
        _deliver(mailbox, _load(2));
        mailbox.setSourceNamespace(SRC_CHAIN, SRC_NS);
        vm.expectRevert(abi.encodeWithSelector(IMailbox.AlreadyReceived.selector, SRC_CHAIN, 0));
        _deliver(mailbox, _load(M_COUNTER));
        _deliver(mailbox, _load(2));
        vm.assertEq(mailbox.inboxDigest(SRC_CHAIN), _outboxPrefix(3), "resumed");
    }

    function test_setSourceNamespace_revertsWhenNotOwner() public {
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IMailbox.NotOwner.selector, ALICE));
        mailbox.setSourceNamespace(SRC_CHAIN, 1);
    }

    function test_removeSource_revertsWhenNotOwner() public {
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IMailbox.NotOwner.selector, ALICE));
        mailbox.removeSource(SRC_CHAIN);
    }

    function test_transferOwnership_revertsWhenNotOwner() public {
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IMailbox.NotOwner.selector, ALICE));
        mailbox.transferOwnership(ALICE);
    }

    /// @notice The new owner takes over; handing the registry to zero freezes it.
    function test_transferOwnership_handsOverAndFreezes() public {
        vm.expectEmit(address(mailbox));
        emit IMailbox.OwnershipTransferred(address(this), ALICE);
        mailbox.transferOwnership(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IMailbox.NotOwner.selector, address(this)));
        mailbox.setSourceNamespace(SRC_CHAIN, 1);
        vm.prank(ALICE);
        mailbox.setSourceNamespace(SRC_CHAIN, 1);
        vm.prank(ALICE);
        mailbox.transferOwnership(address(0));
        vm.assertEq(mailbox.owner(), address(0), "frozen");
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IMailbox.NotOwner.selector, ALICE));
        mailbox.setSourceNamespace(SRC_CHAIN, SRC_NS);
    }

    // ---------------------------------------------------------------------------------------------
    // Counter (demo recipient)
    // ---------------------------------------------------------------------------------------------

    function test_counter_revertsWhenNotMailbox() public {
        vm.expectRevert(abi.encodeWithSelector(Counter.NotMailbox.selector, address(this)));
        counter.onMessage(SRC_CHAIN, ALICE, 0, 0, "x");
    }

    /// @notice ping sends through the mailbox, from the counter.
    function test_counter_pingSendsFromTheCounter() public {
        Message memory expected =
            Message(DEST_CHAIN, SRC_CHAIN, address(counter), BOB, 0, 0, address(srcMailbox), 150_000, "ping");
        vm.expectEmit(address(mailbox));
        emit IMailbox.MessageSent(keccak256(abi.encode(expected)), expected);
        (bytes32 messageHash, uint64 nonce) = counter.ping(SRC_CHAIN, address(srcMailbox), BOB, 150_000, "ping");
        vm.assertEq(messageHash, keccak256(abi.encode(expected)), "hash");
        vm.assertEq(nonce, 0, "nonce");
    }
}
