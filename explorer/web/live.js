// The live view: every validator's finalized height (or DOWN), blocks per second, finality
// latency over time (a uPlot chart), the epoch and its committee.
//
// Finality latency is observed: the time this page first saw a height finalized (a validator
// answered `trestle_blockHeight` with it) minus the proposer's timestamp in that height's
// header (`trestle_block`). It includes up to one poll interval (POLL_MS) and any clock skew
// between the proposer and this browser. `trestle_finality` carries no time, only the
// certificate (view, signers), which the view shows for the newest block.

import { byteLength, clock, duration, el, fill, median, rpc, short } from "./rpc.js";

/** How often each live validator is asked for its height. */
const POLL_MS = 400;
/** How often a validator that is down is asked again. */
const RETRY_MS = 1000;
/** Recent blocks kept (the block-hash search scans these). */
export const KEPT_BLOCKS = 300;
/** Latency samples on the chart. */
const SAMPLES = 300;
/** Blocks fetched to catch up after a gap (the rest are skipped). */
const CATCH_UP = 12;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `method` on the validator with the highest height first, then the others that are up,
 * then the rest; the first answer wins. Throws the last error if none answers.
 */
export async function ask(state, method, params = []) {
  const order = [...state.validators].sort(
    (a, b) => Number(b.up === true) - Number(a.up === true) || (b.height ?? -1) - (a.height ?? -1),
  );
  let last = new Error("no validator configured");
  for (const v of order) {
    try {
      return { result: await rpc(v.index, method, params), index: v.index };
    } catch (e) {
      last = e;
      if (e.kind === "rpc") throw e;
    }
  }
  throw last;
}

export function startLive(state) {
  const now = Date.now();
  state.validators = state.config.validators.map((url, index) => ({
    index, url, height: null, up: null, error: null, since: now, heightAt: null,
  }));
  state.latency = { at: [], ms: [] };
  state.chart = makeChart();
  for (const v of state.validators) watch(state, v);
  setInterval(() => renderValidators(state), 500);
}

/** Polls validator `v` forever; a failed poll marks it DOWN until one succeeds. */
async function watch(state, v) {
  for (;;) {
    try {
      const height = await rpc(v.index, "trestle_blockHeight");
      if (v.up !== true) Object.assign(v, { up: true, since: Date.now() });
      if (height !== v.height) Object.assign(v, { height, heightAt: Date.now() });
      v.error = null;
    } catch (e) {
      if (v.up !== false) Object.assign(v, { up: false, since: Date.now() });
      v.error = e.message;
    }
    const down = state.validators.filter((x) => x.up === false);
    if (down.length) {
      const names = down.map((x) => `node${x.index}`).join(", ");
      state.problems.set("validators", `${down.length} of ${state.validators.length} validators DOWN (${names}); the page uses the others`);
    } else {
      state.problems.delete("validators");
    }
    state.renderBanner();
    observeTip(state);
    await sleep(v.up ? POLL_MS : RETRY_MS);
  }
}

/** A new tip: record its latency, fetch its block and the ones in between. */
async function observeTip(state) {
  const up = state.validators.filter((v) => v.up && v.height !== null);
  if (!up.length) return;
  const best = up.reduce((a, b) => (b.height > a.height ? b : a));
  state.best = best.index;
  if (state.tip !== null && best.height <= state.tip) return;
  const seenAt = Date.now();
  const previous = state.tip;
  state.tip = best.height;
  const from = previous === null ? Math.max(0, best.height - 30) : Math.max(previous + 1, best.height - CATCH_UP);
  for (let height = best.height; height >= from; height--) {
    if (state.blocks.has(height)) continue;
    let block;
    try {
      // The summary, not the block: a full block is up to megabytes of payload in hex.
      block = await rpc(best.index, "trestle_blockSummary", [height]);
    } catch {
      continue;
    }
    if (!block) continue;
    state.blocks.set(height, block);
    // The first tip after the page opened may be old news: no latency from it.
    if (height === best.height && previous !== null) {
      state.latency.at.push(seenAt / 1000);
      state.latency.ms.push(Math.max(0, seenAt - block.header.header.timestampMs));
      if (state.latency.at.length > SAMPLES) {
        state.latency.at.shift();
        state.latency.ms.shift();
      }
      state.chart?.setData([state.latency.at, state.latency.ms]);
    }
  }
  for (const height of [...state.blocks.keys()].sort((a, b) => a - b)) {
    if (state.blocks.size <= KEPT_BLOCKS) break;
    state.blocks.delete(height);
  }
  renderStats(state);
  state.onBlocks();
  if (currentEpoch(state) !== null) await updateCommittee(state);
  await updateCertificate(state, best.height);
}

/** The epoch of the newest block held. */
function currentEpoch(state) {
  const newest = state.blocks.get(state.tip);
  return newest ? newest.header.header.epoch : null;
}

