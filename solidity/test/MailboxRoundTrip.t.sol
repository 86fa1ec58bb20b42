// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Vm} from "./utils/Test.sol";
import {MailboxTestBase} from "./utils/MailboxTestBase.sol";
import {MerkleReference} from "./utils/MerkleReference.sol";
import {LightClient} from "../src/LightClient.sol";
import {Mailbox} from "../src/Mailbox.sol";
import {Counter} from "../src/demo/Counter.sol";
import {Message} from "../src/interfaces/IMailbox.sol";
import {Header, LightClientState} from "../src/lib/Protocol.sol";

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
        destMailbox = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 1);
        address destCounter = vm.computeCreateAddress(address(this), vm.getNonce(address(this)) + 2);

        (Message[] memory messages, Block memory b) = _pingThrice(destCounter);
        bytes32[] memory hashes = new bytes32[](2);
        Header memory header = _trestleHeader(1, b.root);
        hashes[0] = keccak256(abi.encode(_trestleHeader(0, MerkleReference.root(new bytes32[](0)))));
        hashes[1] = keccak256(abi.encode(header));
        _deployDestination(MerkleReference.root(hashes));
        vm.assertEq(address(mailbox), destMailbox, "mailbox address");
        vm.assertEq(address(counter), destCounter, "counter address");

        for (uint256 i = 0; i < 3; ++i) {
            _deliver(mailbox, _delivery(messages[i], b, 0, i, header, hashes));
            Counter.LastMessage memory last = counter.lastMessage();
            vm.assertEq(last.srcAddress, address(srcCounter), "from the source counter");
            vm.assertEq(last.nonce, i, "in order");
        }
        vm.assertEq(counter.countBySource(SRC_CHAIN), 3, "three counted");
        vm.assertEq(mailbox.inboxDigest(SRC_CHAIN), srcMailbox.outboxDigest(DEST_CHAIN, destMailbox), "inbox = outbox");
        vm.assertEq(mailbox.inboxNonce(SRC_CHAIN), srcMailbox.nextNonce(DEST_CHAIN, destMailbox), "all received");
    }

    /// @dev The source counter pings `destCounter` three times; the relayer posts the events'
    /// data (abi.encode(message)) to the source's namespace, in one block.
    function _pingThrice(address destCounter) internal returns (Message[] memory messages, Block memory b) {
        vm.chainId(SRC_CHAIN);
        vm.recordLogs();
        for (uint256 i = 0; i < 3; ++i) {
            srcCounter.ping(DEST_CHAIN, destMailbox, destCounter, GAS_LIMIT, abi.encode("ping", i));
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
        mailbox = new Mailbox(lc, address(this), MAX_MESSAGE_BYTES, MAX_GAS_LIMIT);
        counter = new Counter(mailbox);
        mailbox.setSourceNamespace(SRC_CHAIN, SRC_NS);
    }
}
