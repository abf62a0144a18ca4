#!/usr/bin/env python3
"""Benchmark awaitify on a large corpus of real Python and compare it with raw tree-sitter parsing
and ast-grep, as issue 9 asks. Not part of the test command; rerun it whenever you like:

    bench/run.py [--build build] [--runs 5] [--jobs N] [--work /var/tmp/awaitify-bench]
                 [--precommit-only] [--instructions]

It builds (once) a corpus outside the repository: every .py file of the Debian trixie root of the
end-to-end tests (its /usr/lib/python3/dist-packages and /usr/lib/python3.13; the root is built by
tests/e2e/pyenv.sh on first use) plus fixtures/apps. It compiles bench/raw_parse.c against
libtree-sitter and the grammar archive of the awaitify build, installs @ast-grep/cli from npm into
a cache directory (unless --no-ast-grep), then runs each command --runs times, interleaved, after
one warm-up run, and prints the medians of CPU time (user+sys), wall time and peak RSS, the ratios
the issue sets targets for (on a cold `diff`, which writes .awaitify_cache/; a warm `diff` right
after it is shown beside), and the pre-commit scenario (3 files of the corpus, cold and warm):
cold removes the corpus's .awaitify_cache/ first, warm runs right after it, and the ratio says
what the cache of index facts saves. --precommit-only runs that scenario alone (a minute or so).
Results are also written as JSON to WORK/results.json.

Times move with the machine's load. --instructions runs neither of the above: it counts the
instructions (valgrind's callgrind, user space) of the raw parse and of a cold `awaitify diff`,
one thread each, side by side, and prints their ratio, which does not move with the load (about
ten minutes under valgrind); the result goes to WORK/results-instructions.json.
"""
import argparse
import json
import re
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
AST_GREP_VERSION = "0.51.1"
SKIPPED_DIRS = {"__pycache__", "venv", "site-packages", "node_modules"}
PRECOMMIT_FILES = [
    "python3/dist-packages/fastapi/applications.py",
    "python3/dist-packages/starlette/routing.py",
    "python3/dist-packages/httpx/_client.py",
]
TARGET_CPU_RATIO = 1.3
TARGET_WALL_RATIO = 1.0
TARGET_RSS_MB = 150


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=str(REPO / "build"), help="awaitify build directory (default: build)")
    parser.add_argument("--work", default="/var/tmp/awaitify-bench", help="corpus and tools (outside the repo)")
    parser.add_argument("--runs", type=int, default=5, help="measured runs of each command (median)")
    parser.add_argument("--jobs", type=int, default=0, help="threads for every tool (default: all cores)")
    parser.add_argument("--pyenv", help="the trixie root (default: the one tests/e2e/pyenv.sh prints)")
    parser.add_argument("--rebuild-corpus", action="store_true", help="copy the corpus again")
    parser.add_argument("--tools", default="/var/cache/awaitify/bench-tools", help="where npm installs ast-grep")
    parser.add_argument("--no-ast-grep", action="store_true", help="do not install or run ast-grep")
    parser.add_argument("--precommit-only", action="store_true",
                        help="only the pre-commit check, cold and warm (no raw parse, audit, diff, ast-grep)")
    parser.add_argument("--instructions", action="store_true",
                        help="only count instructions (valgrind) of the raw parse and a cold diff")
    return parser.parse_args()


# ---- corpus ---------------------------------------------------------------------------------

def find_pyenv(given):
    if given:
        return Path(given)
    log("locating the trixie root (tests/e2e/pyenv.sh builds it once; needs root)")
    out = subprocess.run(["bash", str(REPO / "tests/e2e/pyenv.sh")], check=True, stdout=subprocess.PIPE, text=True)
    return Path(out.stdout.strip())


def python_files(top):
    for directory, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            path = Path(directory) / name
            if name.endswith(".py") and path.is_file() and not path.is_symlink():
                yield path


