#!/usr/bin/env python3
"""Every file of the benchmark corpus (the trixie root's Python packages and standard library, plus
fixtures/apps; see bench/run.py): `awaitify diff` never crashes and reports no error, every file
`apply` writes still parses (tree-sitter, and CPython's own parser wherever the original parses
with the host's python3), and the result is idempotent: `diff` after `apply` prints nothing.

    bench/corpus_check.py [--build build] [--pyenv ROOT] [--keep]

Works on a fresh copy of the corpus in a temporary folder. Exit codes: 0 passed, 1 failed,
77 skipped (no trixie root: run tests/e2e/pyenv.sh once, as root). CTest runs it as the test
`corpus_idempotence` (label `corpus`).
"""
import argparse
import ast
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402  (the corpus builder and raw_parse are shared with the benchmark)

SKIP = 77


def existing_pyenv():
    """The newest complete trixie root, without building one (that takes minutes and root)."""
    base = os.environ.get("AWAITIFY_PYENV_DIR", "/var/cache/awaitify/pyenv")
    roots = [Path(p).parent for p in glob.glob(f"{base}/trixie-*/.awaitify-pyenv")
             if (Path(p).parent / "usr/bin/python3").exists()]
    return max(roots, key=lambda p: p.stat().st_mtime) if roots else None


def awaitify(binary, corpus, *arguments):
    started = time.monotonic()
    done = subprocess.run([str(binary), *arguments, "."], cwd=corpus, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, errors="replace")
    print(f"corpus: awaitify {' '.join(arguments)}: exit {done.returncode}, {time.monotonic() - started:.1f} s",
          flush=True)
    return done


def changed_files(diff_text):
    return [line[len("+++ b/"):] for line in diff_text.splitlines() if line.startswith("+++ b/")]


def cpython_parses(text):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
        return True
    except (SyntaxError, ValueError):
        return False


def check(binary, corpus, raw_parse):
    failures = []
    diff = awaitify(binary, corpus, "diff", "-q")
    if diff.returncode not in (0, 1):
        return [f"awaitify diff exited with {diff.returncode}:\n{diff.stderr[-3000:]}"]
    if diff.stderr.strip():
        failures.append(f"awaitify diff reported errors:\n{diff.stderr[-3000:]}")
    changed = changed_files(diff.stdout)
    before = {path: (corpus / path).read_bytes() for path in changed}
    apply = awaitify(binary, corpus, "apply", "-q")
    if apply.returncode != 0:
        failures.append(f"awaitify apply exited with {apply.returncode}:\n{apply.stderr[-3000:]}")
    written = [path for path in changed if (corpus / path).read_bytes() != before[path]]
    print(f"corpus: {len(changed)} files in the diff, {len(written)} written", flush=True)
    if len(written) != len(changed):
        failures.append(f"apply wrote {len(written)} of the {len(changed)} files diff showed")
    if written:
        listing = corpus.parent / "written.txt"
        listing.write_text("".join(path + "\n" for path in written))
        parsed = subprocess.run([str(raw_parse), "--check", str(listing)], cwd=corpus,
                                stderr=subprocess.PIPE, text=True)
        if parsed.returncode != 0:
            failures.append(f"written files that tree-sitter cannot parse:\n{parsed.stderr[-3000:]}")
    for path in written:
        original = before[path].decode("utf-8", "replace")
        result = (corpus / path).read_text("utf-8", "replace")
        if cpython_parses(original) and not cpython_parses(result):
            failures.append(f"{path}: the result does not parse with {sys.executable} (the original does)")
    again = awaitify(binary, corpus, "diff", "-q")
    if again.returncode != 0 or again.stdout:
        failures.append(f"not idempotent: diff after apply exited with {again.returncode} and printed "
                        f"{len(again.stdout.splitlines())} lines:\n{again.stdout[:3000]}")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=str(bench.REPO / "build"), help="awaitify build directory")
    parser.add_argument("--pyenv", help="the trixie root (default: the newest one already built)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary corpus")
    args = parser.parse_args()
    pyenv = Path(args.pyenv) if args.pyenv else existing_pyenv()
    if pyenv is None:
        print("corpus: skipped: no trixie root yet (bash tests/e2e/pyenv.sh builds it, as root)")
        return SKIP
    build = Path(args.build).resolve()
    binary = build / "awaitify"
    work = Path(tempfile.mkdtemp(prefix="awaitify-corpus-", dir=os.environ.get("TMPDIR", "/var/tmp")))
    try:
        corpus, info = bench.build_corpus(work, pyenv, rebuild=True)
        print(f"corpus: {info['files']} files, {info['lines']:,} lines from {pyenv} and fixtures/apps", flush=True)
        raw_parse = bench.build_raw_parse(work, build)
        failures = check(binary, corpus, raw_parse)
    finally:
        if args.keep:
            print(f"corpus: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    for failure in failures:
        print(f"corpus: FAILED: {failure}", file=sys.stderr)
    print("corpus: passed" if not failures else f"corpus: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
