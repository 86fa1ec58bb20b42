#!/usr/bin/env node
// A `solc` command line over the npm `solc` package (solc-js, the official Emscripten build), for
// forge, which cannot download native solc binaries here. Run through the `solc` wrapper beside
// this file, which foundry.toml names as the compiler (`solc = "tools/solc"`).
//
// It implements exactly what forge uses:
//   solc --version
//       prints the two lines native solc prints. forge reads the last stdout line, strips
//       "Version: " and parses the rest as semver, so the long version must be there.
//   solc [--base-path DIR] [--include-path DIR]... [--allow-paths DIR[,DIR...]] --standard-json
//       reads Standard JSON from stdin and writes the compiler's Standard JSON output to stdout.
//       Imports that are not already in `sources` (forge normally puts every source there) are
//       read from disk like native solc does: relative to the base path (default: the working
//       directory), then each include path; a file outside base, include and allowed paths is
//       refused.
// Anything else exits with status 2, so a new forge behaviour shows up as a clear error.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, join, relative, resolve, sep } from "node:path";

const require = createRequire(import.meta.url);

/** The only compiler this shim serves; must match the pinned npm `solc` package. */
const VERSION = "0.8.30";
const COMMIT = "73712a01";
// Native solc's platform suffix; forge only looks at the part before it.
const LONG_VERSION = `${VERSION}+commit.${COMMIT}.Linux.g++`;

function die(message, code = 2) {
  process.stderr.write(`solc-shim: ${message}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const opts = { version: false, standardJson: false, basePath: null, includePaths: [], allowPaths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    // Accept both "--flag value" and "--flag=value".
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length) die(`${flag} needs a value`);
      return argv[++i];
    };
    switch (flag) {
      case "--version":
        opts.version = true;
        break;
      case "--standard-json":
        opts.standardJson = true;
        break;
      case "--base-path":
        opts.basePath = value();
        break;
      case "--include-path":
        opts.includePaths.push(value());
        break;
      case "--allow-paths":
        opts.allowPaths.push(...value().split(",").filter(Boolean));
        break;
      default:
        die(`unsupported argument ${JSON.stringify(arg)} (args: ${JSON.stringify(argv)})`);
    }
  }
  return opts;
}

function readStdin() {
  try {
    return readFileSync(0, "utf8");
  } catch (e) {
    die(`cannot read standard input: ${e.message}`, 1);
  }
}

/** True if `path` is `dir` or inside it (both absolute and normalised). */
function within(path, dir) {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

function makeImportCallback(opts) {
  const base = resolve(opts.basePath ?? ".");
  const includes = opts.includePaths.map((p) => resolve(p));
  const allowed = [base, ...includes, ...opts.allowPaths.map((p) => resolve(p))];
  return (sourceUnitName) => {
    const candidates = isAbsolute(sourceUnitName)
      ? [resolve(sourceUnitName)]
      : [base, ...includes].map((dir) => resolve(join(dir, sourceUnitName)));
    for (const file of candidates) {
      if (!allowed.some((dir) => within(file, dir))) continue;
      try {
        return { contents: readFileSync(file, "utf8") };
      } catch {
        // try the next candidate
      }
    }
    return { error: `File not found inside the base path or any of the include paths: ${sourceUnitName}` };
  };
}

const opts = parseArgs(process.argv.slice(2));

if (opts.version) {
  const pkgVersion = require("solc/package.json").version;
  if (pkgVersion !== VERSION) die(`npm solc is ${pkgVersion}, this shim serves ${VERSION}`, 1);
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${LONG_VERSION}\n`);
  process.exit(0);
}

if (!opts.standardJson) die("expected --version or --standard-json");

const input = readStdin();
const solc = require("solc");
if (!solc.version().startsWith(`${VERSION}+commit.${COMMIT}.`)) {
  die(`npm solc reports ${solc.version()}, this shim serves ${VERSION}+commit.${COMMIT}`, 1);
}
// solc.compile never throws on bad input: errors come back inside the JSON output, as with
// native solc (which also exits 0 in --standard-json mode).
const output = solc.compile(input, { import: makeImportCallback(opts) });
process.stdout.write(output);
process.stdout.write("\n");
