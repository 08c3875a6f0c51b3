#!/usr/bin/env python3
"""plumb against native pytest on real, released libraries.

For each library in libraries.json: download its sdist from PyPI (pinned version, checked against
its sha256), unpack it, run `pytest --doctest-modules` on its package (the project's own pytest
configuration applies) and `plumb check --format json` on the same package, and compare them item
by item: a doctest item is a docstring with examples (a function, method, class or module), named
as pytest names it (`package.module.Class.method`).

    python3 benches/realworld/compare.py --plumb target/release/plumb --python PY [--only a,b] [--json out.json]
    python3 benches/realworld/compare.py --tests ...   (the same, for the library's own test suite)
    python3 benches/realworld/compare.py --whole ...   (time only: the package and its tests at once)

PY must have pytest installed. Prints one table row per library and, with --json, writes every
item's comparison. Nothing of a library runs on the host except under native pytest.

With --tests, the items are the tests of the library's own suite (`tests` in libraries.json):
native `pytest <tests>` against `plumb check <tests>`, which runs them with pytest inside the
sandbox; both with `-o addopts=` (plumb does not take a project's extra command-line options).
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent


def fetch(lib, python, cache):
    sdists = cache / "sdists"
    sdists.mkdir(parents=True, exist_ok=True)
    path = sdists / lib["sdist"]
    if not path.is_file():
        # Downloaded beside the others, then moved into place: runs in parallel never see half a file.
        with tempfile.TemporaryDirectory(dir=sdists) as tmp:
            subprocess.run(
                [python, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                 "--disable-pip-version-check", "-d", tmp, "%s==%s" % (lib["name"], lib["version"])],
                check=True,
            )
            os.replace(Path(tmp) / lib["sdist"], path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != lib["sha256"]:
        raise SystemExit("%s: sha256 %s, expected %s" % (path, digest, lib["sha256"]))
    return path


def unpack(sdist, work):
    """A fresh copy of the sdist in `work`, a directory private to this run (runs in parallel, as the
    test suite's are, never share a tree)."""
    with tarfile.open(sdist) as tar:
        top = tar.getnames()[0].split("/")[0]
        tar.extractall(work, filter="data")
    return work / top


def junit_outcomes(junit):
    """{(classname, name): passed / failed / skipped} from pytest's junit XML."""
    items = {}
    if junit.is_file():
        for case in ET.parse(junit).getroot().iter("testcase"):
            outcome = "passed"
            for child in case:
                if child.tag in ("failure", "error"):
                    outcome = "failed"
                elif child.tag == "skipped":
                    outcome = "skipped"
            items[(case.get("classname"), case.get("name"))] = outcome
    return items


def native_items(python, root, package, junit, extra):
    started = time.perf_counter()
    proc = subprocess.run(
        # `-p no:python`: docstrings only, not the test functions of test files inside the package.
        [python, "-m", "pytest", "--doctest-modules", package, "-p", "no:python", "-p", "no:cacheprovider", "-q",
         "--junitxml", str(junit)] + extra,
        cwd=root, capture_output=True, text=True,
    )
    seconds = time.perf_counter() - started
    items = {key[1]: outcome for key, outcome in junit_outcomes(junit).items()}
    return items, seconds, proc.stdout[-2000:]


def module_of(path, root):
    """The module name pytest gives a file: its packages (directories with __init__.py) and stem."""
    path = (root / path).resolve()
    parts = [] if path.stem == "__init__" else [path.stem]
    d = path.parent
    while (d / "__init__.py").is_file():
        parts.append(d.name)
        d = d.parent
    return ".".join(reversed(parts))


def run_plumb(plumb, root, path):
    """`plumb check --format json PATH` in the library's root, with no model and no store."""
    env = dict(os.environ, PLUMB_MODEL="off", PLUMB_STORE="off")
    started = time.perf_counter()
    proc = subprocess.run([plumb, "check", "--format", "json", "-q", path], cwd=root, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        raise SystemExit("plumb did not print JSON (exit %s): %s" % (proc.returncode, proc.stderr[-2000:]))
    return report, seconds


def plumb_items(plumb, root, package):
    report, seconds = run_plumb(plumb, root, package)
    items = {}
    for f in report.get("files", []):
        module = module_of(f["path"], root)
        for fn in f["functions"]:
            examples = [x for x in fn["findings"] if x["kind"].startswith("example_")]
            if fn["evidence"]["examples"] == 0 and not examples:
                continue
            name = module if fn["qualified_name"] == "<module>" else module + "." + fn["qualified_name"]
            items[name] = fn
    return items, seconds


def native_tests(python, root, tests, junit):
    started = time.perf_counter()
    proc = subprocess.run(
        [python, "-m", "pytest", tests, "-p", "no:cacheprovider", "-q", "-o", "addopts=", "--junitxml", str(junit)],
        cwd=root, capture_output=True, text=True,
    )
    seconds = time.perf_counter() - started
    return junit_outcomes(junit), seconds, proc.stdout[-2000:]


def junit_name(nodeid):
    """A pytest node id as junit names it: (dotted path and classes, test name)."""
    head, bracket, params = nodeid.partition("[")  # parameters may hold `::` (IPv6 addresses)
    parts = head.split("::")
    parts[-1] += bracket + params
    path = parts[0][:-3] if parts[0].endswith(".py") else parts[0]
    return ".".join([path.replace("/", ".")] + parts[1:-1]), parts[-1]


def plumb_tests(plumb, root, tests):
    report, seconds = run_plumb(plumb, root, tests)
    items = {}
    for f in report.get("files", []):
        for t in f.get("tests", []):
            items[junit_name(t["nodeid"])] = t
    return items, seconds, report.get("errors", [])


def absent(name, outcome, reason):
    """The row of an item native pytest ran and plumb's report lacks."""
    return {"item": name, "native": outcome, "plumb": "absent", "verdict": "unjudged", "reason": reason}


def compare_tests(native, plumbed):
    rows = []
    for key, outcome in sorted(native.items()):
        name = "%s::%s" % key
        if outcome == "skipped":
            continue
        t = plumbed.get(key)
        if t is None:
            rows.append(absent(name, outcome, "plumb did not run it"))
            continue
        got = t["outcome"]
        if got in ("failed", "error"):
            verdict = "agree" if outcome == "failed" else "false_alarm"
        elif got == "passed":
            verdict = "agree" if outcome == "passed" else "miss"
        elif got in ("stopped", "unsupported"):
            verdict = "unresolved"
        else:
            verdict = "unjudged"
        reason = "" if verdict == "agree" else (t.get("report") or got).strip().splitlines()[-1:]
        rows.append({"item": name, "native": outcome, "plumb": got, "verdict": verdict,
                     "reason": reason if isinstance(reason, str) else " ".join(reason)})
    return rows


FAILURE_KINDS = {"example_failed", "timeout", "memory_limit", "recursion_limit", "output_limit", "crash"}


def compare(native, plumbed):
    rows = []
    for name, outcome in sorted(native.items()):
        if outcome == "skipped":
            continue
        fn = plumbed.get(name)
        if fn is None:
            rows.append(absent(name, outcome, "plumb has no such docstring"))
            continue
        kinds = [x["kind"] for x in fn["findings"]]
        unresolved = [x["message"] for x in fn["findings"] if x["kind"] == "example_unresolved"]
        failed = [x["message"] for x in fn["findings"] if x["kind"] in FAILURE_KINDS]
        if failed:
            verdict = "agree" if outcome == "failed" else "false_alarm"
            reason = failed[0]
        elif unresolved:
            verdict, reason = "unresolved", unresolved[0]
        elif fn["status"] == "passing":
            verdict = "agree" if outcome == "passed" else "miss"
            reason = ""
        else:
            verdict, reason = "unjudged", "status %s, findings %s" % (fn["status"], kinds)
        rows.append({"item": name, "native": outcome, "plumb": fn["status"], "verdict": verdict, "reason": reason})
    return rows


def timed(command, root, env=None):
    started = time.perf_counter()
    subprocess.run(command, cwd=root, env=env, capture_output=True)
    return time.perf_counter() - started


def whole(args, libraries, only, cache, work):
    """The whole-package check, as a user runs it: plumb once on the package and its tests, against
    native pytest's two runs (docstrings, then the suite), in the same session."""
    print("%-16s %9s %9s %9s %6s" % ("library", "doctest_s", "pytest_s", "plumb_s", "ratio"))
    env = dict(os.environ, PLUMB_MODEL="off", PLUMB_STORE="off")
    for lib in libraries:
        if only and lib["name"] not in only:
            continue
        root = unpack(fetch(lib, args.python, cache), work)
        package, tests = lib["package"], lib["tests"]
        doctest_s = timed([args.python, "-m", "pytest", "--doctest-modules", package, "-p", "no:python", "-q",
                           "-p", "no:cacheprovider"] + lib.get("native_args", []), root)
        pytest_s = timed([args.python, "-m", "pytest", tests, "-q", "-p", "no:cacheprovider", "-o", "addopts="],
                         root)
        paths = [package] if tests.startswith(package.rstrip("/") + "/") else [package, tests]
        plumb_s = timed([args.plumb, "check", "-q", "--format", "json"] + paths, root, env)
        print("%-16s %9.2f %9.2f %9.2f %6.2f" % (lib["name"], doctest_s, pytest_s, plumb_s,
                                                 plumb_s / max(doctest_s + pytest_s, 1e-9)))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plumb", required=True)
    ap.add_argument("--python", required=True, help="a Python with pytest installed")
    ap.add_argument("--only", default="", help="comma-separated library names")
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/plumb/realworld"))
    ap.add_argument("--json", help="write every item's comparison here")
    ap.add_argument("--tests", action="store_true", help="compare the libraries' own test suites")
    ap.add_argument("--whole", action="store_true",
                    help="time `plumb check PACKAGE TESTS` against native `pytest --doctest-modules "
                         "PACKAGE` + `pytest TESTS`")
    args = ap.parse_args()
    args.plumb = os.path.abspath(args.plumb)
    libraries = json.loads((HERE / "libraries.json").read_text())
    only = {n for n in args.only.split(",") if n}
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="work-", dir=cache))
    try:
        if args.whole:
            return whole(args, libraries, only, cache, work)
        return run(args, libraries, only, cache, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args, libraries, only, cache, work):
    out = []
    print("%-16s %6s %6s %6s %6s %6s %7s %9s %9s %6s" % (
        "library", "items", "judged", "agree", "false", "miss", "unres", "native_s", "plumb_s", "ratio"))
    for lib in libraries:
        if only and lib["name"] not in only:
            continue
        root = unpack(fetch(lib, args.python, cache), work)
        if args.tests:
            native, native_s, native_tail = native_tests(args.python, root, lib["tests"], root / "native-tests.xml")
            plumbed, plumb_s, _errors = plumb_tests(args.plumb, root, lib["tests"])
            rows = compare_tests(native, plumbed)
        else:
            native, native_s, native_tail = native_items(args.python, root, lib["package"], root / "native.xml",
                                                         lib.get("native_args", []))
            plumbed, plumb_s = plumb_items(args.plumb, root, lib["package"])
            rows = compare(native, plumbed)
        count = lambda v: sum(1 for r in rows if r["verdict"] == v)
        judged = sum(1 for r in rows if r["verdict"] in ("agree", "false_alarm", "miss"))
        summary = {
            "library": lib["name"], "version": lib["version"], "items": len(rows), "judged": judged,
            "agree": count("agree"), "false_alarms": count("false_alarm"), "misses": count("miss"),
            "unresolved": count("unresolved"), "unjudged": count("unjudged"),
            "native_seconds": round(native_s, 2), "plumb_seconds": round(plumb_s, 2),
            "native_failed": sum(1 for r in rows if r["native"] == "failed"), "rows": rows,
        }
        if not native:
            summary["native_output"] = native_tail
        out.append(summary)
        print("%-16s %6d %6d %6d %6d %6d %7d %9.2f %9.2f %6.2f" % (
            lib["name"], len(rows), judged, summary["agree"], summary["false_alarms"], summary["misses"],
            summary["unresolved"] + summary["unjudged"], native_s, plumb_s, plumb_s / max(native_s, 1e-9)))
        for r in rows:
            if r["verdict"] in ("false_alarm", "miss", "unresolved", "unjudged"):
                print("    %-11s %s: %s" % (r["verdict"], r["item"], r["reason"][:150]))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
