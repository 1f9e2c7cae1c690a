"""Bad input through Snakemake: a run that fails on bad input leaves the results of an earlier good run
untouched, and a config error is short."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import yaml

from conftest import matrix_rows, snakemake, write

BINARY = {"name": "grade", "type": "binary", "source": "targets", "column": "grade",
          "classes": {"low": ["low"], "high": ["high"]}, "positive": "high"}


def _project(work: Path) -> dict:
    """A small plain-table cohort (24 patients x 40 genes, a binary target, one gene-set file) and its config."""
    ids = [f"P{i:02d}" for i in range(1, 25)]
    write(work, "expr.tsv", matrix_rows(ids, n_genes=40, seed=3))
    write(work, "targets.tsv", [["patient", "grade"]] + [[p, "high" if i % 2 else "low"] for i, p in enumerate(ids)])
    write(work, "h.gmt", "SET_A\turl\t" + "\t".join(f"G{g}" for g in range(20)) + "\nSET_B\turl\tG20\tG21\tG22\n")
    return {"simulate": {"enabled": False}, "seed": 3,
            "inputs": {"expression": "expr.tsv", "expression_format": "matrix", "targets": "targets.tsv",
                       "gene_sets": {"h": "h.gmt"}},
            "targets": {"presets": [], "definitions": [BINARY]}, "cv": {"folds": 3}}


def _run(work: Path, config: dict, *args: str):
    (work / "run.yaml").write_text(yaml.safe_dump(config))
    return snakemake("--directory", str(work), "--configfile", str(work / "run.yaml"), "--cores", "2", *args,
                     timeout=600)


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


GOOD_TARGETS = ("results/splits/grade.tsv", "results/ingest/gene_sets/h.gmt")


def test_failed_rerun_on_bad_input_leaves_earlier_results_untouched(tmp_path):
    work = tmp_path / "project"
    work.mkdir()
    config = _project(work)
    good = _run(work, config, *GOOD_TARGETS)
    assert good.returncode == 0, good.stderr[-4000:]
    before = _hashes(work / "results")
    assert "splits/grade.tsv" in before and "logs/ingest_expression.log" in before

    bad_values = matrix_rows([f"P{i:02d}" for i in range(1, 25)], n_genes=40, seed=3)
    bad_values[7][5] = "n.d."
    write(work, "bad.tsv", bad_values)
    ids = [f"P{i:02d}" for i in range(1, 25)]
    write(work, "flat.tsv", [["gene", *ids]] + [[f"G{g}", *["1"] * 24] for g in range(40)])
    reruns = {
        "missing expression path": ({"expression": "data/missing.tsv"},
                                    r"config: an input file does not exist: inputs\.expression = 'data/missing\.tsv': "
                                    r"file not found"),
        "missing gene-set file": ({"gene_sets": {"h": "h2.gmt"}},
                                  r"inputs\.gene_sets\.h = 'h2\.gmt': file not found"),
        "non-numeric expression at a new path": ({"expression": "bad.tsv"},
                                                 r"file bad\.tsv, row 8 \(gene G6\), column 'P05': non-numeric value "
                                                 r"'n\.d\.'"),
        "all genes constant": ({"expression": "flat.tsv"}, r"file flat\.tsv: only 0 of 40 genes vary"),
    }
    for what, (inputs, message) in reruns.items():
        cfg = {**config, "inputs": {**config["inputs"], **inputs}}
        res = _run(work, cfg, *GOOD_TARGETS)
        assert res.returncode != 0, f"{what}: exit 0\n{res.stderr[-3000:]}"
        assert re.search(message, res.stderr), f"{what}:\n{res.stderr[-3000:]}"
        assert "Nothing to be done" not in res.stderr + res.stdout
        assert _hashes(work / "results") == before, f"{what}: results of the earlier run changed"
    # the same missing path in a fresh folder fails the same way (not only with earlier results present)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    _project(fresh)
    res = _run(fresh, {**config, "inputs": {**config["inputs"], "expression": "data/missing.tsv"}}, "-n")
    assert res.returncode != 0 and "inputs.expression = 'data/missing.tsv': file not found" in res.stdout + res.stderr


@pytest.mark.parametrize("patch, message", [
    ({"evaluation": {"inner_fold": 3}}, r"config: unknown key `evaluation\.inner_fold` \(in \S+run\.yaml\); did you "
                                        r"mean `evaluation\.inner_folds`\?"),
    ({"cv": {"folds": "five"}}, r"config: `cv\.folds` \(in \S+run\.yaml\) is 'five' \(a string\); expected an integer"),
])
def test_config_error_is_short_through_snakemake(tmp_path, patch, message):
    res = _run(tmp_path, patch, "-n")
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert re.search(message, out), out[-3000:]
    assert "Failed validating" not in out and "additionalProperties" not in out
    assert len(out.strip().splitlines()) <= 6, out
