// Cross-chain: per EVM chain its LightClient's height next to the network's, the messages
// of every route (sent, pending, delivered, failed, with their latency: the receiving block's
// timestamp minus the sending block's, so whole seconds on chains with 1-s timestamps), and
// the relayer's own view (`/status`: posting, proving, pending; `/messages?failed`: the
// messages parked with a failing recipient until someone retries them).

import { clock, duration, el, fill, getJson, median, printable, short } from "./rpc.js";
import { lightClientHeight, readMailbox } from "./evm.js";

const CHAINS_EVERY_MS = 2000;
const RELAYER_EVERY_MS = 2000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function startChains(state) {
  state.book = { messages: new Map(), cursors: new Map(), blockTimes: new Map() };
  state.chainViews = new Map();
  state.relayer = { status: null, pending: [], parked: [], error: null };
  pollChains(state);
  pollRelayer(state);
}

async function pollChains(state) {
  for (;;) {
    const chains = state.config?.chains ?? [];
    await Promise.all(chains.map((chain) => readChain(state, chain)));
    renderChains(state);
    renderMessages(state);
    await sleep(CHAINS_EVERY_MS);
  }
}

async function readChain(state, chain) {
  const view = state.chainViews.get(chain.chainId) ?? { lightClient: null, error: null };
  state.chainViews.set(chain.chainId, view);
  try {
    if (chain.lightClient) view.lightClient = await lightClientHeight(chain);
    if (chain.mailbox) await readMailbox(chain, state.book);
    view.error = null;
    view.okAt = Date.now();
    state.problems.delete(`chain${chain.chainId}`);
  } catch (e) {
    view.error = e.message;
    state.problems.set(`chain${chain.chainId}`, `${chain.name}: ${e.message}`);
  }
  state.renderBanner();
}

async function pollRelayer(state) {
  for (;;) {
    if (state.config?.relayer) {
      try {
        state.relayer.status = await getJson("/api/relayer/status");
        state.relayer.pending = (await getJson("/api/relayer/messages")).messages ?? [];
        state.relayer.parked = (await getJson("/api/relayer/messages?failed")).messages ?? [];
        state.relayer.error = null;
        state.relayer.okAt = Date.now();
        state.problems.delete("relayer");
      } catch (e) {
        state.relayer.error = e.message;
        const last = state.relayer.status ? " (showing what it last said)" : "";
        state.problems.set("relayer", `relayer: ${e.message}${last}`);
      }
      state.renderBanner();
    }
    renderRelayer(state);
    await sleep(RELAYER_EVERY_MS);
  }
}

function chainName(state, id) {
  return state.config.chains.find((c) => c.chainId === id)?.name ?? `chain ${id}`;
}

function renderChains(state) {
  const chains = state.config?.chains ?? [];
  if (!chains.length) {
    fill("chains", el("tr", {}, el("td", { colspan: 7, class: "muted" }, "no EVM chains configured (--chains devnet.json), or not deployed yet")));
    return;
  }
  const relayed = new Map((state.relayer.status?.chains ?? []).map((c) => [c.chain_id, c]));
  fill("chains", chains.map((chain) => {
    const view = state.chainViews.get(chain.chainId) ?? {};
    const lag = view.lightClient !== null && view.lightClient !== undefined && state.tip !== null ? state.tip - view.lightClient : null;
    const r = relayed.get(chain.chainId);
    return el("tr", { "data-chain": chain.chainId },
      el("td", {}, chain.name),
      el("td", { class: "mono", title: chain.lightClient ?? "" }, chain.lightClient ? short(chain.lightClient) : "–"),
      el("td", { class: "num lc-height" }, view.lightClient ?? "–"),
      el("td", { class: "num" }, state.tip ?? "–"),
      el("td", { class: "num" }, lag === null ? "–" : lag),
      el("td", { class: "num" }, r?.proven_height ?? "–"),
      el("td", { class: view.error ? "error" : "muted" }, view.error ?? (view.okAt ? `read ${clock(view.okAt)}` : "…")));
  }));
}

function latencyOf(m) {
  return m.sentAt !== undefined && m.receivedAt !== undefined ? m.receivedAt - m.sentAt : null;
}

