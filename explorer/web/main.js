// The explorer page: loads the configuration, starts the live views and routes between the
// dashboard and the block, transaction and search pages (`#/block/<height>`, `#/tx/<hash>`,
// `#/search/<text>`). Problems (a validator down, the relayer unreachable, …) are collected in
// `state.problems` and shown in one banner, while the rest of the page keeps working.

import { ApiError, el, fill, getJson } from "./rpc.js";
import { startLive } from "./live.js";
import { renderRecentBlocks, search, showBlock, showTx } from "./blocks.js";
import { startChains } from "./chains.js";

/** Everything the views share. */
const state = {
  config: null,
  /** Per validator: { index, url, height, up, error, since, heightAt }. */
  validators: [],
  /** The highest finalized height any validator reported, and who did. */
  tip: null,
  best: 0,
  /** Recent blocks the page fetched, by height (`trestle_block` answers). */
  blocks: new Map(),
  /** key -> message, shown in the banner. */
  problems: new Map(),
  onBlocks: () => renderRecentBlocks(state),
  renderBanner,
};

function renderBanner() {
  const banner = document.getElementById("banner");
  const messages = [...state.problems.values()];
  banner.hidden = messages.length === 0;
  banner.replaceChildren(...messages.map((m) => el("div", { class: "problem" }, m)));
}

/** Loads `/api/config`; the chains file may grow while the devnet starts, so it is read again. */
async function loadConfig() {
  try {
    state.config = await getJson("/api/config");
    state.problems.delete("config");
    if (state.config.chainsFileError) {
      state.problems.set("chainsFile", `chains file: ${state.config.chainsFileError}`);
    } else {
      state.problems.delete("chainsFile");
    }
  } catch (e) {
    state.problems.set("config", `configuration unavailable: ${e.message}`);
  }
  renderBanner();
  return state.config;
}

function route() {
  const [, page, ...rest] = (location.hash.slice(1) || "/").split("/");
  const argument = decodeURIComponent(rest.join("/"));
  const view = document.getElementById("view");
  const dashboard = document.getElementById("dashboard");
  if (!page) {
    view.hidden = true;
    dashboard.hidden = false;
    return;
  }
  view.hidden = false;
  dashboard.hidden = true;
  const back = el("p", {}, el("a", { href: "#/" }, "← the network"));
  fill("view", back, el("div", { id: "page" }, el("p", { class: "muted" }, "loading…")));
  const shown =
    page === "block" ? showBlock(state, argument)
    : page === "tx" ? showTx(state, argument)
    : page === "search" ? search(state, argument)
    : Promise.resolve(fill("page", el("p", { class: "error", id: "search-message" }, `no page ${page}`)));
  // A failure of the page's own code still says something rather than leaving it blank.
  shown.catch((e) => {
    const message = e instanceof ApiError ? e.message : `the page failed: ${e}`;
    fill("page", el("p", { class: "error", id: "search-message" }, message));
  });
}

function startSearch() {
  const form = document.getElementById("search-form");
  const input = document.getElementById("search-input");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    const target = `#/search/${encodeURIComponent(text)}`;
    if (location.hash === target) route();
    else location.hash = target;
  });
}

async function start() {
  startSearch();
  window.addEventListener("hashchange", route);
  while (!(await loadConfig())) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  setInterval(loadConfig, 5000);
  if (!state.config.chartLibrary || !window.uPlot) {
    state.problems.set("chart", "chart library not installed: run `npm ci` in explorer/ (the rest works)");
    renderBanner();
  }
  startLive(state);
  startChains(state);
  route();
}

start();
