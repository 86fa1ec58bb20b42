// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MailboxTestBase, NoopRecipient} from "./utils/MailboxTestBase.sol";
import {MerkleReference} from "./utils/MerkleReference.sol";
import {LightClient} from "../src/LightClient.sol";
import {Mailbox} from "../src/Mailbox.sol";
import {IMailbox, Message} from "../src/interfaces/IMailbox.sol";
import {LightClientState, NamespaceLeaf, NamespaceProof, Transaction, TransactionProof} from "../src/lib/Protocol.sol";

/// @notice Gas of Mailbox.send and Mailbox.deliver, recorded in snapshots/Mailbox.json the way
/// InclusionGasTest measures the inclusion checks: the gas of the call (without the 21,000 base
/// cost and the calldata of a transaction, recorded beside it). The recipient does nothing, so the
/// numbers are the mailbox's own work: light-client lookup, inclusion proof, replay mark, inbox
/// digest, event and the call itself.
/// @dev The message is transaction 500 of 1,000 in its namespace (the other 999 only hashes, the
/// 499th a second real message), in a payload of 16 namespaces, in a history of 2^20 headers
/// whose other subtrees are random hashes (any history of that size has that shape). Everything
/// is deployed in setUp so that the measured calls meet cold storage and accounts, as on chain.
contract MailboxGasTest is MailboxTestBase {
    /// @dev DESIGN.md section 6: at most 90k gas per delivery, excluding the recipient's work.
    uint256 internal constant DELIVER_BUDGET = 90_000;
    uint64 internal constant ROOT_HEIGHT = (1 << 20) - 1;
    uint64 internal constant HEIGHT = 1_000_000;
    uint256 internal constant PAYLOAD_BYTES = 128;

    /// @dev A mailbox that has delivered one message from SRC_CHAIN already, and one that has not.
    Mailbox internal warmMailbox;
    Mailbox internal freshMailbox;
    Delivery internal measured;

    /// @notice Builds the scenario, deploys two destination mailboxes and delivers the first
    /// message to one of them; sends one message from the source mailbox.
    function setUp() public {
        _deploySource();
        address recipient = address(new NoopRecipient());
        Message memory first = _send(ALICE, DEST_CHAIN, recipient, 1, _payload("first"));
        Message memory second = _send(ALICE, DEST_CHAIN, recipient, 2, _payload("second"));

        bytes32[] memory txHashes = new bytes32[](1_000);
        for (uint256 i = 0; i < txHashes.length; ++i) {
            txHashes[i] = keccak256(abi.encode("tx", i));
        }
        txHashes[499] = _txHash(abi.encode(first));
        txHashes[500] = _txHash(abi.encode(second));
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
        warmMailbox = new Mailbox(lc, address(this));
        freshMailbox = new Mailbox(lc, address(this));
        warmMailbox.setSourceNamespace(SRC_CHAIN, SRC_NS);
        freshMailbox.setSourceNamespace(SRC_CHAIN, SRC_NS);

        d.message = first;
        d.txProof = TransactionProof({txProof: MerkleReference.proof(txHashes, 499), namespaceProof: namespaceProof});
        _deliver(warmMailbox, d);

        d.message = second;
        d.txProof = TransactionProof({txProof: MerkleReference.proof(txHashes, 500), namespaceProof: namespaceProof});
        vm.assertEq(d.txProof.txProof.siblings.length, 10, "tx path");
        vm.assertEq(d.txProof.namespaceProof.proof.siblings.length, 4, "namespace path");
        vm.assertEq(d.historyProof.siblings.length, 20, "history path");
        measured = d;
    }

    function _payload(string memory tag) internal pure returns (bytes memory p) {
        p = new bytes(PAYLOAD_BYTES);
        bytes32 word = keccak256(bytes(tag));
        for (uint256 i = 0; i < PAYLOAD_BYTES; ++i) {
            p[i] = word[i % 32];
        }
    }

    function _txHash(bytes memory payload) internal pure returns (bytes32) {
        return keccak256(abi.encode(Transaction({namespace: SRC_NS, payload: payload})));
    }

    /// @notice A delivery to a mailbox that already holds messages from the source chain: the
    /// steady state (the replay mark is a new slot, the inbox digest an existing one).
    function test_gas_deliver_1000tx_16ns_2pow20() public {
        Delivery memory d = measured;
        _deliver(warmMailbox, d);
        uint256 gasUsed = vm.snapshotGasLastCall("Mailbox", "deliver_1000tx_16ns_2pow20");
        vm.assertLe(gasUsed, DELIVER_BUDGET, "deliver within budget");
        vm.assertTrue(warmMailbox.delivered(keccak256(abi.encode(d.message))), "delivered");
        bytes memory data =
            abi.encodeCall(IMailbox.deliver, (d.message, d.header, d.txProof, d.historyProof, d.historyRoot));
        vm.snapshotValue("Mailbox", "deliver_1000tx_16ns_2pow20_calldataBytes", data.length);
        vm.snapshotValue("Mailbox", "deliver_1000tx_16ns_2pow20_calldataGas", _calldataGas(data));
    }

    /// @notice The first delivery from a source chain also creates its inbox digest slot.
    function test_gas_deliver_firstFromSource() public {
        _deliver(freshMailbox, measured);
        vm.snapshotGasLastCall("Mailbox", "deliver_1000tx_16ns_2pow20_firstFromSource");
    }

    /// @notice A send to a chain the mailbox has sent to before (nonce and digest slots exist).
    function test_gas_send() public {
        bytes memory payload = _payload("third");
        vm.chainId(SRC_CHAIN);
        srcMailbox.send(DEST_CHAIN, ALICE, 3, payload);
        vm.snapshotGasLastCall("Mailbox", "send_128B");
    }

    /// @notice The first send to a chain creates its nonce and digest slots.
    function test_gas_send_firstToDestination() public {
        bytes memory payload = _payload("third");
        vm.chainId(SRC_CHAIN);
        srcMailbox.send(OTHER_CHAIN, ALICE, 3, payload);
        vm.snapshotGasLastCall("Mailbox", "send_128B_firstToDestination");
    }

    /// @dev Calldata cost under EIP-2028 (16 per non-zero byte, 4 per zero byte).
    function _calldataGas(bytes memory data) internal pure returns (uint256 total) {
        for (uint256 k = 0; k < data.length; ++k) {
            total += data[k] == 0 ? 4 : 16;
        }
    }
}
