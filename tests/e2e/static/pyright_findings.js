#!/usr/bin/env node
// pyright_findings.js BASE < pyright --outputjson - sort pyright's errors into the ones the
// end-to-end run fails on and the others, one a line: `file:line:col: rule message`, file
// relative to BASE.
//
// Failing: a coroutine never awaited (reportUnusedCoroutine), any error about a coroutine or
// awaitable used as a value (an attribute read, a subscript, a loop, a condition on it: pyright
// files those under several rules, and names the coroutine type in the message), and an
// import pyright cannot resolve (reportMissingImports: without the import, the types are
// unknown and the checks above see nothing).  Every other error is printed as a note, not
// failing: the sample apps are not meant to be type-clean, only correctly async.
// Exit status: 0 nothing failing, 1 failing findings, 2 unreadable input.
"use strict";
const path = require("path");

const base = process.argv[2];
if (!base) {
  console.error("usage: pyright_findings.js BASE < pyright-output.json");
  process.exit(2);
}
const ALWAYS = new Set(["reportUnusedCoroutine", "reportMissingImports"]);
const ABOUT_COROUTINES = /coroutine|Awaitable\[/i;

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  let report;
  try {
    report = JSON.parse(input);
  } catch (error) {
    console.error(`pyright did not print a JSON report: ${error}`);
    process.exit(2);
  }
  const failing = [];
  const notes = [];
  for (const d of report.generalDiagnostics || []) {
    if (d.severity !== "error") continue;
    const where = d.range ? `${d.range.start.line + 1}:${d.range.start.character + 1}` : "1:1";
    const message = d.message.split("\n")[0];
    const line = `${path.relative(base, d.file)}:${where}: ${d.rule || "pyright"} ${message}`;
    (ALWAYS.has(d.rule) || ABOUT_COROUTINES.test(d.message) ? failing : notes).push(line);
  }
  for (const line of failing) console.log(line);
  for (const line of notes) console.log(`note (not about coroutines, not failing): ${line}`);
  const s = report.summary || {};
  console.log(`pyright ${report.version}: ${failing.length} failing, ${notes.length} other error(s) in ${s.filesAnalyzed} file(s)`);
  process.exit(failing.length ? 1 : 0);
});
