"""Gene masking: exact fast masked forward passes, empirical p-values, the typed masking table."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats
from torch import nn

from radiogenomics.evaluation import metrics
from radiogenomics.interpret.masking import (
    MaskingEngine,
    benjamini_hochberg,
    gene_masking,
    masked_class_probabilities,
    masked_outputs,
    random_gene_sets,
    split_first_linear,
)
from radiogenomics.models.nets import FittedModel, Scaler, TargetNet

N_GENES = 300


def random_net(n_genes: int = N_GENES, hidden=(64, 32, 16), n_out: int = 1, seed: int = 0,
               activation: str = "tanh", batch_norm: bool = True, dropout: float = 0.5) -> TargetNet:
    """A TargetNet with random weights and random BatchNorm statistics and affine parameters."""
    torch.manual_seed(seed)
    net = TargetNet(n_genes, list(hidden), n_out, activation=activation, dropout=dropout, batch_norm=batch_norm)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean.normal_(0.0, 0.3)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.2)
    return net.eval()


def naive_masked(net: nn.Module, x: np.ndarray, sets) -> np.ndarray:
    net.eval()
    out = []
    with torch.no_grad():
        xt = torch.as_tensor(x, dtype=torch.float32)
        for s in sets:
            xm = torch.zeros_like(xt)
            idx = torch.as_tensor(np.asarray(s, dtype=np.int64))
            xm[:, idx] = xt[:, idx]
            out.append(net(xm).numpy())
    return np.stack(out)


def mixed_sets(rng: np.random.Generator, n_genes: int = N_GENES) -> list[np.ndarray]:
    sets = [np.array([g]) for g in rng.choice(n_genes, 10, replace=False)]
    sets += [rng.choice(n_genes, size, replace=False) for size in rng.integers(2, 120, 25)]
    sets += [np.arange(n_genes), np.array([], dtype=np.int64), np.array([5, 5, 7])]  # all, none, repeats
    return sets


@pytest.mark.parametrize("n_out", [1, 4])
@pytest.mark.parametrize("kind", ["tanh-bn", "relu-nobn", "sigmoid-bn-deep"])
def test_masked_outputs_exact(n_out, kind):
    rng = np.random.default_rng(1)
    hidden = (64, 32, 16, 8) if kind == "sigmoid-bn-deep" else (64, 32)
    activation = kind.split("-")[0]
    net = random_net(hidden=hidden, n_out=n_out, activation=activation, batch_norm="nobn" not in kind)
    x = rng.normal(size=(70, N_GENES)).astype(np.float32)
    sets = mixed_sets(rng)
    ref = naive_masked(net, x, sets)
    got = masked_outputs(net, x, sets)
    assert got.shape == (len(sets), 70, n_out)
    assert np.abs(got - ref).max() <= 1e-5
    # Batching does not change the result.
    assert np.abs(masked_outputs(net, x, sets, set_batch=3) - ref).max() <= 1e-5
    assert np.abs(masked_outputs(net, x, sets, memory_bytes=1) - ref).max() <= 1e-5


def test_masked_outputs_linear_only_network_and_training_mode_restored():
    rng = np.random.default_rng(2)
    net = TargetNet(N_GENES, [], 1, dropout=0.5)  # empty encoder: the head is the first linear layer
    net.train()
    x = rng.normal(size=(40, N_GENES)).astype(np.float32)
    sets = mixed_sets(rng)
    got = masked_outputs(net, x, sets)
    assert net.training  # the caller's mode is restored
    assert np.abs(got - naive_masked(net, x, sets)).max() <= 1e-5
    # Single genes: exactly x_g * w_g + b.
    w = net.head.weight.detach().numpy()[0]
    b = float(net.head.bias.detach())
    singles = masked_outputs(net, x, [np.array([g]) for g in range(N_GENES)])[:, :, 0]
    np.testing.assert_allclose(singles, (x * w).T + b, atol=1e-6)


class Wrapped(nn.Module):
    """A module split_first_linear does not know: masking falls back to full forward passes."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x) * 2.0


