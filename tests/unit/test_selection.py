"""Nested selection: the scored fold takes no part in any choice; grids; null calibration and positive control."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from radiogenomics.cohorts import splits as cohorts
from radiogenomics.evaluation import metrics
from radiogenomics.models import baselines, selection, training

NET_GRID = {"hidden": [[16, 8]], "lr": [3e-3], "dropout": [0.1], "max_epochs": [25], "patience": [6],
            "batch_size": [32], "transfer": [False]}
BASELINE_GRIDS = {
    "classifier": {
        "logreg_l1": {"C": [0.1, 1.0]},
        "logreg_l2": {"C": [0.01, 0.1]},
        "svm": {"C": [1.0], "kernel": ["rbf"]},
        "random_forest": {"n_estimators": [60], "min_samples_leaf": [3]},
        "xgboost": {"n_estimators": [30], "max_depth": [2], "subsample": [0.8], "colsample_bytree": [0.5]},
    },
}
BASELINE_GRIDS["regressor"] = {**BASELINE_GRIDS["classifier"], "logreg_l1": {"alpha": [0.1]},
                               "logreg_l2": {"alpha": [10.0]}}
SETTINGS = {"inner_folds": 3, "network": NET_GRID, "baselines": BASELINE_GRIDS, "n_jobs": 1}


def programs_cohort(n=300, g=60, n_programs=6, program_size=8, seed=0):
    """Expression with co-expressed programs; binary target j is driven by program j."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, n_programs))
    x = rng.normal(size=(n, g)) + rng.uniform(3, 9, size=g)
    for j in range(n_programs):
        x[:, j * program_size:(j + 1) * program_size] += 1.2 * z[:, [j]]
    idx = pd.Index([f"TCGA-06-{i:04d}" for i in range(n)], name="patient")
    expr = pd.DataFrame(x, index=idx, columns=[f"G{j:03d}" for j in range(g)])
    ys = {f"t{j}": pd.Series((z[:, j] + 0.5 * rng.normal(size=n) > 0).astype(int), index=idx, name=f"t{j}")
          for j in range(n_programs)}
    multi = pd.Series(np.digitize(z[:, 0] + 0.3 * rng.normal(size=n), [-0.5, 0.5]), index=idx, name="m")
    cont = pd.Series(2.0 * z[:, 1] + 5.0 + 0.3 * rng.normal(size=n), index=idx, name="c")
    return expr, ys, multi, cont


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One torch thread, as the workflow runs each job (tiny networks are slower with more)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def cohort():
    return programs_cohort()


def _small(expr, y, n=120):
    keep = y.sort_index().index[:n]
    return expr.loc[keep], y.loc[keep]


# --------------------------------------------------------------------------- grids

def test_expand_grid_is_the_cartesian_product_with_defaults():
    configs = selection.expand_grid({"hidden": [[64, 32], [32]], "lr": [1e-3, 1e-2], "dropout": [0.0, 0.5]})
    assert len(configs) == 8
    assert all(set(c) == set(selection.NETWORK_DEFAULTS) for c in configs)
    assert configs[0]["hidden"] == [64, 32] and configs[0]["optimizer"] == "adam"
    assert {(tuple(c["hidden"]), c["lr"], c["dropout"]) for c in configs} == {
        (h, lr, d) for h in [(64, 32), (32,)] for lr in [1e-3, 1e-2] for d in [0.0, 0.5]}
    # freeze_layers only matters with transfer: the duplicates are dropped
    configs = selection.expand_grid({"transfer": [True, False], "freeze_layers": [0, 1]})
    assert [(c["transfer"], c["freeze_layers"]) for c in configs] == [(True, 0), (True, 1), (False, 0)]
    union = selection.expand_grids([{"lr": [1e-3]}, {"lr": [1e-3, 1e-2]}])
    assert [c["lr"] for c in union] == [1e-3, 1e-2]


@pytest.mark.parametrize("grid, message", [
    ({}, "network grid is empty"),
    ({"lr": []}, "'lr' lists no value"),
    ({"learning_rate": [0.1]}, r"unknown key\(s\) \['learning_rate'\]"),
    ({"lr": 0.1}, "must be a list"),
    ({"hidden": [64, 32]}, "invalid"),
    ({"hidden": [[64, 32]], "freeze_layers": [3]}, "freeze_layers 3 exceeds the 2 hidden layers"),
    ({"activation": ["gelu"]}, "'activation' value 'gelu' is invalid"),
    ({"optimizer": ["lbfgs"]}, "invalid"),
    ({"dropout": [1.0]}, "invalid"),
    ({"batch_size": [1]}, "invalid"),
])
def test_bad_grids_are_rejected(grid, message):
    with pytest.raises(ValueError, match=message):
        selection.expand_grid(grid)


