// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test, Vm} from "./utils/Test.sol";
import {MerkleReference} from "./utils/MerkleReference.sol";
import {PayloadBuilder} from "./utils/PayloadBuilder.sol";
import {LightClient} from "../src/LightClient.sol";
import {Mailbox} from "../src/Mailbox.sol";
import {Counter} from "../src/demo/Counter.sol";
import {LightClientVerifier} from "../src/generated/LightClientVerifier.sol";
import {ILightClient} from "../src/interfaces/ILightClient.sol";
import {IMailbox, Message} from "../src/interfaces/IMailbox.sol";
import {IMessageRecipient} from "../src/interfaces/IMessageRecipient.sol";
import {IStateProofVerifier} from "../src/interfaces/IStateProofVerifier.sol";
import {Inclusion} from "../src/lib/Inclusion.sol";
import {MerkleTree} from "../src/lib/MerkleTree.sol";
import {Header, LightClientState, NamespaceLeaf, Transaction, TransactionProof} from "../src/lib/Protocol.sol";

// -------------------------------------------------------------------------------------------------
// Test recipients
// -------------------------------------------------------------------------------------------------

/// @notice A recipient that fails while told to: shows that a failed delivery can be retried.
contract ToggleRecipient is IMessageRecipient {
    /// @notice Reverted with while failing.
    error Failing(uint64 nonce);

    /// @notice Whether onMessage reverts.
    bool public failing;
    /// @notice Messages accepted.
    uint256 public received;

    /// @notice Makes onMessage revert (true) or accept (false).
    function setFailing(bool value) external {
        failing = value;
    }

    /// @inheritdoc IMessageRecipient
    function onMessage(uint64, address, uint128, uint64 nonce, bytes calldata) external returns (bytes4) {
        if (failing) revert Failing(nonce);
        ++received;
        return IMessageRecipient.onMessage.selector;
    }
}

/// @notice A contract that accepts any call and returns nothing: not a recipient.
contract FallbackOnly {
    fallback() external {}
}

/// @notice A contract with onMessage that returns the wrong value: not a recipient.
contract WrongReturn {
    /// @notice Returns something else than its selector.
    function onMessage(uint64, address, uint128, uint64, bytes calldata) external pure returns (bytes4) {
        return 0xdeadbeef;
    }
}

/// @notice A recipient that, when called, tries to deliver the same message again through the
/// mailbox and records what happened: the mailbox must already have marked it delivered.
contract ReentrantRecipient is IMessageRecipient {
    /// @notice The mailbox to re-enter.
    address public mailbox;
    /// @notice The deliver call to repeat.
    bytes public deliverCall;
    /// @notice Whether the inner call succeeded.
    bool public innerSucceeded;
    /// @notice The inner call's revert data.
    bytes public innerRevertData;

    /// @notice Sets the call to repeat from onMessage.
    function arm(address mailbox_, bytes calldata deliverCall_) external {
        mailbox = mailbox_;
        deliverCall = deliverCall_;
    }

    /// @inheritdoc IMessageRecipient
    function onMessage(uint64, address, uint128, uint64, bytes calldata) external returns (bytes4) {
        (bool ok, bytes memory data) = mailbox.call(deliverCall);
        innerSucceeded = ok;
        innerRevertData = data;
        return IMessageRecipient.onMessage.selector;
    }
}

/// @notice A recipient that does nothing: measures the mailbox's own gas.
contract NoopRecipient is IMessageRecipient {
    /// @inheritdoc IMessageRecipient
    function onMessage(uint64, address, uint128, uint64, bytes calldata) external pure returns (bytes4) {
        return IMessageRecipient.onMessage.selector;
    }
}

// -------------------------------------------------------------------------------------------------
// Shared setup
// -------------------------------------------------------------------------------------------------

