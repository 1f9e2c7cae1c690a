"""The whole DAG on the tiny simulated config, end to end, plus lint and dry runs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, TINY, snakemake

TRAITS = ["f5", "f6", "f7", "f14", "f9", "f10"]
TARGETS = TRAITS + ["subtype"]
COLLECTIONS = ["programs", "celltypes", "verhaak"]
MODELS = ["network", "logreg_l2", "random_forest"]  # evaluation.models of tests/data/tiny.yaml


def test_lint_is_clean():
    res = snakemake("--lint")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Congratulations" in res.stdout + res.stderr


def test_default_config_dry_run(tmp_path):
    res = snakemake("--directory", str(tmp_path), "--configfile", str(REPO / "config" / "config.yaml"),
                    "--dry-run", "--cores", "2", "--quiet", "rules")
    assert res.returncode == 0, res.stderr
    out = res.stdout + res.stderr
    # 7 targets, 5 outer folds run in one job per target and model (evaluation.split_folds: false; 5 comparison
    # models), one final network per target.
    for rule, count in [("evaluate_network_folds", 7), ("evaluate_baseline_folds", 35), ("final_network", 7),
                        ("gene_masking", 21), ("saliency_enrichment", 21), ("km_figure", 7)]:
        assert any(line.split()[:2] == [rule, str(count)] for line in out.splitlines()), (rule, out)


def expected_outputs(r: Path) -> list[Path]:
    ev = r / "evaluation"
    out = [ev / "cv_scores.tsv", ev / "summary.tsv", ev / "bootstrap.tsv", ev / "selected_networks.json",
           r / "figures" / "cv_scores.png", r / "figures" / "performance.png",
           r / "survival" / "logrank.tsv", r / "survival" / "endpoint.tsv", r / "figures" / "km_overview.png",
           r / "recovery" / "driver_ranks.tsv", r / "figures" / "driver_recovery.png",
           r / "models" / "autoencoder" / "32-16-8_tanh_bn.pt",
           r / "simulated" / "truth.json", r / "cohorts" / "targets.parquet", r / "cohorts" / "cohorts.json"]
    for t in TARGETS:
        out += [r / "splits" / f"{t}.tsv", r / "models" / t / "final.pt", r / "models" / t / "selected.json",
                r / "saliency" / f"{t}.parquet", r / "figures" / "km" / f"{t}.png"]
        for m in MODELS:
            out += [ev / t / m / f"fold{k}.{ext}" for k in range(3) for ext in ("tsv", "json")]
        out += [r / "models" / t / "network" / f"fold{k}.pt" for k in range(3)]
        for c in COLLECTIONS:
            out += [r / "masking" / t / f"{c}.tsv", r / "enrichment" / t / f"{c}.tsv",
                    r / "enrichment" / t / f"{c}_summary.tsv"]
    for c in COLLECTIONS:
        out += [r / "figures" / f"masking_{c}.png", r / "figures" / f"enrichment_{c}.png"]
    return out


@pytest.mark.workflow
def test_every_stage_output_exists(tiny_run):
    missing = [str(p) for p in expected_outputs(tiny_run) if not p.is_file() or p.stat().st_size == 0]
    assert not missing, missing
    assert not list(tiny_run.rglob("*.part")), "a temporary file was left behind"
    for png in tiny_run.rglob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png


@pytest.mark.workflow
def test_every_job_logged(tiny_run):
    logs = list((tiny_run / "logs").rglob("*.log"))
    assert len(logs) >= 60
    empty = [str(p) for p in logs if p.stat().st_size == 0]
    assert not empty, empty


@pytest.mark.workflow
def test_splits_cover_each_cohort_and_cv_scores_are_complete(tiny_run):
    cohorts = json.loads((tiny_run / "cohorts" / "cohorts.json").read_text())
    scores = pd.read_csv(tiny_run / "evaluation" / "cv_scores.tsv", sep="\t")
    assert sorted(scores["target"].unique()) == sorted(TARGETS)
    assert (scores.groupby(["target", "model"])["fold"].nunique() == 3).all()
    assert sorted(scores["model"].unique()) == sorted(MODELS)
    for t in TARGETS:
        folds = pd.read_csv(tiny_run / "splits" / f"{t}.tsv", sep="\t")
        assert sorted(folds["patient"]) == cohorts["targets"][t]
        for m in MODELS:
            preds = pd.concat([pd.read_csv(tiny_run / "evaluation" / t / m / f"fold{k}.tsv", sep="\t")
                               for k in range(3)])
            # every patient of the target is predicted exactly once, by the model of the fold it was held out in
            assert sorted(preds["patient"]) == cohorts["targets"][t]
            held_out = folds.set_index("patient")["fold"]
            assert (preds.set_index("patient")["fold"] == held_out[preds["patient"]].values).all()
    assert not set(cohorts["autoencoder"]) & set(cohorts["imaged"])
    assert scores["value"].between(0, 1).all()
    summary = pd.read_csv(tiny_run / "evaluation" / "summary.tsv", sep="\t")
    assert len(summary) == len(TARGETS) * len(MODELS)
    assert (summary["ci_low"] <= summary["ci_high"]).all()
    net = summary[summary["model"] == "network"]
    assert (net["diff_mean"] == 0).all()


@pytest.mark.workflow
def test_interpretation_tables_are_well_formed(tiny_run):
    truth = json.loads((tiny_run / "simulated" / "truth.json").read_text())
    for t in TARGETS:
        m = pd.read_csv(tiny_run / "masking" / t / "programs.tsv", sep="\t")
        assert set(truth["programs"]) <= set(m["set"])
        assert m["p_empirical"].between(0, 1).all() and (m["fdr"] >= m["p_empirical"] - 1e-12).all()
        assert sorted(m["rank"]) == list(range(1, len(m) + 1))
        e = pd.read_csv(tiny_run / "enrichment" / t / "programs.tsv", sep="\t")
        assert e["fdr"].between(0, 1).all()
    sal = pd.read_parquet(tiny_run / "saliency" / "subtype.parquet")
    assert list(sal.index.names) == ["patient", "class"]
    assert sal.index.get_level_values("class").nunique() == 4
    rec = pd.read_csv(tiny_run / "recovery" / "driver_ranks.tsv", sep="\t")
    assert set(rec["target"]) == set(TRAITS)
    assert rec["masking_rank"].between(1, rec["n_sets"].max()).all()


@pytest.mark.workflow
def test_survival_outputs(tiny_run):
    lr = pd.read_csv(tiny_run / "survival" / "logrank.tsv", sep="\t")
    assert sorted(lr["trait"]) == sorted(TARGETS)
    ep = pd.read_csv(tiny_run / "survival" / "endpoint.tsv", sep="\t")
    assert {"patient", "time", "event"} <= set(ep.columns) and (ep["time"] >= 0).all()


@pytest.mark.workflow
def test_rerun_is_a_no_op(tiny_run):
    res = snakemake("--directory", str(tiny_run.parent), "--configfile", str(TINY), "--cores", "1", "--dry-run")
    assert res.returncode == 0, res.stderr
    assert "Nothing to be done" in res.stdout + res.stderr


@pytest.mark.workflow
@pytest.mark.realdata
def test_real_tcga_gbm_config_runs_subtype_validation(real_data_dir, tmp_path):
    """config/tcga_gbm.yaml on the public tables: subtype network, masking, GSEA and survival by subtype."""
    import yaml

    cfg = yaml.safe_load((REPO / "config" / "tcga_gbm.yaml").read_text())
    for key, value in cfg["inputs"].items():
        if isinstance(value, str):
            cfg["inputs"][key] = value if key.endswith("_format") else str(real_data_dir / Path(value).name)
    cfg["inputs"]["gene_sets"] = {k: str(real_data_dir / Path(v).name) for k, v in cfg["inputs"]["gene_sets"].items()}
    cfg["results"] = "results"
    cfg["masking"]["n_random"] = 100
    cfg["enrichment"]["n_perm"] = 200
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    res = snakemake("--directory", str(tmp_path), "--configfile", str(tmp_path / "config.yaml"), "--cores", "2",
                    timeout=900)
    assert res.returncode == 0, res.stderr[-5000:]
    r = tmp_path / "results"
    scores = pd.read_csv(r / "evaluation" / "cv_scores.tsv", sep="\t")
    assert scores["target"].unique().tolist() == ["subtype"]
    assert scores.loc[scores["model"] == "network", "value"].mean() > 0.9
    masking = pd.read_csv(r / "masking" / "subtype" / "verhaak.tsv", sep="\t")
    assert sorted(masking["set"]) == ["Classical", "Mesenchymal", "Neural", "Proneural"]
    lr = pd.read_csv(r / "survival" / "logrank.tsv", sep="\t")
    assert lr.loc[0, "n"] > 150 and lr.loc[0, "n_groups"] == 4
    for c in ("hallmark", "puchalski", "verhaak"):
        assert (r / "figures" / f"masking_{c}.png").stat().st_size > 0
    # --- subtype validation (study Figure 2) on the real Verhaak table ---
    single = pd.read_csv(r / "masking" / "subtype" / "single_genes.tsv", sep="\t")
    assert len(single) == 840 and {f"auc_{c}" for c in ("Classical", "Mesenchymal", "Neural", "Proneural")} <= set(
        single.columns)
    auc = pd.read_csv(r / "validation" / "subtype_set_auc.tsv", sep="\t")
    assert len(auc) == 16 and auc["own"].sum() == 4
    summary = pd.read_csv(r / "validation" / "subtype_summary.tsv", sep="\t").set_index("class")
    # each subtype's own ClaNC set keeps it recognised better than the other subtypes' sets on average
    assert (summary["own_set_auc"] > summary["other_sets_mean_auc"]).all(), summary
    assert (summary["own_set_auc"] > 0.8).all(), summary
    cov = pd.read_csv(r / "validation" / "coverage_curve.tsv", sep="\t")
    assert sorted(set(cov["class"])) == ["Classical", "Mesenchymal", "Neural", "Proneural", "all"]
    # per class, the class's own 210 genes lead the genes ranked by that class's single-gene AUC
    top = cov[(cov["class"] != "all") & (cov["n"] == 100)]
    assert (top["share_of_top"] > top["expected_share_of_top"]).all(), top
    for ranking in ("correlation", "masking"):
        assert (r / "enrichment" / "subtype" / f"hallmark_{ranking}.tsv").stat().st_size > 0
    for fig in ("subtype_masking.png", "coverage_curve.png"):
        assert (r / "figures" / "validation" / fig).stat().st_size > 0
