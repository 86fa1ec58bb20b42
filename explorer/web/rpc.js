// Talking to the explorer's same-origin proxy, and small helpers the views share.
//
// Every call has a deadline; every failure becomes an ApiError whose `kind` is the proxy's
// typed error (`unreachable`, `timeout`, `method_not_allowed`, …) or `rpc` for a JSON-RPC
// error, so a view can always say what went wrong instead of going blank.

/** A failed call: `kind` says which way it failed, `message` is for people. */
export class ApiError extends Error {
  constructor(kind, message, upstream) {
    super(message);
    this.kind = kind;
    this.upstream = upstream ?? null;
  }
}

/** How long the page waits for the explorer server (which itself times out upstreams). */
const CALL_DEADLINE_MS = 10_000;

async function call(path, init) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), CALL_DEADLINE_MS);
  let response;
  try {
    response = await fetch(path, { ...init, signal: abort.signal, cache: "no-store" });
  } catch (e) {
    const why = e.name === "AbortError" ? `no answer within ${CALL_DEADLINE_MS} ms` : e.message;
    throw new ApiError("explorer_unreachable", `the explorer server did not answer: ${why}`);
  } finally {
    clearTimeout(timer);
  }
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ApiError("bad_answer", `${path} answered HTTP ${response.status}: ${text.slice(0, 120)}`);
  }
  if (!response.ok) {
    const error = json?.error ?? {};
    throw new ApiError(error.kind ?? "http", error.message ?? `HTTP ${response.status}`, error.upstream);
  }
  return json;
}

/** GET a proxy path (`/api/config`, `/api/relayer/status`) as JSON. */
export function getJson(path) {
  return call(path, { method: "GET" });
}

let nextId = 1;

async function jsonRpc(path, method, params) {
  const answer = await call(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }),
  });
  if (answer.error) {
    const data = answer.error.data ? ` (${answer.error.data})` : "";
    throw new ApiError("rpc", `${method}: ${answer.error.message}${data}`);
  }
  return answer.result;
}

/** A trestle JSON-RPC call to validator `index`. */
export function rpc(index, method, params = []) {
  return jsonRpc(`/api/rpc/${index}`, method, params);
}

/** An EVM JSON-RPC call to the chain `chainId`. */
export function evm(chainId, method, params = []) {
  return jsonRpc(`/api/evm/${chainId}`, method, params);
}

/** Builds an element: `el("td", { class: "x", "data-hash": h }, "text", child…)`. Text is
 * always set as text, never parsed as HTML: everything shown comes from the network. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "onclick") node.addEventListener("click", value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replaces the children of the element with id `id`. */
export function fill(id, ...children) {
  const node = document.getElementById(id);
  if (node) node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

/** `0x1234…abcd`. */
export function short(hex) {
  if (typeof hex !== "string" || hex.length <= 18) return String(hex ?? "");
  return `${hex.slice(0, 10)}…${hex.slice(-6)}`;
}

/** Length in bytes of 0x-hex. */
export function byteLength(hex) {
  return typeof hex === "string" && hex.startsWith("0x") ? (hex.length - 2) / 2 : 0;
}

/** `1.2 kB`, `834 B`. */
export function size(bytes) {
  return bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} kB` : `${bytes} B`;
}

/** `12:34:56.789` in local time. */
export function clock(ms) {
  const d = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** `850 ms`, `3.4 s`, `2 min`. */
export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** The payload as text when it is printable UTF-8, else null. */
export function printable(hex) {
  if (typeof hex !== "string" || !hex.startsWith("0x") || hex.length % 2) return null;
  const bytes = new Uint8Array((hex.length - 2) / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 + 2 * i, 4 + 2 * i), 16);
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return /^[\P{C}\n\t]*$/u.test(text) ? text : null;
  } catch {
    return null;
  }
}

/** The median of numbers (null for none). */
export function median(values) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