/// @notice Helpers for Mailbox tests: a source mailbox on chain SRC_CHAIN whose `send` produces
/// the messages, trestle blocks holding their encodings built with PayloadBuilder and
/// MerkleReference (real payload and history trees), and a destination light client whose
/// genesis history root covers those blocks, so that `deliver` runs the real Inclusion path
/// against a real LightClient (with the real generated verifier, which these tests never call).
abstract contract MailboxTestBase is Test, PayloadBuilder {
    uint64 internal constant SRC_CHAIN = 111;
    /// @dev forge's default chain id: the chain the tests deliver on.
    uint64 internal constant DEST_CHAIN = 31_337;
    uint64 internal constant OTHER_CHAIN = 222;
    uint64 internal constant TRESTLE_CHAIN = 1337;
    uint64 internal constant SRC_NS = 7_000;
    uint64 internal constant OTHER_NS = 5;
    bytes32 internal constant COMMITTEE = bytes32(uint256(0xc0));
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);

    /// @notice Everything deliver takes.
    struct Delivery {
        Message message;
        Header header;
        TransactionProof txProof;
        MerkleTree.Proof historyProof;
        bytes32 historyRoot;
    }

    IStateProofVerifier internal verifier;
    Mailbox internal srcMailbox;

    /// @dev Deploys the verifier and, on chain SRC_CHAIN, the source mailbox; returns to DEST_CHAIN.
    function _deploySource() internal {
        vm.chainId(DEST_CHAIN);
        verifier = IStateProofVerifier(address(new LightClientVerifier()));
        vm.chainId(SRC_CHAIN);
        LightClient srcLightClient = new LightClient(
            LightClientState(TRESTLE_CHAIN, 0, 0, keccak256("source genesis"), COMMITTEE), COMMITTEE, 1000, verifier
        );
        srcMailbox = new Mailbox(srcLightClient, address(this));
        vm.chainId(DEST_CHAIN);
    }

    /// @dev `sender` sends a message through the source mailbox (on the source chain); returns it.
    function _send(address sender, uint64 destChainId, address to, uint128 sessionId, bytes memory payload)
        internal
        returns (Message memory m)
    {
        vm.chainId(SRC_CHAIN);
        vm.prank(sender);
        (bytes32 messageHash, uint64 nonce) = srcMailbox.send(destChainId, to, sessionId, payload);
        vm.chainId(DEST_CHAIN);
        m = Message({
            srcChainId: SRC_CHAIN,
            destChainId: destChainId,
            srcAddress: sender,
            destAddress: to,
            sessionId: sessionId,
            nonce: nonce,
            payload: payload
        });
        vm.assertEq(messageHash, keccak256(abi.encode(m)), "send returns the message's hash");
    }

    /// @dev A block whose namespace `namespaces[j]` holds transactions with `payloads[j]`, in
    /// order (namespaces strictly ascending), built like PayloadBuilder._block.
    function _blockOf(uint64[] memory namespaces, bytes[][] memory payloads) internal pure returns (Block memory b) {
        uint256 m = namespaces.length;
        b.transactions = new Transaction[][](m);
        b.txHashes = new bytes32[][](m);
        b.leaves = new NamespaceLeaf[](m);
        b.digests = new bytes32[](m);
        for (uint256 j = 0; j < m; ++j) {
            require(j == 0 || namespaces[j - 1] < namespaces[j], "namespaces not ascending");
            uint256 n = payloads[j].length;
            b.transactions[j] = new Transaction[](n);
            b.txHashes[j] = new bytes32[](n);
            for (uint256 i = 0; i < n; ++i) {
                b.transactions[j][i] = Transaction({namespace: namespaces[j], payload: payloads[j][i]});
                b.txHashes[j][i] = keccak256(abi.encode(b.transactions[j][i]));
            }
            b.leaves[j] = NamespaceLeaf({
                namespace: namespaces[j], txCount: MerkleReference.u64(n), txRoot: MerkleReference.root(b.txHashes[j])
            });
            b.digests[j] = keccak256(abi.encode(b.leaves[j]));
        }
        b.root = MerkleReference.root(b.digests);
    }

    /// @dev The header at `height` of a block with payload root `payloadRoot`, on TRESTLE_CHAIN.
    function _trestleHeader(uint64 height, bytes32 payloadRoot) internal pure returns (Header memory h) {
        h = _header(height, payloadRoot, keccak256(abi.encode("header", height)));
        h.chainId = TRESTLE_CHAIN;
        h.committee = COMMITTEE;
    }

    /// @dev The delivery of transaction `i` of namespace index `j` of `b`, whose header is
    /// `headers[height]`, against the history root over all of `headerHashes`.
    function _delivery(
        Message memory m,
        Block memory b,
        uint256 j,
        uint256 i,
        Header memory header,
        bytes32[] memory headerHashes
    ) internal pure returns (Delivery memory d) {
        require(keccak256(b.transactions[j][i].payload) == keccak256(abi.encode(m)), "not the message's transaction");
        d.message = m;
        d.header = header;
        d.txProof = _transactionProof(b, j, i);
        d.historyProof = MerkleReference.proof(headerHashes, header.height);
        d.historyRoot = MerkleReference.root(headerHashes);
    }

    /// @dev Calls deliver with everything in `d`.
    function _deliver(IMailbox mailbox, Delivery memory d) internal {
        mailbox.deliver(d.message, d.header, d.txProof, d.historyProof, d.historyRoot);
    }

    /// @dev One step of the mailbox digests: keccak256(digest ‖ messageHash).
    function _chain(bytes32 digest, bytes32 messageHash) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(digest, messageHash));
    }

    /// @dev `[a]` as a one-element bytes array.
    function _one(bytes memory a) internal pure returns (bytes[] memory list) {
        list = new bytes[](1);
        list[0] = a;
    }

    /// @dev Filler transactions.
    function _filler(string memory tag, uint256 n) internal pure returns (bytes[] memory list) {
        list = new bytes[](n);
        for (uint256 i = 0; i < n; ++i) {
            list[i] = abi.encode(tag, i);
        }
    }
}

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