def test_split_first_linear_and_fallback():
    rng = np.random.default_rng(3)
    net = random_net(n_out=3)
    x = torch.as_tensor(rng.normal(size=(20, N_GENES)), dtype=torch.float32)
    first, rest = split_first_linear(net)
    assert first is net.encoder[0][0]
    with torch.no_grad():
        assert torch.allclose(rest(first(x)), net(x), atol=1e-6)
    seq = nn.Sequential(nn.Linear(N_GENES, 8), nn.Tanh(), nn.Linear(8, 2))
    first, rest = split_first_linear(seq)
    assert first is seq[0]
    with pytest.raises(TypeError):
        split_first_linear(Wrapped(net))
    wrapped = Wrapped(net)
    sets = mixed_sets(rng)
    got = masked_outputs(wrapped, x.numpy(), sets, set_batch=4)
    assert np.abs(got - naive_masked(wrapped, x.numpy(), sets)).max() <= 1e-5


def test_random_gene_sets():
    rng = np.random.default_rng(4)
    sets = random_gene_sets(50, [3, 1, 3, 50], 20, rng)
    assert sorted(sets) == [1, 3, 50]
    for size, draws in sets.items():
        assert len(draws) == 20
        for s in draws:
            assert len(s) == size == len(np.unique(s))
            assert s.min() >= 0 and s.max() < 50
            assert np.all(np.diff(s) > 0)
    assert len({tuple(s) for s in sets[3]}) > 10  # not the same set over and over
    with pytest.raises(ValueError):
        random_gene_sets(10, [11], 5, rng)


def test_benjamini_hochberg():
    p = np.array([0.01, 0.04, 0.03, 0.20, np.nan])
    q = benjamini_hochberg(p)
    # Sorted 0.01, 0.03, 0.04, 0.20 (m = 4): 0.04, 0.06, 0.0533, 0.20 -> running minimum from the top.
    np.testing.assert_allclose(q[:4], [0.04, 0.16 / 3, 0.16 / 3, 0.20])
    assert np.isnan(q[4])
    np.testing.assert_allclose(benjamini_hochberg([0.9, 0.95]), [0.95, 0.95])
    assert np.all(benjamini_hochberg([0.6, 0.8, 1.0]) <= 1.0)
    rng = np.random.default_rng(5)
    p = rng.uniform(size=200) ** 3
    q = benjamini_hochberg(p)
    np.testing.assert_allclose(q, stats.false_discovery_control(p))
    order = np.argsort(p)
    assert np.all(np.diff(q[order]) >= -1e-15)
    assert np.isnan(benjamini_hochberg([np.nan, np.nan])).all()


@pytest.mark.parametrize("target_type", ["binary", "multiclass", "continuous"])
def test_vectorised_primary_equals_evaluation_score(target_type):
    rng = np.random.default_rng(6)
    n = 60
    c = 3 if target_type == "multiclass" else 1
    y = {"binary": rng.integers(0, 2, n), "multiclass": rng.integers(0, 3, n),
         "continuous": rng.normal(size=n)}[target_type]
    outputs = rng.normal(size=(15, n, c)).round(1)  # rounding makes ties
    outputs[0] = 0.0  # a constant prediction
    fast = metrics.primary_rows(target_type, y, outputs)
    ref = [metrics.score(target_type, y, o)[metrics.PRIMARY_METRIC[target_type]] for o in outputs]
    np.testing.assert_allclose(fast, ref, atol=1e-12)


# ---------------------------------------------------------------------------- the masking table


