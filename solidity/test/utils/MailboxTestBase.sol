// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Test} from "./Test.sol";
import {MerkleReference} from "./MerkleReference.sol";
import {PayloadBuilder} from "./PayloadBuilder.sol";
import {LightClient} from "../../src/LightClient.sol";
import {Mailbox} from "../../src/Mailbox.sol";
import {LightClientVerifier} from "../../src/generated/LightClientVerifier.sol";
import {IMailbox, Message} from "../../src/interfaces/IMailbox.sol";
import {IMessageRecipient} from "../../src/interfaces/IMessageRecipient.sol";
import {IStateProofVerifier} from "../../src/interfaces/IStateProofVerifier.sol";
import {MerkleTree} from "../../src/lib/MerkleTree.sol";
import {Header, LightClientState, NamespaceLeaf, Transaction, TransactionProof} from "../../src/lib/Protocol.sol";

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

/// @notice A recipient that catches the failure of its own expensive work (as an application may
/// do, to record the failure), so that onMessage returns success either way: with less gas than
/// the message's gasLimit it would "succeed" without the work, which the mailbox must prevent.
contract CatchingRecipient is IMessageRecipient {
    /// @notice Storage slots the work writes (about 22,100 gas each).
    uint256 public constant SLOTS = 8;
    /// @notice Gas the work needs, with some margin: what the message's gasLimit should give.
    uint64 public constant GAS_NEEDED = 250_000;

    /// @notice Whether the work was done.
    bool public workDone;
    /// @notice Whether onMessage caught a failure of the work.
    bool public workFailed;
    /// @notice The work's storage.
    mapping(uint256 slot => uint256 value) public written;

    /// @notice The expensive work: only callable by this contract.
    function work() external {
        require(msg.sender == address(this), "only self");
        for (uint256 i = 0; i < SLOTS; ++i) {
            written[i] = i + 1;
        }
        workDone = true;
    }

    /// @inheritdoc IMessageRecipient
    function onMessage(uint64, address, uint128, uint64, bytes calldata) external returns (bytes4) {
        try this.work() {}
        catch {
            workFailed = true;
        }
        return IMessageRecipient.onMessage.selector;
    }
}

/// @notice A recipient that records the gas it was called with.
contract GasRecorder is IMessageRecipient {
    /// @notice gasleft() at the start of the last onMessage.
    uint256 public gasAtEntry;

    /// @inheritdoc IMessageRecipient
    function onMessage(uint64, address, uint128, uint64, bytes calldata) external returns (bytes4) {
        gasAtEntry = gasleft();
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
    /// @dev The payload limit of the mailboxes: trestle's default.
    uint256 internal constant MAX_MESSAGE_BYTES = 1 << 20;
    /// @dev The maximum gas limit of the source mailbox (and of destinations unless said).
    uint64 internal constant MAX_GAS_LIMIT = 10_000_000;
    /// @dev The gas limit of the tests' messages unless said.
    uint64 internal constant GAS_LIMIT = 300_000;

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
    /// @dev The destination mailbox `_send` addresses messages to.
    address internal destMailbox;

    /// @dev Deploys the verifier and, on chain SRC_CHAIN, the source mailbox; returns to DEST_CHAIN.
    function _deploySource() internal {
        vm.chainId(DEST_CHAIN);
        verifier = IStateProofVerifier(address(new LightClientVerifier()));
        vm.chainId(SRC_CHAIN);
        LightClient srcLightClient = new LightClient(
            LightClientState(TRESTLE_CHAIN, 0, 0, keccak256("source genesis"), COMMITTEE), COMMITTEE, 1000, verifier
        );
        srcMailbox = new Mailbox(srcLightClient, address(this), MAX_MESSAGE_BYTES, MAX_GAS_LIMIT);
        vm.chainId(DEST_CHAIN);
    }

    /// @dev `sender` sends a message through the source mailbox (on the source chain) to `to` on
    /// `destChainId`, through `destMailbox`, with GAS_LIMIT; returns it.
    function _send(address sender, uint64 destChainId, address to, uint128 sessionId, bytes memory payload)
        internal
        returns (Message memory)
    {
        return _sendVia(sender, destChainId, destMailbox, to, sessionId, GAS_LIMIT, payload);
    }

    /// @dev `sender` sends a message through the source mailbox (on the source chain); returns it.
    function _sendVia(
        address sender,
        uint64 destChainId,
        address mailbox,
        address to,
        uint128 sessionId,
        uint64 gasLimit,
        bytes memory payload
    ) internal returns (Message memory m) {
        vm.chainId(SRC_CHAIN);
        vm.prank(sender);
        (bytes32 messageHash, uint64 nonce) = srcMailbox.send(destChainId, mailbox, to, sessionId, gasLimit, payload);
        vm.chainId(DEST_CHAIN);
        m = Message({
            srcChainId: SRC_CHAIN,
            destChainId: destChainId,
            srcAddress: sender,
            destAddress: to,
            sessionId: sessionId,
            nonce: nonce,
            destMailbox: mailbox,
            gasLimit: gasLimit,
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

    /// @dev Calls deliverBatch with the messages and transaction proofs of `ds` (all of one
    /// block), and the header and history proof of the first.
    function _deliverBatch(IMailbox mailbox, Delivery[] memory ds) internal returns (bool[] memory skipped) {
        (Message[] memory messages, TransactionProof[] memory txProofs) = _batch(ds);
        Delivery memory first = ds[0];
        return mailbox.deliverBatch(messages, first.header, txProofs, first.historyProof, first.historyRoot);
    }

    /// @dev The messages and transaction proofs of `ds`.
    function _batch(Delivery[] memory ds)
        internal
        pure
        returns (Message[] memory messages, TransactionProof[] memory txProofs)
    {
        messages = new Message[](ds.length);
        txProofs = new TransactionProof[](ds.length);
        for (uint256 i = 0; i < ds.length; ++i) {
            messages[i] = ds[i].message;
            txProofs[i] = ds[i].txProof;
        }
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
