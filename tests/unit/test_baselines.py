"""Comparison models: truly L1 / L2, output conventions per target type, own inner search, no FutureWarnings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiogenomics.cohorts.splits import inner_fold_indices
from radiogenomics.cohorts import splits
from radiogenomics.evaluation import metrics
from radiogenomics.models import baselines

CLASSES = {"binary": ["neg", "pos"], "multiclass": ["a", "b", "c"], "continuous": []}
#: Small grids keep these tests fast; the defaults are exercised in test_default_grids_are_valid.
SMALL = {
    "logreg_l1": {"C": [0.1, 1.0]},
    "logreg_l2": {"C": [0.01, 0.1]},
    "svm": {"C": [1.0], "kernel": ["rbf"]},
    "random_forest": {"n_estimators": [50], "min_samples_leaf": [2]},
    "xgboost": {"n_estimators": [30], "max_depth": [2], "subsample": [0.8], "colsample_bytree": [0.5]},
}
SMALL_REG = {**SMALL, "logreg_l1": {"alpha": [0.05, 0.2]}, "logreg_l2": {"alpha": [10.0, 100.0]}}


def sparse_cohort(n=140, g=150, seed=0):
    """Five informative genes (0-4) among ``g``; the rest is noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, g)) * rng.uniform(0.5, 3.0, size=g) + rng.uniform(2, 10, size=g)
    z = ((x[:, :5] - x[:, :5].mean(0)) / x[:, :5].std(0)).sum(axis=1) / np.sqrt(5)
    idx = pd.Index([f"TCGA-01-{i:04d}" for i in range(n)], name="patient")
    expr = pd.DataFrame(x, index=idx, columns=[f"G{j}" for j in range(g)])
    ys = {"binary": pd.Series((z + 0.5 * rng.normal(size=n) > 0).astype(int), index=idx, name="b"),
          "multiclass": pd.Series(np.digitize(z + 0.4 * rng.normal(size=n), [-0.5, 0.5]), index=idx, name="m"),
          "continuous": pd.Series(3.0 * z + 20 + 0.5 * rng.normal(size=n), index=idx, name="c")}
    return expr, ys