def planted_model(rng: np.random.Generator, n_genes: int = 200, n_patients: int = 150):
    """A logistic model on the mean of gene set A (genes 0..9), and data whose label follows it."""
    genes = [f"G{i:03d}" for i in range(n_genes)]
    raw = rng.normal(5.0, 2.0, size=(n_patients, n_genes))
    patients = [f"TCGA-00-{i:04d}" for i in range(n_patients)]
    expression = pd.DataFrame(raw, index=pd.Index(patients, name="patient"), columns=genes)
    scaler = Scaler.fit(raw)
    net = TargetNet(n_genes, [], 1)
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.weight[0, :10] = 3.0 / 10
        net.head.bias.zero_()
    net.eval()
    x = scaler.transform(raw)
    y = pd.Series((x[:, :10].mean(axis=1) + rng.normal(0, 0.15, n_patients) > 0).astype(int), index=patients)
    model = FittedModel(network=net, genes=genes, scaler=scaler, target="planted", target_type="binary",
                        classes=["no", "yes"], arch={"hidden": []})
    sets = {
        "A": genes[:10],
        "B": genes[10:20],
        "C": genes[20:30],
        "half_A": genes[:5] + genes[100:105],
        "big": genes[5:200],
    }
    return model, expression, y, sets


def test_planted_set_ranks_first_with_small_p():
    rng = np.random.default_rng(7)
    model, expression, y, sets = planted_model(rng)
    df = gene_masking(model, expression, y, sets, n_random=99, seed=1)
    assert list(df.columns) == ["set", "n_genes", "auc", "ap", "null_mean", "null_sd", "p_empirical", "fdr",
                                "ranked_by", "rank"]
    assert df["set"].iloc[0] == "A" and df["rank"].iloc[0] == 1
    a = df.set_index("set").loc["A"]
    assert a["auc"] > 0.9
    assert a["p_empirical"] == pytest.approx(1 / 100)
    assert a["null_mean"] < a["auc"]
    # Sets without any of A's genes predict a constant: AUC 0.5, nothing better than random.
    for name in ("B", "C"):
        row = df.set_index("set").loc[name]
        assert row["auc"] == pytest.approx(0.5)
        assert row["p_empirical"] > 0.5
    assert list(df["rank"]) == list(range(1, len(df) + 1))
    assert df["auc"].is_monotonic_decreasing
    assert df.attrs["full_score"]["auc"] == pytest.approx(a["auc"])  # A holds all the model uses
    assert df.attrs["primary_metric"] == "auc" and df.attrs["n_random"] == 99
    np.testing.assert_allclose(df["fdr"], benjamini_hochberg(df["p_empirical"]))
    # Ties in the primary metric (B and C) are ranked by name.
    ties = df[df["set"].isin(["B", "C"])]
    assert list(ties["set"]) == ["B", "C"]


def test_table_values_match_naive_masking():
    rng = np.random.default_rng(8)
    model, expression, y, sets = planted_model(rng)
    model.network = random_net(n_genes=200, hidden=(16, 8), n_out=1)
    df = gene_masking(model, expression, y, sets, n_random=20).set_index("set")
    x = model.scaled(expression)
    idx = {g: i for i, g in enumerate(model.genes)}
    for name, genes in sets.items():
        out = naive_masked(model.network, x, [[idx[g] for g in genes]])[0]
        s = metrics.score("binary", y.loc[expression.index], out)
        assert df.loc[name, "auc"] == pytest.approx(s["auc"], abs=1e-9)
        assert df.loc[name, "ap"] == pytest.approx(s["ap"], abs=1e-9)
        assert df.loc[name, "n_genes"] == len(genes)


def test_single_gene_sets():
    rng = np.random.default_rng(9)
    model, expression, y, _ = planted_model(rng)
    sets = {g: [g] for g in model.genes[:40]}
    df = gene_masking(model, expression, y, sets, n_random=50)
    assert (df["n_genes"] == 1).all()
    assert len(df) == 40
    top = set(df["set"].iloc[:10])
    assert top == set(model.genes[:10])  # only genes of A carry signal
    assert df["p_empirical"].between(1 / 51, 1).all()


