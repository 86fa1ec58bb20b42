// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Vm} from "./utils/Test.sol";
import {
    FallbackOnly,
    MailboxTestBase,
    ReentrantRecipient,
    ToggleRecipient,
    WrongReturn
} from "./utils/MailboxTestBase.sol";
import {MerkleReference} from "./utils/MerkleReference.sol";
import {LightClient} from "../src/LightClient.sol";
import {Mailbox} from "../src/Mailbox.sol";
import {Counter} from "../src/demo/Counter.sol";
import {ILightClient} from "../src/interfaces/ILightClient.sol";
import {IMailbox, Message} from "../src/interfaces/IMailbox.sol";
import {Inclusion} from "../src/lib/Inclusion.sol";
import {MerkleTree} from "../src/lib/MerkleTree.sol";
import {Header, LightClientState} from "../src/lib/Protocol.sol";

// -------------------------------------------------------------------------------------------------
// Unit tests
// -------------------------------------------------------------------------------------------------

/// @notice Mailbox unit tests: send, deliver (every check and revert), the registry, Counter.
/// @dev The history has four blocks (heights 0..3); the light client's genesis root covers them.
/// Block 1: namespace 5 (OTHER_CHAIN's) holds a forged message claiming to come from SRC_CHAIN;
/// namespace 7000 (SRC_CHAIN's) holds the messages M_COUNTER..M_REENTRANT sent by the source
/// mailbox; namespace 9000 filler. Block 2: namespace 7000 holds M_SECOND.
contract MailboxTest is MailboxTestBase {
    uint256 internal constant M_COUNTER = 0;
    uint256 internal constant M_REJECTED = 1;
    uint256 internal constant M_TOGGLE = 2;
    uint256 internal constant M_OTHER_DEST = 3;
    uint256 internal constant M_EOA = 4;
    uint256 internal constant M_FALLBACK = 5;
    uint256 internal constant M_WRONG_RETURN = 6;
    uint256 internal constant M_REENTRANT = 7;
    uint256 internal constant M_SECOND = 8;
    uint256 internal constant M_FORGED = 9;
    address internal constant EOA = address(0xDEAD);

    LightClient internal lc;
    Mailbox internal mailbox;
    Counter internal counter;
    ToggleRecipient internal toggle;
    ReentrantRecipient internal reentrant;
    address internal fallbackOnly;
    address internal wrongReturn;
    /// @dev abi.encode(Delivery) of each message, by the M_* index.
    bytes[] internal deliveries;
    /// @dev Header hashes of heights 0..3.
    bytes32[] internal headerHashes;

    /// @notice Sends the messages, builds the blocks and the history, deploys the destination.
    function setUp() public {
        _deploySource();
        toggle = new ToggleRecipient();
        reentrant = new ReentrantRecipient();
        fallbackOnly = address(new FallbackOnly());
        wrongReturn = address(new WrongReturn());
        // The light client, the mailbox and the counter are deployed next, in this order.
        uint256 nonce = vm.getNonce(address(this));
        address counterAddress = vm.computeCreateAddress(address(this), nonce + 2);

        Message[] memory m = new Message[](10);
        m[M_COUNTER] = _send(ALICE, DEST_CHAIN, counterAddress, 1, "hello");
        m[M_REJECTED] = _send(ALICE, DEST_CHAIN, counterAddress, 2, "reject");
        m[M_TOGGLE] = _send(BOB, DEST_CHAIN, address(toggle), 3, "toggle");
        m[M_OTHER_DEST] = _send(BOB, OTHER_CHAIN, counterAddress, 4, "elsewhere");
        m[M_EOA] = _send(BOB, DEST_CHAIN, EOA, 5, "eoa");
        m[M_FALLBACK] = _send(BOB, DEST_CHAIN, fallbackOnly, 6, "fallback");
        m[M_WRONG_RETURN] = _send(BOB, DEST_CHAIN, wrongReturn, 7, "wrong return");
        m[M_REENTRANT] = _send(BOB, DEST_CHAIN, address(reentrant), 8, "reenter");
        m[M_SECOND] = _send(ALICE, DEST_CHAIN, counterAddress, 9, "second");
        // Not sent by the source mailbox: posted in OTHER_CHAIN's namespace.
        m[M_FORGED] = Message(SRC_CHAIN, DEST_CHAIN, ALICE, counterAddress, 10, 99, "forged");

        Block[] memory blocks = new Block[](4);
        blocks[0] = _simpleBlock(_counts(2), "block 0");
        {
            uint64[] memory namespaces = new uint64[](3);
            (namespaces[0], namespaces[1], namespaces[2]) = (OTHER_NS, SRC_NS, 9_000);
            bytes[][] memory payloads = new bytes[][](3);
            payloads[0] = new bytes[](2);
            payloads[0][0] = abi.encode("other chain's message");
            payloads[0][1] = abi.encode(m[M_FORGED]);
            payloads[1] = new bytes[](8);
            for (uint256 i = 0; i < 8; ++i) {
                payloads[1][i] = abi.encode(m[i]);
            }
            payloads[2] = _filler("9000", 3);
            blocks[1] = _blockOf(namespaces, payloads);
        }
        {
            uint64[] memory namespaces = new uint64[](2);
            (namespaces[0], namespaces[1]) = (SRC_NS, 8_000);
            bytes[][] memory payloads = new bytes[][](2);
            payloads[0] = _one(abi.encode(m[M_SECOND]));
            payloads[1] = _filler("8000", 1);
            blocks[2] = _blockOf(namespaces, payloads);
        }
        blocks[3] = _simpleBlock(_counts(1), "block 3");

        Header[] memory headers = new Header[](4);
        for (uint64 h = 0; h < 4; ++h) {
            headers[h] = _trestleHeader(h, blocks[h].root);
            headerHashes.push(keccak256(abi.encode(headers[h])));
        }
        bytes32[] memory hashes = headerHashes;
        for (uint256 i = 0; i < 8; ++i) {
            deliveries.push(abi.encode(_delivery(m[i], blocks[1], 1, i, headers[1], hashes)));
        }
        deliveries.push(abi.encode(_delivery(m[M_SECOND], blocks[2], 0, 0, headers[2], hashes)));
        deliveries.push(abi.encode(_delivery(m[M_FORGED], blocks[1], 0, 1, headers[1], hashes)));

        lc = new LightClient(
            LightClientState(TRESTLE_CHAIN, 0, 3, MerkleReference.root(hashes), COMMITTEE), COMMITTEE, 1000, verifier
        );
        mailbox = new Mailbox(lc, address(this));
        counter = new Counter(mailbox);
        vm.assertEq(address(counter), counterAddress, "counter where the messages expect it");
        mailbox.setSourceNamespace(SRC_CHAIN, SRC_NS);
        mailbox.setSourceNamespace(OTHER_CHAIN, OTHER_NS);
        Delivery memory again = _load(M_REENTRANT);
        reentrant.arm(
            address(mailbox),
            abi.encodeCall(
                IMailbox.deliver, (again.message, again.header, again.txProof, again.historyProof, again.historyRoot)
            )
        );
    }

    function _counts(uint256 n) internal pure returns (uint256[] memory c) {
        c = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            c[i] = i + 1;
        }
    }

    function _load(uint256 index) internal view returns (Delivery memory) {
        return abi.decode(deliveries[index], (Delivery));
    }

    function _hash(Delivery memory d) internal pure returns (bytes32) {
        return keccak256(abi.encode(d.message));
    }

    // ---------------------------------------------------------------------------------------------
    // Constructor and views
    // ---------------------------------------------------------------------------------------------

    function test_constructor_setsChainIdOwnerAndLightClient() public view {
        vm.assertEq(mailbox.chainId(), DEST_CHAIN, "chain id");
        vm.assertEq(srcMailbox.chainId(), SRC_CHAIN, "source chain id");
        vm.assertEq(mailbox.owner(), address(this), "owner");
        vm.assertEq(address(mailbox.lightClient()), address(lc), "light client");
    }

    function test_constructor_revertsWhenLightClientNotContract() public {
        vm.expectRevert(abi.encodeWithSelector(IMailbox.LightClientNotContract.selector, EOA));
        new Mailbox(ILightClient(EOA), address(this));
    }

    function test_hashMessage_isKeccakOfAbiEncode() public view {
        Delivery memory d = _load(M_COUNTER);
        vm.assertEq(mailbox.hashMessage(d.message), keccak256(abi.encode(d.message)), "hash");
    }

    // ---------------------------------------------------------------------------------------------
    // send
    // ---------------------------------------------------------------------------------------------

    /// @notice Nonces count per destination chain from 0, and the outbox digest of each
    /// destination chains the hashes of its messages in nonce order.
    function test_send_assignsNoncesPerDestination() public view {
        bytes32 digest;
        for (uint256 i = 0; i < 8; ++i) {
            if (i == M_OTHER_DEST) continue;
            Delivery memory d = _load(i);
            vm.assertEq(d.message.nonce, i < M_OTHER_DEST ? i : i - 1, "nonce to DEST_CHAIN");
            digest = _chain(digest, _hash(d));
        }
        Delivery memory second = _load(M_SECOND);
        vm.assertEq(second.message.nonce, 7, "nonce of the eighth message to DEST_CHAIN");
        digest = _chain(digest, _hash(second));
        vm.assertEq(srcMailbox.outboxDigest(DEST_CHAIN), digest, "outbox digest to DEST_CHAIN");
        vm.assertEq(srcMailbox.nextNonce(DEST_CHAIN), 8, "next nonce to DEST_CHAIN");

        Delivery memory other = _load(M_OTHER_DEST);
        vm.assertEq(other.message.nonce, 0, "first message to OTHER_CHAIN");
        vm.assertEq(srcMailbox.outboxDigest(OTHER_CHAIN), _chain(bytes32(0), _hash(other)), "outbox to OTHER_CHAIN");
        vm.assertEq(srcMailbox.nextNonce(OTHER_CHAIN), 1, "next nonce to OTHER_CHAIN");
        vm.assertEq(srcMailbox.nextNonce(SRC_CHAIN), 0, "nothing sent to itself");
    }

    /// @notice send emits MessageSent with the message, whose ABI encoding is what goes to trestle.
    function test_send_emitsMessageSent() public {
        Message memory expected = Message(DEST_CHAIN, OTHER_CHAIN, ALICE, BOB, 42, 0, "payload");
        vm.expectEmit(address(mailbox));
        emit IMailbox.MessageSent(keccak256(abi.encode(expected)), expected);
        vm.prank(ALICE);
        (bytes32 messageHash, uint64 nonce) = mailbox.send(OTHER_CHAIN, BOB, 42, "payload");
        vm.assertEq(messageHash, keccak256(abi.encode(expected)), "hash");
        vm.assertEq(nonce, 0, "nonce");
    }

    /// @notice The event's data is abi.encode(message): a relayer can post it as it is.
    function testFuzz_send_eventDataIsTheTransactionPayload(
        uint64 destChainId,
        address to,
        uint128 sessionId,
        bytes calldata payload
    ) public {
        vm.recordLogs();
        vm.prank(BOB);
        (bytes32 messageHash, uint64 nonce) = mailbox.send(destChainId, to, sessionId, payload);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        vm.assertEq(logs.length, 1, "one event");
        vm.assertEq(logs[0].topics[0], IMailbox.MessageSent.selector, "MessageSent");
        vm.assertEq(logs[0].topics[1], messageHash, "indexed hash");
        Message memory expected = Message(DEST_CHAIN, destChainId, BOB, to, sessionId, nonce, payload);
        vm.assertEq(logs[0].data, abi.encode(expected), "data = abi.encode(message)");
        vm.assertEq(messageHash, keccak256(logs[0].data), "hash of the data");
    }

    // ---------------------------------------------------------------------------------------------
    // deliver: accepted
    // ---------------------------------------------------------------------------------------------

    /// @notice A proven message reaches Counter: marked delivered, inbox digest extended, event.
    function test_deliver_deliversToCounter() public {
        Delivery memory d = _load(M_COUNTER);
        bytes32 messageHash = _hash(d);
        vm.expectEmit(address(mailbox));
        emit IMailbox.MessageDelivered(messageHash, SRC_CHAIN, address(counter), d.message.nonce);
        vm.expectEmit(address(counter));
        emit Counter.Counted(SRC_CHAIN, ALICE, d.message.nonce, 1);
        _deliver(mailbox, d);
        vm.assertTrue(mailbox.delivered(messageHash), "delivered");
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

    /// @notice Messages from different blocks, the older header proven against the later root.
    function test_deliver_fromTwoBlocks() public {
        Delivery memory first = _load(M_COUNTER);
        Delivery memory second = _load(M_SECOND);
        _deliver(mailbox, second);
        _deliver(mailbox, first);
        vm.assertEq(counter.total(), 2, "both counted");
        vm.assertEq(
            mailbox.inboxDigest(SRC_CHAIN), _chain(_chain(bytes32(0), _hash(second)), _hash(first)), "delivery order"
        );
    }

    /// @notice Anyone may deliver.
    function test_deliver_isPermissionless() public {
        Delivery memory d = _load(M_COUNTER);
        vm.prank(address(0xE7E));
        _deliver(mailbox, d);
        vm.assertTrue(mailbox.delivered(_hash(d)), "delivered");
    }

    /// @notice The message is marked delivered before the recipient runs: re-entering deliver
    /// with the same message fails with AlreadyDelivered.
    function test_deliver_marksBeforeCallingRecipient() public {
        Delivery memory d = _load(M_REENTRANT);
        _deliver(mailbox, d);
        vm.assertFalse(reentrant.innerSucceeded(), "re-entry failed");
        vm.assertEq(
            reentrant.innerRevertData(),
            abi.encodeWithSelector(IMailbox.AlreadyDelivered.selector, _hash(d)),
            "with AlreadyDelivered"
        );
        vm.assertTrue(mailbox.delivered(_hash(d)), "delivered once");
    }

    /// @notice A failed delivery leaves the message deliverable; once the recipient accepts, it
    /// goes through, once.
    function test_deliver_retriesAfterRecipientFailure() public {
        Delivery memory d = _load(M_TOGGLE);
        bytes32 messageHash = _hash(d);
        toggle.setFailing(true);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMailbox.RecipientReverted.selector,
                messageHash,
                abi.encodeWithSelector(ToggleRecipient.Failing.selector, d.message.nonce)
            )
        );
        _deliver(mailbox, d);
        vm.assertFalse(mailbox.delivered(messageHash), "not marked");
        vm.assertEq(mailbox.inboxDigest(SRC_CHAIN), bytes32(0), "inbox untouched");
        toggle.setFailing(false);
        _deliver(mailbox, d);
        vm.assertTrue(mailbox.delivered(messageHash), "delivered on retry");
        vm.assertEq(toggle.received(), 1, "received once");
        vm.expectRevert(abi.encodeWithSelector(IMailbox.AlreadyDelivered.selector, messageHash));
        _deliver(mailbox, d);
    }

    // ---------------------------------------------------------------------------------------------
    // deliver: rejected
    // ---------------------------------------------------------------------------------------------

    /// @notice A proven message for another chain is refused.
    function test_deliver_revertsWhenWrongDestinationChain() public {
        Delivery memory d = _load(M_OTHER_DEST);
        vm.expectRevert(abi.encodeWithSelector(IMailbox.WrongDestinationChain.selector, DEST_CHAIN, OTHER_CHAIN));
        _deliver(mailbox, d);
        // On the chain it is for, a mailbox trusting the same light client accepts the proof and
        // calls the recipient (which refuses it: this Counter only trusts its own mailbox).
        vm.chainId(OTHER_CHAIN);
        Mailbox there = new Mailbox(lc, address(this));
        there.setSourceNamespace(SRC_CHAIN, SRC_NS);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMailbox.RecipientReverted.selector,
                _hash(d),
                abi.encodeWithSelector(Counter.NotMailbox.selector, address(there))
            )
        );
        _deliver(there, d);
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

    function test_deliver_revertsWhenAlreadyDelivered() public {
        Delivery memory d = _load(M_COUNTER);
        _deliver(mailbox, d);
        vm.expectRevert(abi.encodeWithSelector(IMailbox.AlreadyDelivered.selector, _hash(d)));
        _deliver(mailbox, d);
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

    /// @notice Any changed field of a proven message breaks the transaction proof.
    function test_deliver_revertsWhenMessageTampered() public {
        for (uint256 field = 0; field < 5; ++field) {
            Delivery memory d = _load(M_COUNTER);
            if (field == 0) d.message.srcAddress = BOB;
            if (field == 1) d.message.destAddress = address(toggle);
            if (field == 2) d.message.sessionId += 1;
            if (field == 3) d.message.nonce += 1;
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

        d = _load(M_COUNTER);
        d.historyProof.count = 3;
        vm.expectRevert(abi.encodeWithSelector(Inclusion.RootHeightMismatch.selector, 3, 3));
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
        d.txProof.txProof.count = 9;
        vm.expectRevert(abi.encodeWithSelector(Inclusion.TxCountMismatch.selector, 9, 8));
        _deliver(mailbox, d);
    }

    /// @notice A recipient's revert undoes the delivery and is reported with its data.
    function test_deliver_revertsWhenRecipientReverts() public {
        Delivery memory d = _load(M_REJECTED);
        bytes32 messageHash = _hash(d);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMailbox.RecipientReverted.selector,
                messageHash,
                abi.encodeWithSelector(Counter.Rejected.selector, SRC_CHAIN, d.message.nonce)
            )
        );
        _deliver(mailbox, d);
        vm.assertFalse(mailbox.delivered(messageHash), "not delivered");
        vm.assertEq(mailbox.inboxDigest(SRC_CHAIN), bytes32(0), "inbox untouched");
        vm.assertEq(counter.total(), 0, "not counted");
    }

    /// @notice An account without code, a contract with only a fallback, and one whose onMessage
    /// returns another value are not recipients: the message stays undelivered.
    function test_deliver_revertsWhenNotARecipient() public {
        uint256[3] memory indices = [M_EOA, M_FALLBACK, M_WRONG_RETURN];
        address[3] memory recipients = [EOA, fallbackOnly, wrongReturn];
        for (uint256 k = 0; k < 3; ++k) {
            Delivery memory d = _load(indices[k]);
            vm.expectRevert(abi.encodeWithSelector(IMailbox.NotARecipient.selector, _hash(d), recipients[k]));
            _deliver(mailbox, d);
            vm.assertFalse(mailbox.delivered(_hash(d)), "not delivered");
        }
    }

    /// @notice Whatever field of a proven message is changed, delivery fails and nothing is marked.
    function testFuzz_deliver_rejectsAnyTamperedMessage(
        uint8 field,
        uint64 number,
        address account,
        uint128 session,
        bytes calldata payload
    ) public {
        Delivery memory d = _load(M_COUNTER);
        field = uint8(bound(field, 0, 6));
        if (field == 0) d.message.srcChainId = number;
        if (field == 1) d.message.destChainId = number;
        if (field == 2) d.message.srcAddress = account;
        if (field == 3) d.message.destAddress = account;
        if (field == 4) d.message.sessionId = session;
        if (field == 5) d.message.nonce = number;
        if (field == 6) d.message.payload = payload;
        vm.assume(_hash(d) != _hash(_load(M_COUNTER)));
        try mailbox.deliver(d.message, d.header, d.txProof, d.historyProof, d.historyRoot) {
            vm.assertTrue(false, "a tampered message was delivered");
        } catch {}
        vm.assertFalse(mailbox.delivered(_hash(d)), "not marked");
        vm.assertEq(counter.total(), 0, "not counted");
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
        Message memory expected = Message(DEST_CHAIN, SRC_CHAIN, address(counter), BOB, 0, 0, "ping");
        vm.expectEmit(address(mailbox));
        emit IMailbox.MessageSent(keccak256(abi.encode(expected)), expected);
        (bytes32 messageHash, uint64 nonce) = counter.ping(SRC_CHAIN, BOB, "ping");
        vm.assertEq(messageHash, keccak256(abi.encode(expected)), "hash");
        vm.assertEq(nonce, 0, "nonce");
    }
}