/** Blocks per second over the newest blocks held, from their proposers' timestamps. */
function blocksPerSecond(state) {
  const heights = [...state.blocks.keys()].sort((a, b) => a - b).slice(-50);
  if (heights.length < 2) return null;
  const first = state.blocks.get(heights[0]).header.header;
  const last = state.blocks.get(heights[heights.length - 1]).header.header;
  const seconds = (last.timestampMs - first.timestampMs) / 1000;
  return seconds > 0 ? (last.height - first.height) / seconds : null;
}

function renderStats(state) {
  const bps = blocksPerSecond(state);
  const recent = state.latency.ms.slice(-50);
  const epoch = currentEpoch(state);
  const stat = (id, label, value, note) =>
    el("div", { class: "stat", id }, el("div", { class: "label" }, label), el("div", { class: "value" }, value), note ? el("div", { class: "note" }, note) : null);
  fill(
    "stats",
    stat("stat-tip", "finalized height", state.tip ?? "–", `from node${state.best}`),
    stat("stat-bps", "blocks per second", bps === null ? "–" : bps.toFixed(2), "proposer timestamps, last 50 blocks"),
    stat("stat-latency", "finality latency (p50)", duration(median(recent)), `observed, last ${recent.length}`),
    stat("stat-epoch", "epoch", epoch ?? "–", state.committee ? `${state.committee.members.length} members` : null),
    stat("stat-cert", "newest certificate", state.certificate ? `view ${state.certificate.view}` : "–",
      state.certificate ? `signed by ${state.certificate.signers.length} (slots ${state.certificate.signers.join(", ")})` : null),
  );
}

async function updateCertificate(state, tip) {
  const now = Date.now();
  if (state.certificateAt && now - state.certificateAt < 2000) return;
  state.certificateAt = now;
  try {
    state.certificate = (await ask(state, "trestle_finality", [tip])).result;
  } catch {
    // Shown as before; the next tip asks again.
  }
}

async function updateCommittee(state) {
  const epoch = currentEpoch(state);
  if (state.committee?.epoch === epoch || state.committeeLoading) return;
  state.committeeLoading = true;
  try {
    const { result } = await ask(state, "trestle_committee", [epoch]);
    if (result) {
      state.committee = result;
      renderCommittee(state);
    }
  } catch (e) {
    fill("committee", el("p", { class: "error" }, `trestle_committee(${epoch}): ${e.message}`));
  } finally {
    state.committeeLoading = false;
  }
}

function renderCommittee(state) {
  const c = state.committee;
  const rows = c.members.map((m, slot) =>
    el("tr", {},
      el("td", {}, slot),
      el("td", { class: "mono", title: m.consensusKey }, short(m.consensusKey)),
      el("td", { class: "mono", title: m.lightClientKey }, short(m.lightClientKey)),
      el("td", { class: "num" }, m.weight),
      el("td", {}, m.p2pAddress ?? "–")));
  fill(
    "committee",
    el("p", { class: "muted" }, `epoch ${c.epoch} · ${c.members.length} members of capacity ${c.capacity} · commitment `,
      el("span", { class: "mono", title: c.commitment }, short(c.commitment))),
    el("table", {},
      el("thead", {}, el("tr", {}, ["slot", "consensus key (ed25519)", "light-client key", "weight", "p2p address"].map((h) => el("th", {}, h)))),
      el("tbody", {}, rows)),
  );
}

function renderValidators(state) {
  const tip = state.tip ?? 0;
  const rows = state.validators.map((v) => {
    const behind = v.up && v.height !== null ? tip - v.height : 0;
    const label = v.up === null ? "…" : v.up ? "UP" : "DOWN";
    const detail = v.up === false ? v.error : behind > 5 ? `${behind} behind` : "";
    return el("tr", { "data-index": v.index, "data-state": v.up === null ? "unknown" : v.up ? "up" : "down", "data-height": v.height ?? "" },
      el("td", {}, `node${v.index}`),
      el("td", { class: "mono" }, v.url),
      el("td", { class: "num height" }, v.height ?? "–"),
      el("td", {}, el("span", { class: `badge ${v.up === false ? "down" : v.up ? "up" : ""}` }, label)),
      el("td", { class: "detail" }, detail),
      el("td", { class: "muted" }, `since ${clock(v.since)}`));
  });
  fill("validators", rows);
}

function makeChart() {
  const target = document.getElementById("chart");
  if (!window.uPlot) {
    target.replaceChildren(el("p", { class: "muted" }, "no chart: the chart library (uPlot) is not installed; run `npm ci` in explorer/"));
    return null;
  }
  const width = () => Math.max(320, target.clientWidth || 800);
  const chart = new window.uPlot(
    {
      width: width(),
      height: 220,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(100, max * 1.2)] } },
      series: [{}, { label: "finality latency (ms)", stroke: "#1d7a5f", width: 2, fill: "rgba(29,122,95,0.08)", points: { show: false } }],
      axes: [{}, { label: "ms", size: 60 }],
      legend: { live: true },
    },
    [[], []],
    target,
  );
  window.addEventListener("resize", () => chart.setSize({ width: width(), height: 220 }));
  return chart;
}

/** The size of a block's canonical encoding, from a `trestle_blockSummary` or `trestle_block` answer. */
export function blockSize(block) {
  return block.encodedBytes ?? byteLength(block.encoded);
}