def test_join_by_patient_id():
    rng = np.random.default_rng(10)
    model, expression, y, sets = planted_model(rng)
    ref = gene_masking(model, expression, y, sets, n_random=30, seed=3)
    shuffled = y.sample(frac=1.0, random_state=0)
    assert not shuffled.index.equals(y.index)
    pd.testing.assert_frame_equal(gene_masking(model, expression, shuffled, sets, n_random=30, seed=3), ref)
    # A partial overlap is joined on the shared patients.
    partial = pd.concat([y.iloc[:100], pd.Series([1, 0], index=["TCGA-XX-0001", "TCGA-XX-0002"])])
    df = gene_masking(model, expression, partial, sets, n_random=30)
    assert df.attrs["n_patients"] == 100
    with pytest.raises(ValueError, match="no patient"):
        gene_masking(model, expression, pd.Series([0, 1], index=["a", "b"]), sets)


def test_sets_without_model_genes_are_skipped(caplog):
    rng = np.random.default_rng(11)
    model, expression, y, sets = planted_model(rng)
    sets = {**sets, "elsewhere": ["NOT_A_GENE", "ALSO_NOT"], "partly": ["G000", "NOT_A_GENE"]}
    with caplog.at_level(logging.WARNING, logger="radiogenomics.interpret.masking"):
        df = gene_masking(model, expression, y, sets, n_random=10, collection="hallmark")
    assert "elsewhere" not in set(df["set"])
    assert df.set_index("set").loc["partly", "n_genes"] == 1
    assert any("elsewhere" in r.getMessage() and "hallmark" in r.getMessage() for r in caplog.records)
    with pytest.raises(ValueError, match="hallmark"):
        gene_masking(model, expression, y, {"x": ["NOPE"]}, collection="hallmark")


def _typed_model(target_type: str, rng: np.random.Generator):
    n_genes, n = 120, 90
    genes = [f"G{i}" for i in range(n_genes)]
    raw = rng.normal(size=(n, n_genes))
    patients = [f"P{i}" for i in range(n)]
    expression = pd.DataFrame(raw, index=patients, columns=genes)
    n_out = 3 if target_type == "multiclass" else 1
    net = random_net(n_genes=n_genes, hidden=(32, 16), n_out=n_out, seed=4)
    classes = ["c0", "c1", "c2"] if target_type == "multiclass" else []
    model = FittedModel(network=net, genes=genes, scaler=Scaler.fit(raw), target="t", target_type=target_type,
                        classes=classes, arch={"hidden": [32, 16]},
                        target_scaler=(10.0, 2.0) if target_type == "continuous" else None)
    if target_type == "multiclass":
        y = pd.Series(rng.integers(0, 3, n), index=patients)
    else:
        y = pd.Series(model.outputs(model.scaled(expression))[:, 0] + rng.normal(0, 0.5, n), index=patients)
    sets = {f"S{k}": list(rng.choice(genes, size, replace=False)) for k, size in enumerate([1, 5, 5, 30, 60])}
    return model, expression, y, sets


@pytest.mark.parametrize("target_type", ["multiclass", "continuous"])
def test_other_target_types(target_type):
    rng = np.random.default_rng(12)
    model, expression, y, sets = _typed_model(target_type, rng)
    df = gene_masking(model, expression, y, sets, n_random=25)
    primary = metrics.PRIMARY_METRIC[target_type]
    secondary = metrics.SECONDARY_METRIC[target_type]
    assert [primary, secondary] == list(df.columns[2:4])
    x = model.scaled(expression)
    idx = {g: i for i, g in enumerate(model.genes)}
    for name, genes in sets.items():
        out = model.unscale_outputs(naive_masked(model.network, x, [[idx[g] for g in genes]])[0].astype(float))
        s = metrics.score(target_type, y.to_numpy(), out, model.classes)
        row = df.set_index("set").loc[name]
        assert row[primary] == pytest.approx(s[primary], abs=1e-6)
        assert row[secondary] == pytest.approx(s[secondary], abs=1e-6)
    full = metrics.score(target_type, y.to_numpy(), model.outputs(x), model.classes)
    assert df.attrs["full_score"][primary] == pytest.approx(full[primary])
    if target_type == "multiclass":  # class labels are accepted as well as codes
        labels = y.map(dict(enumerate(model.classes)))
        pd.testing.assert_frame_equal(gene_masking(model, expression, labels, sets, n_random=25), df)


