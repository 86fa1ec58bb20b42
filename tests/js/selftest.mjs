#!/usr/bin/env node
// Self-test of crosscheck.mjs: builds a vectors file with circomlibjs itself (its own keys and
// signPoseidon), runs the checker CLI on it and on deliberately broken copies, and checks the
// exit codes and summary lines. Usage: node selftest.mjs
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildEddsa, buildPoseidon } from "circomlibjs";

const eddsa = await buildEddsa();
const { babyJub, F } = eddsa;
const poseidon = await buildPoseidon();
const str = (x) => F.toObject(x).toString();

const vectors = {
  curve: { base8: babyJub.Base8.map(str), subOrder: babyJub.subOrder.toString() },
  poseidon: [],
  eddsa: [],
};
for (let n = 1; n <= 16; n++) {
  const inputs = Array.from({ length: n }, (_, i) => BigInt(i * 7919 + n) ** 5n);
  vectors.poseidon.push({ inputs: inputs.map(String), output: poseidon.F.toObject(poseidon(inputs)).toString() });
}
for (let k = 0; k < 3; k++) {
  const prv = Buffer.alloc(32, k + 1);
  const A = eddsa.prv2pub(prv);
  for (const m of [0n, 1n, 2n ** 200n + BigInt(k)]) {
    const sig = eddsa.signPoseidon(prv, F.e(m));
    vectors.eddsa.push({
      publicKey: A.map(str),
      message: m.toString(),
      signature: { r8: sig.R8.map(str), s: sig.S.toString() },
    });
  }
}

const checker = fileURLToPath(new URL("crosscheck.mjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "trestle-crosscheck-"));
/** Runs the checker CLI on `v`; returns { code, out }. */
function run(name, v) {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(v, null, 1));
  try {
    return { code: 0, out: execFileSync(process.execPath, [checker, file], { encoding: "utf8" }) };
  } catch (e) {
    return { code: e.status, out: e.stdout };
  }
}

const clone = () => JSON.parse(JSON.stringify(vectors));
const wrongPoseidon = clone();
wrongPoseidon.poseidon[3].output = (BigInt(wrongPoseidon.poseidon[3].output) + 1n).toString();
const badSig = clone();
badSig.eddsa[1].signature.s = (BigInt(badSig.eddsa[1].signature.s) + 1n).toString();
const emptyEddsa = clone();
emptyEddsa.eddsa = [];
// The identity public key "verifies" any message with R8 = r*Base8, S = r in circomlibjs.
const identityKey = clone();
identityKey.eddsa[0] = { publicKey: ["0", "1"], message: "5", signature: { r8: vectors.curve.base8, s: "1" } };
const negativeS = clone();
negativeS.eddsa[0].signature.s = "-1";

const nE = vectors.eddsa.length;
const nTotal = 2 + vectors.poseidon.length + 5 * nE;
const cases = [
  ["good", vectors, 0, `crosscheck: ${nTotal} passed, 0 failed`, null],
  ["wrong-poseidon", wrongPoseidon, 1, `crosscheck: ${nTotal - 1} passed, 1 failed`, /^FAIL poseidon\[3\]: /m],
  ["bad-signature", badSig, 1, `crosscheck: ${nTotal - 1} passed, 1 failed`, /^FAIL eddsa\[1\] valid: /m],
  ["empty-eddsa", emptyEddsa, 1, null, /^FAIL eddsa: section missing or empty$/m],
  ["identity-key", identityKey, 1, null, /^FAIL eddsa\[0\] publicKey: publicKey is the identity/m],
  ["negative-s", negativeS, 1, null, /^FAIL eddsa\[0\] valid: bad input: signature\.s/m],
];

let passed = 0;
let failed = 0;
for (const [name, v, wantCode, wantSummary, wantLine] of cases) {
  const { code, out } = run(name, v);
  const summaries = out.split("\n").filter((l) => /^crosscheck: \d+ passed, \d+ failed$/.test(l));
  const errs = [];
  if (code !== wantCode) errs.push(`exit code ${code}, expected ${wantCode}`);
  if (summaries.length !== 1) errs.push(`${summaries.length} summary lines`);
  if (wantSummary && summaries[0] !== wantSummary) errs.push(`summary "${summaries[0]}", expected "${wantSummary}"`);
  if (wantLine && !wantLine.test(out)) errs.push(`no line matching ${wantLine}`);
  if (errs.length) {
    failed++;
    console.log(`FAIL ${name}: ${errs.join("; ")}\n--- output ---\n${out}--------------`);
  } else {
    passed++;
  }
}
rmSync(dir, { recursive: true, force: true });
console.log(`selftest: ${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
