// Blocks and transactions: the recent blocks, a block's page (`trestle_block` and its
// certificate, `trestle_finality`), a transaction's page (`trestle_txProof`: its block, its
// inclusion proof and the `trestle confirm` command that checks it), and the search box.
//
// A 32-byte hash is looked up as a transaction (`trestle_txProof`), then as a block's header
// hash or consensus digest (`trestle_blockHeightByHash`), so any finalized block is found.

import { ApiError, byteLength, clock, el, fill, printable, short, size } from "./rpc.js";
import { ask, blockSize } from "./live.js";

const HASH = /^0x[0-9a-fA-F]{64}$/;

/** `77×2, 901×1`: the namespaces of a block's transactions with their counts. */
/** A block summary's namespaces, as `namespace×transactions`. */
function namespaces(summary) {
  return summary.namespaces.map((ns) => `${ns.namespace}×${ns.transactions}`).join(", ");
}

/** A full block's namespaces, as `namespace×transactions`. */
function blockNamespaces(block) {
  const counts = new Map();
  for (const tx of block.transactions) counts.set(tx.namespace, (counts.get(tx.namespace) ?? 0) + 1);
  return [...counts].sort((a, b) => a[0] - b[0]).map(([ns, n]) => `${ns}×${n}`).join(", ");
}

export function renderRecentBlocks(state) {
  const heights = [...state.blocks.keys()].sort((a, b) => b - a).slice(0, 20);
  fill(
    "recent-blocks",
    heights.map((h) => {
      const block = state.blocks.get(h);
      const header = block.header.header;
      return el("tr", { "data-height": h },
        el("td", { class: "num" }, el("a", { href: `#/block/${h}` }, h)),
        el("td", {}, clock(header.timestampMs)),
        el("td", { class: "mono", title: block.header.hash }, short(block.header.hash)),
        el("td", { class: "num" }, block.transactions),
        el("td", {}, namespaces(block) || "–"),
        el("td", { class: "num" }, size(blockSize(block))));
    }),
  );
}

/** A two-column table of `[label, value]` rows. */
function fields(rows) {
  return el("table", { class: "fields" },
    el("tbody", {}, rows.map(([label, value, attributes]) =>
      el("tr", {}, el("th", {}, label), el("td", attributes ?? { class: "mono" }, value)))));
}

function message(text, kind = "error") {
  return el("p", { class: kind, id: "search-message" }, text);
}

export async function showBlock(state, text) {
  if (!/^\d+$/.test(text)) {
    fill("page", message(`"${text}" is not a block height`));
    return;
  }
  const height = Number(text);
  // The page holds summaries only: the block itself is asked for when it is shown.
  const { result: block, index } = await ask(state, "trestle_block", [height]);
  if (!block) {
    fill("page", message(`No finalized block at height ${height} yet: the network's finalized height is ${state.tip ?? "unknown"}.`));
    return;
  }
  let certificate = null;
  try {
    certificate = (await ask(state, "trestle_finality", [height])).result;
  } catch (e) {
    certificate = { error: e.message };
  }
  const h = block.header.header;
  const txs = block.transactions.map((tx) =>
    el("tr", {},
      el("td", { class: "mono" }, el("a", { href: `#/tx/${tx.hash}` }, short(tx.hash))),
      el("td", { class: "num" }, tx.namespace),
      el("td", { class: "num" }, size(byteLength(tx.payload))),
      el("td", {}, preview(tx.payload)),
      el("td", {}, tx.authorization ? "owner-signed" : "–")));
  fill("page",
    el("h2", { id: "block-page", "data-height": height }, `Block ${height}`),
    fields([
      ["hash", block.header.hash],
      ["time", `${new Date(h.timestampMs).toISOString()} (proposer's clock)`, {}],
      ["epoch · view", `${h.epoch} · ${h.view}`, {}],
      ["parent", h.height > 0 ? el("a", { href: `#/block/${h.height - 1}` }, h.parent) : h.parent],
      ["payload root", h.payloadRoot],
      ["history root", h.historyRoot],
      ["committee", h.committee],
      ["consensus digest", block.digest],
      ["L1 block", block.l1Block ? `${block.l1Block} (${block.l1Hash})` : "none", {}],
      ["size", `${size(blockSize(block))} (canonical encoding), ${block.transactions.length} transactions`, {}],
      ["namespaces", blockNamespaces(block) || "none", {}],
      ["certificate", certificate?.error ? `unavailable: ${certificate.error}`
        : certificate ? `epoch ${certificate.epoch}, view ${certificate.view}, signers ${certificate.signers.join(", ")} (trestle_finality)`
        : "none", {}],
      ["served by", `node${index}`, {}],
    ]),
    el("h3", {}, "Transactions"),
    txs.length
      ? el("table", {}, el("thead", {}, el("tr", {}, ["hash", "namespace", "size", "payload", "authorization"].map((t) => el("th", {}, t)))), el("tbody", {}, txs))
      : el("p", { class: "muted" }, "none"));
}