def test_masked_class_probabilities():
    rng = np.random.default_rng(13)
    model, expression, _, sets = _typed_model("multiclass", rng)
    long = masked_class_probabilities(model, expression, sets)
    assert list(long.columns) == ["set", "patient", "class", "probability"]
    assert len(long) == len(sets) * len(expression) * 3
    sums = long.groupby(["set", "patient"])["probability"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-9)
    x = model.scaled(expression)
    idx = [model.genes.index(g) for g in sets["S3"]]
    ref = metrics.softmax(naive_masked(model.network, x, [idx])[0].astype(float))
    got = long[long["set"] == "S3"].pivot(index="patient", columns="class", values="probability")
    np.testing.assert_allclose(got.loc[expression.index, model.classes].to_numpy(), ref, atol=1e-5)
    continuous, expression_c, _, sets_c = _typed_model("continuous", rng)
    with pytest.raises(ValueError, match="multiclass"):
        masked_class_probabilities(continuous, expression_c, sets_c)


def test_study_sized_network_single_genes_exact():
    """Single-gene sets on a 2000-512-256-128-1 network: the fast path matches the naive loop."""
    rng = np.random.default_rng(14)
    net = random_net(n_genes=2000, hidden=(512, 256, 128), n_out=1)
    x = rng.normal(size=(60, 2000)).astype(np.float32)
    sets = [np.array([g]) for g in rng.choice(2000, 40, replace=False)]
    assert np.abs(masked_outputs(net, x, sets) - naive_masked(net, x, sets)).max() <= 1e-5


def test_out_of_fold_masking_pools_each_fold_models_held_out_predictions():
    rng = np.random.default_rng(11)
    model, expression, y, sets = planted_model(rng)
    fold_models = {}
    for k in range(3):
        m = FittedModel(network=random_net(n_genes=200, hidden=(16, 8), n_out=1, seed=20 + k), genes=model.genes,
                        scaler=Scaler.fit(expression.to_numpy()[k::3]), target="t", target_type="binary",
                        classes=["no", "yes"], arch={"hidden": [16, 8]})
        fold_models[k] = m
    folds = pd.DataFrame({"patient": expression.index, "fold": np.arange(len(expression)) % 3})
    df = gene_masking(fold_models, expression, y, sets, folds=folds, n_random=10).set_index("set")
    assert df.attrs["mode"] == "out-of-fold"
    idx = {g: i for i, g in enumerate(model.genes)}
    for name, genes in sets.items():
        pooled = np.empty((len(expression), 1))
        for k, m in fold_models.items():
            rows = np.flatnonzero(folds["fold"].to_numpy() == k)
            pooled[rows] = naive_masked(m.network, m.scaled(expression.iloc[rows]), [[idx[g] for g in genes]])[0]
        s = metrics.score("binary", y.loc[expression.index], pooled)
        assert df.loc[name, "auc"] == pytest.approx(s["auc"], abs=1e-9)
        # beside the pooled AUC: each fold model on its own test patients, averaged, with the spread
        per_fold = []
        for k in range(3):
            rows = np.flatnonzero(folds["fold"].to_numpy() == k)
            per_fold.append(metrics.score("binary", y.loc[expression.index[rows]], pooled[rows])["auc"])
        assert df.loc[name, "auc_fold_mean"] == pytest.approx(np.mean(per_fold), abs=1e-9)
        assert df.loc[name, "auc_fold_sd"] == pytest.approx(np.std(per_fold, ddof=1), abs=1e-9)
        assert (df.loc[name, "auc_fold_min"], df.loc[name, "auc_fold_max"]) == pytest.approx(
            (min(per_fold), max(per_fold)), abs=1e-9)
    assert (df["n_folds"] == 3).all()
    assert (df["ranked_by"] == "auc of the pooled out-of-fold predictions").all()
    assert list(df["rank"]) == list(df["auc"].rank(ascending=False, method="first").astype(int))
    # shuffled split-table rows give the same table
    df2 = gene_masking(fold_models, expression, y, sets, folds=folds.sample(frac=1, random_state=0), n_random=10)
    pd.testing.assert_frame_equal(df.reset_index(), df2)


