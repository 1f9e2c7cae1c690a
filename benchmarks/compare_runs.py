"""Compare the tables of two workflow runs: which are byte-identical, and how far the others differ.

    python benchmarks/compare_runs.py /tmp/run_cores2/results /tmp/run_cores8/results

For every data file under the first results folder (tables ``.tsv``, ``.json``, ``.parquet``, gene-set ``.gmt``,
models ``.pt`` and ``.zip``; logs, benchmarks, figures and the report are not data and are skipped), the same path
under the second is compared: byte-identical, or, for ``.tsv`` tables with the same shape and columns, the largest
absolute and relative difference of the numeric columns and whether the non-numeric columns (rankings' names,
classes) agree. Files present in one run only are listed. Exit status 0 when every file is
byte-identical, 1 otherwise (the report is printed either way).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

#: data files: every table, model and JSON a run writes (tests/workflow/test_faults.py compares the same set)
COMPARED = (".tsv", ".json", ".parquet", ".gmt", ".pt", ".zip")
NOT_DATA = ("logs", "benchmarks", "report")


def data_files(results: Path) -> dict[str, Path]:
    """The data files under ``results``, by path relative to it."""
    return {str(p.relative_to(results)): p for p in sorted(results.rglob("*"))
            if p.is_file() and p.suffix in COMPARED and p.relative_to(results).parts[0] not in NOT_DATA}


def table_difference(a: Path, b: Path) -> dict[str, object]:
    """Largest absolute / relative difference of the numeric columns of two tables of the same layout."""
    x, y = pd.read_csv(a, sep="\t"), pd.read_csv(b, sep="\t")
    if list(x.columns) != list(y.columns) or x.shape != y.shape:
        return {"layout": f"{x.shape} vs {y.shape}", "max_abs": np.nan, "max_rel": np.nan, "text_equal": False}
    num = [c for c in x.columns if pd.api.types.is_numeric_dtype(x[c]) and pd.api.types.is_numeric_dtype(y[c])]
    text = [c for c in x.columns if c not in num]
    xa, ya = x[num].to_numpy(float), y[num].to_numpy(float)
    both_nan = np.isnan(xa) & np.isnan(ya)
    diff = np.where(both_nan, 0.0, np.abs(xa - ya))
    scale = np.maximum(np.abs(xa), np.abs(ya))
    rel = np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), 0.0)
    return {"layout": "same", "max_abs": float(np.nanmax(diff, initial=0.0)),
            "max_rel": float(np.nanmax(rel, initial=0.0)),
            "text_equal": bool(x[text].astype(str).equals(y[text].astype(str)))}


def compare(first: Path, second: Path) -> pd.DataFrame:
    a, b = data_files(first), data_files(second)
    rows = []
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            rows.append({"file": name, "status": "only in " + ("first" if name in a else "second")})
            continue
        if a[name].read_bytes() == b[name].read_bytes():
            rows.append({"file": name, "status": "identical"})
            continue
        row = {"file": name, "status": "differs"}
        if name.endswith(".tsv"):
            row.update(table_difference(a[name], b[name]))
        rows.append(row)
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("first", type=Path, help="results folder of the first run")
    p.add_argument("second", type=Path, help="results folder of the second run")
    args = p.parse_args(argv)
    table = compare(args.first, args.second)
    counts = table["status"].value_counts()
    print(f"{len(table)} files: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    differing = table[table["status"] != "identical"]
    if len(differing):
        with pd.option_context("display.width", 200, "display.max_rows", 500, "display.max_colwidth", 80):
            print(differing.to_string(index=False))
    return 0 if differing.empty else 1


if __name__ == "__main__":
    sys.exit(main())