def test_architecture_key_and_required_encoders():
    assert selection.architecture_key({"hidden": [1000, 500, 250], "activation": "tanh"}) == "1000-500-250_tanh_bn"
    assert selection.architecture_key({"hidden": [64], "activation": "relu", "batch_norm": False}) == "64_relu_nobn"
    # dropout and training settings do not change which autoencoder is needed
    configs = selection.expand_grid({"hidden": [[64, 32]], "dropout": [0.0, 0.5], "transfer": [True, False]})
    assert selection.required_encoders(configs) == {"64-32_tanh_bn": {"hidden": [64, 32], "activation": "tanh",
                                                                      "batch_norm": True}}
    assert selection.architecture(configs[0]) == {"hidden": [64, 32], "activation": "tanh", "batch_norm": True,
                                                  "dropout": 0.0}


def test_settings_are_checked():
    s = selection.check_settings(None)
    assert s["inner_folds"] == 3 and len(s["network_configs"]) == 2
    with pytest.raises(ValueError, match="unknown key"):
        selection.check_settings({"inner_fold": 3})
    with pytest.raises(ValueError, match="inner_folds must be an integer >= 2"):
        selection.check_settings({"inner_folds": 1})
    with pytest.raises(ValueError, match="network grid is empty"):
        selection.check_settings({"network": {}})
    with pytest.raises(ValueError, match="unknown baseline model 'lasso'"):
        selection.check_settings({"baselines": {"classifier": {"lasso": {"C": [1]}}}})
    with pytest.raises(ValueError, match="unknown task"):
        selection.check_settings({"baselines": {"binary": {}}})


# --------------------------------------------------------------------------- selection rule

def test_choice_maximises_the_mean_inner_curve_ties_to_fewer_epochs_then_order(monkeypatch, cohort):
    expr, ys, _, _ = cohort
    curves = {0.001: [[0.5, 0.5, 0.5], [0.75, 0.75, 0.75], [0.75, 0.75, 0.75]],  # 0.75 first at epoch 2
              0.002: [[0.75, 0.5, 1.0], [0.5, 0.5, 0.5]],                       # 0.75 at epoch 1: fewer epochs win
              0.003: [[0.75, 0.75, 0.75]]}                                      # same epoch, later config: loses

    def fake_curve(expression, y, target_type, classes, config, splits, encoder, seed):
        return np.asarray(curves[config["lr"]])

    monkeypatch.setattr(selection, "_inner_curve", fake_curve)
    configs = selection.expand_grid({"lr": [0.001, 0.002, 0.003], "transfer": [False]})
    res = selection.select_network(expr, ys["t0"], "binary", ["n", "p"], configs, inner_folds=3, seed=0)
    assert (res.config["lr"], res.epochs) == (0.002, 1)
    assert res.score == 0.75
    assert list(res.table.columns[:4]) == ["config", "epoch", "mean", "sd"]
    assert len(res.table) == 3 + 2 + 1
    # differences below floating-point noise count as ties
    curves[0.003] = [[0.75 + 1e-14, 0.75, 0.75]]
    res = selection.select_network(expr, ys["t0"], "binary", ["n", "p"], configs, inner_folds=3, seed=0)
    assert (res.config["lr"], res.epochs) == (0.002, 1)
    curves[0.001][1] = [0.875, 0.875, 0.875]
    res = selection.select_network(expr, ys["t0"], "binary", ["n", "p"], configs, inner_folds=3, seed=0)
    assert (res.config["lr"], res.epochs) == (0.001, 2)


