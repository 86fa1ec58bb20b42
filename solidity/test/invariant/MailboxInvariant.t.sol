// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "../utils/Test.sol";
import {MerkleReference} from "../utils/MerkleReference.sol";
import {MailboxTestBase, ToggleRecipient} from "../utils/MailboxTestBase.sol";
import {LightClient} from "../../src/LightClient.sol";
import {Mailbox} from "../../src/Mailbox.sol";
import {Counter} from "../../src/demo/Counter.sol";
import {Message} from "../../src/interfaces/IMailbox.sol";
import {Header, LightClientState, TransactionProof} from "../../src/lib/Protocol.sol";

/// @notice Drives a Mailbox with deliveries of six proven messages (three to a Counter, three to
/// a recipient that fails while toggled), one by one in any order (most refused), the next one,
/// in batches of one block, by any caller, interleaved with retries, with toggling that recipient
/// and with deliveries of tampered copies. Ghost variables count what the recipients accepted.
contract MailboxHandler is MailboxTestBase {
    uint256 internal constant MESSAGES = 6;

    /// @notice The mailbox under test.
    Mailbox public mailbox;
    /// @notice Recipient of messages 0, 2, 4.
    Counter public counter;
    /// @notice Recipient of messages 1, 3, 5; fails while toggled on.
    ToggleRecipient public toggle;
    /// @notice Hashes of the six messages (index = nonce).
    bytes32[] public hashes;
    /// @notice outboxPrefix[n]: the source's outbox digest after its first n messages.
    bytes32[] public outboxPrefix;
    /// @notice Times each message's recipient accepted it.
    mapping(bytes32 messageHash => uint256 count) public accepted;
    /// @notice Acceptances in total.
    uint256 public totalAccepted;
    /// @notice Successful deliveries of tampered messages (must stay 0).
    uint256 public tamperedAccepted;
    /// @notice The highest inboxNonce seen, and whether it ever went down.
    uint64 public highestInboxNonce;
    bool public inboxNonceDecreased;

    /// @dev abi.encode(Delivery) of each message.
    bytes[] internal _deliveries;

    constructor() {
        _deploySource();
        toggle = new ToggleRecipient();
        // The light client, the mailbox and the counter are deployed next, in this order.
        destMailbox = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        address counterAddress = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 2);
        Message[] memory messages = new Message[](MESSAGES);
        outboxPrefix.push(bytes32(0));
        for (uint128 i = 0; i < MESSAGES; ++i) {
            address to = i % 2 == 0 ? counterAddress : address(toggle);
            messages[i] = _send(i < 3 ? ALICE : BOB, DEST_CHAIN, to, i, abi.encode("invariant", i));
            hashes.push(keccak256(abi.encode(messages[i])));
            outboxPrefix.push(_chain(outboxPrefix[i], hashes[i]));
        }
        require(outboxPrefix[MESSAGES] == srcMailbox.outboxDigest(DEST_CHAIN, destMailbox), "outbox digest");
        // Messages 0..3 in block 1, 4..5 in block 2; blocks 0 and 3 hold filler only.
        Block[] memory blocks = new Block[](4);
        uint64[] memory namespaces = new uint64[](1);
        namespaces[0] = SRC_NS;
        bytes[][] memory payloads = new bytes[][](1);
        payloads[0] = _filler("genesis", 1);
        blocks[0] = _blockOf(namespaces, payloads);
        payloads[0] = new bytes[](4);
        for (uint256 i = 0; i < 4; ++i) {
            payloads[0][i] = abi.encode(messages[i]);
        }
        blocks[1] = _blockOf(namespaces, payloads);
        payloads[0] = new bytes[](2);
        payloads[0][0] = abi.encode(messages[4]);
        payloads[0][1] = abi.encode(messages[5]);
        blocks[2] = _blockOf(namespaces, payloads);
        payloads[0] = _filler("later", 2);
        blocks[3] = _blockOf(namespaces, payloads);

        Header[] memory headers = new Header[](4);
        bytes32[] memory headerHashes = new bytes32[](4);
        for (uint64 h = 0; h < 4; ++h) {
            headers[h] = _trestleHeader(h, blocks[h].root);
            headerHashes[h] = keccak256(abi.encode(headers[h]));
        }
        for (uint256 i = 0; i < MESSAGES; ++i) {
            (uint256 b, uint256 index) = i < 4 ? (1, i) : (2, i - 4);
            _deliveries.push(abi.encode(_delivery(messages[i], blocks[b], 0, index, headers[b], headerHashes)));
        }

        LightClient lc = new LightClient(
            LightClientState(TRESTLE_CHAIN, 0, 3, MerkleReference.root(headerHashes), COMMITTEE),
            COMMITTEE,
            1000,
            verifier
        );
        mailbox = new Mailbox(lc, address(this), MAX_MESSAGE_BYTES, MAX_GAS_LIMIT);
        counter = new Counter(mailbox);
        require(address(mailbox) == destMailbox, "mailbox address");
        require(address(counter) == counterAddress, "counter address");
        mailbox.setSourceNamespace(SRC_CHAIN, SRC_NS);
    }

    /// @notice Delivers message `index` (mod 6) from `caller`.
    function deliver(uint256 index, address caller) external {
        _deliverOne(index % MESSAGES, caller);
    }

    /// @notice Delivers the next message, if any, from `caller`.
    function deliverNext(address caller) external {
        uint256 next = mailbox.inboxNonce(SRC_CHAIN);
        if (next < MESSAGES) _deliverOne(next, caller);
    }

    /// @notice Delivers messages `start`.. (up to `length`, within start's block) in one batch.
    function deliverBatch(uint256 start, uint256 length) external {
        start %= MESSAGES;
        uint256 blockEnd = start < 4 ? 4 : MESSAGES;
        uint256 end = start + 1 + length % 4;
        if (end > blockEnd) end = blockEnd;
        Delivery[] memory ds = new Delivery[](end - start);
        for (uint256 i = start; i < end; ++i) {
            ds[i - start] = _load(i);
        }
        (Message[] memory messages, TransactionProof[] memory txProofs) = _batch(ds);
        try mailbox.deliverBatch(messages, ds[0].header, txProofs, ds[0].historyProof, ds[0].historyRoot) returns (
            bool[] memory skipped
        ) {
            for (uint256 i = start; i < end; ++i) {
                if (!skipped[i - start] && !mailbox.failed(hashes[i])) _accept(i);
            }
        } catch {}
        _observe();
    }

    /// @notice Retries message `index` (mod 6).
    function retry(uint256 index) external {
        index %= MESSAGES;
        try mailbox.retry(_load(index).message) {
            _accept(index);
        } catch {}
        _observe();
    }

    /// @notice Makes the toggled recipient fail or accept.
    function setFailing(bool failing) external {
        toggle.setFailing(failing);
    }

    /// @notice Delivers a copy of message `index` with one field changed (the proof unchanged).
    function deliverTampered(uint256 index, uint8 field, uint64 number, address account, uint128 session) external {
        Delivery memory d = _load(index % MESSAGES);
        bytes32 original = keccak256(abi.encode(d.message));
        field = field % 8;
        if (field == 0) d.message.srcAddress = account;
        if (field == 1) d.message.destAddress = account;
        if (field == 2) d.message.sessionId = session;
        if (field == 3) d.message.nonce = number;
        if (field == 4) d.message.payload = abi.encode(number, account, session);
        if (field == 5) d.message.srcChainId = number;
        if (field == 6) d.message.gasLimit = number;
        if (field == 7) d.message.destMailbox = account;
        if (keccak256(abi.encode(d.message)) == original) return;
        try mailbox.deliver(d.message, d.header, d.txProof, d.historyProof, d.historyRoot) {
            ++tamperedAccepted;
        } catch {}
        _observe();
    }

    /// @notice Number of messages.
    function messageCount() external pure returns (uint256) {
        return MESSAGES;
    }

    function _deliverOne(uint256 index, address caller) internal {
        Delivery memory d = _load(index);
        vm.prank(caller);
        try mailbox.deliver(d.message, d.header, d.txProof, d.historyProof, d.historyRoot) {
            if (!mailbox.failed(hashes[index])) _accept(index);
        } catch {}
        _observe();
    }

    function _accept(uint256 index) internal {
        ++accepted[hashes[index]];
        ++totalAccepted;
    }

    function _observe() internal {
        uint64 inboxNonce = mailbox.inboxNonce(SRC_CHAIN);
        if (inboxNonce < highestInboxNonce) inboxNonceDecreased = true;
        else highestInboxNonce = inboxNonce;
    }

    function _load(uint256 index) internal view returns (Delivery memory) {
        return abi.decode(_deliveries[index], (Delivery));
    }
}

