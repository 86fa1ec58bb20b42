// Checks trestle's snarkjs exports with snarkjs' own code (used by the trestle-circuits tests).
//
//   node snarkjs-verify.mjs verification_key.json [public.json proof.json]
//
// Always checks that vk_alphabeta_12 equals e(vk_alpha_1, vk_beta_2) as snarkjs computes it
// (snarkjs' verifier does not read that field, so `snarkjs groth16 verify` alone would not catch
// a wrong one). With public.json and proof.json it also runs snarkjs.groth16.verify. Prints one
// JSON line and exits 0 iff every check passed.
import { readFileSync } from "node:fs";
import { buildBn128, utils } from "ffjavascript";
import * as snarkjs from "snarkjs";

const [vkPath, publicPath, proofPath] = process.argv.slice(2);
if (!vkPath || (publicPath && !proofPath)) {
    console.error("usage: node snarkjs-verify.mjs verification_key.json [public.json proof.json]");
    process.exit(2);
}
const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));
const vk = readJson(vkPath);

const curve = await buildBn128(true);
const raw = utils.unstringifyBigInts(vk);
const alphaBeta = curve.pairing(curve.G1.fromObject(raw.vk_alpha_1), curve.G2.fromObject(raw.vk_beta_2));
const result = { alphabeta: curve.Gt.eq(alphaBeta, curve.Gt.fromObject(raw.vk_alphabeta_12)) };
await curve.terminate();

if (publicPath) {
    result.verified = await snarkjs.groth16.verify(vk, readJson(publicPath), readJson(proofPath));
}
console.log(JSON.stringify(result));
process.exit(Object.values(result).every((ok) => ok === true) ? 0 : 1);
