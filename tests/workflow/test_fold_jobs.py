"""evaluation.split_folds: one job per target x model x outer fold (true) or one job per target x model running its
outer folds in turn (false). Both plan the jobs they should and write the same per-fold files, byte for byte."""

from __future__ import annotations

import re
import shutil
import zipfile
from collections import Counter
from pathlib import Path

import pytest
import yaml
from conftest import TINY, snakemake

TARGET = "f5"
FOLDS = 2
MODELS = ["network", "logreg_l2"]


def _config(tmp_path: Path, name: str, split_folds: bool, **evaluation) -> Path:
    """tests/data/tiny.yaml with evaluation.split_folds set (and any other evaluation keys replaced)."""
    cfg = yaml.safe_load(TINY.read_text())
    cfg["evaluation"] = {**cfg["evaluation"], **evaluation, "split_folds": split_folds}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def _rule_counts(text: str) -> Counter:
    """Jobs per rule from snakemake's job-stats table (``rule count`` lines)."""
    counts = Counter()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and re.fullmatch(r"[a-z_]\w*", parts[0]) and parts[1].isdigit() and parts[0] != "total":
            counts[parts[0]] = int(parts[1])
    return counts


def test_dry_run_plans_one_job_per_fold_or_per_target_and_model(tmp_path):
    tiny = yaml.safe_load(TINY.read_text())
    folds, models = tiny["cv"]["folds"], tiny["evaluation"]["models"]
    n_targets = 7  # tiny.yaml: 6 VASARI traits + the subtype
    n_baselines = len(models) - 1
    counts = {}
    for split in (True, False):
        cfg = _config(tmp_path, f"split_{split}", split)
        res = snakemake("--directory", str(tmp_path / f"work_{split}"), "--configfile", str(cfg), "--dry-run",
                        "--quiet", "rules", timeout=600)
        assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
        counts[split] = _rule_counts(res.stdout + res.stderr)
    split, batched = counts[True], counts[False]
    assert split["evaluate_network_fold"] == n_targets * folds
    assert split["evaluate_baseline_fold"] == n_targets * n_baselines * folds
    assert "evaluate_network_folds" not in split and "evaluate_baseline_folds" not in split
    assert batched["evaluate_network_folds"] == n_targets
    assert batched["evaluate_baseline_folds"] == n_targets * n_baselines
    assert "evaluate_network_fold" not in batched and "evaluate_baseline_fold" not in batched
    # every other rule plans the same jobs in both modes
    evaluation_rules = {"evaluate_network_fold", "evaluate_baseline_fold", "evaluate_network_folds",
                        "evaluate_baseline_folds"}
    assert ({r: n for r, n in split.items() if r not in evaluation_rules}
            == {r: n for r, n in batched.items() if r not in evaluation_rules})


def _zip_records(path: Path) -> dict[str, bytes]:
    """The records of a torch.save zip archive by their name below the archive's root folder."""
    with zipfile.ZipFile(path) as z:
        return {info.filename.split("/", 1)[1]: z.read(info) for info in z.infolist()}


def _fold_outputs() -> list[str]:
    out = [f"evaluation/{TARGET}/{m}/fold{k}.{ext}" for m in MODELS for k in range(FOLDS) for ext in ("tsv", "json")]
    return out + [f"models/{TARGET}/network/fold{k}.pt" for k in range(FOLDS)]


@pytest.mark.workflow
def test_batched_folds_write_the_same_files_as_one_job_per_fold(tmp_path):
    """One small target, 2 outer folds, ridge and a transfer network of 3 epochs: run the per-fold jobs, then (same
    folder, upstream files kept) the batched jobs; every per-fold file is the same."""
    overrides = {"models": MODELS, "network_grid": {"hidden": [[32, 16, 8]], "max_epochs": [3], "patience": [2]}}
    work = tmp_path / "work"
    r = work / "results"
    outputs = _fold_outputs()
    kept = {}
    for split in (True, False):
        path = _config(tmp_path, f"run_{split}", split, **overrides)
        cfg = yaml.safe_load(path.read_text())
        cfg["cv"]["folds"] = FOLDS
        cfg["autoencoder"]["max_epochs"] = 3
        path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        res = snakemake("--directory", str(work), "--configfile", str(path), "--cores", "2",
                        *(f"results/{o}" for o in outputs), timeout=900)
        logs = "\n".join(p.read_text()[-2000:] for p in (r / "logs").rglob("*.log") if "evaluate_fold" in str(p))
        assert res.returncode == 0, res.stderr[-6000:] + logs[-4000:]
        jobs = _rule_counts(res.stdout + res.stderr)
        if split:
            assert jobs["evaluate_network_fold"] == FOLDS and jobs["evaluate_baseline_fold"] == FOLDS, jobs
        else:
            # upstream files are kept from the first run: only the two batched jobs run
            assert jobs["evaluate_network_folds"] == 1 and jobs["evaluate_baseline_folds"] == 1, jobs
            assert sum(jobs.values()) == 2, jobs
        kept[split] = tmp_path / f"outputs_{split}"
        for o in outputs:
            assert (r / o).is_file() and (r / o).stat().st_size > 0, o
            (kept[split] / o).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(r / o, kept[split] / o)
    for o in outputs:
        a, b = kept[True] / o, kept[False] / o
        if o.endswith(".pt"):  # the records first: a clearer failure than the bytes
            assert _zip_records(a) == _zip_records(b), o
        assert a.read_bytes() == b.read_bytes(), o  # model files too (nets.save_torch: no temporary name inside)
    # the batched jobs: one log and one benchmark per target x model, each fold's progress logged
    for model in MODELS:
        log = (r / "logs" / "evaluate_folds" / TARGET / f"{model}.log").read_text()
        for k in range(FOLDS):
            done = rf"{TARGET} {model} fold {k} \({k + 1}/{FOLDS}\) done: chosen .*, elapsed [\d.]+ s"
            assert re.search(done, log), log
        assert (r / "benchmarks" / "evaluate_folds" / TARGET / f"{model}.tsv").is_file()
        for k in range(FOLDS):  # the per-fold run's logs
            assert (r / "logs" / "evaluate_fold" / TARGET / model / f"fold{k}.log").stat().st_size > 0
