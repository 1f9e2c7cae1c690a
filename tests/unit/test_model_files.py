"""Model files: read without arbitrary unpickling (torch.load(weights_only=True), skops with trusted types), and
the same model gives the same bytes whatever the file name (no temporary name or id stored inside)."""

import pickle
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch

from radiogenomics.cohorts import splits
from radiogenomics.models import baseline_files, baselines, nets, training

ARCH = {"hidden": [16, 8, 4], "activation": "tanh", "dropout": 0.1}
CFG = training.TrainingConfig(max_epochs=4, patience=3, lr=3e-3, log_every=0)


def cohort(n=60, g=24, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    x = rng.normal(size=(n, g))
    x[:, :8] += 1.5 * z[:, None]
    idx = pd.Index([f"TCGA-02-{i:04d}" for i in range(n)], name="patient")
    expr = pd.DataFrame(x, index=idx, columns=[f"G{j}" for j in range(g)])
    ys = {"binary": pd.Series((z > 0).astype(int), index=idx),
          "multiclass": pd.Series(np.digitize(z, [-0.5, 0.5]), index=idx),
          "continuous": pd.Series(2.0 * z + 10.0, index=idx)}
    classes = {"binary": ["neg", "pos"], "multiclass": ["lo", "mid", "hi"], "continuous": []}
    return expr, ys, classes


def _names_inside(path):
    with zipfile.ZipFile(path) as z:
        return [i.filename for i in z.infolist()]


@pytest.mark.parametrize("kind", ["binary", "continuous"])
def test_fitted_model_same_bytes_at_any_path_and_weights_only(tmp_path, kind):
    expr, ys, classes = cohort()
    model = training.fit_network(expr, ys[kind], kind, classes[kind], ARCH, CFG, seed=1, epochs=3, target="t")
    a, b = tmp_path / "a.pt", tmp_path / "sub" / "final.pt"
    model.save(a)
    model.save(b)
    assert a.read_bytes() == b.read_bytes()
    assert all(n.startswith("archive/") for n in _names_inside(a))  # never the temporary file's name
    # a second fit with the same seed is the same model and the same file
    again = training.fit_network(expr, ys[kind], kind, classes[kind], ARCH, CFG, seed=1, epochs=3, target="t")
    again.save(tmp_path / "again.pt")
    assert (tmp_path / "again.pt").read_bytes() == a.read_bytes()
    blob = torch.load(a, map_location="cpu", weights_only=True)  # tensors and plain types only
    assert blob["format"] == nets.MODEL_FORMAT and isinstance(blob["scaler_mean"], torch.Tensor)
    loaded = nets.FittedModel.load(b)
    x = model.scaled(expr)
    np.testing.assert_array_equal(loaded.outputs(x), model.outputs(x))
    assert loaded.target_scaler == model.target_scaler and loaded.info["best_epoch"] == model.info["best_epoch"]
    assert isinstance(loaded.scaler.mean, np.ndarray) and loaded.scaler.mean.dtype == np.float32


def test_fold_models_and_autoencoder_same_bytes(tmp_path):
    expr, ys, classes = cohort()
    folds = splits.make_folds(ys["binary"], "binary", 2, seed=1)
    _, _, models = training.cross_validate(expr, ys["binary"], folds, "binary", classes["binary"], ARCH, CFG, seed=3)
    nets.save_fold_models(models, tmp_path / "cv1.pt")
    nets.save_fold_models(dict(reversed(list(models.items()))), tmp_path / "other" / "cv2.pt")
    assert (tmp_path / "cv1.pt").read_bytes() == (tmp_path / "other" / "cv2.pt").read_bytes()
    assert sorted(nets.load_fold_models(tmp_path / "other" / "cv2.pt")) == sorted(models)

    ae, scaler, res = training.train_autoencoder(expr, ARCH, CFG, seed=1)
    info = {"best_epoch": res["best_epoch"], "n_patients": np.int64(len(expr)), "patients": list(expr.index)}
    for name in ("ae1.pt", "ae2.pt"):
        training.save_autoencoder(ae, scaler, list(expr.columns), ARCH, info, str(tmp_path / name))
    assert (tmp_path / "ae1.pt").read_bytes() == (tmp_path / "ae2.pt").read_bytes()
    blob = torch.load(tmp_path / "ae1.pt", map_location="cpu", weights_only=True)
    assert blob["info"]["n_patients"] == len(expr) and type(blob["info"]["n_patients"]) is int
    encoder, genes, _ = training.load_encoder(str(tmp_path / "ae2.pt"))
    assert genes == list(expr.columns)
    assert torch.equal(encoder[0][0].weight, ae.encoder[0][0].weight)


def test_old_or_foreign_model_files_are_refused_with_the_file_named(tmp_path):
    old = tmp_path / "old.pt"  # the previous format: numpy arrays inside, needs full unpickling
    torch.save({"state_dict": {}, "scaler_mean": np.zeros(3, dtype=np.float32)}, old)
    with pytest.raises(ValueError, match=r"model file .*old\.pt: not readable with torch\.load\(weights_only=True\)"):
        nets.FittedModel.load(old)
    with pytest.raises(ValueError, match="older format"):
        training.load_encoder(str(old))
    plain = tmp_path / "plain.pt"  # loadable, but not written by this workflow
    torch.save({"state_dict": {}}, plain)
    with pytest.raises(ValueError, match=r"plain\.pt: format None, expected 'radiogenomics-model/2'"):
        nets.load_fold_models(plain)

    class Evil:
        def __reduce__(self):
            return (print, ("unpickled!",))

    evil = tmp_path / "evil.pt"
    torch.save({"x": Evil()}, evil)
    with pytest.raises(ValueError, match="evil.pt"):
        nets.FittedModel.load(evil)


def test_only_tensors_and_plain_types_are_saved(tmp_path):
    with pytest.raises(TypeError, match=r"model\['info'\]\['frame'\]: a pandas.core.frame.DataFrame cannot be saved"):
        nets.save_torch({"info": {"frame": pd.DataFrame()}}, tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", baselines.BASELINES)
@pytest.mark.parametrize("kind", ["binary", "multiclass", "continuous"])
def test_comparison_models_round_trip_without_pickle_same_bytes(tmp_path, name, kind):
    expr, ys, classes = cohort()
    grid = {k: v[:1] for k, v in baselines.default_grid(name, kind).items()}
    if name == "random_forest":
        grid["n_estimators"] = [10]
    fits = [baselines.fit_baseline(name, expr, ys[kind], kind, classes[kind], grid=grid, inner_folds=2, seed=0)
            for _ in range(2)]
    baseline_files.save_model(fits[0], tmp_path / "a" / "final.skops.zip")
    baseline_files.save_model(fits[1], tmp_path / "b.skops.zip")  # a second fit, same seed: same bytes
    data = (tmp_path / "a" / "final.skops.zip").read_bytes()
    assert data == (tmp_path / "b.skops.zip").read_bytes()
    assert not data.startswith(b"\x80")  # not a pickle
    loaded = baseline_files.load_model(tmp_path / "b.skops.zip")
    np.testing.assert_array_equal(loaded.outputs(expr), fits[0].outputs(expr))
    assert (loaded.name, loaded.target_type, loaded.classes, loaded.genes) == (name, kind, classes[kind],
                                                                               list(expr.columns))
    assert loaded.params == fits[0].params and loaded.inner_score == pytest.approx(fits[0].inner_score, rel=1e-15)
    assert list(loaded.table.columns) == list(fits[0].table.columns) and len(loaded.table) == len(fits[0].table)


class _Untrusted:
    """A type no comparison model contains."""

    def predict(self, x):
        return np.zeros(len(x))


def test_comparison_model_files_refuse_pickles_and_untrusted_types(tmp_path):
    expr, ys, classes = cohort()
    fit = baselines.fit_baseline("logreg_l2", expr, ys["binary"], "binary", classes["binary"], grid={"C": [1.0]},
                                 inner_folds=2, seed=0)
    old = tmp_path / "old.pkl"  # the previous format: a pickle (never unpickled now)
    old.write_bytes(pickle.dumps(fit))
    with pytest.raises(ValueError, match=r"comparison model file .*old\.pkl: not a radiogenomics-baseline/1 archive"):
        baseline_files.load_model(old)
    fit.estimator = _Untrusted()
    baseline_files.save_model(fit, tmp_path / "untrusted.pkl")
    with pytest.raises(ValueError, match=r"untrusted\.pkl: names types this workflow never saves .*_Untrusted"):
        baseline_files.load_model(tmp_path / "untrusted.pkl")
    with pytest.raises(TypeError, match="expected a baselines.BaselineFit"):
        baseline_files.save_model(fit.estimator, tmp_path / "x.pkl")
