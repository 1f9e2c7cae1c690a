"""benchmarks/compare_runs.py: the table comparison behind the cores and thread-count checks of benchmarks/README.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import benchmark_module


@pytest.fixture(scope="module")
def compare_runs():
    return benchmark_module("compare_runs")


def _write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_identical_differing_and_missing_files(compare_runs, tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    for root, score in ((a, "0.75"), (b, "0.7500003")):
        _write(root, "evaluation/f5/summary.tsv", f"model\tscore\nnetwork\t{score}\nsvm\t0.5\n")
        _write(root, "cohorts/cohorts.json", '{"targets": {}}')
        _write(root, "logs/x.tsv", f"noise\n{score}\n")  # logs are not data: never compared
        _write(root, "figures/f5/roc.png", score)  # nor are figures
        _write(root, "models/f5/network/final.pt", "weights")  # models are, byte for byte
    _write(b, "cohorts/patients.parquet", "columns")
    _write(a, "enrichment/f5/programs.tsv", "set\tp\nA\t0.1\n")
    table = compare_runs.compare(a, b).set_index("file")
    assert table.loc["cohorts/cohorts.json", "status"] == "identical"
    assert table.loc["enrichment/f5/programs.tsv", "status"] == "only in first"
    row = table.loc["evaluation/f5/summary.tsv"]
    assert row["status"] == "differs" and row["text_equal"]
    assert row["max_abs"] == pytest.approx(3e-7) and row["max_rel"] == pytest.approx(3e-7 / 0.7500003)
    assert "logs/x.tsv" not in table.index and "figures/f5/roc.png" not in table.index
    assert table.loc["models/f5/network/final.pt", "status"] == "identical"
    assert table.loc["cohorts/patients.parquet", "status"] == "only in second"
    assert compare_runs.main([str(a), str(b)]) == 1
    assert "2 identical" in capsys.readouterr().out
    assert compare_runs.main([str(a), str(a)]) == 0


def test_a_renamed_class_is_a_text_difference(compare_runs, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _write(a, "t.tsv", "set\tnes\nA\t1.0\nB\t2.0\n")
    _write(b, "t.tsv", "set\tnes\nB\t1.0\nA\t2.0\n")
    row = compare_runs.compare(a, b).iloc[0]
    assert row["status"] == "differs" and not row["text_equal"] and row["max_abs"] == 0.0
