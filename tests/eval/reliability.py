#!/usr/bin/env python3
"""Reliability diagram of a sweep (tests/eval/sweep.py --keep DIR): per setting, the share of
correct functions in each confidence bin against the bin's mean confidence, with the diagonal
(perfect calibration) and each setting's expected calibration error. Needs matplotlib.

    python3 tests/eval/reliability.py DIR out.png
"""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep import ece, points  # noqa: E402

def main():
    folder, out = Path(sys.argv[1]), sys.argv[2]
    fig, ax = plt.subplots(figsize=(7, 6), dpi=110)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    everything = []
    for path in sorted(folder.glob("*.jsonl")):
        rows = [json.loads(line) for line in open(path)]
        everything += rows
        pts = points(rows)
        label = f"{path.stem.replace('_', ' ')} (ECE {ece(rows):.3f})"
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=3, linewidth=1, label=label)
    pts = points(everything)
    ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=[p[2] for p in pts], color="black", alpha=0.3,
               label=f"all settings (ECE {ece(everything):.3f}; area: functions in the bin)")
    ax.set_xlabel("plumb's confidence that the function is correct (bin mean)")
    ax.set_ylabel("share of the bin's functions that are correct")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title("Reliability on tests/eval against the stand-in model (4 samples)")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(out)


if __name__ == "__main__":
    main()
