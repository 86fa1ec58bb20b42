// The EVM side, read through each chain's JSON-RPC: the LightClient's height (`eth_call`) and
// the Mailbox's messages (`eth_getLogs`).
//
// The selector and event topics below are keccak256 of the signatures in relayer/abi/*.json;
// the explorer's Rust test recomputes them from those ABI files, so they cannot drift.

import { evm } from "./rpc.js";

/** `LightClient.latestHeight()`. */
export const LATEST_HEIGHT = "0xe405bbc3";
/** `Mailbox.MessageSent(bytes32 indexed messageHash, Message message)`. */
export const MESSAGE_SENT = "0x3d1ddcf060dc6825b9bd1e3e46fec6e3af31847e4e7ab0bc1f31b3e55e33aa3f";
/** `Mailbox.MessageDelivered(bytes32 indexed, uint64 indexed srcChainId, address indexed, uint64 nonce)`. */
export const MESSAGE_DELIVERED = "0xeb33187ab5bafc365d0ebe0c7857dfb99a6cac46910db05336913dd8b8007524";
/** `Mailbox.MessageFailed(bytes32 indexed, uint64 indexed srcChainId, uint64 nonce, bytes reason)`. */
export const MESSAGE_FAILED = "0xdd3919a0e066a3202dae312c9c7175e686ca80047332cc815da12646230d0451";

/** How far back the first reading of a chain's logs goes (blocks), and the most per request. */
const HISTORY = 50_000;
const SPAN = 10_000;

/** The 32-byte word `i` of 0x-hex `data`, as a BigInt. */
function word(data, i) {
  const hex = data.slice(2 + 64 * i, 2 + 64 * (i + 1));
  return hex.length === 64 ? BigInt(`0x${hex}`) : null;
}

function bytesAt(data, offset) {
  const start = 2 + 2 * offset;
  const length = Number(BigInt(`0x${data.slice(start, start + 64) || "0"}`));
  return `0x${data.slice(start + 64, start + 64 + 2 * length)}`;
}

/** The LightClient's latest height on `chain`. */
export async function lightClientHeight(chain) {
  const answer = await evm(chain.chainId, "eth_call", [{ to: chain.lightClient, data: LATEST_HEIGHT }, "latest"]);
  const height = word(answer, 0);
  if (height === null) throw new Error(`latestHeight() answered ${answer}`);
  return Number(height);
}

/**
 * Reads the Mailbox events of `chain` since the last reading into `book`:
 * `book.messages` (hash -> message) and the per-chain cursor `book.cursors`.
 */
export async function readMailbox(chain, book) {
  const latest = Number(BigInt(await evm(chain.chainId, "eth_blockNumber")));
  let from = book.cursors.get(chain.chainId) ?? Math.max(0, latest - HISTORY);
  while (from <= latest) {
    const to = Math.min(latest, from + SPAN - 1);
    const logs = await evm(chain.chainId, "eth_getLogs", [{
      address: chain.mailbox,
      fromBlock: `0x${from.toString(16)}`,
      toBlock: `0x${to.toString(16)}`,
      topics: [[MESSAGE_SENT, MESSAGE_DELIVERED, MESSAGE_FAILED]],
    }]);
    for (const log of logs) await record(chain, log, book);
    from = to + 1;
    book.cursors.set(chain.chainId, from);
  }
}

/** The time of `log`'s block (ms): the log's `blockTimestamp` where the node gives it. */
async function timeOf(chain, log, book) {
  if (log.blockTimestamp) return Number(BigInt(log.blockTimestamp)) * 1000;
  const key = `${chain.chainId}:${log.blockNumber}`;
  if (!book.blockTimes.has(key)) {
    const block = await evm(chain.chainId, "eth_getBlockByNumber", [log.blockNumber, false]);
    book.blockTimes.set(key, Number(BigInt(block.timestamp)) * 1000);
  }
  return book.blockTimes.get(key);
}

function entry(book, hash) {
  if (!book.messages.has(hash)) book.messages.set(hash, { hash, state: "pending" });
  return book.messages.get(hash);
}

async function record(chain, log, book) {
  const [topic, hashTopic, srcTopic] = log.topics;
  const hash = hashTopic?.toLowerCase();
  if (!hash) return;
  const at = await timeOf(chain, log, book);
  if (topic === MESSAGE_SENT) {
    // data: the offset of the Message tuple (it holds bytes), then its head:
    // srcChainId, destChainId, srcAddress, destAddress, sessionId, nonce, destMailbox,
    // gasLimit, payload offset (from the tuple's start).
    const m = entry(book, hash);
    m.src = Number(word(log.data, 1));
    m.dest = Number(word(log.data, 2));
    m.nonce = Number(word(log.data, 6));
    m.payload = bytesAt(log.data, 32 + Number(word(log.data, 9)));
    m.sentAt = at;
    m.sentTx = log.transactionHash;
  } else if (topic === MESSAGE_DELIVERED || topic === MESSAGE_FAILED) {
    const m = entry(book, hash);
    m.src ??= Number(BigInt(srcTopic));
    m.dest = chain.chainId;
    m.nonce ??= Number(word(log.data, 0));
    // A failed message that is retried later is delivered: the delivery wins.
    if (topic === MESSAGE_DELIVERED || m.state !== "delivered") {
      m.state = topic === MESSAGE_DELIVERED ? "delivered" : "failed";
      m.receivedAt = at;
      m.receivedTx = log.transactionHash;
    }
  }
}