def test_out_of_fold_masking_needs_a_model_per_fold():
    rng = np.random.default_rng(12)
    model, expression, y, sets = planted_model(rng)
    folds = pd.DataFrame({"patient": expression.index, "fold": np.arange(len(expression)) % 2})
    with pytest.raises(ValueError, match="no model for folds"):
        gene_masking({0: model}, expression, y, sets, folds=folds)
    with pytest.raises(TypeError):
        gene_masking(model, expression, y, sets, folds=folds)


# ---------------------------------------------------------------------------- the folded engine


def _mlp_variants():
    torch.manual_seed(5)
    seq = nn.Sequential(nn.Linear(N_GENES, 40), nn.BatchNorm1d(40), nn.Identity(), nn.ReLU(), nn.Dropout(0.2),
                        nn.Sequential(nn.Linear(40, 20), nn.Sigmoid()), nn.Linear(20, 3, bias=False))
    with torch.no_grad():
        seq[1].running_mean.normal_(0.0, 0.3)
        seq[1].running_var.uniform_(0.5, 2.0)
    return {
        "tanh-bn": random_net(hidden=(64, 32), n_out=2),
        "relu-nobn": random_net(hidden=(64, 32), n_out=1, activation="relu", batch_norm=False),
        "sigmoid-deep": random_net(hidden=(64, 32, 16, 8), n_out=4, activation="sigmoid"),
        "linear-only": TargetNet(N_GENES, [], 2),
        "sequential": seq,
    }


@pytest.mark.parametrize("name", ["tanh-bn", "relu-nobn", "sigmoid-deep", "linear-only", "sequential"])
def test_fold_layers_equal_the_network_in_eval_mode(name):
    from radiogenomics.interpret.masking import fold_layers

    net = _mlp_variants()[name]
    net.train()  # folding uses the running statistics whatever the mode
    layers = fold_layers(net)
    assert layers is not None
    x = torch.randn(30, N_GENES)
    h = x
    for layer in layers:
        h = h @ layer.weight_t + layer.bias
        if layer.activation is not None:
            h = layer.activation(h.clone())
    net.eval()
    with torch.no_grad():
        assert (h - net(x)).abs().max().item() <= 1e-5
    assert all(layer.weight_t.is_contiguous() for layer in layers)


def test_fold_layers_refuses_what_it_cannot_fold():
    from radiogenomics.interpret.masking import fold_layers

    assert fold_layers(Wrapped(random_net())) is None
    assert fold_layers(nn.Sequential(nn.Linear(10, 5), nn.LeakyReLU(), nn.Linear(5, 1))) is None
    assert fold_layers(nn.Sequential(nn.Linear(10, 5), nn.Tanh(), nn.BatchNorm1d(5), nn.Linear(5, 1))) is None
    assert fold_layers(nn.Sequential(nn.Linear(10, 5), nn.BatchNorm1d(5, track_running_stats=False))) is None
    assert fold_layers(nn.Sequential(nn.Tanh(), nn.Linear(10, 1))) is None
    # ... and the engine still masks exactly through the network's own modules.
    rng = np.random.default_rng(15)
    wrapped = Wrapped(random_net())
    x = rng.normal(size=(12, N_GENES)).astype(np.float32)
    engine = MaskingEngine(wrapped)
    assert engine.layers is None
    genes = np.array([3, 50, 299])
    np.testing.assert_allclose(engine.single_gene_outputs(x, genes),
                               naive_masked(wrapped, x, [[g] for g in genes]), atol=1e-5)


