"""Loads plumb's exports with pyarrow and Hugging Face `datasets`, as a trainer would.

usage: load_exports.py KIND=PATH=ROWS ...   (prints one line per export; exits 1 on a mismatch)
"""
import os
import sys

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import datasets  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import pyarrow.json as pj  # noqa: E402

COLUMNS = {
    "leti": ["id", "created_at", "prompt", "completion", "reward", "reward_token", "feedback", "text",
             "tests_hash", "source", "model_id", "truncated"],
    "dpo": ["prompt", "chosen", "rejected", "prompt_hash", "chosen_id", "rejected_id", "tests_hash", "model_id"],
    "kto": ["id", "prompt", "completion", "label"],
    "labels": ["id", "execution_id", "label", "implicit", "finding_kind", "prompt", "completion"],
}

failed = False
for arg in sys.argv[1:]:
    kind, path, rows = arg.split("=")
    rows = int(rows)
    fmt = "parquet" if path.endswith(".parquet") else "json"
    table = pq.read_table(path) if fmt == "parquet" else pj.read_json(path)
    ds = datasets.load_dataset(fmt, data_files=path, split="train", cache_dir=os.environ["HF_DATASETS_CACHE"])
    ok = ds.num_rows == rows and table.num_rows == rows and list(ds.column_names) == COLUMNS[kind]
    if kind == "dpo" and rows:
        ok = ok and all(c != r for c, r in zip(ds["chosen"], ds["rejected"]))
    if kind == "kto" and rows:
        ok = ok and set(ds["label"]) <= {True, False}
    print(f"{kind} {path}: datasets rows={ds.num_rows} pyarrow rows={table.num_rows} columns={ds.column_names} {'ok' if ok else 'MISMATCH'}")
    failed |= not ok
sys.exit(1 if failed else 0)
