"""Interpretation outputs of the tiny end-to-end run (session fixture ``tiny_run``): single-gene masking,
GSEA of the correlation and single-gene-masking rankings, subtype validation, driver recovery by method;
and a gene-set collection that shares no gene with the expression stops the workflow with a clear message.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import snakemake

from radiogenomics import inputs
from radiogenomics.cohorts import splits
from radiogenomics.evaluation import metrics
from radiogenomics.models.nets import FittedModel

TRAITS = ["f5", "f6", "f7", "f14", "f9", "f10"]
TARGETS = TRAITS + ["subtype"]
COLLECTIONS = ["programs", "celltypes", "verhaak"]
CLASSES = ["Proneural", "Neural", "Classical", "Mesenchymal"]
N_RANDOM = 20  # masking.n_random of tests/data/tiny.yaml
PNG = b"\x89PNG\r\n\x1a\n"


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t")


@pytest.mark.workflow
def test_single_gene_masking_every_gene_every_target(tiny_run):
    genes = pd.read_parquet(tiny_run / "ingest" / "expression.parquet").columns
    for t in TARGETS:
        table = _read(tiny_run / "masking" / t / "single_genes.tsv")
        assert sorted(table["set"]) == sorted(genes), t
        assert (table["n_genes"] == 1).all()
        assert table["rank"].tolist() == list(range(1, len(genes) + 1))
        metric = "auc_macro" if t == "subtype" else "auc"
        assert table[metric].between(0, 1).all()
        assert table[metric].is_monotonic_decreasing
        # the null of a random single gene is every gene: its mean is the mean over all genes
        assert table["null_mean"].nunique() == 1
        assert table["null_mean"].iloc[0] == pytest.approx(table[metric].mean(), abs=1e-9)
        assert table["p_empirical"].isna().all() and table["fdr"].isna().all()
    sub = _read(tiny_run / "masking" / "subtype" / "single_genes.tsv")
    per_class = sub[[f"auc_{c}" for c in CLASSES]]
    np.testing.assert_allclose(per_class.mean(axis=1), sub["auc_macro"], atol=1e-9)
    assert (tiny_run / "benchmarks" / "single_gene_masking" / "f7.tsv").is_file()


@pytest.mark.workflow
def test_single_gene_masking_equals_naive_out_of_fold_masking(tiny_run):
    """Three genes of f7: every other gene at its training mean, each fold model on its held-out patients."""
    table = _read(tiny_run / "masking" / "f7" / "single_genes.tsv").set_index("set")
    expression = pd.read_parquet(tiny_run / "ingest" / "expression.parquet")
    y = pd.read_parquet(tiny_run / "cohorts" / "targets.parquet")["f7"].dropna().astype(int)
    folds = splits.read_folds(str(tiny_run / "splits" / "f7.tsv")).set_index("patient")["fold"]
    models = {k: FittedModel.load(tiny_run / "models" / "f7" / "network" / f"fold{k}.pt")
              for k in sorted(folds.unique())}
    genes = [table.index[0], table.index[len(table) // 2], table.index[-1]]
    for gene in genes:
        outputs, truth = [], []
        for k, model in models.items():
            ids = folds.index[folds == k].intersection(y.index, sort=False)
            x = model.scaled(expression.loc[ids])
            kept = np.zeros_like(x)
            col = model.genes.index(gene)
            kept[:, col] = x[:, col]
            outputs.append(model.outputs(kept))
            truth.append(y.loc[ids].to_numpy())
        naive = metrics.score("binary", np.concatenate(truth), np.concatenate(outputs))
        assert table.loc[gene, "auc"] == pytest.approx(naive["auc"], abs=1e-6), gene
        assert table.loc[gene, "ap"] == pytest.approx(naive["ap"], abs=1e-6), gene


@pytest.mark.workflow
def test_correlation_and_masking_gsea_tables(tiny_run):
    for t in TARGETS:
        for c in COLLECTIONS:
            sets = inputs.read_gmt(tiny_run / "ingest" / "gene_sets" / f"{c}.gmt")
            corr = _read(tiny_run / "enrichment" / t / f"{c}_correlation.tsv")
            label = "class" if t == "subtype" else "ranking"
            assert {label, "set", "size", "es", "nes", "p", "fdr"} <= set(corr.columns), (t, c)
            assert set(corr["set"]) <= set(sets)
            assert corr["p"].between(0, 1).all() and corr["fdr"].between(0, 1).all()
            if t == "subtype":
                assert sorted(corr["class"].unique()) == sorted(CLASSES)
            else:
                assert corr["ranking"].unique().tolist() == ["correlation"]
            masked = _read(tiny_run / "enrichment" / t / f"{c}_masking.tsv")
            assert masked["ranking"].unique().tolist() == ["ap_macro" if t == "subtype" else "ap"]
            assert set(masked["set"]) == set(corr.drop_duplicates("set")["set"])
            assert masked["fdr"].between(0, 1).all()
            # every enrichment table names its null: phenotype permutation for the cohort-level correlation
            # ranking (the default), random gene sets for the masking ranking and per-patient saliency
            assert (corr["null"] == "phenotype").all() and (masked["null"] == "gene_set").all()
            assert (corr["n_perm"] >= 100).all() and (masked["n_perm"] == 100).all()  # tiny.yaml: n_perm 100
            patients = _read(tiny_run / "enrichment" / t / f"{c}.tsv")
            summary = _read(tiny_run / "enrichment" / t / f"{c}_summary.tsv")
            assert (patients["null"] == "gene_set").all() and (summary["null"] == "gene_set").all()
            assert (pd.concat([corr, masked, patients])["fdr_method"] == "BH").all()
    # the verhaak sets track the subtypes: each subtype's own set is the most positively enriched
    # set of that class's correlation ranking (the simulated subtype signatures)
    corr = _read(tiny_run / "enrichment" / "subtype" / "verhaak_correlation.tsv")
    top = corr.sort_values("nes", ascending=False).drop_duplicates("class").set_index("class")["set"]
    assert (top.reindex(CLASSES) == pd.Series(CLASSES, index=CLASSES)).all(), top


@pytest.mark.workflow
def test_subtype_validation_outputs(tiny_run):
    v = tiny_run / "validation"
    probs = pd.read_parquet(v / "subtype_probabilities.parquet")
    assert set(probs["kind"]) == {"unmasked", "subtype set", "random"}
    sums = probs.groupby(["mask", "draw", "patient"])["probability"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-6)
    folds = pd.read_csv(tiny_run / "splits" / "subtype.tsv", sep="\t")
    assert sorted(probs["patient"].unique()) == sorted(folds["patient"])
    assert probs.loc[probs["kind"] == "random", "draw"].nunique() == N_RANDOM
    assert sorted(probs.loc[probs["kind"] == "subtype set", "mask"].unique()) == sorted(CLASSES)

    auc = _read(v / "subtype_set_auc.tsv")
    assert len(auc) == 16 and auc["own"].sum() == 4
    assert auc["auc"].between(0, 1).all() and auc["p_random"].between(0, 1).all()
    summary = _read(v / "subtype_summary.tsv").set_index("class")
    assert sorted(summary.index) == sorted(CLASSES)
    own = auc[auc["own"]].set_index("class")["auc"]
    others = auc[~auc["own"]].groupby("class")["auc"].mean()
    np.testing.assert_allclose(summary["own_set_auc"], own.reindex(summary.index))
    np.testing.assert_allclose(summary["other_sets_mean_auc"], others.reindex(summary.index))
    # the simulated subtypes are driven by their signature sets: on average over the classes the own
    # set keeps its class better recognised than the other sets and than random sets of its size
    assert summary["own_set_auc"].mean() > summary["other_sets_mean_auc"].mean()
    assert summary["own_set_auc"].mean() > summary["random_auc_mean"].mean()

    cov = _read(v / "coverage_curve.tsv")
    assert set(cov["class"]) == {"all", *CLASSES}
    genes = pd.read_parquet(tiny_run / "ingest" / "expression.parquet").columns
    sets = inputs.read_gmt(tiny_run / "ingest" / "gene_sets" / "verhaak.gmt")
    pooled = cov[cov["class"] == "all"]
    assert pooled["n"].tolist() == list(range(1, len(genes) + 1))
    assert pooled["n_reference"].iloc[-1] == len({g for s in sets.values() for g in s})
    assert (np.diff(pooled["n_reference"]) >= 0).all() and pooled["share_of_reference"].iloc[-1] == 1.0
    single = _read(tiny_run / "masking" / "subtype" / "single_genes.tsv").sort_values("rank")
    reference = {g for s in sets.values() for g in s}
    assert pooled.loc[pooled["n"] == 50, "n_reference"].item() == single["set"].head(50).isin(reference).sum()
    for cls in CLASSES:
        part = cov[cov["class"] == cls]
        assert part["reference_size"].iloc[0] == len(sets[cls])
        assert part["n_reference"].iloc[-1] == len(sets[cls])
    log = (tiny_run / "logs" / "subtype_validation.log").read_text()
    assert "own-set AUC" in log and "coverage (all" in log
    for fig in ("subtype_masking.png", "coverage_curve.png"):
        assert (tiny_run / "figures" / "validation" / fig).read_bytes()[:8] == PNG


@pytest.mark.workflow
def test_driver_recovery_by_method(tiny_run):
    truth = json.loads((tiny_run / "simulated" / "truth.json").read_text())
    rec = _read(tiny_run / "recovery" / "driver_ranks.tsv")
    planted = {(t, d) for t, spec in truth["traits"].items() for d in spec["drivers"]}
    assert set(zip(rec["target"], rec["driver"])) == planted
    n_sets = len(inputs.read_gmt(tiny_run / "ingest" / "gene_sets" / "programs.gmt"))
    for col in ("masking_rank", "enrichment_rank", "correlation_rank", "masking_gsea_rank"):
        assert rec[col].notna().all(), col
        assert rec[col].between(1, n_sets).all(), col
    for t in TRAITS:
        corr = _read(tiny_run / "enrichment" / t / "programs_correlation.tsv")
        expected = corr.assign(a=corr["nes"].abs()).sort_values(["a", "set"], ascending=[False, True])["set"].tolist()
        for _, r in rec[rec["target"] == t].iterrows():
            assert expected.index(r["driver"]) + 1 == r["correlation_rank"]
    # the planted drivers rank better than a random order would (mean rank (n_sets + 1) / 2)
    assert rec["correlation_rank"].mean() < (n_sets + 1) / 2
    assert rec["masking_rank"].mean() < (n_sets + 1) / 2
    assert (tiny_run / "figures" / "driver_recovery_methods.png").read_bytes()[:8] == PNG


def _no_overlap_config(tmp_path: Path, collections: tuple[str, ...] = ("mixed", "none")) -> Path:
    rng = np.random.default_rng(0)
    genes = [f"G{i}" for i in range(30)]
    patients = [f"P{i:02d}" for i in range(20)]
    pd.DataFrame(rng.normal(size=(20, 30)), index=pd.Index(patients, name="sample"), columns=genes).to_csv(
        tmp_path / "expression.tsv", sep="\t")
    pd.DataFrame({"patient": patients, "y": rng.normal(size=20)}).to_csv(tmp_path / "targets.tsv", sep="\t",
                                                                         index=False)
    (tmp_path / "mixed.gmt").write_text("KEPT\tna\tG1\tG2\tG3\tX1\nGONE\tna\tX1\tX2\n")
    (tmp_path / "none.gmt").write_text("A\tna\tX1\tX2\nB\tna\tX3\n")
    cfg = {"seed": 1, "results": "results", "simulate": {"enabled": False},
           "inputs": {"expression": "expression.tsv", "expression_format": "matrix",
                      "expression_orientation": "samples_x_genes", "targets": "targets.tsv",
                      "gene_sets": {name: f"{name}.gmt" for name in collections}},
           "targets": {"presets": [], "continuous_columns": ["y"]}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.workflow
def test_gene_sets_without_overlap_are_counted_and_an_empty_collection_stops(tmp_path):
    cfg = _no_overlap_config(tmp_path, ("mixed",))
    res = snakemake("--directory", str(tmp_path), "--configfile", str(cfg), "--cores", "1",
                    "results/ingest/gene_sets/mixed.gmt", timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert inputs.read_gmt(tmp_path / "results" / "ingest" / "gene_sets" / "mixed.gmt") == {"KEPT": ["G1", "G2", "G3"]}
    report = _read(tmp_path / "results" / "ingest" / "gene_sets" / "mixed_matching.tsv")
    assert report.set_index("set")["kept"].to_dict() == {"KEPT": True, "GONE": False}
    log = (tmp_path / "results" / "logs" / "ingest_gene_sets" / "mixed.log").read_text()
    assert "dropped 1 of 2" in log and "1 of 2 sets kept" in log

    # a collection with no gene in the expression stops the run before any job (radiogenomics/config/preflight.py)
    cfg = _no_overlap_config(tmp_path)
    res = snakemake("--directory", str(tmp_path), "--configfile", str(cfg), "--cores", "1",
                    "results/ingest/gene_sets/none.gmt", timeout=300)
    assert res.returncode != 0
    out = res.stdout + res.stderr
    assert "file none.gmt: no gene set has at least 1 gene(s) among the 30 expression genes of expression.tsv" in out
    assert not (tmp_path / "results" / "ingest" / "gene_sets" / "none.gmt").exists()
    assert not (tmp_path / "results" / "logs" / "ingest_gene_sets" / "none.log").exists()


@pytest.mark.workflow
def test_torch_jobs_log_their_thread_count(tiny_run):
    """The thread count is part of the numerical recipe (docs/methods.md, "Reproducibility: seeds and
    threads"): every torch job's log names it."""
    logs = [tiny_run / "logs" / "evaluate_folds" / "f5" / "network.log", tiny_run / "logs" / "gene_saliency" / "f5.log"]
    for log in logs:
        assert f"torch {torch.__version__}, 1 thread(s)" in log.read_text(), log