function renderMessages(state) {
  const messages = [...state.book.messages.values()].filter((m) => m.src !== undefined);
  const routes = new Map();
  for (const m of messages) {
    const key = `${m.src}→${m.dest}`;
    if (!routes.has(key)) routes.set(key, { src: m.src, dest: m.dest, sent: 0, delivered: 0, failed: 0, latencies: [] });
    const route = routes.get(key);
    if (m.sentAt !== undefined) route.sent += 1;
    if (m.state === "delivered") route.delivered += 1;
    if (m.state === "failed") route.failed += 1;
    if (latencyOf(m) !== null) route.latencies.push(latencyOf(m));
  }
  fill("routes", routes.size
    ? [...routes.values()].map((r) =>
      el("tr", { "data-route": `${r.src}-${r.dest}` },
        el("td", {}, `${chainName(state, r.src)} → ${chainName(state, r.dest)}`),
        el("td", { class: "num" }, r.sent),
        el("td", { class: "num" }, Math.max(0, r.sent - r.delivered - r.failed)),
        el("td", { class: "num" }, r.delivered),
        el("td", { class: "num" }, r.failed),
        el("td", { class: "num" }, duration(median(r.latencies))),
        el("td", { class: "num" }, duration(r.latencies.length ? Math.max(...r.latencies) : null))))
    : el("tr", {}, el("td", { colspan: 7, class: "muted" }, "no messages sent yet")));
  const carried = new Map(state.relayer.pending.map((p) => [p.hash.toLowerCase(), p]));
  const demo = state.config.demo?.messageHash?.toLowerCase();
  const newest = messages.sort((a, b) => (b.sentAt ?? 0) - (a.sentAt ?? 0)).slice(0, 30);
  fill("messages", newest.map((m) => {
    const pending = carried.get(m.hash);
    const text = m.payload ? printable(m.payload) : null;
    const where = pending?.tx_hash
      ? el("a", { href: `#/tx/${pending.tx_hash}` }, `trestle tx ${short(pending.tx_hash)}${pending.included_height !== null && pending.included_height !== undefined ? ` @ ${pending.included_height}` : ""}`)
      : m.receivedTx ? `tx ${short(m.receivedTx)}` : "";
    return el("tr", { "data-hash": m.hash, "data-state": m.state },
      el("td", { class: "mono", title: m.hash }, short(m.hash), m.hash === demo ? el("span", { class: "tag" }, "demo") : null),
      el("td", {}, `${chainName(state, m.src)} → ${chainName(state, m.dest)}`),
      el("td", { class: "num" }, m.nonce ?? "–"),
      el("td", {}, text !== null ? `"${text.slice(0, 40)}"` : short(m.payload ?? "")),
      el("td", {}, el("span", { class: `badge ${m.state}` }, m.state)),
      el("td", { class: "num" }, duration(latencyOf(m))),
      el("td", { class: "mono" }, where));
  }));
}

function renderRelayer(state) {
  const { status, parked, error } = state.relayer;
  if (!state.config?.relayer) {
    fill("relayer", el("p", { class: "muted" }, "no relayer configured (--relayer-status URL, or a chains file naming one)"));
    return;
  }
  const note = error ? el("p", { class: "error", id: "relayer-error" }, `relayer unreachable: ${error}${status ? " — last status below" : ""}`) : null;
  if (!status) {
    fill("relayer", note ?? el("p", { class: "muted" }, "asking the relayer…"));
    return;
  }
  const chains = status.chains.map((c) =>
    el("tr", {},
      el("td", {}, c.name),
      el("td", { class: "num" }, c.posted ? c.posted[0] : "–"),
      el("td", { class: "num" }, c.unfinalized),
      el("td", { class: "num" }, c.pending),
      el("td", { class: "num" }, duration(c.oldest_pending_ms ?? null)),
      el("td", { class: "num" }, c.failed),
      el("td", { class: "num" }, c.light_client_height ?? "–"),
      el("td", { class: "num" }, c.proven_height ?? "–")));
  const loops = status.loops.map((l) =>
    el("li", { class: l.consecutive_failures ? "error" : "" },
      `${l.role}/${l.label}: ${l.consecutive_failures ? `${l.consecutive_failures} failures — ${l.last_error ?? ""}` : "ok"}`));
  const parkedRows = parked.map((m) =>
    el("tr", { "data-hash": m.hash.toLowerCase() },
      el("td", { class: "mono", title: m.hash }, short(m.hash)),
      el("td", {}, `${chainName(state, m.src_chain_id)} → ${chainName(state, m.dest_chain_id)}`),
      el("td", { class: "num" }, m.nonce),
      el("td", {}, m.reason ?? "–"),
      el("td", {}, m.since_ms ? clock(m.since_ms) : "–"),
      el("td", { class: "mono" }, `trestle relayer retry ${m.hash}`)));
  fill("relayer",
    note,
    el("p", { class: "muted" }, `relayer ${status.version} (${status.roles.join(", ")}) · network endpoint ${status.network.current} · finalized ${status.network.finalized_height ?? "–"} · ${status.pending} pending · ${status.failed} parked · ${status.delivered} received`),
    el("table", {},
      el("thead", {}, el("tr", {}, ["chain", "posted block", "unfinalized", "pending to it", "oldest pending", "parked", "light client", "proven"].map((h) => el("th", {}, h)))),
      el("tbody", {}, chains)),
    el("ul", { class: "loops" }, loops),
    el("h3", {}, "Parked messages"),
    el("p", { class: "muted" }, "received with a failing recipient; the mailbox keeps them until someone retries them (run the command on the relayer's host)"),
    parkedRows.length
      ? el("table", { id: "parked" }, el("thead", {}, el("tr", {}, ["message", "route", "nonce", "reason", "since", "retry"].map((h) => el("th", {}, h)))), el("tbody", {}, parkedRows))
      : el("p", { class: "muted", id: "parked" }, "none"));
}
