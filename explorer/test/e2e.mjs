// The explorer in a real browser: headless Debian chromium driven by playwright-core, against
// a running devnet (tests/it/explorer.rs starts it and passes what it knows in the environment).
// Every wait has a deadline; any failed check exits non-zero with what was expected, after a
// screenshot of the page as it was (SCREENSHOT with "-failure" before its extension).
//
//   EXPLORER_URL   the page
//   TX_HASH        a finalized transaction to search for
//   DEMO_MESSAGE   the devnet's demo message hash (expected delivered)
//   VICTIM_INDEX   the validator to kill -9 (its index) …
//   VICTIM_PID     … and its process id
//   SCREENSHOT     where to write the screenshot (PNG)
//   CHROMIUM       the browser (default /usr/bin/chromium)

import { chromium } from "playwright-core";

function env(name, fallback) {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
}

const url = env("EXPLORER_URL");
const txHash = env("TX_HASH").toLowerCase();
const demo = env("DEMO_MESSAGE").toLowerCase();
const victim = Number(env("VICTIM_INDEX"));
const victimPid = Number(env("VICTIM_PID"));
const screenshot = env("SCREENSHOT");
const executablePath = env("CHROMIUM", "/usr/bin/chromium");

/** The whole run's deadline: a hung browser must not hang the test. */
const TOTAL_MS = 240_000;
const overall = setTimeout(() => {
  console.error(`e2e: not done within ${TOTAL_MS} ms`);
  process.exit(3);
}, TOTAL_MS);

