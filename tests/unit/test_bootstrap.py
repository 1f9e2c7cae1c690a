"""Paired bootstrap: same resamples for every model, exact zero self-difference, coverage, summary and figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from radiogenomics.evaluation import bootstrap, metrics
from radiogenomics.plots import figures

CLASSES = {"binary": ["n", "p"], "multiclass": ["a", "b", "c"], "continuous": []}


def _predictions(kind="binary", n=90, models=("network", "svm", "xgboost"), seed=0, folds=3):
    rng = np.random.default_rng(seed)
    patients = [f"TCGA-08-{i:04d}" for i in range(n)]
    if kind == "binary":
        y = np.arange(n) % 2
    elif kind == "multiclass":
        y = np.arange(n) % 3
    else:
        y = rng.normal(size=n) * 2 + 5
    fold = (np.arange(n) // 3) % folds  # every fold holds every class
    frames = []
    for j, m in enumerate(models):
        strength = 1.5 - 0.4 * j
        if kind == "binary":
            out = {"logit": strength * (y - 0.5) * 2 + rng.normal(size=n)}
        elif kind == "multiclass":
            logits = rng.normal(size=(n, 3))
            logits[np.arange(n), y] += strength
            out = {f"logit_{c}": logits[:, i] for i, c in enumerate(CLASSES["multiclass"])}
        else:
            out = {"prediction": y * strength / 1.5 + rng.normal(size=n)}
        frames.append(pd.DataFrame({"patient": patients, "model": m, "fold": fold, "y": y, **out}))
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("kind", ["binary", "multiclass", "continuous"])
def test_vectorised_metric_equals_evaluation_score(kind):
    rng = np.random.default_rng(1)
    pred = _predictions(kind, n=60)
    cols = [c for c in pred.columns if c.startswith(("logit", "prediction"))]
    sub = pred[pred["model"] == "svm"]
    y, out = sub["y"].to_numpy(), sub[cols].to_numpy()
    if kind == "binary":
        out = np.round(out, 1)  # ties
    idx = rng.integers(0, len(y), size=(5, len(y)))
    idx[:, :3] = [0, 1, 2]  # every class present in every row
    rows = metrics.primary_rows(kind, y[idx], out[idx])
    metric = metrics.PRIMARY_METRIC[kind]
    expected = [metrics.score(kind, y[i], out[i], CLASSES[kind])[metric] for i in idx]
    np.testing.assert_allclose(rows, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_resamples_are_stratified_and_independent_of_the_models(kind):
    pred = _predictions(kind)
    y = pred.loc[pred["model"] == "network"].sort_values("patient")["y"].to_numpy()
    idx = bootstrap.bootstrap_indices(y, kind, 200, seed=3)
    assert idx.shape == (200, len(y))
    for row in idx:
        np.testing.assert_array_equal(np.bincount(y[row].astype(int)), np.bincount(y.astype(int)))
    all_models = bootstrap.bootstrap_scores(pred, kind, CLASSES[kind], n_boot=200, seed=3)
    one_model = bootstrap.bootstrap_scores(pred[pred["model"] == "svm"], kind, CLASSES[kind], n_boot=200, seed=3)
    shuffled = bootstrap.bootstrap_scores(pred.sample(frac=1.0, random_state=0), kind, CLASSES[kind], n_boot=200,
                                          seed=3)
    svm = all_models[all_models["model"] == "svm"].reset_index(drop=True)
    pd.testing.assert_frame_equal(svm, one_model)
    pd.testing.assert_frame_equal(svm, shuffled[shuffled["model"] == "svm"].reset_index(drop=True))


def test_pairing_a_model_against_itself_differs_by_exactly_zero():
    pred = _predictions("binary")
    twin = pred[pred["model"] == "svm"].assign(model="svm_copy")
    pred = pd.concat([pred, twin], ignore_index=True)
    boot = bootstrap.bootstrap_scores(pred, "binary", CLASSES["binary"], n_boot=300, seed=1, target="f5")
    wide = boot.pivot(index="resample", columns="model", values="value")
    np.testing.assert_array_equal(wide["svm"], wide["svm_copy"])
    cv = bootstrap.fold_scores(pred, "binary", CLASSES["binary"], target="f5")
    summary = bootstrap.summarise(cv, boot, reference="svm").set_index("model")
    for m in ("svm", "svm_copy"):
        assert summary.loc[m, ["diff_mean", "diff_ci_low", "diff_ci_high"]].tolist() == [0.0, 0.0, 0.0]
    # the strongest model is ahead of the weakest in (nearly) every paired resample
    ref = bootstrap.summarise(cv, boot, reference="network").set_index("model")
    assert ref.loc["xgboost", "diff_ci_low"] > 0
    diffs = bootstrap.differences(boot, reference="network")
    assert set(diffs["model"]) == {"svm", "xgboost", "svm_copy"} and len(diffs) == 3 * 300
    np.testing.assert_allclose(diffs.groupby("model")["diff"].mean().loc["xgboost"], ref.loc["xgboost", "diff_mean"])


def test_summary_columns_and_cv_mean():
    boots, cvs = [], []
    for target, kind in (("f5", "binary"), ("subtype", "multiclass"), ("size", "continuous")):
        pred = _predictions(kind, seed=len(target))
        boots.append(bootstrap.bootstrap_scores(pred, kind, CLASSES[kind], n_boot=100, seed=2, target=target))
        cvs.append(bootstrap.fold_scores(pred, kind, CLASSES[kind], target=target))
    boot, cv = pd.concat(boots), pd.concat(cvs)
    summary = bootstrap.summarise(cv, boot)
    assert list(summary.columns) == ["target", "model", "metric", "n_folds", "mean_score", "ci_low", "ci_high",
                                     "n_boot", "diff_mean", "diff_ci_low", "diff_ci_high"]
    assert dict(zip(summary["target"], summary["metric"])) == {"f5": "auc", "subtype": "auc_macro", "size": "r2"}
    row = summary[(summary["target"] == "f5") & (summary["model"] == "svm")].iloc[0]
    assert row["mean_score"] == pytest.approx(cv[(cv["target"] == "f5") & (cv["model"] == "svm")]["value"].mean())
    assert row["n_folds"] == 3 and row["n_boot"] == 100 and row["ci_low"] < row["ci_high"]
    assert (summary.loc[summary["model"] == "network", "diff_mean"] == 0).all()
    # a wide cv table (one column per metric, as training.cross_validate writes) works too
    wide = cv[cv["target"] == "f5"].rename(columns={"value": "auc"}).drop(columns="metric")
    again = bootstrap.summarise(wide, boot[boot["target"] == "f5"])
    pd.testing.assert_frame_equal(again, summary[summary["target"] == "f5"].reset_index(drop=True))


def test_models_must_cover_the_same_patients():
    pred = _predictions("binary")
    with pytest.raises(ValueError, match="has predictions for 89 of the 90 patients"):
        bootstrap.bootstrap_scores(pred.drop(index=0), "binary", CLASSES["binary"], n_boot=10, seed=0)
    with pytest.raises(ValueError, match="lack column"):
        bootstrap.bootstrap_scores(pred.drop(columns="y"), "binary", CLASSES["binary"], n_boot=10, seed=0)
    with pytest.raises(ValueError, match="n_boot must be at least 1"):
        bootstrap.bootstrap_scores(pred, "binary", CLASSES["binary"], n_boot=0, seed=0)


def test_percentile_interval_covers_the_true_auc():
    """Binormal scores with a known AUC: the 95% interval covers it in about 95% of simulated cohorts."""
    d = 1.0
    true_auc = norm.cdf(d / np.sqrt(2))
    rng = np.random.default_rng(7)
    n, reps = 120, 150
    hits = 0
    for r in range(reps):
        y = np.repeat([0, 1], n // 2)
        score = rng.normal(size=n) + d * y
        pred = pd.DataFrame({"patient": [f"P{i:03d}" for i in range(n)], "model": "m", "fold": 0, "y": y,
                             "logit": score})
        boot = bootstrap.bootstrap_scores(pred, "binary", CLASSES["binary"], n_boot=400, seed=r, target="t")
        lo, hi = np.quantile(boot["value"], [0.025, 0.975])
        hits += lo <= true_auc <= hi
    coverage = hits / reps
    print(f"\nbootstrap 95% interval coverage of the true AUC {true_auc:.3f}: {coverage:.3f} ({reps} cohorts)")
    assert 0.88 <= coverage <= 0.99


def test_performance_figure(tmp_path):
    boots, cvs = [], []
    for target in ("f5", "f6", "f7"):
        pred = _predictions("binary", seed=len(boots), models=("network", "logreg_l1", "svm", "xgboost"))
        boots.append(bootstrap.bootstrap_scores(pred, "binary", CLASSES["binary"], n_boot=200, seed=1, target=target))
        cvs.append(bootstrap.fold_scores(pred, "binary", CLASSES["binary"], target=target))
    boot, cv = pd.concat(boots), pd.concat(cvs)
    summary = bootstrap.summarise(cv, boot)
    with figures.style():
        fig = figures.performance_figure(summary, boot)
    left, right = fig.axes[:2]
    assert left.get_xlabel() == "Imaging trait" and "ROC AUC" in left.get_ylabel()
    assert "network − comparison model" in right.get_ylabel()
    assert [t.get_text() for t in left.get_xticklabels()] == ["f5", "f6", "f7"]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:4] == ["network", "logreg_l1", "svm", "xgboost"]
    assert {"chance AUC (0.5)", "no difference (0)", "study's claimed margin (+0.10)"} <= set(legend)
    hlines = {round(line.get_ydata()[0], 3) for line in right.get_lines() if len(set(line.get_ydata())) == 1
              and list(line.get_xdata()) == [0, 1]}
    assert {0.0, 0.1} <= hlines
    # one box per trait and comparison model, none for the reference
    assert len([p for p in right.patches if p.get_facecolor()[3] > 0]) == 3 * 3
    path = tmp_path / "performance.png"
    figures.draw(figures.performance_figure, path, summary, boot)
    data = path.read_bytes()
    assert len(data) > 1000 and data.startswith(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ValueError, match="lacks column"):
        figures.draw(figures.performance_figure, tmp_path / "bad.png", summary.drop(columns="ci_low"), boot)


def test_resamples_stay_within_outer_folds_and_average_the_fold_scores():
    """Fold models whose outputs live on different scales (an uncalibrated SVM, say): each fold ranks its own
    patients perfectly, so every fold AUC is 1, while pooling the folds' outputs would give a much lower AUC.
    The bootstrap resamples within folds and averages the fold scores, so it stays at the CV mean of 1."""
    n = 60
    y = np.arange(n) % 2
    fold = (np.arange(n) // 2) % 3
    logit = (y - 0.5) * 0.1 + np.array([-5.0, 0.0, 5.0])[fold]  # fold k shifts its outputs by a constant
    pred = pd.DataFrame({"patient": [f"P{i:03d}" for i in range(n)], "model": "svm", "fold": fold, "y": y,
                         "logit": logit})
    pooled = metrics.score("binary", y, logit, CLASSES["binary"])["auc"]
    assert pooled < 0.7
    boot = bootstrap.bootstrap_scores(pred, "binary", CLASSES["binary"], n_boot=50, seed=0, target="t")
    assert np.allclose(boot["value"], 1.0)
    summary = bootstrap.summarise(bootstrap.fold_scores(pred, "binary", CLASSES["binary"], target="t"), boot,
                                  reference="svm")
    assert summary.loc[0, "mean_score"] == 1.0 and summary.loc[0, "ci_low"] == 1.0
    # models must share the split: a model scored on other folds is refused
    other = pred.assign(model="network", fold=(fold + 1) % 3)
    with pytest.raises(ValueError, match="other outer folds"):
        bootstrap.bootstrap_scores(pd.concat([pred, other]), "binary", CLASSES["binary"], n_boot=5, seed=0)
