"""Any target type, plain-table inputs and a held-out test cohort through the whole workflow.

One small simulated cohort (binary, multiclass and continuous targets from a plain target table, a
held-out test cohort) runs end to end once per session; config/radiomics.yaml (~100 continuous
targets) is dry-run and its jobs counted; bad test-cohort input stops before any model is fitted.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, snakemake

from radiogenomics.cohorts.simulate import HISTOLOGY_TARGET, SimulationParams, radiomic_feature_names, simulate_cohort

SEED = 11
SIM = {"enabled": True, "n_patients": 110, "n_imaged": 80, "n_genes": 900, "n_subtyped": 40, "n_programs": 8,
       "n_radiomic": 4, "histology": True, "n_test_patients": 60, "radiomic_noise_fraction": 0.25}
MODELS = ["network", "logreg_l2"]
FOLDS = 2
HISTOLOGY = {"name": "histology", "type": "multiclass", "source": "targets",
             "classes": {"adenocarcinoma": ["Adenocarcinoma"], "squamous": ["Squamous cell carcinoma"],
                         "nos": ["NOS"]}}
SQUAMOUS = {"name": "squamous", "type": "binary", "source": "targets", "column": "histology",
            "classes": {"other": ["Adenocarcinoma", "NOS"], "squamous": ["Squamous cell carcinoma"]},
            "positive": "squamous"}


def sim_params() -> SimulationParams:
    sim = {k: v for k, v in SIM.items() if k != "enabled"}
    return SimulationParams(**sim, seed=SEED)


def driven_feature() -> str:
    """The radiomic feature of this cohort with the highest planted R^2 ceiling (driven by a program)."""
    truth = simulate_cohort(sim_params()).truth["radiomic"]
    return max((n for n, t in truth.items() if t["drivers"]), key=lambda n: truth[n]["r2_ceiling"])


def small_config(driven: str) -> dict:
    return {
        "seed": SEED,
        "simulate": SIM,
        "targets": {"presets": [], "definitions": [HISTOLOGY, SQUAMOUS], "continuous_columns": [driven]},
        "cv": {"folds": FOLDS},
        "autoencoder": {"enabled": False},
        "evaluation": {
            "models": MODELS, "inner_folds": 2, "n_bootstrap": 50,
            "network_grid": {"hidden": [[16, 8]], "dropout": [0.1], "lr": [0.005], "max_epochs": [20],
                             "patience": [6], "transfer": [False]},
            "baseline_grids": {"classifier": {"logreg_l2": {"C": [0.1]}},
                               "regressor": {"logreg_l2": {"alpha": [100.0]}}},
        },
        "masking": {"n_random": 20, "verhaak": False},
        "enrichment": {"n_perm": 100, "min_size": 10},
    }


@pytest.fixture(scope="module")
def generic_run(tmp_path_factory) -> tuple[Path, str]:
    """The small generic config, run end to end once (results folder, the driven radiomic feature)."""
    work = tmp_path_factory.mktemp("generic")
    driven = driven_feature()
    cfg = work / "generic.yaml"
    cfg.write_text(yaml.safe_dump(small_config(driven), sort_keys=False))
    res = snakemake("--directory", str(work), "--configfile", str(cfg), "--cores", "2", timeout=1500)
    if res.returncode != 0:
        logs = "\n".join(f"== {p}\n{p.read_text()[-3000:]}" for p in (work / "results" / "logs").rglob("*.log"))
        pytest.fail(f"workflow failed:\n{res.stderr[-6000:]}\n{logs[-8000:]}")
    return work / "results", driven


@pytest.mark.workflow
def test_target_types_flow_through(generic_run):
    r, driven = generic_run
    meta = json.loads((r / "cohorts" / "targets.json").read_text())
    assert {t: meta[t]["type"] for t in meta} == {"histology": "multiclass", "squamous": "binary",
                                                  driven: "continuous"}
    assert meta["histology"]["classes"] == ["adenocarcinoma", "squamous", "nos"]
    assert meta["squamous"]["classes"] == ["other", "squamous"]
    cv = pd.read_csv(r / "evaluation" / "cv_scores.tsv", sep="\t")
    # one row per target x model x outer fold, each type with its own metrics
    assert len(cv) == 3 * len(MODELS) * FOLDS
    own = {"binary": ["auc", "ap"], "multiclass": ["auc_macro", "ap_macro", "accuracy", "auc_adenocarcinoma",
                                                   "auc_squamous", "auc_nos"],
           "continuous": ["r2", "mae", "spearman"]}
    for target_type, metrics in own.items():
        rows = cv[cv["type"] == target_type]
        assert len(rows) and rows[metrics].notna().all().all(), (target_type, rows)
        others = [m for t, ms in own.items() if t != target_type for m in ms if m in cv.columns and m not in metrics]
        assert rows[others].isna().all().all(), (target_type, others)
    assert set(cv.loc[cv["type"] == "continuous", "metric"]) == {"r2"}
    # continuous targets: the network stores the training-patients' target scaler with each model
    import torch

    blob = torch.load(r / "models" / driven / "final.pt", map_location="cpu", weights_only=True)
    y = pd.read_parquet(r / "cohorts" / "targets.parquet")[driven].dropna()
    assert blob["target_type"] == "continuous"
    assert blob["target_scaler"][0] == pytest.approx(float(y.mean()), rel=1e-9)
    fold = torch.load(r / "models" / driven / "network" / "fold0.pt", map_location="cpu", weights_only=True)
    split = pd.read_csv(r / "splits" / f"{driven}.tsv", sep="\t", dtype={"patient": str})
    train = split.loc[split["fold"] != 0, "patient"]
    assert fold["target_scaler"][0] == pytest.approx(float(y.loc[train].mean()), rel=1e-9)
    # masking and saliency follow the type
    hist_mask = pd.read_csv(r / "masking" / "histology" / "programs.tsv", sep="\t")
    cont_mask = pd.read_csv(r / "masking" / driven / "programs.tsv", sep="\t")
    assert {"auc_macro", "ap_macro"} <= set(hist_mask.columns) and {"r2", "spearman"} <= set(cont_mask.columns)
    sal = pd.read_parquet(r / "saliency" / "histology.parquet")
    assert len(sal) == 3 * meta["histology"]["n"]  # one row per patient and class


@pytest.mark.workflow
def test_held_out_cohort_is_scored_once_beside_the_cv_scores(generic_run):
    r, driven = generic_run
    test = pd.read_csv(r / "evaluation" / "test_scores.tsv", sep="\t")
    truth = json.loads((r / "simulated" / "truth.json").read_text())
    cohorts = json.loads((r / "cohorts" / "cohorts.json").read_text())
    assert set(truth["test_patients"]).isdisjoint(cohorts["expression"])
    assert len(test) == 3 * len(MODELS)
    assert set(zip(test["target"], test["model"])) == {(t, m) for t in ["histology", "squamous", driven]
                                                       for m in MODELS}
    for r_ in test.itertuples():
        assert r_.ci_low <= r_.value <= r_.ci_high, r_
        assert r_.cv_folds == FOLDS and np.isfinite(r_.cv_mean)
    by_type = {t: test[test["type"] == t] for t in ("binary", "multiclass", "continuous")}
    assert by_type["binary"][["auc", "ap"]].notna().all().all()
    assert by_type["multiclass"][["auc_macro", "auc_adenocarcinoma", "auc_squamous", "auc_nos"]].notna().all().all()
    assert by_type["continuous"][["r2", "mae", "spearman"]].notna().all().all()
    n_test = {t: int(v) for t, v in test.groupby("target")["n_test"].first().items()}
    assert n_test["histology"] == len(cohorts["test"]["histology"]) > 50
    # every final model was refit: the network's final.pt and one refit per comparison model
    assert (r / "models" / driven / "final.pt").is_file()
    assert (r / "models" / driven / "logreg_l2" / "final.skops.zip").is_file()
    scores = test.set_index(["target", "model"])
    print("\nheld-out scores:\n" + test[["target", "type", "model", "n_test", "metric", "value", "ci_low",
                                         "ci_high", "cv_mean"]].to_string())
    # a feature driven by a program is predicted on held-out patients; the histology classes too
    assert scores.loc[(driven, "network"), "r2"] > 0
    assert scores.loc[(driven, "logreg_l2"), "r2"] > 0
    assert scores.loc[("histology", "network"), "auc_macro"] > 0.6


@pytest.mark.workflow
def test_plain_tables_are_ingested_with_their_drops_logged(generic_run):
    r, driven = generic_run
    targets = pd.read_parquet(r / "ingest" / "targets.parquet")
    assert HISTOLOGY_TARGET in targets.columns and driven in targets.columns
    drops = pd.read_csv(r / "cohorts" / "test_target_drops.tsv", sep="\t")
    assert set(drops.loc[drops["reason"] == "kept", "target"]) == {"histology", "squamous", driven}
    assert (r / "logs" / "heldout_scores.log").stat().st_size > 0


def test_radiomics_config_schedules_one_job_per_target_and_model(tmp_path):
    cfg = yaml.safe_load((REPO / "config" / "radiomics.yaml").read_text())
    res = snakemake("--directory", str(tmp_path), "--configfile", str(REPO / "config" / "radiomics.yaml"),
                    "--dry-run", "--cores", "2", "--quiet", "rules", timeout=600)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    counts = {}
    for line in (res.stdout + res.stderr).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    sim = cfg["simulate"]
    n_targets = sim["n_radiomic"] + 1  # every radiomic column + the multiclass histology
    folds = cfg["cv"]["folds"]
    baselines = [m for m in cfg["evaluation"]["models"] if m != "network"]
    assert counts["make_splits"] == n_targets
    # evaluation.split_folds: false: one job per target and model runs its outer folds in turn
    assert not cfg["evaluation"]["split_folds"] and folds > 1
    assert counts["evaluate_network_folds"] == n_targets
    assert counts["evaluate_baseline_folds"] == n_targets * len(baselines)
    assert "evaluate_network_fold" not in counts and "evaluate_baseline_fold" not in counts
    assert counts["final_network"] == n_targets
    assert counts["final_baseline"] == n_targets * len(baselines)
    assert counts["heldout_predictions"] == n_targets and counts["heldout_scores"] == 1
    assert radiomic_feature_names(sim["n_radiomic"])[0] == "original_shape_F001"


def run_until_targets(tmp_path: Path, config: dict) -> str:
    tmp_path.mkdir(parents=True, exist_ok=True)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(config, sort_keys=False))
    res = snakemake("--directory", str(tmp_path), "--configfile", str(cfg), "--cores", "1",
                    "--until", "build_targets", timeout=600)
    assert res.returncode != 0, "expected the run to stop at build_targets"
    assert not (tmp_path / "results" / "splits").exists()  # nothing trained, not even split
    return res.stdout + res.stderr + "".join(p.read_text() for p in (tmp_path / "results" / "logs").rglob("*.log"))


def test_bad_test_cohort_stops_before_training(tmp_path):
    """A test cohort overlapping the training patients, and a multiclass target with a class smaller than the
    folds, stop at build_targets with a message naming the files."""
    cohort = simulate_cohort(sim_params())
    data = tmp_path / "data"
    data.mkdir()
    (data / "expression.tsv").write_text(cohort.expression_text())
    (data / "targets.tsv").write_text(cohort.plain_targets_text())
    programs = data / "programs.gmt"
    programs.write_text(cohort.gmt_text())
    config = {"seed": SEED, "simulate": {"enabled": False},
              "inputs": {"expression": str(data / "expression.tsv"), "targets": str(data / "targets.tsv"),
                         "gene_sets": {"programs": str(programs)},
                         "test": {"expression": str(data / "expression.tsv"), "targets": str(data / "targets.tsv")}},
              "targets": {"presets": [], "definitions": [HISTOLOGY]}, "cv": {"folds": 3},
              "autoencoder": {"enabled": False}, "evaluation": {"models": ["network"]}}
    text = run_until_targets(tmp_path / "overlap", config)
    assert "also in the training cohort" in text and "expression.tsv" in text
    # a class with fewer patients than the folds: keep 2 NOS patients only
    table = cohort.plain_targets.copy()
    nos = table.index[table[HISTOLOGY_TARGET] == "NOS"]
    table.loc[nos[2:], HISTOLOGY_TARGET] = np.nan
    table.to_csv(data / "few.tsv", sep="\t", na_rep="NA", index_label="patient")
    config["inputs"]["targets"] = str(data / "few.tsv")
    del config["inputs"]["test"]
    text = run_until_targets(tmp_path / "few", config)
    assert "fewer than 3 patients" in text and "few.tsv" in text and "'nos': 2" in text


def test_plain_table_route_with_id_rule_and_declared_split(tmp_path):
    """Any cohort: a samples x genes matrix whose sample IDs map to patients by a regex, a plain target table
    and a declared held-out split; dry-run the whole DAG, then run up to the split files (no model is fitted)."""
    cohort = simulate_cohort(sim_params())
    patients = sorted(cohort.plain_targets.index)
    rename = {p: f"PT{i:04d}" for i, p in enumerate(sorted(cohort.expression.index))}
    data = tmp_path / "data"
    data.mkdir()
    matrix = cohort.expression.rename(index={p: f"{rename[p]}_tumour" for p in rename})
    matrix.to_csv(data / "expression.csv", index_label="sample", float_format="%.4f")
    table = cohort.plain_targets.rename(index=rename)
    table.to_csv(data / "targets.tsv", sep="\t", na_rep="NA", index_label="id")
    held = [rename[p] for p in patients[:15]]
    (data / "test_patients.txt").write_text("patient\n" + "\n".join(f"{p}_tumour" for p in held) + "\n")
    programs = data / "programs.gmt"
    programs.write_text(cohort.gmt_text())
    # a plain survival table: own column names, event words, one patient without a time (listed, not dropped
    # silently)
    surv = cohort.patients[cohort.patients["has_expression"]].sort_index()
    surv = pd.DataFrame({"os_days": surv["os_days"].astype(int).astype(str).to_numpy(),
                         "status": np.where(surv["dead"], "Dead", "Alive")}, index=[rename[p] for p in surv.index])
    surv.iloc[0, 0] = ""
    surv.to_csv(data / "survival.tsv", sep="\t", index_label="id")
    driven = driven_feature()
    config = {
        "seed": SEED, "simulate": {"enabled": False},
        "inputs": {"expression": str(data / "expression.csv"), "expression_format": "matrix",
                   "expression_orientation": "samples_x_genes", "id_rule": {"regex": "^(PT\\d+)(_tumour)?$"},
                   "targets": str(data / "targets.tsv"), "survival": str(data / "survival.tsv"),
                   "survival_columns": {"time": "os_days", "event": "status"},
                   "gene_sets": {"programs": str(programs)}, "test": {"patients": str(data / "test_patients.txt")}},
        "targets": {"presets": [], "definitions": [HISTOLOGY, SQUAMOUS], "continuous_columns": [driven]},
        "cv": {"folds": FOLDS}, "autoencoder": {"enabled": False},
        "evaluation": {"models": MODELS, "network_grid": {"hidden": [[16, 8]], "transfer": [False]}},
    }
    cfg = tmp_path / "plain.yaml"
    cfg.write_text(yaml.safe_dump(config, sort_keys=False))
    res = snakemake("--directory", str(tmp_path), "--configfile", str(cfg), "--dry-run", "--quiet", "rules",
                    timeout=600)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    out = res.stdout + res.stderr
    for rule, count in [("evaluate_network_folds", 3), ("final_baseline", 3), ("heldout_predictions", 3),
                        ("heldout_scores", 1), ("survival_endpoint", 1), ("survival_by_trait", 1),
                        ("survival_radiogenomic", 1), ("survival_figures", 1)]:
        assert any(line.split()[:2] == [rule, str(count)] for line in out.splitlines()), (rule, out[-3000:])
    r = tmp_path / "results"
    res = snakemake("--directory", str(tmp_path), "--configfile", str(cfg), "--cores", "2",
                    *(f"results/splits/{t}.tsv" for t in ["histology", "squamous", driven]),
                    "results/survival/logrank.tsv", timeout=900)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    targets = pd.read_parquet(r / "cohorts" / "targets.parquet")
    test = pd.read_parquet(r / "cohorts" / "test_targets.parquet")
    cohorts = json.loads((r / "cohorts" / "cohorts.json").read_text())
    # IDs joined by the regex rule (matrix) and as written (target and survival tables)
    assert set(targets.index) == {rename[p] for p in patients} - set(held)
    assert sorted(test.index) == sorted(held) and set(held).isdisjoint(cohorts["expression"])
    assert set(held).isdisjoint(cohorts["autoencoder"])
    split = pd.read_csv(r / "splits" / "histology.tsv", sep="\t")
    assert set(held).isdisjoint(split["patient"])
    truth = cohort.plain_targets.rename(index=rename)
    assert test[driven].dropna().to_numpy() == pytest.approx(truth.loc[test[driven].dropna().index, driven]
                                                             .astype(float).to_numpy(), rel=1e-5)
    # survival from the plain table, joined by patient ID; the patient without a time is listed with the reason
    endpoint = pd.read_csv(r / "survival" / "endpoint.tsv", sep="\t", index_col="patient")
    problems = pd.read_csv(r / "survival" / "endpoint_problems.tsv", sep="\t")
    assert problems["patient"].tolist() == [surv.index[0]] and "missing time" in problems["problem"].iloc[0]
    assert len(endpoint) == len(surv) - 1
    expected = surv.iloc[1:]
    np.testing.assert_array_equal(endpoint.loc[expected.index, "time"], expected["os_days"].astype(float))
    np.testing.assert_array_equal(endpoint.loc[expected.index, "event"], (expected["status"] == "Dead").astype(int))
    logrank = pd.read_csv(r / "survival" / "logrank.tsv", sep="\t")
    assert {"histology", "squamous"} <= set(logrank.iloc[:, 0]) and logrank["p"].between(0, 1).all()
    assert not (r / "models").exists()  # nothing trained
