"""Preranked GSEA: exact ES against the classic running sum, calibrated null, filters, summary."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from radiogenomics.enrichment.gsea import enrichment_summary, prerank_gsea


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
    assert list(res.columns) == ["ranking", "set", "size", "es", "nes", "p", "fdr", "n_perm", "null", "fdr_method"]
    assert (res["null"] == "gene_set").all() and (res["fdr_method"] == "BH").all() and (res["n_perm"] == 50).all()
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
    with caplog.at_level(logging.INFO, logger="radiogenomics.enrichment.gsea"):
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
    from radiogenomics.evaluation.stats import benjamini_hochberg

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

    from radiogenomics.enrichment.gsea import correlation_ranking

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

    from radiogenomics.enrichment.gsea import correlation_ranking

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
    from radiogenomics.enrichment.gsea import masking_ranking

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
    from radiogenomics.enrichment.gsea import agreement

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


# ---------------------------------------------------------------------------- phenotype-permutation null


def _modules(n: int, n_genes: int, module: int, n_modules: int, seed: int, strength: float = 1.5):
    """Expression with co-expressed modules (genes M{k}_*: a shared factor plus noise), the factors and the sets."""
    rng = np.random.default_rng(seed)
    factors = rng.normal(size=(n, n_modules))
    x = rng.normal(size=(n, n_genes))
    genes = [f"G{i}" for i in range(n_genes)]
    sets = {}
    for k in range(n_modules):
        cols = np.arange(k * module, (k + 1) * module)
        x[:, cols] += strength * factors[:, [k]]
        sets[f"M{k}"] = [genes[i] for i in cols]
    free = np.arange(n_modules * module, n_genes)
    for k in range(4):  # independent genes: random sets
        sets[f"R{k}"] = [genes[i] for i in rng.choice(free, module, replace=False)]
    ids = pd.Index([f"P{i:03d}" for i in range(n)], name="patient")
    return pd.DataFrame(x, index=ids, columns=genes), pd.DataFrame(factors, index=ids), sets


def test_phenotype_null_finds_a_planted_association_and_not_a_coexpressed_bystander():
    from radiogenomics.enrichment.gsea import correlation_gsea

    x, factors, sets = _modules(n=80, n_genes=400, module=25, n_modules=3, seed=11)
    rng = np.random.default_rng(12)
    y = pd.Series(0.8 * factors[0].to_numpy() + rng.normal(size=80), index=x.index)  # module M0 drives y
    ph = correlation_gsea(x, y, "continuous", sets, n_perm=2000, min_size=10, seed=3).set_index("set")
    gs = correlation_gsea(x, y, "continuous", sets, null="gene_set", n_perm=2000, min_size=10, seed=3).set_index("set")
    assert (ph["null"] == "phenotype").all() and (gs["null"] == "gene_set").all()
    np.testing.assert_allclose(ph["es"], gs["es"])  # the same observed ranking and ES under both nulls
    assert ph.loc["M0", "es"] > 0 and ph.loc["M0", "p"] < 0.005 and ph.loc["M0", "fdr"] < 0.05
    # M1 and M2 are co-expressed modules unrelated to y: by chance their genes move together in the
    # ranking, which the gene-label null reads as enrichment and the phenotype null does not
    for bystander in ("M1", "M2"):
        assert ph.loc[bystander, "p"] > 0.05, ph
    assert min(gs.loc["M1", "p"], gs.loc["M2", "p"]) < 0.01, gs
    assert (np.sign(ph["nes"]) == np.sign(ph["es"])).all()


def test_phenotype_null_is_calibrated_for_null_traits():
    """Binary traits independent of an expression with co-expressed modules: phenotype-null p about uniform
    (the gene-label null calls the modules far more often)."""
    from radiogenomics.enrichment.gsea import correlation_gsea

    x, _, sets = _modules(n=60, n_genes=300, module=20, n_modules=4, seed=21)
    rng = np.random.default_rng(22)
    ph, gs = [], []
    for k in range(25):
        y = pd.Series(rng.permutation(np.r_[np.ones(25), np.zeros(35)]), index=x.index)
        ph.append(correlation_gsea(x, y, "binary", sets, n_perm=300, max_perm=300, min_size=10, seed=k))
        gs.append(correlation_gsea(x, y, "binary", sets, null="gene_set", n_perm=300, min_size=10, seed=k))
    ph, gs = pd.concat(ph), pd.concat(gs)
    p = ph["p"].to_numpy()
    assert 0.4 < p.mean() < 0.6, p.mean()
    assert (p < 0.05).mean() < 0.10, (p < 0.05).mean()
    modules = gs["set"].str.startswith("M")
    assert (gs.loc[modules, "p"] < 0.05).mean() > 3 * max((ph.loc[modules, "p"] < 0.05).mean(), 0.05)


def test_phenotype_null_is_deterministic_and_chunking_free():
    from radiogenomics.enrichment.gsea import correlation_gsea, correlation_ranking

    x, factors, sets = _modules(n=50, n_genes=200, module=15, n_modules=2, seed=31)
    y = pd.Series(factors[0].to_numpy() + np.random.default_rng(32).normal(size=50), index=x.index)
    kw = dict(n_perm=400, min_size=10, seed=5)
    a = correlation_gsea(x, y, "continuous", sets, **kw)
    b = correlation_gsea(x.sample(frac=1.0, random_state=0), y, "continuous", sets, **kw)  # joined by ID
    pd.testing.assert_frame_equal(a, b)
    small = correlation_gsea(x, y, "continuous", sets, memory_bytes=1, **kw)  # one permutation per chunk
    pd.testing.assert_frame_equal(small, a)
    other = correlation_gsea(x, y, "continuous", sets, **{**kw, "seed": 6})
    np.testing.assert_allclose(other["es"], a["es"])
    assert not np.allclose(other["p"], a["p"])
    ref = prerank_gsea(correlation_ranking(x, y, "continuous"), sets, n_perm=20, min_size=10)
    # the observed ES is that of correlation_ranking (computed in fixed point: to about 2**-20)
    np.testing.assert_allclose(a["es"], ref["es"], atol=1e-5)
    assert (a["ranking"] == "correlation").all() and list(a["set"]) == list(sets)
    assert (a["p"] > 0).all() and (a["p"] <= 1).all() and (a["fdr"] >= a["p"] - 1e-12).all()
    with pytest.raises(ValueError, match="null"):
        correlation_gsea(x, y, "continuous", sets, null="genes")


def test_phenotype_null_multiclass_uses_one_permutation_for_all_classes():
    from radiogenomics.enrichment.gsea import correlation_gsea, correlation_ranking

    x, factors, sets = _modules(n=90, n_genes=240, module=20, n_modules=3, seed=41)
    cls = np.array(["A", "B", "C"])[np.argmax(factors.to_numpy() + np.random.default_rng(42).normal(0, 0.5, (90, 3)),
                                              axis=1)]
    y = pd.Series(cls, index=x.index)
    res = correlation_gsea(x, y, "multiclass", sets, classes=["C", "A", "B"], n_perm=500, min_size=10, seed=1)
    assert list(res["ranking"].unique()) == ["C", "A", "B"]
    ref = prerank_gsea(correlation_ranking(x, y, "multiclass", classes=["C", "A", "B"]), sets, n_perm=20, min_size=10)
    np.testing.assert_allclose(res["es"], ref["es"], atol=1e-5)
    own = res.set_index(["ranking", "set"])
    for k, c in enumerate("ABC"):  # each class's module is enriched in its one-vs-rest ranking
        assert own.loc[(c, f"M{k}"), "nes"] > 0 and own.loc[(c, f"M{k}"), "p"] < 0.01


def test_permutations_within_strata():
    from radiogenomics.enrichment.gsea import permutations

    strata = np.array(list("aabbbcaacb"))
    perm = permutations(10, 200, np.random.default_rng(0), strata)
    assert perm.shape == (200, 10)
    assert (np.sort(perm, axis=1) == np.arange(10)).all()  # permutations
    assert (strata[perm] == strata[None, :]).all()  # values stay within their stratum
    assert len({tuple(r) for r in perm}) > 50
    free = permutations(10, 200, np.random.default_rng(0))
    chunks = np.vstack([permutations(10, k, rng) for rng in [np.random.default_rng(0)] for k in (50, 150)])
    np.testing.assert_array_equal(free, chunks)  # the same permutations whatever the chunks


def test_phenotype_null_strata_and_binary_class_counts():
    from radiogenomics.enrichment.gsea import correlation_gsea

    x, factors, sets = _modules(n=60, n_genes=200, module=15, n_modules=2, seed=51)
    y = pd.Series((factors[0].to_numpy() > 0).astype(int), index=x.index)
    batch = pd.Series(np.where(np.arange(60) < 30, "b1", "b2"), index=x.index)
    res = correlation_gsea(x, y, "binary", sets, strata=batch, n_perm=300, min_size=10, seed=2).set_index("set")
    assert res.loc["M0", "p"] < 0.01 and res.loc["M0", "es"] > 0
    with pytest.raises(ValueError, match="strata"):
        correlation_gsea(x, y, "binary", sets, strata=batch.iloc[:40], n_perm=50, min_size=10)


def test_adaptive_permutations_resolve_the_smallest_p(caplog):
    from radiogenomics.enrichment.gsea import correlation_gsea

    x, factors, sets = _modules(n=60, n_genes=300, module=20, n_modules=3, seed=61)
    y = pd.Series(factors[0].to_numpy() + 0.3 * np.random.default_rng(62).normal(size=60), index=x.index)
    fixed = correlation_gsea(x, y, "continuous", sets, n_perm=100, max_perm=100, min_size=10, seed=4).set_index("set")
    with caplog.at_level(logging.INFO, logger="radiogenomics.enrichment.gsea"):
        adaptive = correlation_gsea(x, y, "continuous", sets, n_perm=100, max_perm=3000, min_size=10,
                                    seed=4).set_index("set")
    threshold = 0.05 / len(sets)  # the smallest BH threshold (7 sets)
    # no null ES as extreme in 100 permutations: p = 1 / (same-sign null ES + 1), above the threshold
    assert fixed.loc["M0", "p"] > threshold and fixed.loc["M0", "p"] * 101 < 3
    assert (fixed["n_perm"] == 100).all()
    assert adaptive.loc["M0", "n_perm"] > 100 and adaptive.loc["M0", "p"] <= threshold
    assert adaptive.loc["M0", "fdr"] < 0.05
    resolved = adaptive["n_perm"] == 100  # sets not continued keep the first 100 permutations' numbers
    assert resolved.sum() >= 4
    pd.testing.assert_frame_equal(adaptive.loc[resolved], fixed.loc[resolved])
    assert "continued" in caplog.text


def test_phenotype_null_on_real_tcga_gbm(real_data_dir):
    """The issue's case: 52 TCGA-GBM patients with radiomic features joined to the ClaNC840 expression; the
    840 genes ranked by correlation with the enhancing share of the tumour core (VOLUME_ET_over_TC) and
    tested with the four Verhaak sets of the ClaNC table."""
    from radiogenomics import inputs
    from radiogenomics.enrichment.gsea import correlation_gsea

    clanc = inputs.read_clanc(real_data_dir / "TCGA_unified_CORE_ClaNC840.txt")
    radiomic = pd.read_csv(real_data_dir / "TCGA_GBM_radiomicFeatures.csv")
    trait = pd.Series(radiomic["VOLUME_ET_over_TC"].to_numpy(dtype=float),
                      index=pd.Index(radiomic["ID"].astype(str).str[:12], name="patient")).dropna()
    assert not trait.index.has_duplicates
    assert len(clanc.expression.index.intersection(trait.index)) == 52
    kw = dict(min_size=5, seed=0, n_perm=10_000)
    out = {}
    for method in ("pearson", "spearman"):
        for null in ("gene_set", "phenotype"):
            res = correlation_gsea(clanc.expression, trait, "continuous", clanc.gene_sets, method=method, null=null,
                                   **kw)
            out[(method, null)] = res.set_index("set")
            print(method, null, res[["set", "es", "nes", "p", "fdr", "n_perm"]].round(4).to_dict("records"))
    for method in ("pearson", "spearman"):
        gene_set, phenotype = out[(method, "gene_set")], out[(method, "phenotype")]
        np.testing.assert_allclose(gene_set["es"], phenotype["es"])
        called = gene_set.index[gene_set["p"] < 0.001]
        assert sorted(called) == ["Classical", "Mesenchymal", "Proneural"], (method, gene_set)
        # the same sets under the phenotype null: not significant, nominal p in the 0.1-0.65 range or above
        assert (phenotype.loc[called, "p"] > 0.1).all(), (method, phenotype)
        assert (phenotype["fdr"] > 0.05).all() and (gene_set.loc[called, "fdr"] < 0.05).all()
        assert (phenotype["nes"].abs() < gene_set["nes"].abs()).all()  # the gene-label null understates the spread
