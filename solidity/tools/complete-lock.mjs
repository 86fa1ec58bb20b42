#!/usr/bin/env node
// Adds to package-lock.json the per-platform binary packages of @foundry-rs/{forge,anvil,cast}
// that the npm registry reachable from trestle's machines does not serve (it has only some of
// them, e.g. forge-linux-amd64 but not forge-darwin-amd64). `npm install` silently leaves
// optional dependencies it cannot fetch out of the lockfile, and `npm ci` then refuses the lockfile
// ("Missing: @foundry-rs/anvil-darwin-amd64@ from lock file"). The added entries carry `os`/`cpu`,
// so npm ci skips them on other platforms without fetching; they have no `integrity` because the
// registry here cannot provide one. `npm install` keeps them. Idempotent.
//
// Run after any `npm install` that rewrote the lockfile from scratch:
//   node tools/complete-lock.mjs [path/to/package-lock.json]
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const file = process.argv[2] ?? fileURLToPath(new URL("../package-lock.json", import.meta.url));
const lock = JSON.parse(readFileSync(file, "utf8"));
const packages = lock.packages;

// Suffix of the @foundry-rs platform packages -> [os, cpu] in npm's terms.
const PLATFORMS = {
  "darwin-amd64": ["darwin", "x64"],
  "darwin-arm64": ["darwin", "arm64"],
  "linux-amd64": ["linux", "x64"],
  "linux-arm64": ["linux", "arm64"],
  "win32-amd64": ["win32", "x64"],
};

const added = [];
for (const [path, meta] of Object.entries(packages)) {
  const m = /^node_modules\/@foundry-rs\/(forge|anvil|cast|chisel)$/.exec(path);
  if (!m) continue;
  const tool = m[1];
  for (const [dep, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`;
    if (packages[key]) continue;
    const suffix = dep.slice(`@foundry-rs/${tool}-`.length);
    const platform = PLATFORMS[suffix];
    if (!dep.startsWith(`@foundry-rs/${tool}-`) || !platform) {
      throw new Error(`${dep}: unknown platform package of ${path}`);
    }
    if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`${dep}: expected an exact version, got ${version}`);
    const exe = platform[0] === "win32" ? `bin/${tool}.exe` : `bin/${tool}`;
    packages[key] = {
      version,
      cpu: [platform[1]],
      ...(meta.dev ? { dev: true } : {}),
      license: meta.license,
      optional: true,
      os: [platform[0]],
      bin: { [tool]: exe },
      engines: { node: ">=20" },
    };
    added.push(`${dep}@${version}`);
  }
}

// npm writes `packages` sorted by path ("" first); keep that so `npm install` leaves the file as is.
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b, "en"))),
);
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(added.length ? `complete-lock: added ${added.join(", ")}` : "complete-lock: nothing to add");