def build_corpus(work, pyenv, rebuild):
    corpus = work / "corpus"
    stamp = work / "corpus.json"
    if corpus.is_dir() and stamp.is_file() and not rebuild:
        return corpus, json.loads(stamp.read_text())
    if corpus.exists():
        shutil.rmtree(corpus)
    corpus.mkdir(parents=True)
    log(f"copying the corpus from {pyenv} and fixtures/apps to {corpus}")
    sources = [(pyenv / "usr/lib/python3/dist-packages", "python3/dist-packages"),
               (pyenv / "usr/lib/python3.13", "python3.13")]
    for top, name in sources:
        if not top.is_dir():
            sys.exit(f"bench: {top} is missing: is {pyenv} the trixie root of tests/e2e/pyenv.sh?")
        for path in python_files(top):
            target = corpus / name / path.relative_to(top)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    shutil.copytree(REPO / "fixtures/apps", corpus / "apps",
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.db"))
    # A project marker: the corpus is one project, so a run on 3 of its files indexes all of it.
    (corpus / "pyproject.toml").write_text("[project]\nname = \"awaitify-bench-corpus\"\n")
    files = sorted(str(p.relative_to(corpus)) for p in python_files(corpus))
    (work / "files.txt").write_text("".join(f + "\n" for f in files))
    size = sum((corpus / f).stat().st_size for f in files)
    lines = sum((corpus / f).read_bytes().count(b"\n") for f in files)
    info = {"files": len(files), "bytes": size, "lines": lines, "pyenv": str(pyenv)}
    stamp.write_text(json.dumps(info))
    return corpus, info


# ---- tools ----------------------------------------------------------------------------------

def build_raw_parse(work, build):
    grammar = build / "libtree_sitter_python.a"
    if not grammar.is_file():
        sys.exit(f"bench: {grammar} is missing: build awaitify first (scripts/setup.sh {build})")
    source = REPO / "bench/raw_parse.c"
    binary = work / "raw_parse"
    cache = build / "CMakeCache.txt"
    inputs = [source, grammar] + ([cache] if cache.is_file() else [])
    if binary.is_file() and binary.stat().st_mtime > max(path.stat().st_mtime for path in inputs):
        return binary
    # The tree-sitter runtime as awaitify links it: its static archive, or the shared library.
    archive = tree_sitter_archive(cache)
    libs = subprocess.run(["pkg-config", "--cflags", *([] if archive else ["--libs"]), "tree-sitter"],
                          check=True, stdout=subprocess.PIPE, text=True).stdout.split()
    if archive:
        libs.append(archive)
    log(f"compiling bench/raw_parse.c with tree-sitter's {archive or 'shared library'}")
    subprocess.run(["cc", "-O2", "-o", str(binary), str(source), str(grammar), *libs, "-lpthread"], check=True)
    return binary


def tree_sitter_archive(cache):
    """The static archive of tree-sitter the awaitify build links, or None (the shared library)."""
    settings = {}
    if cache.is_file():
        for line in cache.read_text().splitlines():
            name, _, value = line.partition("=")
            settings[name.split(":")[0]] = value
    archive = settings.get("TREE_SITTER_ARCHIVE", "")
    if settings.get("AWAITIFY_STATIC_TREE_SITTER", "OFF").upper() not in ("ON", "1", "TRUE", "YES"):
        return None
    return archive if archive and not archive.endswith("-NOTFOUND") else None


def find_ast_grep(tools, skip):
    if skip:
        return None, "skipped (--no-ast-grep)"
    local = tools / "node_modules/.bin/ast-grep"
    if local.exists():
        return local, None
    if shutil.which("ast-grep"):
        return Path(shutil.which("ast-grep")), None
    if not shutil.which("npm"):
        return None, "not installed and npm is missing"
    log(f"installing @ast-grep/cli@{AST_GREP_VERSION} from npm into {tools}")
    tools.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(tools),
                           f"@ast-grep/cli@{AST_GREP_VERSION}"], stdout=subprocess.DEVNULL)
    if done.returncode != 0 or not local.exists():
        return None, "npm install @ast-grep/cli failed"
    return local, None