function preview(payload) {
  const text = printable(payload);
  if (text !== null) return text.length > 60 ? `"${text.slice(0, 60)}…"` : `"${text}"`;
  return short(payload);
}

/** A Merkle proof as rows: position and siblings. */
function merkle(proof) {
  return [
    `leaf ${proof.index} of ${proof.count}`,
    proof.siblings.length ? el("ol", { class: "mono siblings" }, proof.siblings.map((s) => el("li", {}, s))) : el("span", { class: "muted" }, " (no siblings: the only leaf)"),
  ];
}

/** The `trestle confirm` command line that checks the transaction natively. */
export function confirmCommand(state, index, namespace, hash) {
  const genesis = state.config.genesis ? ` --genesis ${state.config.genesis}` : "";
  return `trestle confirm --rpc ${state.config.validators[index]} --namespace ${namespace} --tx ${hash}${genesis}`;
}

export async function showTx(state, text) {
  if (!HASH.test(text)) {
    fill("page", message(`"${text}" is not a transaction hash (0x and 64 hex digits)`));
    return;
  }
  const { result: inclusion, index } = await ask(state, "trestle_txProof", [text]);
  if (!inclusion) {
    fill("page", message(`No finalized transaction ${text}: trestle_txProof answered null (unknown, or not finalized yet).`));
    return;
  }
  const tx = inclusion.transaction;
  const proof = inclusion.proof;
  const command = confirmCommand(state, index, tx.namespace, tx.hash);
  const copy = el("button", { type: "button", onclick: () => navigator.clipboard?.writeText(command) }, "copy");
  const text_ = printable(tx.payload);
  fill("page",
    el("h2", { id: "tx-page", "data-hash": tx.hash }, "Transaction"),
    fields([
      ["hash", tx.hash, { class: "mono", "data-field": "hash" }],
      ["block", el("a", { href: `#/block/${inclusion.height}`, "data-field": "height" }, inclusion.height), {}],
      ["block hash", inclusion.header.hash],
      ["namespace", String(tx.namespace), { "data-field": "namespace" }],
      ["payload", `${tx.payload}${text_ !== null ? `  ("${text_}")` : ""}`, { class: "mono wrap" }],
      ["authorization", tx.authorization ?? "none (unowned namespace)"],
    ]),
    el("h3", {}, "Inclusion proof"),
    el("p", { class: "muted" }, "transaction → its namespace's transaction tree (txRoot) → the block's namespace tree (payloadRoot in the header)"),
    fields([
      ["transaction path", merkle(proof.txProof), { class: "mono", "data-field": "tx-proof" }],
      ["namespace leaf", `namespace ${proof.namespaceProof.namespace}, ${proof.namespaceProof.txCount} transactions, txRoot ${proof.namespaceProof.txRoot}`],
      ["namespace path", merkle(proof.namespaceProof.proof), { class: "mono", "data-field": "namespace-proof" }],
      ["payload root", inclusion.header.header.payloadRoot],
      ["encoded proof", proof.encoded, { class: "mono wrap proof", "data-field": "encoded-proof" }],
    ]),
    el("h3", {}, "Check it yourself"),
    el("p", { class: "muted" }, "verifies the transaction, its block's certificate and the signed history against the genesis committee:"),
    el("pre", { id: "confirm-command" }, command),
    copy);
}

/** The search box: a height, a transaction hash or a block hash; anything else is explained. */
export async function search(state, text) {
  const go = (hash) => history.replaceState(null, "", hash);
  if (text === "") {
    fill("page", message("Type a block height (e.g. 42), a transaction hash or a block hash (0x and 64 hex digits)."));
    return;
  }
  if (/^\d+$/.test(text)) {
    if (!Number.isSafeInteger(Number(text))) {
      fill("page", message(`${text} is not a height this network can have.`));
      return;
    }
    go(`#/block/${Number(text)}`);
    return showBlock(state, String(Number(text)));
  }
  if (!HASH.test(text)) {
    const hint = /^0x[0-9a-fA-F]*$/.test(text) ? ` (it has ${text.length - 2} hex digits, a hash has 64)` : "";
    fill("page", message(`"${text}" is neither a block height nor a 32-byte hash${hint}. Search by height (a number), transaction hash or block hash (0x and 64 hex digits).`));
    return;
  }
  const hash = text.toLowerCase();
  let inclusion = null;
  let height = null;
  try {
    inclusion = (await ask(state, "trestle_txProof", [hash])).result;
    if (!inclusion) height = (await ask(state, "trestle_blockHeightByHash", [hash])).result;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    fill("page", message(`Could not ask the validators: ${e.message}`));
    return;
  }
  if (inclusion) {
    go(`#/tx/${hash}`);
    return showTx(state, hash);
  }
  if (height !== null && height !== undefined) {
    go(`#/block/${height}`);
    return showBlock(state, String(height));
  }
  fill("page", message(
    `Unknown hash ${hash}: no finalized transaction has it (trestle_txProof), and no finalized block has it as header hash or consensus digest (trestle_blockHeightByHash).`));
}