/// @notice Invariants of Mailbox under random delivery sequences (MailboxHandler).
contract MailboxInvariantTest is Test {
    MailboxHandler internal handler;

    /// @notice Deploys the handler (which builds the history and deploys the mailbox).
    function setUp() public {
        handler = new MailboxHandler();
    }

    /// @notice Only the handler is called by the fuzzer.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice After each run: some messages were received (a guard against vacuous invariants).
    function afterInvariant() public view {
        vm.assertGe(handler.highestInboxNonce(), 1, "some messages received");
    }

    /// @notice The inbox position never goes back, never passes what was sent, and the inbox
    /// digest is always the source's outbox digest after as many messages (ERC-7841's check).
    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 48
    function invariant_inboxDigestIsTheOutboxPrefix() public view {
        Mailbox mailbox = handler.mailbox();
        uint64 inboxNonce = mailbox.inboxNonce(111);
        vm.assertFalse(handler.inboxNonceDecreased(), "inbox nonce decreased");
        vm.assertLe(inboxNonce, handler.messageCount(), "at most what was sent");
        vm.assertEq(mailbox.inboxDigest(111), handler.outboxPrefix(inboxNonce), "inbox = outbox prefix");
    }

    /// @notice Every received message was accepted by its recipient exactly once or is stored as
    /// failed, never both; no other message was accepted or stored; the recipients saw exactly
    /// the acceptances.
    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 48
    function invariant_receivedMessagesAcceptedOnceOrFailed() public view {
        Mailbox mailbox = handler.mailbox();
        uint64 inboxNonce = mailbox.inboxNonce(111);
        for (uint256 i = 0; i < handler.messageCount(); ++i) {
            bytes32 messageHash = handler.hashes(i);
            uint256 count = handler.accepted(messageHash);
            bool isFailed = mailbox.failed(messageHash);
            if (i < inboxNonce) {
                vm.assertEq(count + (isFailed ? 1 : 0), 1, "accepted once or failed");
            } else {
                vm.assertEq(count, 0, "not received: not accepted");
                vm.assertFalse(isFailed, "not received: not failed");
            }
        }
        vm.assertEq(
            handler.counter().total() + handler.toggle().received(), handler.totalAccepted(), "recipient counts"
        );
    }

    /// @notice No tampered message is ever delivered.
    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 48
    function invariant_tamperedNeverDelivered() public view {
        vm.assertEq(handler.tamperedAccepted(), 0, "tampered message delivered");
    }
}