def test_chosen_epochs_come_from_the_inner_folds(monkeypatch, cohort):
    expr, ys, _, _ = cohort
    y = ys["t1"]
    folds = cohorts.make_folds(y, "binary", 3, seed=1)
    refits = []
    real_fit = training.fit_network

    def spy(expression, yy, *args, **kwargs):
        refits.append((yy.index, kwargs.get("epochs")))
        return real_fit(expression, yy, *args, **kwargs)

    monkeypatch.setattr(training, "fit_network", spy)
    res = selection.evaluate_outer_fold("network", expr, y, folds, 1, "binary", ["n", "p"], settings=SETTINGS, seed=3)
    table = res.selection.table
    assert [c for c in table.columns if c.startswith("fold_")] == ["fold_0", "fold_1", "fold_2"]
    np.testing.assert_allclose(table["mean"], table[["fold_0", "fold_1", "fold_2"]].mean(axis=1))
    best = table.loc[table["mean"] == table["mean"].max(), "epoch"].min()
    assert res.params["epochs"] == best == res.selection.epochs
    # one refit, on the whole outer training part, for exactly the chosen epochs (no early stopping there)
    train = folds.loc[folds["fold"] != 1, "patient"]
    assert len(refits) == 1
    assert sorted(refits[0][0]) == sorted(train) and refits[0][1] == best
    assert res.model.info["best_epoch"] == best and res.model.info["n_val"] == 0
    assert res.model.info["selection"]["epochs"] == best


# --------------------------------------------------------------------------- no leakage

@pytest.mark.parametrize("model_name", ["network", "logreg_l1", "xgboost"])
def test_scored_fold_never_influences_selection_or_weights(monkeypatch, cohort, model_name):
    """Changing the outer test fold's expression and labels leaves the choice and the fitted model unchanged."""
    expr, ys, _, _ = cohort
    expr, y = _small(expr, ys["t2"], n=150)
    folds = cohorts.make_folds(y, "binary", 3, seed=2)
    test = folds.loc[folds["fold"] == 0, "patient"].to_numpy()
    seen = []
    real_select, real_fit = selection.select_network, baselines.fit_baseline

    def spy_select(expression, yy, *args, **kwargs):
        seen.append(set(expression.index) | set(yy.index))
        return real_select(expression, yy, *args, **kwargs)

    def spy_fit(name, expression, yy, *args, **kwargs):
        seen.append(set(expression.index) | set(yy.index))
        return real_fit(name, expression, yy, *args, **kwargs)

    monkeypatch.setattr(selection, "select_network", spy_select)
    monkeypatch.setattr(baselines, "fit_baseline", spy_fit)
    first = selection.evaluate_outer_fold(model_name, expr, y, folds, 0, "binary", ["n", "p"], settings=SETTINGS,
                                          seed=4)
    expr2, y2 = expr.copy(), y.copy()
    expr2.loc[test] = np.random.default_rng(9).normal(size=(len(test), expr.shape[1])) * 5 + 3
    y2.loc[test] = 1 - y2.loc[test]
    second = selection.evaluate_outer_fold(model_name, expr2, y2, folds, 0, "binary", ["n", "p"], settings=SETTINGS,
                                           seed=4)
    assert len(seen) == 2 and all(not (s & set(test)) for s in seen)
    assert first.params == second.params
    pd.testing.assert_frame_equal(first.selection.table, second.selection.table)
    if model_name == "network":
        np.testing.assert_array_equal(first.model.scaler.mean, second.model.scaler.mean)
        for (k, v1), v2 in zip(first.model.network.state_dict().items(), second.model.network.state_dict().values()):
            assert torch.equal(v1, v2), k
    else:
        # same parameters, same training data: equal up to the last bits of numpy's SIMD sums (which can
        # depend on the memory alignment of the copied training matrix)
        x = expr.loc[test]
        np.testing.assert_allclose(first.model.outputs(x), second.model.outputs(x), rtol=1e-10, atol=1e-12)
    # the predictions do reflect the changed test fold: it is only predicted
    assert not np.allclose(first.predictions["logit"], second.predictions["logit"])
    assert list(first.predictions.columns) == ["patient", "fold", "y", "logit"]
    assert sorted(first.predictions["patient"]) == sorted(test)


