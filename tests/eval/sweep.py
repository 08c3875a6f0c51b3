#!/usr/bin/env python3
"""The judge under models of chosen quality: runs `plumb eval` on this set against the stand-in
(standin.py) for each setting and prints one table row per setting: subtle bugs warned, correct
functions warned, AUROC of (1 - confidence) between subtle bugs and correct functions, and the
expected calibration error over all functions.

    python3 tests/eval/sweep.py [--plumb target/release/plumb] [--samples 4] [--quick]

Settings: p in {0.2, 0.4, 0.7, 0.9}, then p = 0.4 with correlated wrong answers, p = 0.7 with
identical samples, and p = 0.7 with truncated, looping and crashing candidates.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

SETTINGS = [
    ("p=0.2", ["--p", "0.2"]),
    ("p=0.4", ["--p", "0.4"]),
    ("p=0.7", ["--p", "0.7"]),
    ("p=0.9", ["--p", "0.9"]),
    ("p=0.4 correlated", ["--p", "0.4", "--correlated"]),
    ("p=0.7 identical samples", ["--p", "0.7", "--identical"]),
    ("p=0.7 truncated/looping/crashing", ["--p", "0.7", "--truncate", "0.15", "--loop", "0.1", "--crash", "0.1"]),
]


def auroc(pos, neg):
    """P(score of a positive > score of a negative), ties half."""
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def points(rows, bins=10):
    """Per confidence bin: (mean confidence, share of correct functions, functions)."""
    out = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [r for r in rows if lo <= r["confidence"] < hi or (b == bins - 1 and r["confidence"] == 1.0)]
        if inside:
            conf = sum(r["confidence"] for r in inside) / len(inside)
            acc = sum(r["label"] == "correct" for r in inside) / len(inside)
            out.append((conf, acc, len(inside)))
    return out


def ece(rows, bins=10):
    return sum(n / len(rows) * abs(c - a) for c, a, n in points(rows, bins))


def run(plumb, samples, extra, out):
    server = subprocess.Popen(
        [sys.executable, str(HERE / "standin.py"), "--port", "0", *extra],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = server.stdout.readline().strip()
        subprocess.run(
            [plumb, "eval", str(HERE), "--model-url", url, "--model", "standin", "--model-chat",
             "--model-samples", str(samples), "--cases", out],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    finally:
        server.kill()
    return [json.loads(line) for line in open(out)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plumb", default="target/release/plumb")
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--quick", action="store_true", help="p = 0.4 correlated and p = 0.7 only")
    ap.add_argument("--keep", help="keep each setting's cases (JSON lines) in this folder")
    args = ap.parse_args()
    settings = [s for s in SETTINGS if not args.quick or s[0] in ("p=0.7", "p=0.4 correlated")]
    print(f"| model ({args.samples} samples) | subtle bugs warned | correct functions warned | AUROC subtle vs correct | ECE | s |")
    print("|---|---|---|---|---|---|")
    keep = Path(args.keep) if args.keep else Path(tempfile.mkdtemp())
    keep.mkdir(parents=True, exist_ok=True)
    for name, extra in settings:
        started = time.time()
        out = keep / (name.replace(" ", "_").replace("/", "-").replace("=", "") + ".jsonl")
        rows = run(args.plumb, args.samples, extra, str(out))
        subtle = [r for r in rows if r["label"] == "buggy" and r.get("kind") == "subtle"]
        correct = [r for r in rows if r["label"] == "correct"]
        warned = lambda rs: sum(r["flagged"] for r in rs) / max(1, len(rs))
        a = auroc([1 - r["confidence"] for r in subtle], [1 - r["confidence"] for r in correct])
        print(
            f"| {name} | {warned(subtle):.0%} ({sum(r['flagged'] for r in subtle)}/{len(subtle)}) "
            f"| {warned(correct):.1%} ({sum(r['flagged'] for r in correct)}/{len(correct)}) "
            f"| {a:.2f} | {ece(rows):.3f} | {time.time() - started:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    os.chdir(HERE.parent.parent)
    main()
