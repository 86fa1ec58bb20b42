// Exports the ABIs the Rust side binds to (relayer/abi/*.json) from forge's build artifacts, so
// the relayer's `sol!` bindings come from the compiler and never from a hand-written ABI.
// Usage (from solidity/, after `tools/forge build`): node tools/export-abi.mjs [--check]
// --check exits 1 if a committed ABI differs from what the compiler produced.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "..", "relayer", "abi");
const contracts = [
    ["LightClient.sol", "LightClient"],
    ["Mailbox.sol", "Mailbox"],
    ["StakeTable.sol", "StakeTable"],
    ["RollupConfirmations.sol", "RollupConfirmations"],
    ["RollupSettlement.sol", "RollupSettlement"],
    ["Counter.sol", "Counter"],
    ["LightClientVerifier.sol", "LightClientVerifier"],
];
const check = process.argv.includes("--check");
let drifted = 0;
mkdirSync(outDir, { recursive: true });
for (const [file, name] of contracts) {
    const artifact = JSON.parse(readFileSync(join(root, "out", file, `${name}.json`), "utf8"));
    const exported = JSON.stringify({ abi: artifact.abi, methodIdentifiers: artifact.methodIdentifiers }, null, 2) + "\n";
    const target = join(outDir, `${name}.json`);
    if (check) {
        let current = "";
        try {
            current = readFileSync(target, "utf8");
        } catch {}
        if (current !== exported) {
            console.error(`relayer/abi/${name}.json differs from forge's artifact; run node tools/export-abi.mjs`);
            drifted++;
        }
    } else {
        writeFileSync(target, exported);
        console.log(`wrote relayer/abi/${name}.json`);
    }
}
process.exit(drifted ? 1 : 0);