def test_outer_fold_is_deterministic_and_typed(cohort):
    expr, _, multi, cont = cohort
    for y, kind, classes in [(multi, "multiclass", ["lo", "mid", "hi"]), (cont, "continuous", [])]:
        ex, yy = _small(expr, y, n=150)
        folds = cohorts.make_folds(yy, kind, 3, seed=1)
        for name in ("network", "random_forest"):
            a = selection.evaluate_outer_fold(name, ex, yy, folds, 2, kind, classes, settings=SETTINGS, seed=1)
            b = selection.evaluate_outer_fold(name, ex, yy, folds, 2, kind, classes, settings=SETTINGS, seed=1)
            pd.testing.assert_frame_equal(a.predictions, b.predictions)
            assert a.params == b.params
            cols = training.output_columns(kind, classes)
            assert list(a.predictions.columns) == ["patient", "fold", "y", *cols]
            assert (a.predictions["fold"] == 2).all()
            metric = metrics.PRIMARY_METRIC[kind]
            value = metrics.score(kind, a.predictions["y"], a.predictions[cols].to_numpy(), classes)[metric]
            assert value > (0.5 if kind == "continuous" else 0.65), (name, kind, value)


def test_select_final_uses_all_patients_and_refits(cohort):
    expr, ys, _, _ = cohort
    expr, y = _small(expr, ys["t3"], n=120)
    sel = selection.select_final("network", expr, y, "binary", ["n", "p"], settings=SETTINGS, seed=5)
    assert sel.model == "network" and sel.epochs >= 1 and sel.config["hidden"] == [16, 8]
    model = selection.fit_selected("network", expr, y, "binary", ["n", "p"], sel, seed=5, target="t3")
    assert model.info["best_epoch"] == sel.epochs and model.info["n_train"] == len(y)
    sel_b = selection.select_final("logreg_l2", expr, y, "binary", ["n", "p"], settings=SETTINGS, seed=5)
    assert sel_b.epochs is None and set(sel_b.config) == {"C"}
    fit = selection.fit_selected("logreg_l2", expr, y, "binary", ["n", "p"], sel_b, seed=5)
    assert selection.model_outputs(fit, expr).shape == (len(y), 1)


def test_transfer_needs_the_matching_pretrained_encoder(cohort):
    expr, ys, _, _ = cohort
    expr, y = _small(expr, ys["t0"], n=90)
    grid = {**NET_GRID, "transfer": [True], "freeze_layers": [1], "max_epochs": [3]}
    settings = {**SETTINGS, "network": grid}
    with pytest.raises(ValueError, match="no autoencoder '16-8_tanh_bn'"):
        selection.select_final("network", expr, y, "binary", ["n", "p"], settings=settings, seed=1)
    ae, _, _ = training.train_autoencoder(expr, {"hidden": [16, 8]}, training.TrainingConfig(max_epochs=2, log_every=0),
                                          seed=1)
    encoders = {"16-8_tanh_bn": ae.encoder}
    sel = selection.select_final("network", expr, y, "binary", ["n", "p"], settings=settings, seed=1, encoders=encoders)
    model = selection.fit_selected("network", expr, y, "binary", ["n", "p"], sel, seed=1, encoders=encoders)
    assert torch.equal(model.network.encoder[0][0].weight, ae.encoder[0][0].weight)  # frozen transferred layer
    with pytest.raises(ValueError, match="takes 60 genes"):
        selection.select_final("network", expr.iloc[:, :30], y, "binary", ["n", "p"], settings=settings, seed=1,
                               encoders=encoders)


def test_bad_input_is_rejected_before_training(cohort):
    expr, ys, _, cont = cohort
    expr, y = _small(expr, ys["t0"], n=60)
    folds = cohorts.make_folds(y, "binary", 3, seed=1)
    rare = y.copy()
    rare[:] = 0
    rare.iloc[:4] = 1  # 4 positives: enough for 3 outer folds, too few for 3 inner folds of one training part
    rare_folds = cohorts.make_folds(rare, "binary", 3, seed=1)
    positives = rare_folds.assign(y=rare.loc[rare_folds["patient"]].to_numpy()).groupby("fold")["y"].sum()
    assert positives.max() == 2
    with pytest.raises(ValueError, match=r"class\(es\) \{'p': 2\} have fewer patients in the training part"):
        selection.evaluate_outer_fold("svm", expr, rare, rare_folds, int(positives.idxmax()), "binary",
                                      ["n", "p"], settings=SETTINGS, seed=1)
    with pytest.raises(ValueError, match="fewer patients in the split file than the 5 folds"):
        five = folds.assign(fold=np.arange(len(folds)) % 5)
        selection.evaluate_outer_fold("svm", expr, rare, five, 0, "binary", ["n", "p"], settings=SETTINGS, seed=1)
    with pytest.raises(ValueError, match="unknown model 'lasso'; known"):
        selection.evaluate_outer_fold("lasso", expr, y, folds, 0, "binary", ["n", "p"], settings=SETTINGS, seed=1)
    with pytest.raises(ValueError, match="network grid is empty"):
        selection.evaluate_outer_fold("network", expr, y, folds, 0, "binary", ["n", "p"],
                                      settings={**SETTINGS, "network": {}}, seed=1)
    with pytest.raises(ValueError, match="fold 7 is not in the split file"):
        selection.evaluate_outer_fold("svm", expr, y, folds, 7, "binary", ["n", "p"], settings=SETTINGS, seed=1)
    with pytest.raises(ValueError, match="lack expression or a target value"):
        bad = folds.copy()
        bad.loc[0, "patient"] = "TCGA-99-9999"
        selection.evaluate_outer_fold("svm", expr, y, bad, 0, "binary", ["n", "p"], settings=SETTINGS, seed=1)
    with pytest.raises(ValueError, match="fewer than 5 x 3 needed"):
        selection.select_final("svm", expr, cont.iloc[:12], "continuous", [], settings=SETTINGS, seed=1)
    with pytest.raises(ValueError, match="no configurations"):
        selection.select_network(expr, y, "binary", ["n", "p"], [], inner_folds=3, seed=1)


