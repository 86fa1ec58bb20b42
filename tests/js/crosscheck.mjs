#!/usr/bin/env node
// Cross-checks trestle's Baby Jubjub / Poseidon / EdDSA vectors against circomlibjs.
//
// Usage: node crosscheck.mjs <vectors.json>
//
// Input shape (every field element is a decimal string):
//   {
//     "curve":    { "base8": ["x","y"], "subOrder": "dec" },
//     "poseidon": [ { "inputs": ["dec", ...], "output": "dec" } ],
//     "eddsa":    [ { "publicKey": ["x","y"], "message": "dec",
//                     "signature": { "r8": ["x","y"], "s": "dec" } } ]
//   }
//
// Checks (each counts once towards the summary):
//   curve.base8      == babyJub.Base8
//   curve.subOrder   == babyJub.subOrder
//   poseidon[i]      output == circomlibjs buildPoseidon() (wasm) AND buildPoseidonReference()
//   eddsa[i] valid   verifyPoseidon(...) is true
//   eddsa[i] publicKey  publicKey is in the prime-order subgroup and not the identity
//                    (circomlibjs checks neither; trestle requires it: DESIGN.md section 4)
//   eddsa[i] tamper  message+1 / S+1 / R8:=Base8 are each rejected (false, or a throw, which
//                    is counted as rejected and reported on a "note:" line)
//
// Every decimal string must be canonical (no sign, no leading zeros) and every field element
// must be < p: circomlibjs silently reduces F.e(x) mod p and loops forever on a negative S,
// so both are rejected here before circomlibjs sees them.
//
// Output: one "FAIL ..." line per failed check, then exactly one line
// "crosscheck: N passed, M failed". Exit code 1 if M > 0 (an empty or missing section counts
// as a failure), else 0.

import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildEddsa, buildPoseidon, buildPoseidonReference } from "circomlibjs";

/** BN254 scalar field modulus = Baby Jubjub base field. */
export const P = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

const DEC = /^(0|[1-9][0-9]*)$/;

class InputError extends Error {}

/** Parses a canonical non-negative decimal string; `fieldElement` additionally requires < P. */
function dec(value, what, fieldElement = true) {
  if (typeof value !== "string" || !DEC.test(value)) {
    throw new InputError(`${what}: expected a canonical decimal string, got ${JSON.stringify(value)}`);
  }
  const n = BigInt(value);
  if (fieldElement && n >= P) throw new InputError(`${what}: ${value} is not below the field modulus`);
  return n;
}

function point(value, what) {
  if (!Array.isArray(value) || value.length !== 2) {
    throw new InputError(`${what}: expected [x, y], got ${JSON.stringify(value)}`);
  }
  return [dec(value[0], `${what}[0]`), dec(value[1], `${what}[1]`)];
}

function section(vectors, name) {
  const s = vectors?.[name];
  if (!Array.isArray(s)) return null;
  return s;
}

/**
 * Runs every check on a parsed vectors object.
 * @returns {Promise<{passed: number, failed: number, lines: string[]}>} lines = FAIL/note lines
 */
