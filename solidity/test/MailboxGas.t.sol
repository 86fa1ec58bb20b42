// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MailboxTestBase, NoopRecipient} from "./utils/MailboxTestBase.sol";
import {MerkleReference} from "./utils/MerkleReference.sol";
import {LightClient} from "../src/LightClient.sol";
import {Mailbox} from "../src/Mailbox.sol";
import {IMailbox, Message} from "../src/interfaces/IMailbox.sol";
import {LightClientState, NamespaceLeaf, NamespaceProof, Transaction, TransactionProof} from "../src/lib/Protocol.sol";

/// @notice Gas of Mailbox.send, deliver and deliverBatch, recorded in snapshots/Mailbox.json the
/// way InclusionGasTest measures the inclusion checks: the gas of the call (without the 21,000
/// base cost and the calldata of a transaction, recorded beside it). The recipient does nothing,
/// so the numbers are the mailbox's own work: light-client lookup, inclusion proofs, inbox nonce
/// and digest, event and the call itself.
/// @dev The messages are transactions 499..510 of 1,000 in their namespace (the others only
/// hashes), in a payload of 16 namespaces, in a history of 2^20 headers whose other subtrees are
/// random hashes (any history of that size has that shape). Everything is deployed in setUp so
/// that the measured calls meet cold storage and accounts, as on chain.
contract MailboxGasTest is MailboxTestBase {
    /// @dev DESIGN.md section 6: at most 50k gas per delivery alone, 30k per message in a batch
    /// of 10, excluding the recipient's work.
    uint256 internal constant DELIVER_BUDGET = 50_000;
    uint256 internal constant BATCH_BUDGET_PER_MESSAGE = 30_000;
    uint256 internal constant BATCH = 10;
    uint64 internal constant ROOT_HEIGHT = (1 << 20) - 1;
    uint64 internal constant HEIGHT = 1_000_000;
    uint256 internal constant PAYLOAD_BYTES = 128;
    uint256 internal constant FIRST = 499;

    /// @dev A mailbox that has received one message from SRC_CHAIN already, and one that has not.
    Mailbox internal warmMailbox;
    Mailbox internal freshMailbox;
    /// @dev abi.encode(Delivery) of warmMailbox's messages 1..10 (transactions 500..509).
    bytes[] internal measured;
    /// @dev abi.encode(Delivery) of freshMailbox's first message (transaction 510).
    bytes internal freshFirst;

    /// @notice Builds the scenario, deploys two destination mailboxes and delivers the first
    /// message to one of them.
    function setUp() public {
        _deploySource();
        address recipient = address(new NoopRecipient());
        // The light client and the two mailboxes are deployed next, in this order.
        uint256 nonce = vm.getNonce(address(this));
        address warm = vm.computeCreateAddress(address(this), nonce + 1);
        address fresh = vm.computeCreateAddress(address(this), nonce + 2);
        Message[] memory messages = new Message[](BATCH + 2);
        destMailbox = warm;
        for (uint128 i = 0; i <= BATCH; ++i) {
            messages[i] = _send(ALICE, DEST_CHAIN, recipient, i, _payload(i));
        }
        destMailbox = fresh;
        messages[BATCH + 1] = _send(ALICE, DEST_CHAIN, recipient, 99, _payload(99));

        bytes32[] memory txHashes = new bytes32[](1_000);
        for (uint256 i = 0; i < txHashes.length; ++i) {
            txHashes[i] = keccak256(abi.encode("tx", i));
        }
        for (uint256 i = 0; i < messages.length; ++i) {
            txHashes[FIRST + i] = _txHash(abi.encode(messages[i]));
        }
        NamespaceLeaf memory leaf =
            NamespaceLeaf({namespace: SRC_NS, txCount: 1_000, txRoot: MerkleReference.root(txHashes)});
        bytes32[] memory digests = new bytes32[](16);
        for (uint256 j = 0; j < 16; ++j) {
            digests[j] = keccak256(
                abi.encode(
                    NamespaceLeaf({
                        namespace: MerkleReference.u64(1_000 + j), txCount: 7, txRoot: keccak256(abi.encode("ns", j))
                    })
                )
            );
        }
        digests[5] = keccak256(abi.encode(leaf));
        bytes32 payloadRoot = MerkleReference.root(digests);

        Delivery memory d;
        d.header = _trestleHeader(HEIGHT, payloadRoot);
        (d.historyProof, d.historyRoot) =
            _historyProof(HEIGHT, ROOT_HEIGHT, keccak256(abi.encode(d.header)), "mailbox gas");
        NamespaceProof memory namespaceProof = NamespaceProof({leaf: leaf, proof: MerkleReference.proof(digests, 5)});

        LightClient lc = new LightClient(
            LightClientState(TRESTLE_CHAIN, ROOT_HEIGHT / 1000, ROOT_HEIGHT, d.historyRoot, COMMITTEE),
            COMMITTEE,
            1000,
            verifier
        );
        warmMailbox = new Mailbox(lc, address(this), MAX_MESSAGE_BYTES, MAX_GAS_LIMIT);
        freshMailbox = new Mailbox(lc, address(this), MAX_MESSAGE_BYTES, MAX_GAS_LIMIT);
        vm.assertEq(address(warmMailbox), warm, "warm mailbox address");
        vm.assertEq(address(freshMailbox), fresh, "fresh mailbox address");
        warmMailbox.setSourceNamespace(SRC_CHAIN, SRC_NS);
        freshMailbox.setSourceNamespace(SRC_CHAIN, SRC_NS);

        for (uint256 i = 0; i < messages.length; ++i) {
            d.message = messages[i];
            d.txProof =
                TransactionProof({txProof: MerkleReference.proof(txHashes, FIRST + i), namespaceProof: namespaceProof});
            if (i == 0) _deliver(warmMailbox, d);
            else if (i <= BATCH) measured.push(abi.encode(d));
            else freshFirst = abi.encode(d);
        }
        vm.assertEq(d.txProof.txProof.siblings.length, 10, "tx path");
        vm.assertEq(d.txProof.namespaceProof.proof.siblings.length, 4, "namespace path");
        vm.assertEq(d.historyProof.siblings.length, 20, "history path");
    }

    function _payload(uint256 tag) internal pure returns (bytes memory p) {
        p = new bytes(PAYLOAD_BYTES);
        bytes32 word = keccak256(abi.encode(tag));
        for (uint256 i = 0; i < PAYLOAD_BYTES; ++i) {
            p[i] = word[i % 32];
        }
    }

    function _txHash(bytes memory payload) internal pure returns (bytes32) {
        return keccak256(abi.encode(Transaction({namespace: SRC_NS, payload: payload})));
    }

    function _measured(uint256 i) internal view returns (Delivery memory) {
        return abi.decode(measured[i], (Delivery));
    }

    /// @notice A delivery to a mailbox that already holds messages from the source chain: the
    /// steady state (the inbox nonce and digest slots exist).
    function test_gas_deliver_1000tx_16ns_2pow20() public {
        Delivery memory d = _measured(0);
        _deliver(warmMailbox, d);
        uint256 gasUsed = vm.snapshotGasLastCall("Mailbox", "deliver_1000tx_16ns_2pow20");
        vm.assertLe(gasUsed, DELIVER_BUDGET, "deliver within budget");
        vm.assertEq(warmMailbox.inboxNonce(SRC_CHAIN), 2, "received");
        vm.assertFalse(warmMailbox.failed(keccak256(abi.encode(d.message))), "delivered");
        bytes memory data =
            abi.encodeCall(IMailbox.deliver, (d.message, d.header, d.txProof, d.historyProof, d.historyRoot));
        vm.snapshotValue("Mailbox", "deliver_1000tx_16ns_2pow20_calldataBytes", data.length);
        vm.snapshotValue("Mailbox", "deliver_1000tx_16ns_2pow20_calldataGas", _calldataGas(data));
    }

    /// @notice The first delivery from a source chain also creates its inbox digest slot.
    function test_gas_deliver_firstFromSource() public {
        _deliver(freshMailbox, abi.decode(freshFirst, (Delivery)));
        vm.snapshotGasLastCall("Mailbox", "deliver_1000tx_16ns_2pow20_firstFromSource");
        vm.assertEq(freshMailbox.inboxNonce(SRC_CHAIN), 1, "received");
    }

    /// @notice Ten messages of one block (one namespace) in one deliverBatch: the header, its
    /// history path and the namespace path are checked once.
    function test_gas_deliverBatch_10_1000tx_16ns_2pow20() public {
        Delivery[] memory ds = new Delivery[](BATCH);
        for (uint256 i = 0; i < BATCH; ++i) {
            ds[i] = _measured(i);
        }
        _deliverBatch(warmMailbox, ds);
        uint256 gasUsed = vm.snapshotGasLastCall("Mailbox", "deliverBatch_10_1000tx_16ns_2pow20");
        vm.snapshotValue("Mailbox", "deliverBatch_10_1000tx_16ns_2pow20_perMessage", gasUsed / BATCH);
        vm.assertLe(gasUsed / BATCH, BATCH_BUDGET_PER_MESSAGE, "batch within budget per message");
        vm.assertEq(warmMailbox.inboxNonce(SRC_CHAIN), BATCH + 1, "all received");
        (Message[] memory messages, TransactionProof[] memory txProofs) = _batch(ds);
        bytes memory data = abi.encodeCall(
            IMailbox.deliverBatch, (messages, ds[0].header, txProofs, ds[0].historyProof, ds[0].historyRoot)
        );
        vm.snapshotValue("Mailbox", "deliverBatch_10_1000tx_16ns_2pow20_calldataBytes", data.length);
        vm.snapshotValue("Mailbox", "deliverBatch_10_1000tx_16ns_2pow20_calldataGas", _calldataGas(data));
    }

    /// @notice A send on a route the mailbox has sent on before (nonce and digest slots exist).
    function test_gas_send() public {
        bytes memory payload = _payload(1_000);
        vm.chainId(SRC_CHAIN);
        srcMailbox.send(DEST_CHAIN, address(warmMailbox), ALICE, 3, GAS_LIMIT, payload);
        vm.snapshotGasLastCall("Mailbox", "send_128B");
    }

    /// @notice The first send on a route creates its nonce and digest slots.
    function test_gas_send_firstOnRoute() public {
        bytes memory payload = _payload(1_000);
        vm.chainId(SRC_CHAIN);
        srcMailbox.send(OTHER_CHAIN, address(warmMailbox), ALICE, 3, GAS_LIMIT, payload);
        vm.snapshotGasLastCall("Mailbox", "send_128B_firstOnRoute");
    }

    /// @dev Calldata cost under EIP-2028 (16 per non-zero byte, 4 per zero byte).
    function _calldataGas(bytes memory data) internal pure returns (uint256 total) {
        for (uint256 k = 0; k < data.length; ++k) {
            total += data[k] == 0 ? 4 : 16;
        }
    }
}
