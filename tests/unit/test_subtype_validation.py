"""Subtype validation (study Figure 2): masking with the Verhaak sets, per-class AUCs, coverage, figures.

The real-data check trains a small subtype network on the public ClaNC840 table (173 patients x
840 genes) with 3-fold cross-validation and checks, out of fold, that masking the input down to
each subtype's own gene set keeps that subtype's class better recognised (one-vs-rest AUC) than
the other subtypes' sets do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

from radiogenomics.evaluation import metrics
from radiogenomics.interpret import recovery, subtype_validation
from radiogenomics.interpret.masking import masked_class_probabilities, single_gene_masking
from radiogenomics.models.nets import FittedModel, Scaler, TargetNet
from radiogenomics.plots import figures

CLASSES = ["Proneural", "Neural", "Classical", "Mesenchymal"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def planted_subtypes(seed: int = 0, n: int = 120, set_size: int = 15, n_background: int = 60):
    """Expression where each subtype raises its own gene set, and a linear network that reads exactly that."""
    rng = np.random.default_rng(seed)
    genes = [f"G{i:03d}" for i in range(4 * set_size + n_background)]
    sets = {c: genes[k * set_size:(k + 1) * set_size] for k, c in enumerate(CLASSES)}
    codes = np.arange(n) % 4
    raw = rng.normal(0.0, 1.0, size=(n, len(genes)))
    for k in range(4):
        raw[np.ix_(codes == k, np.arange(k * set_size, (k + 1) * set_size))] += 1.0
    patients = pd.Index([f"TCGA-AA-{i:04d}" for i in range(n)], name="patient")
    expression = pd.DataFrame(raw, index=patients, columns=genes)
    scaler = Scaler.fit(raw)
    net = TargetNet(len(genes), [], 4)
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.zero_()
        for k in range(4):
            net.head.weight[k, k * set_size:(k + 1) * set_size] = 0.5
    model = FittedModel(network=net.eval(), genes=genes, scaler=scaler, target="subtype", target_type="multiclass",
                        classes=list(CLASSES), arch={"hidden": []})
    subtypes = pd.Series(np.asarray(CLASSES, dtype=object)[codes], index=patients, name="subtype")
    return model, expression, sets, subtypes


def test_probabilities_table_layout_and_values():
    model, expression, sets, subtypes = planted_subtypes()
    probs = subtype_validation.subtype_masking_probabilities(model, expression, sets, n_random=7, seed=3,
                                                     subtypes=subtypes)
    assert list(probs.columns) == subtype_validation.PROBABILITY_COLUMNS
    n = len(expression)
    assert len(probs) == (1 + 4 + 4 * 7) * n * 4
    sums = probs.groupby(["mask", "draw", "patient"])["probability"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-9)
    assert set(probs["kind"]) == {"unmasked", "subtype set", "random"}
    assert (probs.loc[probs["kind"] == "random", "n_genes"] == 15).all()
    assert probs.loc[probs["kind"] == "random", "draw"].nunique() == 7
    assert (probs.drop_duplicates("patient").set_index("patient")["subtype"] == subtypes).all()
    # the subtype-set probabilities are those of masked_class_probabilities
    ref = masked_class_probabilities(model, expression, sets).set_index(["set", "patient", "class"])["probability"]
    got = probs[probs["kind"] == "subtype set"].set_index(["mask", "patient", "class"])["probability"]
    np.testing.assert_allclose(got.to_numpy(), ref.loc[got.index].to_numpy(), atol=1e-9)
    # unmasked = the model's own predictions
    unmasked = probs[probs["kind"] == "unmasked"].pivot(index="patient", columns="class", values="probability")
    expected = metrics.softmax(model.outputs(model.scaled(expression)))
    np.testing.assert_allclose(unmasked.loc[expression.index, CLASSES].to_numpy(), expected, atol=1e-6)
    # the same seed draws the same random sets
    again = subtype_validation.subtype_masking_probabilities(model, expression, sets, n_random=7, seed=3,
                                                             subtypes=subtypes)
    pd.testing.assert_frame_equal(again, probs)


def test_own_set_ranks_first_for_every_class():
    model, expression, sets, subtypes = planted_subtypes(seed=1)
    probs = subtype_validation.subtype_masking_probabilities(model, expression, sets, n_random=30, seed=2,
                                                     subtypes=subtypes)
    auc = subtype_validation.subtype_set_auc(probs)
    assert list(auc.columns) == ["class", "set", "own", "n_genes", "auc", "unmasked_auc", "random_auc_mean",
                                 "random_auc_sd", "p_random", "rank_in_class"]
    assert len(auc) == 16
    own = auc[auc["own"]].set_index("class")
    assert (own["rank_in_class"] == 1).all()
    assert (own["auc"] > 0.95).all()
    assert (own["p_random"] <= 2 / 31).all()  # better than (almost) every random set of the same size
    # AUC values are sklearn's on the masked probabilities
    row = auc[(auc["class"] == "Neural") & (auc["set"] == "Classical")].iloc[0]
    p = probs[(probs["mask"] == "Classical") & (probs["class"] == "Neural")].set_index("patient")["probability"]
    assert row["auc"] == pytest.approx(roc_auc_score(subtypes.loc[p.index] == "Neural", p))
    summary = subtype_validation.subtype_validation_summary(auc)
    assert list(summary["class"]) == CLASSES
    assert summary["own_beats_mean_of_others"].all() and (summary["own_rank"] == 1).all()
    assert (summary["own_set_auc"] > summary["best_other_auc"]).all()
    # truth can also be passed separately
    no_truth = probs.assign(subtype=None)
    pd.testing.assert_frame_equal(subtype_validation.subtype_set_auc(no_truth, subtypes=subtypes), auc)
    with pytest.raises(ValueError, match="true subtypes"):
        subtype_validation.subtype_set_auc(no_truth)


def test_out_of_fold_probabilities_use_each_fold_model():
    model, expression, sets, subtypes = planted_subtypes(seed=2)
    folds = pd.DataFrame({"patient": expression.index, "fold": np.arange(len(expression)) % 2})
    other = FittedModel(network=TargetNet(len(model.genes), [], 4).eval(), genes=model.genes, scaler=model.scaler,
                        target="subtype", target_type="multiclass", classes=list(CLASSES), arch={"hidden": []})
    probs = subtype_validation.subtype_masking_probabilities({0: model, 1: other}, expression, sets, n_random=3,
                                                     folds=folds, subtypes=subtypes)
    fold1 = set(folds.loc[folds["fold"] == 1, "patient"])
    own = probs[(probs["mask"] == "Neural")]
    ref0 = masked_class_probabilities(model, expression, sets).query("set == 'Neural'")
    ref1 = masked_class_probabilities(other, expression, sets).query("set == 'Neural'")
    for patients, ref in ((set(expression.index) - fold1, ref0), (fold1, ref1)):
        got = own[own["patient"].isin(patients)].set_index(["patient", "class"])["probability"]
        exp = ref[ref["patient"].isin(patients)].set_index(["patient", "class"])["probability"]
        np.testing.assert_allclose(got.sort_index().to_numpy(), exp.sort_index().to_numpy(), atol=1e-9)
    with pytest.raises(TypeError):
        subtype_validation.subtype_masking_probabilities(model, expression, sets, folds=folds)
    binary = FittedModel(network=TargetNet(len(model.genes), [], 1), genes=model.genes, scaler=model.scaler,
                         target="x", target_type="binary", classes=[], arch={"hidden": []})
    with pytest.raises(ValueError, match="multiclass"):
        subtype_validation.subtype_masking_probabilities(binary, expression, sets)


def test_coverage_curve():
    table = pd.DataFrame({"set": ["a", "b", "c", "d", "e"], "rank": [2, 1, 3, 5, 4]})
    curve = subtype_validation.coverage_curve(table, ["b", "c", "e", "not_ranked"])
    # order by rank: b, a, c, e, d
    assert curve["n_reference"].tolist() == [1, 1, 2, 3, 3]
    np.testing.assert_allclose(curve["share_of_reference"], [1 / 3, 1 / 3, 2 / 3, 1, 1])
    np.testing.assert_allclose(curve["share_of_top"], [1, 0.5, 2 / 3, 0.75, 0.6])
    np.testing.assert_allclose(curve["expected_share_of_reference"], np.arange(1, 6) / 5)
    np.testing.assert_allclose(curve["expected_share_of_top"], 3 / 5)
    assert curve.attrs == {"n_genes": 5, "n_reference": 3}
    assert len(subtype_validation.coverage_curve(table, ["b"], max_n=2)) == 2
    with pytest.raises(ValueError, match="no reference gene"):
        subtype_validation.coverage_curve(table, ["zzz"])


def test_single_gene_coverage_finds_the_subtype_genes():
    model, expression, sets, subtypes = planted_subtypes(seed=4)
    codes = subtypes.map({c: i for i, c in enumerate(CLASSES)})
    table = single_gene_masking(model, expression, codes)
    reference = [g for members in sets.values() for g in members]
    curve = subtype_validation.coverage_curve(table, reference)
    # the 60 subtype genes are exactly the top 60 single genes (the background carries nothing)
    assert curve.loc[curve["n"] == 60, "share_of_reference"].item() == pytest.approx(1.0)



def test_per_class_single_gene_auc_and_class_coverage():
    model, expression, sets, subtypes = planted_subtypes(seed=6)
    codes = subtypes.map({c: i for i, c in enumerate(CLASSES)})
    table = single_gene_masking(model, expression, codes, per_class=True)
    assert table.attrs["class_columns"] == {c: f"auc_{c}" for c in CLASSES}
    np.testing.assert_allclose(table[[f"auc_{c}" for c in CLASSES]].mean(axis=1), table["auc_macro"], atol=1e-12)
    # one gene, checked against sklearn on the softmax of the masked network
    gene = sets["Neural"][0]
    x = model.scaled(expression)
    kept = np.zeros_like(x)
    kept[:, model.genes.index(gene)] = x[:, model.genes.index(gene)]
    prob = metrics.softmax(model.outputs(kept).astype(np.float64))
    expected = roc_auc_score((codes == 1).astype(int), prob[:, 1])
    assert table.set_index("set").loc[gene, "auc_Neural"] == pytest.approx(expected, abs=1e-9)
    assert "auc_Neural" not in single_gene_masking(model, expression, codes).columns

    curves = subtype_validation.class_coverage_curves(table, {**sets, "Unknown": ["G000"]})
    assert list(curves.columns[:1]) == ["class"] and sorted(curves["class"].unique()) == sorted(CLASSES)
    for cls in CLASSES:
        part = curves[curves["class"] == cls]
        assert part["reference_size"].iloc[0] == 15
        # ranked by its own class's AUC, a class's 15 genes lead (random order: 15/120 of the top 15); a
        # gene of another class kept alone also moves this class's softmax, so one may slip in
        assert part.loc[part["n"] == 15, "share_of_reference"].item() >= 0.8
        assert part.loc[part["n"] == 15, "expected_share_of_reference"].item() == pytest.approx(15 / 120)
    at = subtype_validation.coverage_at(curves[curves["class"] == "Neural"], [5, 15, 10_000])
    assert at["n"].tolist() == [5, 15]
    with pytest.raises(ValueError, match="no column"):
        subtype_validation.coverage_curve(table, sets["Neural"], score="auc_Other")


def test_coverage_of_a_reference_covering_every_gene_warns(caplog):
    table = pd.DataFrame({"set": ["a", "b", "c"], "rank": [1, 2, 3]})
    with caplog.at_level("WARNING"):
        curve = subtype_validation.coverage_curve(table, ["a", "b", "c"])
    np.testing.assert_allclose(curve["share_of_reference"], curve["expected_share_of_reference"])
    assert "all 3 ranked genes are reference genes" in caplog.text


def _texts(fig) -> str:
    parts = [fig._suptitle.get_text() if fig._suptitle is not None else ""]
    for ax in fig.axes:
        parts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        parts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        if ax.get_legend() is not None:
            parts += [t.get_text() for t in ax.get_legend().get_texts()]
    return "\n".join(parts)


def test_figures(tmp_path):
    model, expression, sets, subtypes = planted_subtypes(seed=5)
    probs = subtype_validation.subtype_masking_probabilities(model, expression, sets, n_random=2, subtypes=subtypes)
    with figures.style():
        fig = figures.subtype_masking_figure(probs)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert len(panels) == 5  # unmasked + one per subtype set
    text = _texts(fig)
    assert "Unmasked" in text and "Proneural set only" in text and "(15 genes)" in text
    assert "Proneural\n(n = 30)" in text and "Predicted class" in text and "true subtype" in text
    figures.draw(figures.subtype_masking_figure, tmp_path / "subtype.png", probs)
    assert (tmp_path / "subtype.png").read_bytes().startswith(PNG_MAGIC)

    codes = subtypes.map({c: i for i, c in enumerate(CLASSES)})
    curve = subtype_validation.coverage_curve(single_gene_masking(model, expression, codes),
                                      [g for m in sets.values() for g in m])
    with figures.style():
        fig = figures.coverage_figure(curve)
    text = _texts(fig)
    assert "Random gene order (expected)" in text and "Top N genes" in text and "60 Verhaak" in text
    figures.draw(figures.coverage_figure, tmp_path / "coverage.png", curve, y="share_of_top")
    assert (tmp_path / "coverage.png").stat().st_size > 1000


def test_driver_recovery_with_correlation_gsea_and_figure(tmp_path):
    truth = {"traits": {"f5": {"drivers": ["P1"], "rule": "linear"}, "f7": {"drivers": ["P3"], "rule": "linear"}}}
    masking = {t: pd.DataFrame({"set": ["P1", "P2", "P3"], "n_genes": [30, 40, 50], "auc": [0.9, 0.8, 0.6],
                                "ap": [0.9, 0.8, 0.6], "p_empirical": [0.01, 0.02, 0.5], "fdr": [0.03, 0.03, 0.5],
                                "rank": [1, 2, 3]}) for t in ("f5", "f7")}
    correlation = {"f5": pd.DataFrame({"ranking": "correlation", "set": ["P1", "P2", "P3"], "size": 30,
                                       "es": [0.5, -0.8, 0.1], "nes": [1.5, -2.5, 0.3], "p": 0.01,
                                       "fdr": [0.02, 0.01, 0.6]})}
    ranks = recovery.correlation_set_ranks(correlation["f5"])
    assert ranks.set_index("set")["correlation_rank"].to_dict() == {"P2": 1, "P1": 2, "P3": 3}
    table = recovery.driver_ranks(truth, masking, None, correlation)
    f5 = table.set_index("target").loc["f5"]
    assert f5["correlation_rank"] == 2 and f5["correlation_nes"] == 1.5 and f5["correlation_fdr"] == 0.02
    assert np.isnan(table.set_index("target").loc["f7", "correlation_rank"])
    with figures.style():
        fig = figures.driver_recovery_methods_figure(table)
    text = _texts(fig)
    assert "Gene-set masking" in text and "Correlation GSEA (|NES|)" in text and "f5: P1" in text
    figures.draw(figures.driver_recovery_methods_figure, tmp_path / "recovery.png", table)
    assert (tmp_path / "recovery.png").read_bytes().startswith(PNG_MAGIC)


def test_driver_recovery_with_masking_gsea():
    truth = {"traits": {"f5": {"drivers": ["P1", "P3"], "rule": "and"}}}
    masking = {"f5": pd.DataFrame({"set": ["P1", "P2", "P3"], "n_genes": 30, "auc": [0.9, 0.8, 0.6],
                                   "ap": [0.9, 0.8, 0.6], "p_empirical": 0.01, "fdr": 0.03, "rank": [1, 2, 3]})}
    gsea = {"f5": pd.DataFrame({"ranking": "ap", "set": ["P1", "P2", "P3"], "size": 30, "es": [0.2, 0.6, -0.7],
                                "nes": [0.9, 2.1, -2.4], "p": 0.01, "fdr": [0.3, 0.01, 0.01]})}
    ranks = recovery.masking_gsea_set_ranks(gsea["f5"])
    # positive NES first: a strongly negative set is not a driver of the prediction
    assert ranks.set_index("set")["masking_gsea_rank"].to_dict() == {"P2": 1, "P1": 2, "P3": 3}
    table = recovery.driver_ranks(truth, masking, masking_gsea=gsea).set_index("driver")
    assert table.loc["P1", "masking_gsea_rank"] == 2 and table.loc["P3", "masking_gsea_nes"] == -2.4
    assert "correlation_rank" not in table.columns


@pytest.mark.realdata
def test_real_clanc_subtype_network_own_sets_win(real_data_dir):
    """Train a small subtype network on the real ClaNC840 table (3-fold CV) and validate by masking."""
    from radiogenomics.cohorts.splits import make_folds
    from radiogenomics.inputs.clanc import read_clanc
    from radiogenomics.models.training import TrainingConfig, cross_validate

    clanc = read_clanc(real_data_dir / "TCGA_unified_CORE_ClaNC840.txt")
    y = clanc.subtypes.map({c: i for i, c in enumerate(CLASSES)}).astype(int)
    folds = make_folds(y, "multiclass", 3, seed=7)
    arch = {"hidden": [64, 32], "activation": "tanh", "batch_norm": True, "dropout": 0.3}
    cfg = TrainingConfig(lr=1e-3, batch_size=16, max_epochs=40, patience=8, log_every=0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is as fast and immune to a busy machine
    try:
        _, scores, models = cross_validate(clanc.expression, y, folds, "multiclass", CLASSES, arch, cfg, seed=3,
                                           target="subtype")
    finally:
        torch.set_num_threads(threads)
    assert scores["auc_macro"].min() > 0.9  # the network learned the subtypes
    probs = subtype_validation.subtype_masking_probabilities(models, clanc.expression, clanc.gene_sets, n_random=20,
                                                     seed=1, folds=folds, subtypes=clanc.subtypes)
    auc = subtype_validation.subtype_set_auc(probs)
    summary = subtype_validation.subtype_validation_summary(auc)
    print("\nout-of-fold one-vs-rest AUC (rows: class, columns: the set the input is masked to)")
    print(auc.pivot(index="class", columns="set", values="auc").loc[CLASSES, CLASSES].round(3).to_string())
    print(summary.round(3).to_string())
    assert list(summary["class"]) == CLASSES
    assert summary["own_beats_mean_of_others"].all()
    assert (summary["own_set_auc"] > summary["other_sets_mean_auc"]).all()