def has_command(awaitify, name):
    """Whether `awaitify --help` lists the subcommand (`awaitify NAME --help` alone proves nothing:
    CLI11 prints the top-level help for an unknown word too)."""
    listing = subprocess.run([str(awaitify), "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True).stdout
    return re.search(rf"^\s+{re.escape(name)}\s", listing, re.MULTILINE) is not None


# ---- measuring ------------------------------------------------------------------------------

def measure(argv, cwd, ok_codes, err_file):
    """One run: (cpu seconds, wall seconds, peak RSS in MB) of argv and its children."""
    with open(os.devnull, "wb") as out, open(err_file, "wb") as err:
        start = time.monotonic()
        process = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in ok_codes:
        tail = Path(err_file).read_text(errors="replace")[-2000:]
        sys.exit(f"bench: {' '.join(argv)} exited with {process.returncode}:\n{tail}")
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024


class Command:
    def __init__(self, name, argv, ok_codes=(0,), cwd=None, before=None):
        self.name, self.argv, self.ok_codes, self.cwd, self.before = name, argv, ok_codes, cwd, before
        self.samples = []

    def run(self, work, record=True):
        if self.before:
            self.before()
        sample = measure(self.argv, self.cwd, self.ok_codes, work / "stderr.txt")
        if record:
            self.samples.append(sample)

    def medians(self):
        return tuple(statistics.median(s[i] for s in self.samples) for i in range(3))


def run_interleaved(commands, runs, work):
    for command in commands:  # warm-up: page cache, lazy binding
        command.run(work, record=False)
    for round_number in range(runs):
        log(f"round {round_number + 1}/{runs}")
        for command in commands:
            command.run(work)


def count_instructions(commands, work):
    """{name: instructions} of each (name, argv, cwd, before) run under callgrind, side by side."""
    running = {}
    for name, argv, cwd, before in commands:
        if before:
            before()
        out = work / f"callgrind.{name}.out"
        err = open(work / f"callgrind.{name}.err", "w+")
        argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv]
        running[name] = (subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err), err)
    counts = {}
    for name, (process, err) in running.items():
        process.wait()
        err.seek(0)
        found = re.search(r"Collected : (\d+)", err.read())
        err.close()
        if not found:
            sys.exit(f"bench: valgrind gave no instruction count for {name}: see {err.name}")
        counts[name] = int(found.group(1))
    return counts


def report_instructions(awaitify, raw_parse, corpus, work, drop_cache, info):
    if not shutil.which("valgrind"):
        sys.exit("bench: --instructions needs valgrind (apt install valgrind)")
    log("counting instructions under valgrind: about ten minutes")
    counts = count_instructions([
        ("raw", [str(raw_parse), "--jobs", "1", str(work / "files.txt")], corpus, None),
        ("diff", [str(awaitify), "diff", "-q", "--jobs", "1", "."], corpus, drop_cache)], work)
    drop_cache()
    ratio = counts["diff"] / counts["raw"]
    print(f"corpus: {info['files']} files, {info['lines']:,} lines, {info['bytes'] / 1e6:.1f} MB")
    print("instructions (valgrind --tool=callgrind, user space, one thread each, diff cold):")
    print(f"  raw tree-sitter parse              {counts['raw'] / 1e9:8.1f} G")
    print(f"  awaitify diff (all phases)         {counts['diff'] / 1e9:8.1f} G")
    print(f"  awaitify diff / raw parse:         {ratio:6.2f}x  (the CPU target is <= {TARGET_CPU_RATIO}x)")
    results = {"corpus": info, "instructions": counts, "ratio": ratio}
    (work / "results-instructions.json").write_text(json.dumps(results, indent=2) + "\n")


# ---- report ---------------------------------------------------------------------------------

def row(name, values):
    if isinstance(values, str):
        return f"  {name:<34} {values}"
    cpu, wall, rss = values
    return f"  {name:<34} {cpu:>8.2f} {wall:>8.2f} {rss:>10.1f} {cpu / wall if wall else 0:>6.2f}"


def verdict(value, target, below=True):
    met = value <= target if below else value < target
    return "met" if met else "MISSED"