def test_single_gene_outputs_exact_with_tied_values():
    """Ties (rounded values, zeros) are computed once and mapped back; batches split genes anywhere."""
    rng = np.random.default_rng(16)
    net = random_net(hidden=(48, 24), n_out=3)
    x = np.round(rng.normal(size=(50, N_GENES)), 1).astype(np.float32)
    x[:, :20] = 0.0  # genes at their training mean for everybody
    x[:25, 20:40] = 1.5
    ref = naive_masked(net, x, [[g] for g in range(N_GENES)])
    for rows in (None, 7, 50, 333):
        engine = MaskingEngine(net, batch_rows=rows)
        got = engine.single_gene_outputs(x)
        assert got.shape == (N_GENES, 50, 3) and got.dtype == np.float32
        assert np.abs(got - ref).max() <= 1e-5
    genes = np.array([299, 0, 21, 21])
    np.testing.assert_allclose(MaskingEngine(net).single_gene_outputs(x, genes), ref[genes], atol=1e-5)
    # size-1 sets inside a mixed collection take the same path
    sets = [np.array([5]), np.arange(10, 60), np.array([77]), np.array([], dtype=np.int64)]
    np.testing.assert_allclose(masked_outputs(net, x, sets), naive_masked(net, x, sets), atol=1e-5)
    with pytest.raises(ValueError, match="outside"):
        MaskingEngine(net).single_gene_outputs(x, [N_GENES])
    with pytest.raises(ValueError, match="expects"):
        MaskingEngine(net).outputs(x[:, :10], sets)


def test_distinct_values_mapping():
    from radiogenomics.interpret.masking import _distinct_values

    x = np.array([[1.0, 0.0, 2.0], [1.0, 3.0, 2.0], [0.5, 0.0, 2.0], [1.0, -1.0, 2.0]], dtype=np.float32)
    values, counts, inverse = _distinct_values(x, np.array([0, 1, 2]))
    assert counts.tolist() == [2, 3, 1]
    assert values.tolist() == [0.5, 1.0, -1.0, 0.0, 3.0, 2.0]
    np.testing.assert_array_equal(values[inverse], x)


def test_engine_is_a_snapshot_and_matches_masked_outputs():
    rng = np.random.default_rng(17)
    net = random_net(hidden=(32, 16), n_out=1)
    x = rng.normal(size=(20, N_GENES)).astype(np.float32)
    sets = mixed_sets(rng)
    engine = MaskingEngine(net)
    before = engine.outputs(x, sets)
    np.testing.assert_array_equal(before, masked_outputs(net, x, sets))
    with torch.no_grad():
        net.head.bias.add_(1.0)
    np.testing.assert_array_equal(engine.outputs(x, sets), before)  # folded weights are a snapshot
    assert np.abs(MaskingEngine(net).outputs(x, sets) - naive_masked(net, x, sets)).max() <= 1e-5


@pytest.mark.parametrize("target_type", ["binary", "multiclass", "continuous"])
def test_vectorised_secondary_equals_evaluation_score(target_type):

    rng = np.random.default_rng(18)
    n = 70
    c = 3 if target_type == "multiclass" else 1
    y = {"binary": rng.integers(0, 2, n), "multiclass": rng.integers(0, 3, n),
         "continuous": rng.normal(size=n).round(1)}[target_type]
    outputs = rng.normal(size=(20, n, c)).round(1)  # ties
    outputs[0] = 0.0  # a constant prediction
    outputs[1] = 40.0 * outputs[1]  # saturated sigmoid / softmax: ties after the transform
    fast = metrics.secondary_rows(target_type, y, outputs)
    ref = [metrics.score(target_type, y, o)[metrics.SECONDARY_METRIC[target_type]] for o in outputs]
    np.testing.assert_allclose(fast, ref, atol=1e-12)


