"""Preranked GSEA: exact ES against the classic running sum, calibrated null, filters, summary."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from radiogenomics.enrichment import enrichment_summary, prerank_gsea


def reference_es(scores: np.ndarray, genes: list[str], members: set[str], weight: float = 1.0) -> float:
    """The classic running-sum enrichment score (Subramanian et al. 2005), one position at a time."""
    order = np.argsort(-scores, kind="stable")
    n = len(genes)
    hits = [genes[i] in members for i in order]
    n_hits = sum(hits)
    hit_weights = [abs(scores[i]) ** weight if hit else 0.0 for i, hit in zip(order, hits)]
    norm = sum(hit_weights)
    if norm == 0:
        hit_weights = [1.0 if hit else 0.0 for hit in hits]
        norm = float(n_hits)
    running, best_max, best_min = 0.0, 0.0, 0.0
    for j in range(n):
        running += hit_weights[j] / norm if hits[j] else -1.0 / (n - n_hits)
        best_max = max(best_max, running)
        best_min = min(best_min, running)
    # Equal deviations up and down (up to rounding) give the negative one, as gseapy.
    return best_max if abs(best_max) > abs(best_min) + 1e-12 else best_min


def genes_(n: int) -> list[str]:
    return [f"G{i}" for i in range(n)]


@pytest.mark.parametrize("weight", [0.0, 1.0, 2.0])
def test_es_equals_reference(weight):
    rng = np.random.default_rng(0)
    n_genes, n_rank = 400, 12
    genes = genes_(n_genes)
    scores = rng.normal(size=(n_rank, n_genes))
    scores[:4] = np.round(scores[:4], 1)  # ties: resolved by gene order
    scores[4, :] = np.abs(scores[4])  # all positive, like saliency
    scores[5, rng.choice(n_genes, 100, replace=False)] = 0.0  # zero-weight hits
    sets = {f"S{k}": list(rng.choice(genes, size, replace=False))
            for k, size in enumerate(rng.integers(15, 120, 25))}
    sets["zeros"] = [genes[i] for i in np.flatnonzero(scores[5] == 0)[:20]]  # no weight in ranking 5
    res = prerank_gsea(pd.DataFrame(scores, columns=genes), sets, n_perm=50, weight=weight)
    assert list(res.columns) == ["ranking", "set", "size", "es", "nes", "p", "fdr"]
    assert len(res) == n_rank * len(sets)
    for row in res.itertuples():
        ref = reference_es(scores[row.ranking], genes, set(sets[row.set]), weight)
        assert abs(row.es - ref) <= 1e-10, (row.ranking, row.set)


def test_es_of_many_random_rankings_and_overlapping_sets():
    rng = np.random.default_rng(1)
    n_genes = 250
    genes = genes_(n_genes)
    scores = rng.standard_t(3, size=(40, n_genes))
    sets = {f"S{k}": list(rng.choice(genes, 15 + k % 7, replace=False)) for k in range(30)}  # repeated sizes
    sets["top_genes"] = genes[:15]
    res = prerank_gsea(scores, sets, genes=genes, n_perm=20)
    ref = np.array([reference_es(scores[r.ranking], genes, set(sets[r.set])) for r in res.itertuples()])
    assert np.abs(res["es"].to_numpy() - ref).max() <= 1e-10


def test_planted_set_is_enriched_and_random_set_is_not():
    rng = np.random.default_rng(2)
    n_genes = 1000
    genes = genes_(n_genes)
    scores = rng.normal(size=n_genes)
    order = np.argsort(-scores)
    sets = {
        "planted_top": [genes[i] for i in order[:40]],
        "planted_bottom": [genes[i] for i in order[-40:]],
        "random": list(rng.choice(genes, 40, replace=False)),
    }
    res = prerank_gsea(pd.DataFrame([scores], index=["r0"], columns=genes), sets, n_perm=500).set_index("set")
    top, bottom, rand = res.loc["planted_top"], res.loc["planted_bottom"], res.loc["random"]
    assert top["es"] > 0.9 and top["nes"] > 2
    assert top["p"] < 0.01 and top["fdr"] < 0.05
    # The bottom of the ranking: negative ES and NES (the sign of NES is the sign of ES).
    assert bottom["es"] < -0.9 and bottom["nes"] < -2 and bottom["p"] < 0.01
    assert rand["p"] > 0.05 and abs(rand["nes"]) < 2
    assert (np.sign(res["nes"]) == np.sign(res["es"])).all()
    assert (res["ranking"] == "r0").all()


def test_null_is_calibrated():
    """Random sets in random rankings: p about uniform, few false discoveries."""
    rng = np.random.default_rng(3)
    n_genes = 500
    genes = genes_(n_genes)
    scores = rng.normal(size=(40, n_genes))
    sets = {f"S{k}": list(rng.choice(genes, size, replace=False)) for k, size in enumerate([20, 40, 80] * 4)}
    res = prerank_gsea(scores, sets, genes=genes, n_perm=200, seed=4)
    p = res["p"].to_numpy()
    assert 0.4 < p.mean() < 0.6
    assert 0.01 < (p < 0.05).mean() < 0.10
    assert (res["fdr"] < 0.05).mean() < 0.03
    assert (p > 0).all() and (p <= 1).all()
    assert (res["fdr"] >= res["p"] - 1e-12).all()


def test_size_filter(caplog):
    rng = np.random.default_rng(5)
    genes = genes_(300)
    scores = rng.normal(size=(2, 300))
    sets = {
        "tiny": genes[:5],
        "ok": genes[10:30],
        "huge": genes[:250],
        "mostly_unknown": genes[:10] + [f"X{i}" for i in range(50)],  # 10 genes after matching
        "edge_min": genes[50:65],  # exactly 15
    }
    with caplog.at_level(logging.INFO, logger="radiogenomics.enrichment"):
        res = prerank_gsea(scores, sets, genes=genes, n_perm=20, min_size=15, max_size=200)
    assert set(res["set"]) == {"ok", "edge_min"}
    message = " ".join(r.getMessage() for r in caplog.records)
    assert "tiny" in message and "huge" in message and "mostly_unknown" in message
    with pytest.raises(ValueError, match="no gene set"):
        prerank_gsea(scores, {"tiny": genes[:5]}, genes=genes)


def test_determinism_and_input_forms():
    rng = np.random.default_rng(6)
    genes = genes_(300)
    scores = rng.normal(size=(3, 300))
    sets = {f"S{k}": list(rng.choice(genes, 30, replace=False)) for k in range(4)}
    a = prerank_gsea(scores, sets, genes=genes, n_perm=100, seed=1)
    b = prerank_gsea(scores, sets, genes=genes, n_perm=100, seed=1)
    pd.testing.assert_frame_equal(a, b)
    c = prerank_gsea(scores, sets, genes=genes, n_perm=100, seed=2)
    np.testing.assert_allclose(a["es"], c["es"])  # observed ES does not depend on the seed
    assert not np.allclose(a["p"], c["p"])
    frame = prerank_gsea(pd.DataFrame(scores, index=["x", "y", "z"], columns=genes), sets, n_perm=100, seed=1)
    assert list(frame["ranking"].unique()) == ["x", "y", "z"]
    np.testing.assert_allclose(frame["p"], a["p"])
    one = prerank_gsea(scores[1], sets, genes=genes, n_perm=100, seed=1)  # 1-D: one ranking
    np.testing.assert_allclose(one["es"], a.loc[a["ranking"] == 1, "es"])
    # Chunking by the memory budget does not change anything.
    small = prerank_gsea(scores, sets, genes=genes, n_perm=100, seed=1, memory_bytes=1)
    pd.testing.assert_frame_equal(small, a)
    with pytest.raises(ValueError, match="genes"):
        prerank_gsea(scores, sets)
    bad = scores.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        prerank_gsea(bad, sets, genes=genes)


def test_fdr_within_each_ranking():
    from radiogenomics.stats import benjamini_hochberg

    rng = np.random.default_rng(7)
    genes = genes_(400)
    scores = rng.normal(size=(5, 400))
    sets = {f"S{k}": list(rng.choice(genes, 25, replace=False)) for k in range(10)}
    sets["top"] = genes[:25]
    scores[:, :25] += 2.0
    res = prerank_gsea(scores, sets, genes=genes, n_perm=200)
    for _, part in res.groupby("ranking"):
        np.testing.assert_allclose(part["fdr"], benjamini_hochberg(part["p"]))


def test_enrichment_summary():
    results = pd.DataFrame({
        "ranking": ["r1", "r2", "r3", "r1", "r2", "r3", "r1", "r2", "r3"],
        "set": ["A", "A", "A", "B", "B", "B", "C", "C", "C"],
        "size": [20] * 9,
        "es": [0.5, 0.6, 0.4, -0.5, 0.3, 0.2, 0.1, 0.1, 0.1],
        "nes": [2.0, 2.5, 1.5, -2.0, 1.8, 1.0, 0.5, 0.4, 0.3],
        "p": [0.001] * 9,
        "fdr": [0.01, 0.02, 0.20, 0.01, 0.04, 0.5, 0.9, 0.9, 0.9],
    })
    summary = enrichment_summary(results)
    assert list(summary.columns) == ["set", "n_rankings", "n_enriched", "share_enriched", "mean_nes", "median_fdr"]
    assert list(summary["set"]) == ["A", "B", "C"]
    s = summary.set_index("set")
    assert s.loc["A", "n_enriched"] == 2 and s.loc["A", "share_enriched"] == pytest.approx(2 / 3)
    assert s.loc["B", "n_enriched"] == 1  # the negative NES with a small FDR does not count
    assert s.loc["C", "n_enriched"] == 0
    assert (s["n_rankings"] == 3).all()
    assert s.loc["A", "mean_nes"] == pytest.approx(2.0)
    assert s.loc["B", "median_fdr"] == pytest.approx(0.04)
    assert enrichment_summary(results, fdr=0.3).set_index("set").loc["A", "n_enriched"] == 3


# ---------------------------------------------------------------------------- rankings and agreement


def _expression(n: int = 60, g: int = 40, seed: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(n, g)), index=[f"P{i:02d}" for i in range(n)], columns=genes_(g))


def test_correlation_ranking_binary_and_continuous():
    from scipy import stats

    from radiogenomics.enrichment import correlation_ranking

    x = _expression()
    x["G5"] = 1.0  # a constant gene
    rng = np.random.default_rng(9)
    yb = pd.Series((x["G0"] + rng.normal(0, 0.5, len(x)) > 0).astype(int), index=x.index)
    r = correlation_ranking(x, yb.sample(frac=1.0, random_state=1), "binary")  # joined by patient ID
    assert isinstance(r, pd.Series) and r.index.name == "gene" and list(r.index) == list(x.columns)
    assert r["G5"] == 0.0
    for gene in ("G0", "G1", "G39"):
        assert r[gene] == pytest.approx(stats.pointbiserialr(yb, x[gene]).statistic, abs=1e-12)
    assert r.idxmax() == "G0"
    yc = pd.Series(x["G3"].to_numpy() * 2 + rng.normal(0, 1, len(x)), index=x.index)
    yc.iloc[:5] = np.nan  # missing values are dropped
    rc = correlation_ranking(x, yc, "continuous")
    keep = yc.notna()
    assert rc["G3"] == pytest.approx(stats.spearmanr(x.loc[keep, "G3"], yc[keep]).statistic, abs=1e-12)
    rp = correlation_ranking(x, yc, "continuous", method="pearson")
    assert rp["G3"] == pytest.approx(stats.pearsonr(x.loc[keep, "G3"], yc[keep]).statistic, abs=1e-12)
    res = prerank_gsea(rc, {"with_G3": genes_(40)[:20]}, n_perm=50, min_size=5)
    assert list(res["ranking"].unique()) == ["correlation"]  # a Series is one ranking named after it
    with pytest.raises(ValueError, match="0/1"):
        correlation_ranking(x, yc.fillna(0), "binary")
    with pytest.raises(ValueError, match="method"):
        correlation_ranking(x, yb, "binary", method="kendall")


def test_correlation_ranking_multiclass_one_vs_rest():
    from scipy import stats

    from radiogenomics.enrichment import correlation_ranking

    x = _expression(n=90)
    labels = np.array(["A", "B", "C"])[np.arange(90) % 3]
    y = pd.Series(labels, index=x.index)
    table = correlation_ranking(x, y, "multiclass", classes=["C", "A", "B"])
    assert list(table.index) == ["C", "A", "B"] and table.index.name == "class"
    assert list(table.columns) == list(x.columns)
    for cls in ("A", "C"):
        member = (y == cls).astype(int)
        assert table.loc[cls, "G7"] == pytest.approx(stats.pointbiserialr(member, x["G7"]).statistic, abs=1e-12)
    codes = pd.Series(np.arange(90) % 3, index=x.index)  # codes index into classes
    pd.testing.assert_frame_equal(correlation_ranking(x, codes, "multiclass", classes=["A", "B", "C"]),
                                  table.loc[["A", "B", "C"]])
    with pytest.raises(ValueError, match="classes"):
        correlation_ranking(x, y, "multiclass", classes=["A", "B"])


def test_masking_ranking():
    from radiogenomics.enrichment import masking_ranking

    table = pd.DataFrame({"set": ["g1", "g2", "g3", "g4"], "n_genes": 1, "auc": [0.9, 0.6, 0.5, 0.4],
                          "ap": [0.8, 0.5, np.nan, 0.3], "rank": [1, 2, 3, 4]})
    table.attrs["secondary_metric"] = "ap"
    r = masking_ranking(table)
    assert r.index.name == "gene" and list(r.index) == ["g1", "g2", "g3", "g4"]
    np.testing.assert_allclose(r.to_numpy(), [0.3, 0.0, 0.0, -0.2])  # median 0.5; NaN -> the median
    np.testing.assert_allclose(masking_ranking(table, metric="auc", center=False), [0.9, 0.6, 0.5, 0.4])
    with pytest.raises(ValueError, match="no column"):
        masking_ranking(table, metric="r2")


def test_agreement_uses_bh_of_nominal_p_on_both_sides():
    from radiogenomics.enrichment import agreement

    ours = pd.DataFrame({"ranking": ["r1"] * 4 + ["r2"] * 4, "set": list("ABCD") * 2,
                         "nes": [2.0, 1.5, -1.0, 0.2, 1.0, 0.5, 0.1, -2.0],
                         "p": [0.001, 0.02, 0.3, 0.9, 0.04, 0.5, 0.8, 0.001]})
    ref = ours.copy()
    ref["nes"] = ref["nes"] * 1.01
    ref.loc[1, "p"] = 0.2  # r1/B no longer significant after BH
    ref["fdr"] = 1.0  # a reference FDR column is ignored
    a = agreement(ours, ref.sample(frac=1.0, random_state=0))
    assert a["n_pairs"] == 8
    assert a["nes_spearman"] == pytest.approx(1.0)
    # ours: r1 BH of (0.001, 0.02) -> 0.004, 0.04 (both < 0.05); r2: 0.001 -> 0.004 only
    assert a["significant_ours"] == 3 and a["significant_reference"] == 2
    assert a["same_significance"] == pytest.approx(7 / 8)
