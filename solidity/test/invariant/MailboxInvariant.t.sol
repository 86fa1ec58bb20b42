// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "../utils/Test.sol";
import {MerkleReference} from "../utils/MerkleReference.sol";
import {MailboxTestBase, ToggleRecipient} from "../utils/MailboxTestBase.sol";
import {LightClient} from "../../src/LightClient.sol";
import {Mailbox} from "../../src/Mailbox.sol";
import {Counter} from "../../src/demo/Counter.sol";
import {Message} from "../../src/interfaces/IMailbox.sol";
import {Header, LightClientState} from "../../src/lib/Protocol.sol";

/// @notice Drives a Mailbox with deliveries of six proven messages (three to a Counter, three to
/// a recipient that fails while toggled), in any order, repeatedly, by any caller, interleaved
/// with toggling that recipient and with deliveries of tampered copies. Ghost variables count
/// what succeeded.
contract MailboxHandler is MailboxTestBase {
    uint256 internal constant MESSAGES = 6;

    /// @notice The mailbox under test.
    Mailbox public mailbox;
    /// @notice Recipient of messages 0, 2, 4.
    Counter public counter;
    /// @notice Recipient of messages 1, 3, 5; fails while toggled on.
    ToggleRecipient public toggle;
    /// @notice Hashes of the six messages.
    bytes32[] public hashes;
    /// @notice Successful deliveries per message hash.
    mapping(bytes32 messageHash => uint256 count) public successes;
    /// @notice Successful deliveries in total.
    uint256 public totalSuccesses;
    /// @notice Successful deliveries of tampered messages (must stay 0).
    uint256 public tamperedAccepted;
    /// @notice The hash chain over the successful deliveries, in order.
    bytes32 public ghostInbox;

    /// @dev abi.encode(Delivery) of each message.
    bytes[] internal _deliveries;

    constructor() {
        _deploySource();
        toggle = new ToggleRecipient();
        // The light client, the mailbox and the counter are deployed next, in this order.
        address counterAddress = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 2);
        Message[] memory messages = new Message[](MESSAGES);
        for (uint128 i = 0; i < MESSAGES; ++i) {
            address to = i % 2 == 0 ? counterAddress : address(toggle);
            messages[i] = _send(i < 3 ? ALICE : BOB, DEST_CHAIN, to, i, abi.encode("invariant", i));
        }
        // Messages 0..3 in block 1, 4..5 in block 2; blocks 0 and 3 hold other namespaces only.
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
            hashes.push(keccak256(abi.encode(messages[i])));
        }

        LightClient lc = new LightClient(
            LightClientState(TRESTLE_CHAIN, 0, 3, MerkleReference.root(headerHashes), COMMITTEE),
            COMMITTEE,
            1000,
            verifier
        );
        mailbox = new Mailbox(lc, address(this));
        counter = new Counter(mailbox);
        require(address(counter) == counterAddress, "counter address");
        mailbox.setSourceNamespace(SRC_CHAIN, SRC_NS);
    }

    /// @notice Delivers message `index` (mod 6) from `caller`.
    function deliver(uint256 index, address caller) external {
        Delivery memory d = abi.decode(_deliveries[index % MESSAGES], (Delivery));
        bytes32 messageHash = hashes[index % MESSAGES];
        vm.prank(caller);
        try mailbox.deliver(d.message, d.header, d.txProof, d.historyProof, d.historyRoot) {
            ++successes[messageHash];
            ++totalSuccesses;
            ghostInbox = _chain(ghostInbox, messageHash);
        } catch {}
    }

    /// @notice Makes the toggled recipient fail or accept.
    function setFailing(bool failing) external {
        toggle.setFailing(failing);
    }

    /// @notice Delivers a copy of message `index` with one field changed (the proof unchanged).
    function deliverTampered(uint256 index, uint8 field, uint64 number, address account, uint128 session) external {
        Delivery memory d = abi.decode(_deliveries[index % MESSAGES], (Delivery));
        bytes32 original = keccak256(abi.encode(d.message));
        field = field % 6;
        if (field == 0) d.message.srcAddress = account;
        if (field == 1) d.message.destAddress = account;
        if (field == 2) d.message.sessionId = session;
        if (field == 3) d.message.nonce = number;
        if (field == 4) d.message.payload = abi.encode(number, account, session);
        if (field == 5) d.message.srcChainId = number;
        if (keccak256(abi.encode(d.message)) == original) return;
        try mailbox.deliver(d.message, d.header, d.txProof, d.historyProof, d.historyRoot) {
            ++tamperedAccepted;
        } catch {}
    }

    /// @notice Number of messages.
    function messageCount() external pure returns (uint256) {
        return MESSAGES;
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

    /// @notice After each run: some deliveries succeeded (a guard against vacuous invariants).
    function afterInvariant() public view {
        vm.assertGe(handler.totalSuccesses(), 1, "some messages delivered");
    }

    /// @notice No message is ever delivered twice, and `delivered` says exactly which were.
    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 48
    function invariant_neverDeliveredTwice() public view {
        Mailbox mailbox = handler.mailbox();
        for (uint256 i = 0; i < handler.messageCount(); ++i) {
            bytes32 messageHash = handler.hashes(i);
            uint256 count = handler.successes(messageHash);
            vm.assertLe(count, 1, "delivered at most once");
            vm.assertEq(mailbox.delivered(messageHash), count == 1, "marked iff delivered");
        }
    }

    /// @notice Every successful delivery reached its recipient exactly once, none other did, and
    /// the inbox digest chains exactly the successful deliveries in their order.
    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 48
    function invariant_recipientsSeeEachDeliveryOnce() public view {
        vm.assertEq(
            handler.counter().total() + handler.toggle().received(), handler.totalSuccesses(), "recipient counts"
        );
        vm.assertEq(handler.mailbox().inboxDigest(111), handler.ghostInbox(), "inbox digest");
    }

    /// @notice No tampered message is ever delivered.
    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 48
    function invariant_tamperedNeverDelivered() public view {
        vm.assertEq(handler.tamperedAccepted(), 0, "tampered message delivered");
    }
}