def test_single_gene_masking_planted_genes_first():
    from radiogenomics.interpret.masking import single_gene_masking

    rng = np.random.default_rng(19)
    model, expression, y, _ = planted_model(rng)
    df = single_gene_masking(model, expression, y)
    assert list(df.columns) == ["set", "n_genes", "auc", "ap", "null_mean", "null_sd", "p_empirical", "fdr", "rank"]
    assert len(df) == len(model.genes) and (df["n_genes"] == 1).all()
    assert set(df["set"].iloc[:10]) == set(model.genes[:10])
    assert list(df["rank"]) == list(range(1, len(df) + 1))
    assert df["p_empirical"].isna().all() and df["fdr"].isna().all()
    assert df["null_mean"].iloc[0] == pytest.approx(df["auc"].mean())
    assert df.attrs["n_random"] == 0 and df.attrs["primary_metric"] == "auc"
    # the same values as gene_masking with sets of one gene
    some = {g: [g] for g in model.genes[:5] + model.genes[50:55]}
    ref = gene_masking(model, expression, y, some, n_random=5).set_index("set")
    got = df.set_index("set").loc[list(some)]
    np.testing.assert_allclose(got["auc"], ref.loc[list(some), "auc"], atol=1e-12)
    np.testing.assert_allclose(got["ap"], ref.loc[list(some), "ap"], atol=1e-12)
    with_p = single_gene_masking(model, expression, y, p_values=True)
    assert with_p["p_empirical"].iloc[0] == pytest.approx(1 / len(model.genes))
    assert with_p["p_empirical"].is_monotonic_increasing
    assert with_p.attrs["n_random"] == len(model.genes) - 1


@pytest.mark.parametrize("target_type", ["multiclass", "continuous"])
def test_single_gene_masking_other_types_and_out_of_fold(target_type):
    from radiogenomics.interpret.masking import single_gene_masking

    rng = np.random.default_rng(20)
    model, expression, y, _ = _typed_model(target_type, rng)
    folds = pd.DataFrame({"patient": expression.index, "fold": np.arange(len(expression)) % 2})
    fold_models = {k: FittedModel(network=random_net(n_genes=120, hidden=(16,), n_out=model.network.head.out_features,
                                                     seed=30 + k),
                                  genes=model.genes, scaler=model.scaler, target="t", target_type=target_type,
                                  classes=model.classes, arch={"hidden": [16]}, target_scaler=model.target_scaler)
                   for k in range(2)}
    df = single_gene_masking(fold_models, expression, y, folds=folds)
    primary = metrics.PRIMARY_METRIC[target_type]
    secondary = metrics.SECONDARY_METRIC[target_type]
    assert df.attrs["mode"] == "out-of-fold"
    idx = {g: i for i, g in enumerate(model.genes)}
    for gene in df["set"].iloc[[0, 7, 60]]:
        pooled = np.empty((len(expression), model.network.head.out_features))
        for k, m in fold_models.items():
            rows = np.flatnonzero(folds["fold"].to_numpy() == k)
            pooled[rows] = m.unscale_outputs(naive_masked(m.network, m.scaled(expression.iloc[rows]),
                                                          [[idx[gene]]])[0].astype(float))
        s = metrics.score(target_type, y.to_numpy() if target_type == "continuous" else y.to_numpy(), pooled,
                             model.classes)
        row = df.set_index("set").loc[gene]
        assert row[primary] == pytest.approx(s[primary], abs=1e-6)
        assert row[secondary] == pytest.approx(s[secondary], abs=1e-6)