def test_permute_labels_keeps_patients_and_values():
    y = pd.Series(np.arange(20) % 3, index=[f"P{i}" for i in range(20)], name="t")
    p1, p2 = selection.permute_labels(y, 1), selection.permute_labels(y, 1)
    pd.testing.assert_series_equal(p1, p2)
    assert list(p1.index) == list(y.index) and p1.name == "t"
    assert sorted(p1) == sorted(y) and not p1.equals(y)
    assert not p1.equals(selection.permute_labels(y, 2))


# --------------------------------------------------------------------------- calibration

def _mean_outer_auc(expr, ys, n_folds, seed):
    """Per model: mean over targets of the mean outer-fold AUC (every fold of every target)."""
    per_model = {}
    for name in selection.MODELS:
        per_target = []
        for t, y in ys.items():
            folds = cohorts.make_folds(y, "binary", n_folds, seed=seed)
            aucs = []
            for k in range(n_folds):
                res = selection.evaluate_outer_fold(name, expr, y, folds, k, "binary", ["n", "p"], settings=SETTINGS,
                                                    seed=seed, target=t)
                pred = res.predictions
                aucs.append(metrics.score("binary", pred["y"], pred[["logit"]].to_numpy())["auc"])
            per_target.append(np.mean(aucs))
        per_model[name] = (float(np.mean(per_target)), per_target)
    return per_model


def test_null_calibration_every_model_is_at_chance_on_permuted_labels(cohort):
    """Ten permuted targets (each planted target permuted, four of them twice), 2 outer folds of 150 patients
    each: every model's mean outer AUC is 0.5 +- 0.05 (its null SD is about 0.012)."""
    expr, ys, _, _ = cohort
    names = list(ys)
    null = {f"{t}_perm{i}": selection.permute_labels(ys[t], seed=100 + i)
            for i, t in enumerate(names + names[:4])}
    result = _mean_outer_auc(expr, null, n_folds=2, seed=11)
    print(f"\nnull calibration (mean outer AUC over {len(null)} permuted targets):",
          {m: (round(v, 3), [round(float(a), 3) for a in per]) for m, (v, per) in result.items()})
    for model, (value, _) in result.items():
        assert abs(value - 0.5) <= 0.05, (model, value)


def test_positive_control_every_model_beats_chance_on_planted_labels(cohort):
    expr, ys, _, _ = cohort
    result = _mean_outer_auc(expr, {t: ys[t] for t in ("t4", "t5")}, n_folds=2, seed=12)
    print("\npositive control (mean outer AUC over 2 planted targets):",
          {m: round(v, 3) for m, (v, _) in result.items()})
    for model, (value, _) in result.items():
        assert value > 0.75, (model, value)


def test_selection_imports_without_torch_and_knows_the_activations():
    """Comparison-model jobs import selection without torch; the grid's activation names are the networks'."""
    import subprocess
    import sys

    code = ("import sys; from radiogenomics.models import selection; "
            "from radiogenomics.cohorts import splits, targets; from radiogenomics import results; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    from radiogenomics.models import nets

    assert selection.ACTIVATION_NAMES == tuple(sorted(nets.ACTIVATIONS))