/// @notice End to end between two chains: Counter on the source chain pings Counter on the
/// destination three times through the mailboxes; the relayer's part (post the events' data to
/// the source's namespace, a block, the light client's root) is played by the test. Delivered in
/// nonce order, the destination's inbox digest equals the source's outbox digest.
contract MailboxRoundTripTest is MailboxTestBase {
    Counter internal srcCounter;
    Mailbox internal mailbox;
    Counter internal counter;

    function test_roundTrip_inboxDigestMatchesOutboxDigest() public {
        _deploySource();
        vm.chainId(SRC_CHAIN);
        srcCounter = new Counter(srcMailbox);
        vm.chainId(DEST_CHAIN);
        // The destination's light client, mailbox and counter are deployed next, in this order.
        address destCounter = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 2);

        (Message[] memory messages, Block memory b) = _pingThrice(destCounter);
        bytes32[] memory hashes = new bytes32[](2);
        Header memory header = _trestleHeader(1, b.root);
        hashes[0] = keccak256(abi.encode(_trestleHeader(0, MerkleReference.root(new bytes32[](0)))));
        hashes[1] = keccak256(abi.encode(header));
        _deployDestination(MerkleReference.root(hashes));
        vm.assertEq(address(counter), destCounter, "counter address");

        for (uint256 i = 0; i < 3; ++i) {
            _deliver(mailbox, _delivery(messages[i], b, 0, i, header, hashes));
            Counter.LastMessage memory last = counter.lastMessage();
            vm.assertEq(last.srcAddress, address(srcCounter), "from the source counter");
            vm.assertEq(last.nonce, i, "in order");
        }
        vm.assertEq(counter.countBySource(SRC_CHAIN), 3, "three counted");
        vm.assertEq(mailbox.inboxDigest(SRC_CHAIN), srcMailbox.outboxDigest(DEST_CHAIN), "inbox = outbox");
    }

    /// @dev The source counter pings `destCounter` three times; the relayer posts the events'
    /// data (abi.encode(message)) to the source's namespace, in one block.
    function _pingThrice(address destCounter) internal returns (Message[] memory messages, Block memory b) {
        vm.chainId(SRC_CHAIN);
        vm.recordLogs();
        for (uint256 i = 0; i < 3; ++i) {
            srcCounter.ping(DEST_CHAIN, destCounter, abi.encode("ping", i));
        }
        Vm.Log[] memory logs = vm.getRecordedLogs();
        vm.chainId(DEST_CHAIN);
        vm.assertEq(logs.length, 3, "three MessageSent");
        bytes[][] memory payloads = new bytes[][](1);
        payloads[0] = new bytes[](3);
        messages = new Message[](3);
        for (uint256 i = 0; i < 3; ++i) {
            payloads[0][i] = logs[i].data;
            messages[i] = abi.decode(logs[i].data, (Message));
        }
        uint64[] memory namespaces = new uint64[](1);
        namespaces[0] = SRC_NS;
        b = _blockOf(namespaces, payloads);
    }

    /// @dev The destination: a light client whose genesis root is `root`, a mailbox, a counter.
    function _deployDestination(bytes32 root) internal {
        LightClient lc =
            new LightClient(LightClientState(TRESTLE_CHAIN, 0, 1, root, COMMITTEE), COMMITTEE, 1000, verifier);
        mailbox = new Mailbox(lc, address(this));
        counter = new Counter(mailbox);
        mailbox.setSourceNamespace(SRC_CHAIN, SRC_NS);
    }
}
