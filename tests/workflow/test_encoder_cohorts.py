"""No encoder ever saw a patient that a network built on it is scored on (pretraining included).

Unit tests of radiogenomics.cohorts.splits.encoder_cohorts and selection.check_encoders_unseen, and a check over the
cohorts and split files of every shipped config: each target's outer-test patients against the patients its
transferred encoder was trained on (results/cohorts/cohorts.json ``encoder_patients``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import REPO, TINY, snakemake

from radiogenomics.cohorts import splits as cohorts
from radiogenomics.models import selection, training


def _groups(n_expr=60, n_imaged=30):
    patients = [f"P{i:03d}" for i in range(n_expr)]
    imaged = patients[:n_imaged]
    rng = np.random.default_rng(0)
    table = pd.DataFrame(index=pd.Index(patients, name="patient"))
    table["trait"] = pd.Series(rng.integers(0, 2, n_imaged).astype(float), index=imaged)
    table["subtype"] = rng.integers(0, 3, n_expr).astype(float)  # every patient has a subtype
    groups = cohorts.build_cohorts(pd.Index(patients), pd.Index(imaged), table)
    meta = {"trait": {"type": "binary"}, "subtype": {"type": "multiclass"}}
    return groups, table, meta


def test_imaging_targets_share_the_autoencoder_others_get_one_per_outer_fold():
    groups, table, meta = _groups()
    enc = cohorts.encoder_cohorts(groups, table, meta, {"trait": "shared", "subtype": "fold"}, n_folds=3, seed=1)
    assert enc["trait"] == groups["autoencoder"] and len(enc["trait"]) == 30
    assert not set(enc["trait"]) & set(groups["targets"]["trait"])
    folds = cohorts.make_folds(table["subtype"].dropna(), "multiclass", 3, 1)
    assert sorted(enc["subtype"]) == ["0", "1", "2"]
    for k, patients in enc["subtype"].items():
        test = set(folds.loc[folds["fold"] == int(k), "patient"])
        assert not test & set(patients)
        assert set(patients) | test == set(groups["expression"])  # every other training patient is used
    assert cohorts.encoder_scope("vasari") == cohorts.encoder_scope("targets") == "shared"
    assert cohorts.encoder_scope("subtype") == "fold"


def test_a_shared_encoder_meeting_the_target_cohort_is_refused():
    groups, table, meta = _groups()
    with pytest.raises(ValueError, match=r"target 'subtype': \d+ of its patients are in the shared autoencoder"):
        cohorts.encoder_cohorts(groups, table, meta, {"subtype": "shared"}, n_folds=3, seed=1)


def test_evaluation_refuses_an_encoder_that_saw_a_test_patient():
    from test_training import program_cohort

    expr, b, _, _ = program_cohort(n=60, g=40)
    arch = {"hidden": [8, 4]}
    ae, _, _ = training.train_autoencoder(expr, arch, training.TrainingConfig(max_epochs=1, log_every=0), seed=1)
    folds = cohorts.make_folds(b, "binary", 3, 0)
    settings = {"inner_folds": 2, "network": {"hidden": [[8, 4]], "transfer": [True], "max_epochs": [2],
                                              "patience": [2]}, "baselines": {}}
    key = selection.architecture_key(selection.full_config({"hidden": [8, 4]}))
    test0 = folds.loc[folds["fold"] == 0, "patient"].tolist()
    ae.encoder.pretrained_patients = sorted(expr.index)  # trained on everyone: fold 0's test part included
    with pytest.raises(ValueError, match=r"outer fold 0: autoencoder .* was trained on \d+ of the patients scored"):
        selection.evaluate_outer_fold("network", expr, b, folds, 0, "binary", ["n", "p"], settings=settings, seed=0,
                                      encoders={key: ae.encoder}, target="t")
    ae.encoder.pretrained_patients = None  # a saved encoder without a record
    with pytest.raises(ValueError, match="does not record the patients"):
        selection.evaluate_outer_fold("network", expr, b, folds, 0, "binary", ["n", "p"], settings=settings, seed=0,
                                      encoders={key: ae.encoder}, target="t")
    ae.encoder.pretrained_patients = sorted(set(expr.index) - set(test0))
    res = selection.evaluate_outer_fold("network", expr, b, folds, 0, "binary", ["n", "p"], settings=settings,
                                        seed=0, encoders={key: ae.encoder}, target="t")
    assert sorted(res.predictions["patient"]) == sorted(test0)


def test_saved_autoencoders_record_their_patients(tmp_path):
    from test_training import program_cohort

    expr, _, _, _ = program_cohort(n=30, g=20)
    arch = {"hidden": [6, 3]}
    ae, scaler, _ = training.train_autoencoder(expr, arch, training.TrainingConfig(max_epochs=1, log_every=0), seed=1)
    path = tmp_path / "ae.pt"
    training.save_autoencoder(ae, scaler, list(expr.columns), arch, {"patients": sorted(expr.index[:20])}, str(path))
    encoder, _, _ = training.load_encoder(str(path))
    assert encoder.pretrained_patients == sorted(expr.index[:20])
    assert isinstance(encoder, torch.nn.Module)


# --------------------------------------------------------------------------- every shipped config


def _shipped_configs() -> list[tuple[str, Path | None]]:
    return [("default", REPO / "config" / "config.yaml"), ("tcga_gbm", REPO / "config" / "tcga_gbm.yaml"),
            ("tcga_gbm_radiomics", REPO / "config" / "tcga_gbm_radiomics.yaml"),
            ("radiomics", REPO / "config" / "radiomics.yaml"), ("paper", REPO / "config" / "paper.yaml"),
            ("seed", REPO / "config" / "seed.yaml"), ("tiny", TINY)]


def _local_config(name: str, path: Path, work: Path) -> Path:
    """The config as a test runs it: real-data paths resolved, simulated matrices with few genes (the
    patients, targets, cohorts and folds do not depend on the number of genes)."""
    cfg = yaml.safe_load(path.read_text())
    if name.startswith("tcga_gbm"):
        real = REPO.parent / "shared" / "data" / "tcga-gbm"
        if not real.is_dir():
            pytest.skip(f"real TCGA-GBM tables not found at {real}")
        for key, value in cfg["inputs"].items():
            if isinstance(value, str) and "shared/data/tcga-gbm/" in value:  # paths, not formats or ID rules
                cfg["inputs"][key] = str(real / Path(value).name)
        cfg["inputs"]["gene_sets"] = {k: str(real / Path(v).name) for k, v in cfg["inputs"]["gene_sets"].items()}
    elif cfg.get("simulate", {}).get("enabled"):
        cfg["simulate"]["n_genes"] = min(int(cfg["simulate"].get("n_genes", 2000)), 2000)
    cfg["results"] = "results"
    out = work / "config.yaml"
    out.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return out


@pytest.mark.workflow
@pytest.mark.parametrize("name", [n for n, _ in _shipped_configs()])
def test_no_target_is_scored_on_a_patient_its_encoder_was_trained_on(name, tmp_path):
    path = dict(_shipped_configs())[name]
    cfg = _local_config(name, path, tmp_path)
    common = ("--directory", str(tmp_path), "--configfile", str(cfg), "--cores", "2")
    # the DAG depends on the config only (no checkpoints): plan it, then build the cohorts and every split it names
    dry = snakemake(*common, "-n", "--forceall", timeout=900)
    assert dry.returncode == 0, dry.stderr[-4000:]
    jobs = _dry_run_jobs(dry.stdout)
    outputs = {o for j in jobs for o in j.get("output", "").split(", ")}
    splits = sorted(o for o in outputs if re.fullmatch(r"results/splits/[^/]+\.tsv", o))
    res = snakemake(*common, "results/cohorts/cohorts.json", *splits, timeout=900)
    assert res.returncode == 0, res.stderr[-4000:]
    groups = json.loads((tmp_path / "results" / "cohorts" / "cohorts.json").read_text())
    encoders = groups.get("encoder_patients")
    if encoders is None:  # no transfer in the grid (or autoencoder.enabled false): no encoder, nothing to leak
        assert not [j for j in jobs if "autoencoder" in j["rule"] or "/models/autoencoder/" in j.get("input", "")]
        return
    per_fold = sorted(t for t, v in encoders.items() if isinstance(v, dict))
    assert {f"results/splits/{t}.tsv" for t in per_fold} <= set(splits), (per_fold, splits)
    held_out = {p for v in groups.get("test", {}).values() for p in v}
    n_checked = 0
    for target, patients in groups["targets"].items():
        assert target in encoders, f"{name}: target {target} has no encoder cohort"
        enc = encoders[target]
        if isinstance(enc, list):  # one shared encoder: none of the target's patients (so of no test fold)
            assert not set(enc) & set(patients), (name, target)
            assert not set(enc) & held_out, (name, target)
            n_checked += 1
            continue
        folds = pd.read_csv(tmp_path / "results" / "splits" / f"{target}.tsv", sep="\t", dtype={"patient": str})
        assert sorted(enc) == sorted(str(k) for k in folds["fold"].unique())
        for k, trained_on in enc.items():
            test = set(folds.loc[folds["fold"] == int(k), "patient"])
            assert test and not test & set(trained_on), (name, target, k)
            assert not set(trained_on) & held_out, (name, target, k)
            n_checked += 1
    assert n_checked >= len(groups["targets"])
    # the DAG wires each outer-fold network job to its fold's encoders (the job also checks at run time)
    for target in groups["targets"]:
        network_jobs = [j for j in jobs if j["rule"].startswith("evaluate_network_fold")
                        and j.get("wildcards", "").startswith(f"target={target}")
                        and re.fullmatch(rf"target={re.escape(target)}(, fold=\d+)?", j["wildcards"])]
        assert network_jobs, f"{name}: no network evaluation job of {target} in the dry run"
        for job in network_jobs:
            encoder_inputs = [p for p in job["input"].split(", ") if "/models/autoencoder/" in p]
            assert encoder_inputs, job
            if target in per_fold:
                assert all(re.search(rf"/{re.escape(target)}/fold\d+\.pt$", p) for p in encoder_inputs), job
            else:
                assert all(re.search(r"/models/autoencoder/[^/]+\.pt$", p) for p in encoder_inputs), job


def _dry_run_jobs(stdout: str) -> list[dict[str, str]]:
    """The jobs of a ``snakemake -n`` listing: rule name and the ``key: value`` lines of each."""
    jobs: list[dict[str, str]] = []
    for line in stdout.splitlines():
        m = re.match(r"^(?:local)?rule (\S+):$", line)
        if m:
            jobs.append({"rule": m.group(1)})
        elif jobs and line.startswith("    ") and ": " in line:
            key, value = line.strip().split(": ", 1)
            jobs[-1].setdefault(key, value)
    return jobs
