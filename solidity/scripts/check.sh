#!/usr/bin/env bash
# Checks the contracts from any working directory: installs the pinned toolchain from the npm
# registry (forge, anvil, cast, solc) when node_modules is missing or package-lock.json changed,
# then `forge fmt --check`, a forced `forge build --deny warnings` (a cached build would not
# repeat earlier warnings) and `forge test` with the gas snapshots checked. Extra arguments go to
# `forge test`.
# forge runs through tools/forge, because the npm wrapper (`npx forge`) always exits 0.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

stamp=node_modules/.package-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || "$(cat "$stamp")" != "$want" ]]; then
    npm ci --no-audit --no-fund
    echo "$want" >"$stamp"
fi

forge=tools/forge
echo "== $("$forge" --version | head -n1); solc $(tools/solc --version | sed -n 's/^Version: //p') (npm solc via tools/solc)"

echo "== forge fmt --check"
"$forge" fmt --check

echo "== forge build --deny warnings --force"
"$forge" build --deny warnings --force

echo "== relayer ABIs match the compiler (tools/export-abi.mjs --check)"
node tools/export-abi.mjs --check

echo "== forge test $*"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# FORGE_SNAPSHOT_CHECK: the gas recorded by vm.snapshotGas* must equal snapshots/*.json, so a gas
# change fails here until the snapshot is regenerated (`tools/forge test` without it) and committed.
FORGE_SNAPSHOT_CHECK=true "$forge" test "$@" 2>&1 | tee "$log" || status=$?
# forge's closing line: "Ran N test suites in ...: P tests passed, F failed, S skipped (T total tests)"
if summary=$(grep -Eo '[0-9]+ tests passed, [0-9]+ failed, [0-9]+ skipped' "$log" | tail -n1); then
    read -r passed _ _ failed _ skipped _ <<<"${summary//,/}"
    echo "forge: $passed passed, $failed failed, $skipped skipped"
fi
exit "$status"
