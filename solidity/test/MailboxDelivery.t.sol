// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Vm} from "./utils/Test.sol";
import {MailboxScenario} from "./utils/MailboxScenario.sol";
import {ToggleRecipient} from "./utils/MailboxTestBase.sol";
import {MerkleReference} from "./utils/MerkleReference.sol";
import {Counter} from "../src/demo/Counter.sol";
import {IMailbox, Message} from "../src/interfaces/IMailbox.sol";
import {Inclusion} from "../src/lib/Inclusion.sol";
import {MerkleTree} from "../src/lib/MerkleTree.sol";
import {Transaction, TransactionProof} from "../src/lib/Protocol.sol";

/// @notice Mailbox unit tests of what happens around the recipient: the exact gas it gets (the
/// gas-griefing attack fails), stored failures, deliverBatch and retry. The scenario:
/// MailboxScenario.
contract MailboxDeliveryTest is MailboxScenario {
    // ---------------------------------------------------------------------------------------------
    // deliver: exact gas
    // ---------------------------------------------------------------------------------------------

    /// @notice The gas-griefing attack fails: a recipient that catches the failure of its own
    /// work cannot be made to "succeed" without it by under-supplying gas. With too little gas
    /// for its full gasLimit the delivery reverts, changing nothing; with enough, the work is done.
    function test_deliver_revertsWhenInsufficientGas() public {
        _deliverFirst(M_CATCHER);
        Delivery memory d = _load(M_CATCHER);
        vm.expectPartialRevert(IMailbox.InsufficientGas.selector);
        mailbox.deliver{gas: 127_000}(d.message, d.header, d.txProof, d.historyProof, d.historyRoot);
        vm.assertEq(mailbox.inboxNonce(SRC_CHAIN), M_CATCHER, "not received");
        vm.assertFalse(catcher.workDone(), "no work");

        vm.expectEmit(address(mailbox));
        emit IMailbox.MessageDelivered(_hash(d), SRC_CHAIN, address(catcher), d.message.nonce);
        mailbox.deliver{gas: 1_000_000}(d.message, d.header, d.txProof, d.historyProof, d.historyRoot);
        vm.assertTrue(catcher.workDone(), "work done");
        vm.assertFalse(catcher.workFailed(), "work did not fail");
        vm.assertEq(mailbox.inboxNonce(SRC_CHAIN), M_CATCHER + 1, "received");
    }

    /// @notice Whatever gas the caller gives, the message is either delivered with the
    /// recipient's work done, or not received at all (and still deliverable).
    function testFuzz_deliver_neverBurnsAMessage(uint256 gas) public {
        gas = bound(gas, 30_000, 1_000_000);
        _deliverFirst(M_CATCHER);
        Delivery memory d = _load(M_CATCHER);
        try mailbox.deliver{gas: gas}(d.message, d.header, d.txProof, d.historyProof, d.historyRoot) {
            vm.assertTrue(catcher.workDone(), "delivered: work done");
            vm.assertFalse(catcher.workFailed(), "delivered: work did not fail");
            vm.assertFalse(mailbox.failed(_hash(d)), "delivered: not failed");
        } catch {
            vm.assertEq(mailbox.inboxNonce(SRC_CHAIN), M_CATCHER, "reverted: not received");
            vm.assertFalse(catcher.workDone(), "reverted: no work");
            _deliver(mailbox, d);
            vm.assertTrue(catcher.workDone(), "then delivered with enough gas");
        }
    }

    /// @notice The recipient gets exactly gasLimit: it sees it (less its own dispatch) at entry,
    /// the same whether the caller gives just enough gas or far more.
    function testFuzz_deliver_recipientGetsExactlyGasLimit(uint256 gas) public {
        gas = bound(gas, 100_000, 5_000_000);
        _deliverFirst(M_RECORDER);
        Delivery memory d = _load(M_RECORDER);
        uint256 state = vm.snapshotState();
        mailbox.deliver{gas: 10_000_000}(d.message, d.header, d.txProof, d.historyProof, d.historyRoot);
        uint256 expected = recorder.gasAtEntry();
        vm.assertLe(expected, RECORDER_GAS, "at most gasLimit");
        vm.assertGe(expected, RECORDER_GAS - 1_000, "all of gasLimit but the recipient's dispatch");
        vm.revertToState(state);
        try mailbox.deliver{gas: gas}(d.message, d.header, d.txProof, d.historyProof, d.historyRoot) {
            vm.assertEq(recorder.gasAtEntry(), expected, "the same gas whatever the caller gave");
        } catch {
            vm.assertEq(mailbox.inboxNonce(SRC_CHAIN), M_RECORDER, "refused: not received");
            vm.assertEq(recorder.gasAtEntry(), 0, "refused: not called");
        }
    }

    /// @notice A message whose gasLimit exceeds this mailbox's maximum is received as failed
    /// without calling its recipient, so it does not block the route.
    function test_deliver_storesFailedWhenGasLimitAboveMaximum() public {
        _deliverFirst(M_BIG_GAS);
        Delivery memory d = _load(M_BIG_GAS);
        vm.expectEmit(address(mailbox));
        emit IMailbox.MessageFailed(
            _hash(d),
            SRC_CHAIN,
            d.message.nonce,
            abi.encodeWithSelector(IMailbox.GasLimitTooHigh.selector, DEST_MAX_GAS + 1, DEST_MAX_GAS)
        );
        uint256 counted = counter.total();
        _deliver(mailbox, d);
        vm.assertTrue(mailbox.failed(_hash(d)), "stored failed");
        vm.assertEq(counter.total(), counted, "recipient not called");
        _deliver(mailbox, _load(M_SECOND));
        vm.assertEq(counter.total(), counted + 1, "the route goes on");
    }

    // ---------------------------------------------------------------------------------------------
    // deliver: stored failures
    // ---------------------------------------------------------------------------------------------

    /// @notice A reverting recipient: the message is received and stored as failed with the
    /// revert data, and the next message of the route is delivered.
    function test_deliver_storesFailureAndContinues() public {
        _deliverFirst(M_REJECTED);
        Delivery memory d = _load(M_REJECTED);
        bytes32 messageHash = _hash(d);
        vm.expectEmit(address(mailbox));
        emit IMailbox.MessageFailed(
            messageHash,
            SRC_CHAIN,
            d.message.nonce,
            abi.encodeWithSelector(Counter.Rejected.selector, SRC_CHAIN, d.message.nonce)
        );
        _deliver(mailbox, d);
        vm.assertTrue(mailbox.failed(messageHash), "stored failed");
        vm.assertEq(mailbox.inboxNonce(SRC_CHAIN), M_REJECTED + 1, "received");
        vm.assertEq(mailbox.inboxDigest(SRC_CHAIN), _outboxPrefix(M_REJECTED + 1), "in the inbox digest");
        vm.assertEq(counter.total(), 1, "not counted");
        _deliver(mailbox, _load(M_TOGGLE));
        vm.assertEq(toggle.received(), 1, "next message delivered");
    }

    /// @notice An account without code, a contract with only a fallback, and one whose onMessage
    /// returns another value are not recipients: stored as failed with NotARecipient as reason.
    function test_deliver_storesFailureWhenNotARecipient() public {
        _deliverFirst(M_EOA);
        uint256[3] memory indices = [M_EOA, M_FALLBACK, M_WRONG_RETURN];
        address[3] memory recipients = [EOA, fallbackOnly, wrongReturn];
        for (uint256 k = 0; k < 3; ++k) {
            Delivery memory d = _load(indices[k]);
            vm.expectEmit(address(mailbox));
            emit IMailbox.MessageFailed(
                _hash(d),
                SRC_CHAIN,
                d.message.nonce,
                abi.encodeWithSelector(IMailbox.NotARecipient.selector, _hash(d), recipients[k])
            );
            _deliver(mailbox, d);
            vm.assertTrue(mailbox.failed(_hash(d)), "stored failed");
        }
    }

    /// @notice A recipient's revert data is kept up to 256 bytes.
    function test_deliver_truncatesLongRevertReasons() public {
        _deliverFirst(M_TOGGLE);
        Delivery memory d = _load(M_TOGGLE);
        vm.etch(address(toggle), hex"6104006000fd"); // PUSH2 0x400 PUSH1 0 REVERT: 1,024 zero bytes
        vm.recordLogs();
        _deliver(mailbox, d);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        vm.assertEq(logs.length, 1, "one event");
        vm.assertEq(logs[0].topics[0], IMailbox.MessageFailed.selector, "MessageFailed");
        (uint64 nonce, bytes memory reason) = abi.decode(logs[0].data, (uint64, bytes));
        vm.assertEq(nonce, d.message.nonce, "nonce");
        vm.assertEq(reason, new bytes(256), "256 bytes kept");
    }

    // ---------------------------------------------------------------------------------------------
    // deliverBatch
    // ---------------------------------------------------------------------------------------------

    /// @notice Ten messages of one block in one call: received in order with the same outcomes
    /// as one by one.
    function test_deliverBatch_deliversTenMessages() public {
        bool[] memory skipped = _deliverBatch(mailbox, _range(0, 10));
        vm.assertEq(skipped.length, 10, "one flag per message");
        for (uint256 i = 0; i < 10; ++i) {
            vm.assertFalse(skipped[i], "none skipped");
        }
        vm.assertEq(mailbox.inboxNonce(SRC_CHAIN), 10, "inbox nonce");
        vm.assertEq(mailbox.inboxDigest(SRC_CHAIN), _outboxPrefix(10), "inbox = outbox prefix");
        vm.assertEq(counter.total(), 1, "counted");
        vm.assertEq(toggle.received(), 1, "toggle");
        vm.assertTrue(catcher.workDone(), "catcher's work");
        vm.assertGe(recorder.gasAtEntry(), RECORDER_GAS - 1_000, "recorder's gas");
        uint256[5] memory failing = [M_REJECTED, M_EOA, M_FALLBACK, M_WRONG_RETURN, M_BIG_GAS];
        for (uint256 k = 0; k < failing.length; ++k) {
            vm.assertTrue(mailbox.failed(_hashOf(failing[k])), "failed ones stored");
        }
        vm.assertFalse(mailbox.failed(_hashOf(M_COUNTER)), "delivered ones not");
    }

    /// @notice Competing relayers: what another relayer delivered meanwhile is skipped, without
    /// events; the rest is received.
    function test_deliverBatch_skipsWhatACompetitorDelivered() public {
        _deliverFirst(4);
        vm.recordLogs();
        bool[] memory skipped = _deliverBatch(mailbox, _range(0, 10));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < 10; ++i) {
            vm.assertEq(skipped[i], i < 4, "skipped iff delivered before");
        }
        uint256 outcomes;
        for (uint256 k = 0; k < logs.length; ++k) {
            if (logs[k].emitter != address(mailbox)) continue;
            bytes32 topic = logs[k].topics[0];
            if (topic == IMailbox.MessageDelivered.selector || topic == IMailbox.MessageFailed.selector) {
                vm.assertEq(logs[k].topics[1], _hashOf(4 + outcomes), "one outcome per received message");
                ++outcomes;
            }
        }
        vm.assertEq(outcomes, 6, "six received");
        vm.assertEq(mailbox.inboxDigest(SRC_CHAIN), _outboxPrefix(10), "inbox = outbox prefix");

        skipped = _deliverBatch(mailbox, _range(0, 10));
        for (uint256 i = 0; i < 10; ++i) {
            vm.assertTrue(skipped[i], "all skipped the second time");
        }
        vm.assertEq(mailbox.inboxNonce(SRC_CHAIN), 10, "nothing more");
    }

    /// @notice After the first message of a namespace, the others' proofs may leave the namespace
    /// path empty: the leaf is the one already proven.
    function test_deliverBatch_acceptsAnEmptyPathForARepeatedLeaf() public {
        Delivery[] memory ds = _range(0, 3);
        ds[1].txProof.namespaceProof.proof.siblings = new bytes32[](0);
        ds[2].txProof.namespaceProof.proof.siblings = new bytes32[](0);
        _deliverBatch(mailbox, ds);
        vm.assertEq(mailbox.inboxNonce(SRC_CHAIN), 3, "received");
        ds = _range(3, 5);
        ds[0].txProof.namespaceProof.proof.siblings = new bytes32[](0);
        vm.expectPartialRevert(MerkleTree.ProofTooShort.selector);
        _deliverBatch(mailbox, ds);
    }

    /// @notice A gap in the batch reverts it whole.
    function test_deliverBatch_revertsWhenNonceOutOfOrder() public {
        Delivery[] memory ds = _range(0, 3);
        ds[1] = ds[2];
        vm.expectRevert(abi.encodeWithSelector(IMailbox.NonceOutOfOrder.selector, SRC_CHAIN, 1, 2));
        _deliverBatch(mailbox, ds);
        vm.assertEq(mailbox.inboxNonce(SRC_CHAIN), 0, "nothing received");
    }

    function test_deliverBatch_revertsWhenLengthMismatch() public {
        (Message[] memory messages, TransactionProof[] memory txProofs) = _batch(_range(0, 3));
        TransactionProof[] memory fewer = new TransactionProof[](2);
        (fewer[0], fewer[1]) = (txProofs[0], txProofs[1]);
        Delivery memory d = _load(0);
        vm.expectRevert(abi.encodeWithSelector(IMailbox.LengthMismatch.selector, 3, 2));
        mailbox.deliverBatch(messages, d.header, fewer, d.historyProof, d.historyRoot);
    }

    /// @notice Every message's transaction is checked; one that does not verify reverts the batch.
    function test_deliverBatch_revertsWhenATransactionProofFails() public {
        Delivery[] memory ds = _range(0, 3);
        ds[2].txProof = ds[1].txProof;
        vm.expectPartialRevert(Inclusion.TransactionNotInNamespace.selector);
        _deliverBatch(mailbox, ds);
        vm.assertEq(mailbox.inboxNonce(SRC_CHAIN), 0, "nothing received");
    }

    /// @notice A namespace leaf other than the previous message's has its path checked: here a
    /// made-up leaf whose transaction tree holds only the third message.
    function test_deliverBatch_revertsWhenANewNamespaceLeafIsNotInThePayload() public {
        Delivery[] memory ds = _range(0, 3);
        bytes32[] memory only = new bytes32[](1);
        only[0] = keccak256(abi.encode(Transaction(SRC_NS, abi.encode(ds[2].message))));
        ds[2].txProof.txProof = MerkleReference.proof(only, 0);
        ds[2].txProof.namespaceProof.leaf.txCount = 1;
        ds[2].txProof.namespaceProof.leaf.txRoot = MerkleReference.root(only);
        vm.expectPartialRevert(Inclusion.NamespaceNotInPayload.selector);
        _deliverBatch(mailbox, ds);
    }

    /// @notice The header is checked against the history once for all.
    function test_deliverBatch_revertsWhenHeaderNotInHistory() public {
        Delivery[] memory ds = _range(0, 2);
        ds[0].header.timestampMs += 1;
        vm.expectPartialRevert(Inclusion.HeaderNotInHistory.selector);
        _deliverBatch(mailbox, ds);
        ds = _range(0, 2);
        ds[0].historyRoot = keccak256("unknown");
        vm.expectRevert(abi.encodeWithSelector(IMailbox.UnknownHistoryRoot.selector, ds[0].historyRoot));
        _deliverBatch(mailbox, ds);
    }

    // ---------------------------------------------------------------------------------------------
    // retry
    // ---------------------------------------------------------------------------------------------

    /// @notice A failed message is retried once its recipient accepts; a failing retry reverts
    /// and leaves it failed; a delivered one cannot be retried.
    function test_retry_succeedsOnceRecipientFixed() public {
        _deliverFirst(M_TOGGLE);
        toggle.setFailing(true);
        Delivery memory d = _load(M_TOGGLE);
        bytes32 messageHash = _hash(d);
        _deliver(mailbox, d);
        vm.assertTrue(mailbox.failed(messageHash), "stored failed");

        vm.expectRevert(
            abi.encodeWithSelector(
                IMailbox.RecipientReverted.selector,
                messageHash,
                abi.encodeWithSelector(ToggleRecipient.Failing.selector, d.message.nonce)
            )
        );
        mailbox.retry(d.message);
        vm.assertTrue(mailbox.failed(messageHash), "still failed");

        toggle.setFailing(false);
        vm.expectEmit(address(mailbox));
        emit IMailbox.MessageDelivered(messageHash, SRC_CHAIN, address(toggle), d.message.nonce);
        vm.prank(address(0xE7E));
        mailbox.retry(d.message);
        vm.assertFalse(mailbox.failed(messageHash), "no longer failed");
        vm.assertEq(toggle.received(), 1, "received once");
        vm.expectRevert(abi.encodeWithSelector(IMailbox.NotFailed.selector, messageHash));
        mailbox.retry(d.message);
    }

    /// @notice Only messages stored as failed can be retried: not a delivered one, not one never
    /// received, not a tampered copy of a failed one.
    function test_retry_revertsWhenNotFailed() public {
        _deliverFirst(M_TOGGLE);
        Delivery memory d = _load(M_COUNTER);
        vm.expectRevert(abi.encodeWithSelector(IMailbox.NotFailed.selector, _hash(d)));
        mailbox.retry(d.message);
        d = _load(M_SECOND);
        vm.expectRevert(abi.encodeWithSelector(IMailbox.NotFailed.selector, _hash(d)));
        mailbox.retry(d.message);
        d = _load(M_REJECTED);
        d.message.payload = "hello";
        vm.expectRevert(abi.encodeWithSelector(IMailbox.NotFailed.selector, _hash(d)));
        mailbox.retry(d.message);
    }

    function test_retry_revertsWhenNotARecipient() public {
        _deliverFirst(M_EOA + 1);
        Delivery memory d = _load(M_EOA);
        vm.expectRevert(abi.encodeWithSelector(IMailbox.NotARecipient.selector, _hash(d), EOA));
        mailbox.retry(d.message);
        vm.assertTrue(mailbox.failed(_hash(d)), "still failed");
    }

    /// @notice retry gives exactly gasLimit too: too little gas is refused, the message stays failed.
    function test_retry_revertsWhenInsufficientGas() public {
        _deliverFirst(M_TOGGLE);
        toggle.setFailing(true);
        Delivery memory d = _load(M_TOGGLE);
        _deliver(mailbox, d);
        toggle.setFailing(false);
        vm.expectPartialRevert(IMailbox.InsufficientGas.selector);
        mailbox.retry{gas: 200_000}(d.message);
        vm.assertTrue(mailbox.failed(_hash(d)), "still failed");
        mailbox.retry{gas: 400_000}(d.message);
        vm.assertEq(toggle.received(), 1, "retried with enough gas");
    }
}