export async function crosscheck(vectors) {
  const eddsa = await buildEddsa();
  const babyJub = eddsa.babyJub;
  const F = babyJub.F;
  const poseidonWasm = await buildPoseidon();
  const poseidonRef = await buildPoseidonReference();

  let passed = 0;
  let failed = 0;
  const lines = [];
  const ok = () => passed++;
  const fail = (msg) => {
    failed++;
    lines.push(`FAIL ${msg}`);
  };
  // Runs one check; an InputError or unexpected throw is a failure of that check.
  const check = (name, fn) => {
    try {
      const err = fn();
      if (err) fail(`${name}: ${err}`);
      else ok();
    } catch (e) {
      fail(`${name}: ${e instanceof InputError ? "bad input: " : "threw: "}${e.message}`);
    }
  };
  const pt = (P2) => `(${F.toObject(P2[0])}, ${F.toObject(P2[1])})`;

  // ---- curve ----
  const curve = vectors?.curve;
  if (curve === null || typeof curve !== "object") {
    fail("curve: section missing");
  } else {
    check("curve.base8", () => {
      const [x, y] = point(curve.base8, "curve.base8");
      const bx = F.toObject(babyJub.Base8[0]);
      const by = F.toObject(babyJub.Base8[1]);
      if (x !== bx || y !== by) return `got (${x}, ${y}), circomlibjs Base8 is (${bx}, ${by})`;
    });
    check("curve.subOrder", () => {
      const l = dec(curve.subOrder, "curve.subOrder");
      if (l !== BigInt(babyJub.subOrder)) return `got ${l}, circomlibjs subOrder is ${babyJub.subOrder}`;
    });
  }

  // ---- poseidon ----
  const poseidon = section(vectors, "poseidon");
  if (poseidon === null || poseidon.length === 0) {
    fail("poseidon: section missing or empty");
  } else {
    poseidon.forEach((v, i) => {
      check(`poseidon[${i}]`, () => {
        if (!Array.isArray(v?.inputs)) throw new InputError(`inputs: expected an array`);
        const inputs = v.inputs.map((x, j) => dec(x, `inputs[${j}]`));
        const want = dec(v.output, "output");
        if (inputs.length < 1 || inputs.length > 16) {
          throw new InputError(`${inputs.length} inputs; circomlibjs supports 1..=16`);
        }
        const wasm = poseidonWasm.F.toObject(poseidonWasm(inputs));
        const ref = poseidonRef.F.toObject(poseidonRef(inputs));
        const errs = [];
        if (wasm !== want) errs.push(`buildPoseidon gives ${wasm}`);
        if (ref !== want) errs.push(`buildPoseidonReference gives ${ref}`);
        if (errs.length) return `inputs [${inputs.join(", ")}]: expected ${want}, ${errs.join("; ")}`;
      });
    });
  }

  // ---- eddsa ----
  const sigs = section(vectors, "eddsa");
  if (sigs === null || sigs.length === 0) {
    fail("eddsa: section missing or empty");
  } else {
    sigs.forEach((v, i) => {
      const name = `eddsa[${i}]`;
      let A, msg, R8, S;
      try {
        A = point(v?.publicKey, "publicKey").map((c) => F.e(c));
        msg = dec(v?.message, "message");
        R8 = point(v?.signature?.r8, "signature.r8").map((c) => F.e(c));
        // S is a scalar, not a field element: only require a canonical non-negative decimal
        // (a negative S makes circomlibjs's mulPointEscalar loop forever); the range check
        // S < subOrder is verifyPoseidon's own.
        S = dec(v?.signature?.s, "signature.s", false);
      } catch (e) {
        // Count all five checks of this vector as failed so the totals stay comparable.
        for (const c of ["valid", "publicKey", "tamper message+1", "tamper S+1", "tamper R8=Base8"]) {
          fail(`${name} ${c}: bad input: ${e.message}`);
        }
        return;
      }
      const verify = (m, r8, s) => eddsa.verifyPoseidon(F.e(m), { R8: r8, S: s }, A);

      check(`${name} valid`, () => {
        if (verify(msg, R8, S) !== true) {
          return `verifyPoseidon rejected pk ${pt(A)} msg ${msg} R8 ${pt(R8)} S ${S}`;
        }
      });
      check(`${name} publicKey`, () => {
        if (F.isZero(A[0]) && F.eq(A[1], F.one)) return "publicKey is the identity (signs anything)";
        if (!babyJub.inSubgroup(A)) return `publicKey ${pt(A)} is not in the prime-order subgroup`;
      });

      // Replacement R8 for the third tamper: Base8, or 2*Base8 if R8 already is Base8.
      const isBase8 = F.eq(R8[0], babyJub.Base8[0]) && F.eq(R8[1], babyJub.Base8[1]);
      const otherR8 = isBase8 ? babyJub.addPoint(babyJub.Base8, babyJub.Base8) : babyJub.Base8;
      const tampers = [
        ["tamper message+1", () => verify((msg + 1n) % P, R8, S)],
        ["tamper S+1", () => verify(msg, R8, S + 1n)],
        [`tamper R8=${isBase8 ? "2*Base8" : "Base8"}`, () => verify(msg, otherR8, S)],
      ];
      for (const [t, run] of tampers) {
        let result;
        try {
          result = run();
        } catch (e) {
          lines.push(`note: ${name} ${t}: verifyPoseidon threw (${e.message}); counted as rejected`);
          ok();
          continue;
        }
        if (result === false) ok();
        else fail(`${name} ${t}: verifyPoseidon returned ${result}, expected false`);
      }
    });
  }

  return { passed, failed, lines };
}

async function main(argv) {
  if (argv.length !== 1) {
    console.error("usage: node crosscheck.mjs <vectors.json>");
    return 2;
  }
  let vectors;
  try {
    vectors = JSON.parse(readFileSync(argv[0], "utf8"));
  } catch (e) {
    console.log(`FAIL reading ${argv[0]}: ${e.message}`);
    console.log("crosscheck: 0 passed, 1 failed");
    return 1;
  }
  const { passed, failed, lines } = await crosscheck(vectors);
  for (const l of lines) console.log(l);
  console.log(`crosscheck: ${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