def dense_cohort(n=140, g=60, seed=0):
    """A co-expressed program (genes 0-19) drives every target: each model type learns it easily."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    x = rng.normal(size=(n, g)) + rng.uniform(2, 10, size=g)
    x[:, :20] += 1.5 * z[:, None]
    idx = pd.Index([f"TCGA-02-{i:04d}" for i in range(n)], name="patient")
    expr = pd.DataFrame(x, index=idx, columns=[f"G{j}" for j in range(g)])
    ys = {"binary": pd.Series((z + 0.4 * rng.normal(size=n) > 0).astype(int), index=idx, name="b"),
          "multiclass": pd.Series(np.digitize(z + 0.3 * rng.normal(size=n), [-0.5, 0.5]), index=idx, name="m"),
          "continuous": pd.Series(3.0 * z + 20 + 0.5 * rng.normal(size=n), index=idx, name="c")}
    return expr, ys


def _grid(name, kind):
    return (SMALL_REG if kind == "continuous" else SMALL)[name]


def _split(y):
    return y.index[:100], y.index[100:]


def test_unknown_baseline_lists_the_known_ones():
    expr, ys = sparse_cohort(n=40, g=10)
    with pytest.raises(ValueError, match="known: .*logreg_l1.*xgboost"):
        baselines.fit_baseline("lasso", expr, ys["binary"], "binary", CLASSES["binary"])
    with pytest.raises(ValueError, match="unknown target type"):
        baselines.make_estimator("svm", "ordinal")


@pytest.mark.filterwarnings("error::FutureWarning")
@pytest.mark.parametrize("kind", ["binary", "multiclass", "continuous"])
def test_l1_gives_exact_zeros_and_l2_does_not(kind):
    expr, ys = sparse_cohort()
    y = ys[kind]
    l1 = baselines.fit_baseline("logreg_l1", expr, y, kind, CLASSES[kind],
                                grid={"alpha": [0.1]} if kind == "continuous" else {"C": [0.1]}, seed=1)
    l2 = baselines.fit_baseline("logreg_l2", expr, y, kind, CLASSES[kind],
                                grid={"alpha": [100.0]} if kind == "continuous" else {"C": [0.1]}, seed=1)

    def coefs(fit):
        est = fit.estimator.regressor_ if kind == "continuous" else fit.estimator
        model = est.named_steps["model"]
        if kind == "multiclass":
            return np.vstack([m.coef_ for m in model.estimators_]), [m for m in model.estimators_]
        return np.atleast_2d(model.coef_), [model]

    c1, m1 = coefs(l1)
    c2, m2 = coefs(l2)
    if kind != "continuous":
        assert all(m.l1_ratio == 1.0 and m.solver == "liblinear" for m in m1)
        assert all(m.l1_ratio == 0.0 for m in m2)
    # L1: most noise genes exactly zero, informative genes kept; L2: no exact zeros
    noise_zero = (c1[:, 5:] == 0).mean()
    assert noise_zero > 0.8, noise_zero
    assert (c1[:, :5] != 0).mean() >= 0.6
    assert (c2 == 0).sum() == 0


@pytest.mark.filterwarnings("error::FutureWarning")
@pytest.mark.parametrize("kind", ["binary", "multiclass", "continuous"])
@pytest.mark.parametrize("name", baselines.BASELINES)
def test_outputs_follow_the_raw_output_convention(name, kind):
    expr, ys = dense_cohort()
    y = ys[kind]
    train, test = _split(y)
    fit = baselines.fit_baseline(name, expr, y.loc[train], kind, CLASSES[kind], grid=_grid(name, kind),
                                 inner_folds=3, seed=2)
    out = fit.outputs(expr.loc[test])
    n_cols = len(CLASSES[kind]) if kind == "multiclass" else 1
    assert out.shape == (len(test), n_cols) and np.isfinite(out).all()
    x_test = expr.loc[test].to_numpy()
    if kind == "binary":
        prob = None
        if hasattr(fit.estimator, "predict_proba"):
            prob = fit.estimator.predict_proba(x_test)[:, 1]
        if name == "logreg_l1" or name == "logreg_l2":
            np.testing.assert_allclose(metrics.sigmoid(out[:, 0]), prob, atol=1e-9)  # log-odds
        elif name == "svm":
            np.testing.assert_allclose(out[:, 0], fit.estimator.decision_function(x_test))
        else:
            clipped = np.clip(prob, baselines.EPS, 1 - baselines.EPS)
            np.testing.assert_allclose(metrics.sigmoid(out[:, 0]), clipped, atol=1e-9)
    elif kind == "multiclass":
        # log-probabilities per class: they exponentiate to rows summing to 1, columns in class-code order
        np.testing.assert_allclose(np.exp(out).sum(axis=1), 1.0, atol=1e-6)
        if name != "svm":
            prob = np.clip(fit.estimator.predict_proba(x_test), baselines.EPS, 1)
            np.testing.assert_allclose(np.exp(out), prob / prob.sum(axis=1, keepdims=True), rtol=1e-6, atol=1e-9)
    else:
        np.testing.assert_allclose(out[:, 0], fit.estimator.predict(x_test))
        assert abs(out[:, 0].mean() - y.mean()) < 3.0  # on the target's own scale
    metric = metrics.PRIMARY_METRIC[kind]
    value = metrics.score(kind, y.loc[test].to_numpy(), out, CLASSES[kind])[metric]
    assert value > (0.6 if kind == "continuous" else 0.8), (name, kind, value)
    assert set(fit.params) == set(_grid(name, kind))


def test_search_uses_the_shared_inner_folds_and_is_deterministic():
    expr, ys = sparse_cohort()
    y = ys["binary"]
    folds = inner_fold_indices(y, "binary", 3, seed=4)
    ref = splits.make_folds(y, "binary", 3, seed=4)["fold"].to_numpy()
    for k, (tr, va) in enumerate(folds):
        np.testing.assert_array_equal(va, np.flatnonzero(ref == k))
        assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == len(y)
    for name in ("random_forest", "xgboost"):
        a = baselines.fit_baseline(name, expr, y, "binary", CLASSES["binary"], grid=SMALL[name], seed=5, n_jobs=2)
        b = baselines.fit_baseline(name, expr, y, "binary", CLASSES["binary"], grid=SMALL[name], seed=5, n_jobs=2)
        np.testing.assert_array_equal(a.outputs(expr), b.outputs(expr))
        # another thread count only changes the order of floating-point sums
        one = baselines.fit_baseline(name, expr, y, "binary", CLASSES["binary"], grid=SMALL[name], seed=5, n_jobs=1)
        np.testing.assert_allclose(a.outputs(expr), one.outputs(expr), rtol=1e-9, atol=1e-12)
        c = baselines.fit_baseline(name, expr, y, "binary", CLASSES["binary"], grid=SMALL[name], seed=6)
        assert not np.array_equal(a.outputs(expr), c.outputs(expr))


def test_inner_score_is_the_primary_metric_on_the_inner_folds():
    expr, ys = sparse_cohort()
    y = ys["binary"].sort_index()
    fit = baselines.fit_baseline("logreg_l2", expr, y, "binary", CLASSES["binary"], grid={"C": [0.1]},
                                 inner_folds=3, seed=3)
    scores = []
    for tr, va in inner_fold_indices(y, "binary", 3, seed=3):
        one = baselines.fit_with_params("logreg_l2", expr, y.iloc[tr], "binary", CLASSES["binary"], {"C": 0.1}, seed=3)
        scores.append(metrics.score("binary", y.iloc[va].to_numpy(), one.outputs(expr.loc[y.index[va]]))["auc"])
    assert fit.inner_score == pytest.approx(np.mean(scores), abs=1e-12)
    # the refit with the chosen parameters is what fit_with_params gives on all patients
    again = baselines.fit_with_params("logreg_l2", expr, y, "binary", CLASSES["binary"], fit.params, seed=3)
    np.testing.assert_allclose(again.outputs(expr), fit.outputs(expr))


def test_class_weights_balance_xgboost():
    expr, ys = sparse_cohort()
    y = ys["binary"]
    w = baselines._fit_params("xgboost", "binary", y.to_numpy())["model__sample_weight"]
    assert w[y.to_numpy() == 1].sum() == pytest.approx(w[y.to_numpy() == 0].sum())
    assert baselines._fit_params("xgboost", "continuous", y.to_numpy()) == {}


@pytest.mark.parametrize("grid, message", [
    ({}, "grid is empty"),
    ({"C": []}, "no value for 'C'"),
    ({"gamma_typo": [1]}, "unknown parameter 'gamma_typo'.*valid"),
    ({"C": 0.1}, "must be a list"),
])
def test_bad_grids_are_rejected(grid, message):
    expr, ys = sparse_cohort(n=40, g=10)
    with pytest.raises(ValueError, match=message):
        baselines.fit_baseline("svm", expr, ys["binary"], "binary", CLASSES["binary"], grid=grid)


def test_default_and_paper_grids_are_valid():
    for grids in (baselines.DEFAULT_GRIDS, baselines.PAPER_GRIDS):
        for task, kind in (("classifier", "binary"), ("classifier", "multiclass"), ("regressor", "continuous")):
            assert set(grids[task]) == set(baselines.BASELINES)
            for name, grid in grids[task].items():
                est, prefix = baselines.make_estimator(name, kind)
                baselines._check_grid(name, kind, grid, est, prefix)
    assert baselines.default_grid("svm", "binary", {"classifier": {"svm": {"C": [3.0]}}}) == {"C": [3.0]}
    assert baselines.default_grid("svm", "continuous", {"classifier": {"svm": {"C": [3.0]}}}) == \
        baselines.DEFAULT_GRIDS["regressor"]["svm"]
