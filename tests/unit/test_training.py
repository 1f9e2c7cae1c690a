"""Training: learns planted signal, is deterministic, has no leakage, round-trips saved models."""

import numpy as np
import pandas as pd
import pytest
import torch

from radiogenomics.cohorts import splits
from radiogenomics.evaluation import metrics
from radiogenomics.models import nets, training

ARCH = {"hidden": [32, 16, 8], "activation": "tanh", "dropout": 0.2}
CFG = training.TrainingConfig(max_epochs=60, patience=10, lr=3e-3, log_every=0)


def program_cohort(n=160, g=120, seed=0):
    """Expression with one co-expressed program (genes 0-29) that drives the targets."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    x = rng.normal(size=(n, g))
    x[:, :30] += 1.5 * z[:, None]
    idx = pd.Index([f"TCGA-02-{i:04d}" for i in range(n)], name="patient")
    expr = pd.DataFrame(x, index=idx, columns=[f"G{j}" for j in range(g)])
    binary = pd.Series((z + 0.5 * rng.normal(size=n) > 0).astype(int), index=idx, name="b")
    multi = pd.Series(np.digitize(z + 0.3 * rng.normal(size=n), [-0.6, 0.0, 0.6]), index=idx, name="m")
    cont = pd.Series(2.0 * z + 10 + 0.3 * rng.normal(size=n), index=idx, name="c")
    return expr, binary, multi, cont


@pytest.mark.parametrize("kind", ["binary", "multiclass", "continuous"])
def test_cross_validation_learns_each_target_type(kind):
    expr, b, m, c = program_cohort()
    y = {"binary": b, "multiclass": m, "continuous": c}[kind]
    classes = {"binary": ["neg", "pos"], "multiclass": ["q1", "q2", "q3", "q4"], "continuous": []}[kind]
    folds = splits.make_folds(y, kind, 4, seed=1)
    pred, scores, _ = training.cross_validate(expr, y, folds, kind, classes, ARCH, CFG, seed=1, target=kind)
    metric = metrics.PRIMARY_METRIC[kind]
    floor = {"binary": 0.8, "multiclass": 0.75, "continuous": 0.6}[kind]
    assert scores[metric].mean() > floor, scores
    assert sorted(pred["patient"]) == sorted(y.index)
    assert (pred.groupby("fold").size().to_numpy() == folds["fold"].value_counts().sort_index().to_numpy()).all()


def test_same_seed_same_numbers_on_cpu():
    expr, b, _, _ = program_cohort()
    folds = splits.make_folds(b, "binary", 3, seed=1)
    p1, s1, _ = training.cross_validate(expr, b, folds, "binary", ["n", "p"], ARCH, CFG, seed=5)
    p2, s2, _ = training.cross_validate(expr, b, folds, "binary", ["n", "p"], ARCH, CFG, seed=5)
    pd.testing.assert_frame_equal(p1, p2)
    p3, _, _ = training.cross_validate(expr, b, folds, "binary", ["n", "p"], ARCH, CFG, seed=6)
    assert not np.allclose(p1["logit"], p3["logit"])


def test_scored_fold_never_influences_its_model(monkeypatch):
    """Changing the test fold's expression and labels must leave that fold's model unchanged."""
    expr, b, _, _ = program_cohort()
    folds = splits.make_folds(b, "binary", 3, seed=1)
    test = folds.loc[folds["fold"] == 0, "patient"]
    fitted = []
    real_fit = training.fit_network

    def spy(*args, **kwargs):
        model = real_fit(*args, **kwargs)
        fitted.append(model)
        return model

    monkeypatch.setattr(training, "fit_network", spy)
    training.cross_validate(expr, b, folds, "binary", ["n", "p"], ARCH, CFG, seed=2)
    expr2, b2 = expr.copy(), b.copy()
    expr2.loc[test] = np.random.default_rng(9).normal(size=(len(test), expr.shape[1])) * 5 + 3
    b2.loc[test] = 1 - b2.loc[test]
    training.cross_validate(expr2, b2, folds, "binary", ["n", "p"], ARCH, CFG, seed=2)
    first, second = fitted[0], fitted[3]
    np.testing.assert_array_equal(first.scaler.mean, second.scaler.mean)
    for (k, v1), v2 in zip(first.network.state_dict().items(), second.network.state_dict().values()):
        assert torch.equal(v1, v2), k


def test_split_file_patients_must_have_data():
    expr, b, _, _ = program_cohort(n=40)
    folds = splits.make_folds(b, "binary", 2, seed=1)
    folds.loc[0, "patient"] = "TCGA-99-9999"
    with pytest.raises(ValueError, match="lack expression or a target"):
        training.cross_validate(expr, b, folds, "binary", ["n", "p"], ARCH, CFG, seed=1)


def test_transfer_and_freeze_and_saved_model_roundtrip(tmp_path):
    expr, b, m, c = program_cohort()
    cfg = training.TrainingConfig(max_epochs=5, patience=3, log_every=0)
    ae, scaler, res = training.train_autoencoder(expr, ARCH, cfg, seed=1)
    training.save_autoencoder(ae, scaler, list(expr.columns), ARCH, {"best_epoch": res["best_epoch"]},
                              str(tmp_path / "ae.pt"))
    encoder, genes, _ = training.load_encoder(str(tmp_path / "ae.pt"))
    assert genes == list(expr.columns)
    frozen_cfg = training.TrainingConfig(max_epochs=4, log_every=0, freeze_layers=1)
    model = training.fit_network(expr, m, "multiclass", ["a", "b", "c", "d"], ARCH, frozen_cfg, seed=1,
                                 encoder=encoder, epochs=4)
    w0 = encoder[0][0].weight.detach()
    assert torch.equal(model.network.encoder[0][0].weight.detach(), w0)  # frozen: unchanged
    assert not torch.equal(model.network.encoder[1][0].weight.detach(), encoder[1][0].weight.detach())
    assert torch.equal(model.network.encoder[0][1].running_mean, encoder[0][1].running_mean)
    # the transferred encoder's input scaling is the autoencoder's, saved and loaded with it
    np.testing.assert_array_equal(model.scaler.mean, scaler.mean)
    np.testing.assert_array_equal(model.scaler.scale, scaler.scale)
    # without transfer the network fits its own scaler on its training patients
    own = training.fit_network(expr.iloc[:40], m.iloc[:40], "multiclass", ["a", "b", "c", "d"], ARCH,
                               training.TrainingConfig(max_epochs=1, log_every=0, transfer=False), seed=1,
                               encoder=encoder, epochs=1)
    np.testing.assert_allclose(own.scaler.mean, expr.loc[sorted(m.index[:40])].mean().to_numpy(), rtol=1e-5,
                               atol=1e-6)
    path = tmp_path / "m.pt"
    model.save(path)
    loaded = nets.FittedModel.load(path)
    x = model.scaled(expr)
    np.testing.assert_allclose(loaded.outputs(x), model.outputs(x), atol=1e-6)
    assert loaded.classes == ["a", "b", "c", "d"] and loaded.target_type == "multiclass"
    # continuous targets are scaled on the training part and put back on their own scale
    cm = training.fit_network(expr, c, "continuous", [], ARCH, cfg, seed=1, epochs=20)
    mu, sd = cm.target_scaler
    assert abs(mu - c.mean()) < 1e-9 and abs(sd - c.std(ddof=0)) < 1e-9
    assert abs(cm.outputs(cm.scaled(expr)).mean() - c.mean()) < 1.0


def test_unknown_setting_and_optimizer():
    with pytest.raises(ValueError, match="unknown training settings"):
        training.TrainingConfig.from_dict({"learning_rate": 1})
    with pytest.raises(ValueError, match="unknown optimizer"):
        training._optimizer([torch.nn.Parameter(torch.zeros(1))], training.TrainingConfig(optimizer="lbfgs"))


def test_fold_models_reproduce_out_of_fold_predictions(tmp_path):
    expr, b, _, _ = program_cohort(n=80)
    folds = splits.make_folds(b, "binary", 2, seed=1)
    pred, _, models = training.cross_validate(expr, b, folds, "binary", ["n", "p"], ARCH, CFG, seed=3)
    nets.save_fold_models(models, tmp_path / "cv.pt")
    loaded = nets.load_fold_models(tmp_path / "cv.pt")
    assert sorted(loaded) == [0, 1]
    for k, m in loaded.items():
        part = pred[pred["fold"] == k]
        np.testing.assert_allclose(m.outputs(m.scaled(expr.loc[part["patient"]]))[:, 0], part["logit"], atol=1e-6)
