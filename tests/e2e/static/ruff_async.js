#!/usr/bin/env node
// ruff_async.js TOOLS_DIR TARGET BASE FILE... - lint each Python file with ruff's ASYNC rules
// (blocking calls inside async functions) through @astral-sh/ruff-wasm-nodejs, for Python
// TARGET (py313).
// Prints `file:line:col: CODE message` per finding, file relative to BASE.
// Exit status: 0 no finding, 1 findings, 2 usage error or a file ruff cannot lint.
"use strict";
const fs = require("fs");
const path = require("path");

const [toolsDir, target, base, ...files] = process.argv.slice(2);
if (!toolsDir || !target || !base || files.length === 0) {
  console.error("usage: ruff_async.js TOOLS_DIR TARGET BASE FILE...");
  process.exit(2);
}
const ruff = require(path.join(toolsDir, "node_modules", "@astral-sh", "ruff-wasm-nodejs"));
const workspace = new ruff.Workspace(
  { "target-version": target, lint: { select: ["ASYNC"] } },
  ruff.PositionEncoding.Utf16,
);

let findings = 0;
for (const file of files) {
  let diagnostics;
  try {
    diagnostics = workspace.check(fs.readFileSync(file, "utf8"));
  } catch (error) {
    console.error(`${file}: ruff failed: ${error}`);
    process.exit(2);
  }
  const name = path.relative(base, file);
  for (const d of diagnostics) {
    // no code: a syntax error, which counts (the file would not run either)
    console.log(`${name}:${d.start_location.row}:${d.start_location.column}: ${d.code || "syntax-error"} ${d.message}`);
    findings++;
  }
}
console.log(`ruff ${ruff.Workspace.version()}, ASYNC rules: ${findings} finding(s) in ${files.length} file(s)`);
process.exit(findings ? 1 : 0);