def main():
    args = parse_args()
    build = Path(args.build).resolve()
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    awaitify = build / "awaitify"
    if not awaitify.is_file():
        sys.exit(f"bench: {awaitify} is missing: build it first (scripts/setup.sh {build})")
    corpus, info = build_corpus(work, find_pyenv(args.pyenv), args.rebuild_corpus)
    raw_parse = build_raw_parse(work, build)
    ast_grep, ast_grep_note = find_ast_grep(Path(args.tools),
                                            args.no_ast_grep or args.precommit_only or args.instructions)
    jobs = args.jobs or os.cpu_count()
    jobs_flag = ["--jobs", str(jobs)]
    cache = corpus / ".awaitify_cache"

    def drop_cache():
        shutil.rmtree(cache, ignore_errors=True)

    if args.instructions:
        return report_instructions(awaitify, raw_parse, corpus, work, drop_cache, info)

    commands = {"raw": Command("raw tree-sitter parse", [str(raw_parse), *jobs_flag, str(work / "files.txt")],
                               cwd=corpus)}
    notes = {}
    if has_command(awaitify, "audit"):
        commands["audit"] = Command("awaitify audit", [str(awaitify), "audit", "-q", *jobs_flag, "."], (0, 1),
                                    corpus, drop_cache)
    else:
        notes["audit"] = "skipped: this awaitify has no 'audit' command yet"
    commands["diff"] = Command("awaitify diff (all phases)", [str(awaitify), "diff", "-q", *jobs_flag, "."], (0, 1),
                               corpus, drop_cache)
    # Right after the cold diff, which wrote .awaitify_cache/: the run of a migration's second day.
    commands["diff-warm"] = Command("awaitify diff, warm cache", commands["diff"].argv, (0, 1), corpus)
    if ast_grep:
        commands["ast-grep"] = Command(
            "ast-grep run (1 rewrite rule)",
            [str(ast_grep), "run", "--lang", "python", "--threads", str(jobs), "--pattern", "time.sleep($T)",
             "--rewrite", "await asyncio.sleep($T)", "."], (0, 1), corpus)
    else:
        notes["ast-grep"] = f"skipped: {ast_grep_note}"

    precommit_verb = "check" if has_command(awaitify, "check") else "diff"
    precommit = [f for f in PRECOMMIT_FILES if (corpus / f).is_file()]
    cold = Command(f"cold (no .awaitify_cache)", [str(awaitify), precommit_verb, "-q", *jobs_flag, *precommit],
                   (0, 1), corpus, drop_cache)
    warm = Command(f"warm (second run)", cold.argv, (0, 1), corpus)

    log(f"corpus: {info['files']} files; {args.runs} runs of each command, interleaved")
    if args.precommit_only:
        commands = {}
    else:
        run_interleaved(list(commands.values()), args.runs, work)
    cold.run(work, record=False)  # warm-up: page cache, lazy binding
    for _ in range(args.runs):
        cold.run(work)
        warm.run(work)
    cache_used = cache.is_dir()
    drop_cache()
    if args.precommit_only:
        return report_precommit(precommit_verb, precommit, cold, warm, cache_used, info, jobs, args.runs)

    print(f"corpus: {info['files']} files, {info['lines']:,} lines, {info['bytes'] / 1e6:.1f} MB ({corpus})")
    print(f"machine: {os.cpu_count()} cores, --jobs {jobs}; medians of {args.runs} runs after one warm-up")
    print(f"  {'':<34} {'CPU s':>8} {'wall s':>8} {'peak RSS MB':>10} {'cores':>6}")
    results = {"corpus": info, "jobs": jobs, "runs": args.runs, "commands": {}, "notes": notes}
    for key in ["raw", "audit", "diff", "diff-warm", "ast-grep"]:
        if key in commands:
            medians = commands[key].medians()
            results["commands"][key] = dict(zip(["cpu_s", "wall_s", "rss_mb"], medians))
            print(row(commands[key].name, medians))
        else:
            print(row({"audit": "awaitify audit", "ast-grep": "ast-grep run"}[key], notes[key]))

    diff_cpu, diff_wall, diff_rss = commands["diff"].medians()
    raw_cpu = commands["raw"].medians()[0]
    print("targets (issue 9):")
    cpu_ratio = diff_cpu / raw_cpu
    print(f"  awaitify diff / raw parse, CPU:   {cpu_ratio:6.2f}x  (target <= {TARGET_CPU_RATIO}x: "
          f"{verdict(cpu_ratio, TARGET_CPU_RATIO)})")
    results["cpu_ratio_vs_raw_parse"] = cpu_ratio
    warm_ratio = commands["diff-warm"].medians()[0] / raw_cpu
    print(f"  the same, warm cache:             {warm_ratio:6.2f}x  (for comparison; the target is "
          f"the cold run's)")
    results["warm_cpu_ratio_vs_raw_parse"] = warm_ratio
    if "audit" in commands:
        audit_ratio = commands["audit"].medians()[0] / raw_cpu
        print(f"  awaitify audit / raw parse, CPU:  {audit_ratio:6.2f}x")
        results["audit_cpu_ratio_vs_raw_parse"] = audit_ratio
    if "ast-grep" in commands:
        wall_ratio = diff_wall / commands["ast-grep"].medians()[1]
        print(f"  awaitify diff / ast-grep, wall:   {wall_ratio:6.2f}x  (target <= {TARGET_WALL_RATIO}x: "
              f"{verdict(wall_ratio, TARGET_WALL_RATIO)})")
        results["wall_ratio_vs_ast_grep"] = wall_ratio
    else:
        print(f"  awaitify diff / ast-grep, wall:   n/a ({notes['ast-grep']})")
    print(f"  awaitify diff peak RSS:           {diff_rss:6.1f} MB (target < {TARGET_RSS_MB} MB: "
          f"{verdict(diff_rss, TARGET_RSS_MB, below=False)})")
    print(f"  awaitify diff cores used:         {diff_cpu / diff_wall:6.2f} of {jobs}")

    precommit_results = print_precommit(precommit_verb, precommit, cold, warm, cache_used)
    results["commands"].update(precommit_results.pop("commands"))
    results.update(precommit_results)
    (work / "results.json").write_text(json.dumps(results, indent=2) + "\n")