const log = (...args) => console.log(`[e2e ${new Date().toISOString().slice(11, 23)}]`, ...args);

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Polls `probe` (run in the page) until it returns a truthy value; fails after `ms`. */
async function until(page, what, probe, argument, ms = 30_000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await page.evaluate(probe, argument).catch((e) => `(evaluate failed: ${e.message})`);
    if (last && !(typeof last === "string" && last.startsWith("(evaluate failed"))) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The validators table as the page shows it: index -> { state, height }. */
const validators = () =>
  Object.fromEntries([...document.querySelectorAll("#validators tr")].map((row) => [
    row.dataset.index,
    { state: row.dataset.state, height: row.dataset.height === "" ? null : Number(row.dataset.height) },
  ]));

/** Types `text` into the search box, submits, and waits for the search message or a page. */
async function searchFor(page, text, expect, argument = null, ms = 20_000) {
  // Whatever the previous search showed must not pass for this one's answer.
  await page.evaluate(() => document.querySelector("#page")?.replaceChildren());
  await page.fill("#search-input", text);
  await page.press("#search-input", "Enter");
  return until(page, `the answer to searching ${JSON.stringify(text)}`, expect, argument, ms);
}

/** Searches `text` and expects a clear message matching `pattern`, not a blank page. */
async function expectMessage(page, text, pattern) {
  const shown = await searchFor(page, text, (p) => {
    const message = document.querySelector("#page #search-message");
    const visible = message && message.offsetParent !== null;
    return visible && new RegExp(p, "is").test(message.textContent) ? message.textContent : null;
  }, pattern).catch(async (error) => {
    const said = await page.evaluate(() => document.querySelector("#page")?.textContent ?? "(no page)");
    throw new Error(`searching ${JSON.stringify(text)} showed ${JSON.stringify(said)}, expected /${pattern}/ (${error.message})`);
  });
  log(`search ${JSON.stringify(text.slice(0, 24))}: "${shown.slice(0, 100)}…"`);
}

async function run(page, pageErrors) {
  await page.goto(url, { waitUntil: "load", timeout: 30_000 });

  // 1. Every validator up, and their heights increase.
  const before = await until(page, "every validator UP with a height", () => {
    const rows = [...document.querySelectorAll("#validators tr")];
    return rows.length >= 4 && rows.every((r) => r.dataset.state === "up" && r.dataset.height !== "")
      ? Object.fromEntries(rows.map((r) => [r.dataset.index, Number(r.dataset.height)])) : null;
  });
  log("heights", JSON.stringify(before));
  await until(page, "every validator's height to increase", (b) => {
    const rows = [...document.querySelectorAll("#validators tr")];
    return rows.every((r) => Number(r.dataset.height) > b[r.dataset.index]);
  }, before);
  const tip = await until(page, "the finalized height stat", () => Number(document.querySelector("#stat-tip .value")?.textContent) || null);
  check(tip >= Math.max(...Object.values(before)), `tip ${tip} below the heights ${JSON.stringify(before)}`);
  await until(page, "blocks per second", () => /^\d+\.\d\d$/.test(document.querySelector("#stat-bps .value")?.textContent ?? ""));
  await until(page, "finality latency samples on the chart", () => {
    const p50 = document.querySelector("#stat-latency .value")?.textContent ?? "";
    return document.querySelector("#chart .uplot canvas") && /\d+ ms|\d\.\d s/.test(p50) ? p50 : null;
  });
  const members = await until(page, "the committee", () => document.querySelectorAll("#committee tbody tr").length || null);
  check(members === 4, `committee of ${members} members, expected 4`);
  await until(page, "recent blocks", () => document.querySelectorAll("#recent-blocks tr").length >= 5);
  log(`tip ${tip}, committee of ${members}, recent blocks listed`);

  // 2. The transaction by hash, with its proof and the confirm command.
  await searchFor(page, txHash, (hash) => document.querySelector(`#tx-page[data-hash="${hash}"]`) !== null, txHash, 30_000);
  await until(page, "the transaction page", (hash) => document.querySelector(`#tx-page[data-hash="${hash}"]`) && document.querySelector("#confirm-command"), txHash);
  const tx = await page.evaluate(() => ({
    proof: document.querySelector('[data-field="tx-proof"]')?.textContent ?? "",
    namespaceProof: document.querySelector('[data-field="namespace-proof"]')?.textContent ?? "",
    encoded: document.querySelector('[data-field="encoded-proof"]')?.textContent ?? "",
    height: document.querySelector('[data-field="height"]')?.textContent ?? "",
    command: document.querySelector("#confirm-command")?.textContent ?? "",
  }));
  check(/leaf \d+ of \d+/.test(tx.proof), `no transaction path in ${JSON.stringify(tx.proof)}`);
  check(/leaf \d+ of \d+/.test(tx.namespaceProof), `no namespace path in ${JSON.stringify(tx.namespaceProof)}`);
  check(/^0x[0-9a-f]{64,}$/.test(tx.encoded), `no encoded proof: ${tx.encoded.slice(0, 40)}`);
  check(new RegExp(`^trestle confirm --rpc http://\\S+ --namespace \\d+ --tx ${txHash}( --genesis \\S+)?$`).test(tx.command),
    `confirm command ${JSON.stringify(tx.command)}`);
  log(`transaction at height ${tx.height}: ${tx.command}`);

  // 3. A block by height, and by the hash of a block the page holds.
  await searchFor(page, tx.height, (h) => document.querySelector(`#block-page[data-height="${h}"]`) !== null, tx.height);
  await page.goto(`${url}#/`);
  const blockHash = await until(page, "a recent block's hash", () => document.querySelector("#recent-blocks tr td.mono")?.title);
  const heightOfHash = await until(page, "its height", (hash) =>
    document.querySelector(`#recent-blocks tr td.mono[title="${hash}"]`)?.parentElement.dataset.height, blockHash);
  await searchFor(page, blockHash, (h) => document.querySelector(`#block-page[data-height="${h}"]`) !== null, heightOfHash);
  log(`block ${heightOfHash} found by its hash`);
  // The first block, by header hash and by consensus digest, read through the page's proxy:
  // the page finds it through the node (trestle_blockHeightByHash), whatever it holds.
  const first = await page.evaluate(async () => {
    const call = async (method, params) => (await (await fetch("/api/rpc/0", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    })).json()).result;
    return { header: (await call("trestle_header", [1])).hash, digest: (await call("trestle_block", [1])).digest };
  });
  for (const hash of [first.header, first.digest]) {
    await searchFor(page, hash, () => document.querySelector(`#block-page[data-height="1"]`) !== null);
  }
  log("block 1 found by its header hash and its digest");

  // 4. Bad input: a clear message, never a blank page.
  await expectMessage(page, "hello explorer", "neither a block height nor a 32-byte hash");
  await expectMessage(page, "0x1234", "neither a block height nor a 32-byte hash \\(it has 4 hex digits");
  await expectMessage(page, `0x${"ab".repeat(32)}`, "unknown hash.*no finalized transaction.*no finalized block");
  await expectMessage(page, "987654321", "no finalized block at height 987654321");
  await expectMessage(page, "<script>alert(1)</script>", "neither a block height");
  await page.goto(`${url}#/tx/0x00`);
  await until(page, "a message for a malformed transaction link", () => document.querySelector("#search-message")?.textContent.includes("not a transaction hash"));

  // 5. The demo message, delivered.
  await page.goto(`${url}#/`);
  await until(page, "the demo message as delivered", (hash) =>
    document.querySelector(`#messages tr[data-hash="${hash}"][data-state="delivered"]`) !== null, demo, 60_000);
  const route = await page.evaluate(() => document.querySelector("#routes tr")?.textContent ?? "");
  log(`demo message delivered; route: ${route}`);
  await until(page, "the light clients' heights", () =>
    [...document.querySelectorAll("#chains tr .lc-height")].every((c) => /^\d+$/.test(c.textContent)) || null);

  // 6. kill -9 of a validator: marked DOWN, the others keep going.
  process.kill(victimPid, "SIGKILL");
  log(`killed validator ${victim} (pid ${victimPid})`);
  await until(page, `validator ${victim} marked DOWN`, (i) =>
    document.querySelector(`#validators tr[data-index="${i}"]`)?.dataset.state === "down", victim, 20_000);
  await until(page, "the banner saying so", () => /DOWN/.test(document.getElementById("banner")?.textContent ?? ""), null, 10_000);
  const after = await page.evaluate(validators);
  await until(page, "the other validators' heights to keep increasing", ([a, v]) =>
    [...document.querySelectorAll("#validators tr")]
      .filter((r) => Number(r.dataset.index) !== v)
      .every((r) => r.dataset.state === "up" && Number(r.dataset.height) > a[r.dataset.index].height), [after, victim], 30_000);
  const tipAfter = Number(await page.textContent("#stat-tip .value"));
  check(tipAfter > tip, `the page's finalized height stopped at ${tipAfter}`);
  log(`validator ${victim} DOWN; the others at`, JSON.stringify(await page.evaluate(validators)));

  await page.fill("#search-input", "");
  await page.waitForTimeout(1500);
  await page.screenshot({ path: screenshot, fullPage: true });
  log(`screenshot ${screenshot}`);
  check(pageErrors.length === 0, `errors in the page: ${pageErrors.join("; ")}`);
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  // Root in a container has no user namespace for chromium's sandbox. The machine's network is
  // closed: no background, sync, update or QUIC connections (each refused or a failed lookup).
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
  timeout: 60_000,
});
let failed = false;
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(20_000);
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await run(page, pageErrors).catch(async (error) => {
    failed = true;
    console.error(`e2e FAILED: ${error.message}`);
    await page.screenshot({ path: screenshot.replace(/(\.png)?$/, "-failure.png"), fullPage: true }).catch(() => {});
  });
} finally {
  await browser.close().catch(() => {});
  clearTimeout(overall);
}
process.exit(failed ? 1 : 0);
