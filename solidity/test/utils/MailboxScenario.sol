// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {
    CatchingRecipient,
    FallbackOnly,
    GasRecorder,
    MailboxTestBase,
    ReentrantRecipient,
    ToggleRecipient,
    WrongReturn
} from "./MailboxTestBase.sol";
import {MerkleReference} from "./MerkleReference.sol";
import {LightClient} from "../../src/LightClient.sol";
import {Mailbox} from "../../src/Mailbox.sol";
import {Counter} from "../../src/demo/Counter.sol";
import {IMailbox, Message} from "../../src/interfaces/IMailbox.sol";
import {Header, LightClientState} from "../../src/lib/Protocol.sol";

/// @notice The scenario of the Mailbox unit tests (MailboxTest, MailboxDeliveryTest).
/// @dev The history has four blocks (heights 0..3); the light client's genesis root covers them.
/// The source mailbox sends, to `mailbox` on DEST_CHAIN, the messages 0..10 (index = nonce);
/// block 1's namespace 7000 (SRC_CHAIN's) holds messages 0..9, then M_OTHER_DEST (to OTHER_CHAIN)
/// and M_OTHER_MAILBOX (to `mailbox2` on DEST_CHAIN); block 2's holds M_SECOND (nonce 10).
/// Block 1's namespace 5 (OTHER_CHAIN's) holds a forged message claiming to come from SRC_CHAIN.
/// `mailbox` allows gas limits up to DEST_MAX_GAS only (the source up to MAX_GAS_LIMIT).
abstract contract MailboxScenario is MailboxTestBase {
    uint256 internal constant M_COUNTER = 0;
    uint256 internal constant M_REJECTED = 1;
    uint256 internal constant M_TOGGLE = 2;
    uint256 internal constant M_EOA = 3;
    uint256 internal constant M_FALLBACK = 4;
    uint256 internal constant M_WRONG_RETURN = 5;
    uint256 internal constant M_REENTRANT = 6;
    uint256 internal constant M_CATCHER = 7;
    uint256 internal constant M_RECORDER = 8;
    uint256 internal constant M_BIG_GAS = 9;
    uint256 internal constant M_SECOND = 10;
    uint256 internal constant M_OTHER_DEST = 11;
    uint256 internal constant M_OTHER_MAILBOX = 12;
    uint256 internal constant M_FORGED = 13;
    /// @dev Messages to `mailbox`: nonces 0..10.
    uint256 internal constant ROUTE_LENGTH = 11;
    uint64 internal constant DEST_MAX_GAS = 1_000_000;
    uint64 internal constant RECORDER_GAS = 123_456;
    address internal constant EOA = address(0xDEAD);

    LightClient internal lc;
    Mailbox internal mailbox;
    Counter internal counter;
    Mailbox internal mailbox2;
    ToggleRecipient internal toggle;
    ReentrantRecipient internal reentrant;
    CatchingRecipient internal catcher;
    GasRecorder internal recorder;
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
        catcher = new CatchingRecipient();
        recorder = new GasRecorder();
        fallbackOnly = address(new FallbackOnly());
        wrongReturn = address(new WrongReturn());
        // The light client, the mailbox, the counter and mailbox2 are deployed next, in this order.
        uint256 nonce = vm.getNonce(address(this));
        destMailbox = vm.computeCreateAddress(address(this), nonce + 1);
        address counterAddress = vm.computeCreateAddress(address(this), nonce + 2);
        address mailbox2Address = vm.computeCreateAddress(address(this), nonce + 3);

        Message[] memory m = new Message[](14);
        m[M_COUNTER] = _send(ALICE, DEST_CHAIN, counterAddress, 1, "hello");
        m[M_REJECTED] = _send(ALICE, DEST_CHAIN, counterAddress, 2, "reject");
        m[M_TOGGLE] = _send(BOB, DEST_CHAIN, address(toggle), 3, "toggle");
        m[M_EOA] = _send(BOB, DEST_CHAIN, EOA, 5, "eoa");
        m[M_FALLBACK] = _send(BOB, DEST_CHAIN, fallbackOnly, 6, "fallback");
        m[M_WRONG_RETURN] = _send(BOB, DEST_CHAIN, wrongReturn, 7, "wrong return");
        m[M_REENTRANT] = _send(BOB, DEST_CHAIN, address(reentrant), 8, "reenter");
        m[M_CATCHER] = _sendVia(BOB, DEST_CHAIN, destMailbox, address(catcher), 9, catcher.GAS_NEEDED(), "catch");
        m[M_RECORDER] = _sendVia(BOB, DEST_CHAIN, destMailbox, address(recorder), 10, RECORDER_GAS, "record");
        m[M_BIG_GAS] = _sendVia(BOB, DEST_CHAIN, destMailbox, counterAddress, 11, DEST_MAX_GAS + 1, "big gas");
        m[M_SECOND] = _send(ALICE, DEST_CHAIN, counterAddress, 12, "second");
        m[M_OTHER_DEST] = _send(BOB, OTHER_CHAIN, counterAddress, 4, "elsewhere");
        m[M_OTHER_MAILBOX] = _sendVia(BOB, DEST_CHAIN, mailbox2Address, address(toggle), 13, GAS_LIMIT, "other mailbox");
        // Not sent by the source mailbox: posted in OTHER_CHAIN's namespace.
        m[M_FORGED] = Message(SRC_CHAIN, DEST_CHAIN, ALICE, counterAddress, 10, 0, destMailbox, GAS_LIMIT, "forged");

        Block[] memory blocks = new Block[](4);
        blocks[0] = _simpleBlock(_counts(2), "block 0");
        {
            uint64[] memory namespaces = new uint64[](3);
            (namespaces[0], namespaces[1], namespaces[2]) = (OTHER_NS, SRC_NS, 9_000);
            bytes[][] memory payloads = new bytes[][](3);
            payloads[0] = new bytes[](2);
            payloads[0][0] = abi.encode("other chain's message");
            payloads[0][1] = abi.encode(m[M_FORGED]);
            payloads[1] = new bytes[](12);
            for (uint256 i = 0; i < 10; ++i) {
                payloads[1][i] = abi.encode(m[i]);
            }
            payloads[1][10] = abi.encode(m[M_OTHER_DEST]);
            payloads[1][11] = abi.encode(m[M_OTHER_MAILBOX]);
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
        for (uint256 i = 0; i < 10; ++i) {
            deliveries.push(abi.encode(_delivery(m[i], blocks[1], 1, i, headers[1], hashes)));
        }
        deliveries.push(abi.encode(_delivery(m[M_SECOND], blocks[2], 0, 0, headers[2], hashes)));
        deliveries.push(abi.encode(_delivery(m[M_OTHER_DEST], blocks[1], 1, 10, headers[1], hashes)));
        deliveries.push(abi.encode(_delivery(m[M_OTHER_MAILBOX], blocks[1], 1, 11, headers[1], hashes)));
        deliveries.push(abi.encode(_delivery(m[M_FORGED], blocks[1], 0, 1, headers[1], hashes)));

        lc = new LightClient(
            LightClientState(TRESTLE_CHAIN, 0, 3, MerkleReference.root(hashes), COMMITTEE), COMMITTEE, 1000, verifier
        );
        mailbox = new Mailbox(lc, address(this), MAX_MESSAGE_BYTES, DEST_MAX_GAS);
        counter = new Counter(mailbox);
        mailbox2 = new Mailbox(lc, address(this), MAX_MESSAGE_BYTES, DEST_MAX_GAS);
        vm.assertEq(address(mailbox), destMailbox, "mailbox where the messages expect it");
        vm.assertEq(address(counter), counterAddress, "counter where the messages expect it");
        vm.assertEq(address(mailbox2), mailbox2Address, "mailbox2 where its message expects it");
        mailbox.setSourceNamespace(SRC_CHAIN, SRC_NS);
        mailbox.setSourceNamespace(OTHER_CHAIN, OTHER_NS);
        mailbox2.setSourceNamespace(SRC_CHAIN, SRC_NS);
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

    function _hashOf(uint256 index) internal view returns (bytes32) {
        return _hash(_load(index));
    }

    /// @dev Delivers the messages with nonces 0..n-1 to `mailbox`, one by one.
    function _deliverFirst(uint256 n) internal {
        for (uint256 i = 0; i < n; ++i) {
            _deliver(mailbox, _load(i));
        }
    }

    /// @dev The deliveries of messages from..to-1 (all in block 1).
    function _range(uint256 from, uint256 to) internal view returns (Delivery[] memory ds) {
        ds = new Delivery[](to - from);
        for (uint256 i = from; i < to; ++i) {
            ds[i - from] = _load(i);
        }
    }

    /// @dev The source's outbox digest after the first n messages to `mailbox`.
    function _outboxPrefix(uint256 n) internal view returns (bytes32 digest) {
        for (uint256 i = 0; i < n; ++i) {
            digest = _chain(digest, _hashOf(i));
        }
    }
}