def print_precommit(verb, files, cold, warm, cache_used):
    """The pre-commit rows and the cold/warm ratios; what goes to results.json."""
    results = {"commands": {}}
    print(f"pre-commit: awaitify {verb} on {len(files)} files, the whole corpus as their project:")
    for command in (cold, warm):
        results["commands"]["precommit " + command.name.split()[0]] = dict(
            zip(["cpu_s", "wall_s", "rss_mb"], command.medians()))
        print(row(command.name, command.medians()))
    (cold_cpu, cold_wall, _), (warm_cpu, warm_wall, _) = cold.medians(), warm.medians()
    cpu_ratio = cold_cpu / warm_cpu if warm_cpu else 0
    wall_ratio = cold_wall / warm_wall if warm_wall else 0
    print(f"  cold / warm:                       {cpu_ratio:6.1f}x CPU, {wall_ratio:6.1f}x wall")
    results["precommit_cold_over_warm"] = {"cpu": cpu_ratio, "wall": wall_ratio}
    if not cache_used:
        print("  (this awaitify keeps no .awaitify_cache: the warm run re-reads and re-parses the project too)")
    results["persistent_cache"] = cache_used
    return results


def report_precommit(verb, files, cold, warm, cache_used, info, jobs, runs):
    print(f"corpus: {info['files']} files, {info['lines']:,} lines, {info['bytes'] / 1e6:.1f} MB")
    print(f"machine: {os.cpu_count()} cores, --jobs {jobs}; medians of {runs} runs after one warm-up")
    print(f"  {'':<34} {'CPU s':>8} {'wall s':>8} {'peak RSS MB':>10} {'cores':>6}")
    results = print_precommit(verb, files, cold, warm, cache_used)
    results.update({"corpus": info, "jobs": jobs, "runs": runs})
    (Path(cold.cwd).parent / "results-precommit.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
