"""Gene saliency: one batched backward pass equals per-patient gradients; per-class blocks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from radiogenomics.interpret.saliency import Saliency, saliency_table
from radiogenomics.models.nets import FittedModel, Scaler, TargetNet

N_GENES = 150


def random_net(n_out: int, hidden=(32, 16), seed: int = 0) -> TargetNet:
    torch.manual_seed(seed)
    net = TargetNet(N_GENES, list(hidden), n_out, dropout=0.5)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean.normal_(0.0, 0.3)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.2)
    return net


def per_patient_gradients(net: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
    """Reference: one forward and backward pass per patient (a batch of one, eval mode)."""
    net.eval()
    rows = []
    for i in range(x.shape[0]):
        xi = x[i:i + 1].clone().requires_grad_(True)
        (g,) = torch.autograd.grad(net(xi)[0, target], xi)
        rows.append(g[0])
    return torch.stack(rows)


def make_model(target_type: str, n_patients: int = 40, seed: int = 1):
    rng = np.random.default_rng(seed)
    genes = [f"G{i}" for i in range(N_GENES)]
    raw = rng.normal(3.0, 1.5, size=(n_patients, N_GENES))
    expression = pd.DataFrame(raw, index=[f"P{i}" for i in range(n_patients)], columns=genes)
    classes = ["a", "b", "c"] if target_type == "multiclass" else []
    net = random_net(3 if target_type == "multiclass" else 1)
    model = FittedModel(network=net, genes=genes, scaler=Scaler.fit(raw), target="t", target_type=target_type,
                        classes=classes, arch={"hidden": [32, 16]})
    return model, expression


@pytest.mark.parametrize("target", [None, 0, 2])
def test_batched_equals_per_patient(target):
    net = random_net(3)
    net.train()  # attribute() must use eval mode (independent rows) and restore the mode afterwards
    x = torch.randn(30, N_GENES)
    got = Saliency(net).attribute(x, target=target, abs=False)
    assert net.training
    ref = per_patient_gradients(net, x, 0 if target is None else target)
    assert got.shape == x.shape
    assert (got - ref).abs().max().item() <= 1e-6
    assert torch.equal(Saliency(net).attribute(x, target=target), got.abs())


def test_no_parameter_gradients_and_input_untouched():
    net = random_net(1).eval()
    x = torch.randn(10, N_GENES)
    before = x.clone()
    Saliency(net).attribute(x)
    assert all(p.grad is None for p in net.parameters())
    assert not x.requires_grad and torch.equal(x, before)


def test_target_out_of_range():
    net = random_net(2).eval()
    with pytest.raises(ValueError, match="out of range"):
        Saliency(net).attribute(torch.randn(4, N_GENES), target=5)


def test_plain_callable():
    w = torch.randn(N_GENES)
    sal = Saliency(lambda x: (x * w).sum(dim=1) ** 2)  # a function with a 1-D output
    x = torch.randn(5, N_GENES)
    expected = 2 * (x * w).sum(dim=1, keepdim=True) * w
    assert torch.allclose(sal.attribute(x, abs=False), expected, atol=1e-5)


def test_linear_model_saliency_is_absolute_weights():
    model, expression = make_model("binary")
    model.network = TargetNet(N_GENES, [], 1).eval()  # logit = w . x_scaled + b
    w = model.network.head.weight.detach().numpy()[0]
    table = saliency_table(model, expression)
    assert table.shape == (len(expression), N_GENES)
    np.testing.assert_allclose(table.to_numpy(), np.broadcast_to(np.abs(w), table.shape), rtol=1e-6)
    # Relative to the raw (unscaled) expression, the gradient is w / scale: saliency = |d/d raw| * scale.
    raw = torch.as_tensor(expression.to_numpy(), dtype=torch.float32).requires_grad_(True)
    mean = torch.as_tensor(model.scaler.mean)
    scale = torch.as_tensor(model.scaler.scale)
    (g_raw,) = torch.autograd.grad(model.network((raw - mean) / scale).sum(), raw)
    np.testing.assert_allclose(table.to_numpy(), (g_raw.abs() * scale).numpy(), rtol=1e-5)


@pytest.mark.parametrize("target_type", ["binary", "continuous"])
def test_table_layout(target_type):
    model, expression = make_model(target_type)
    table = saliency_table(model, expression)
    assert table.index.name == "patient" and table.columns.name == "gene"
    assert list(table.index) == list(expression.index) and list(table.columns) == model.genes
    assert (table.dtypes == np.float32).all()
    assert (table.to_numpy() >= 0).all()
    x = torch.as_tensor(model.scaled(expression), dtype=torch.float32)
    ref = per_patient_gradients(model.network, x, 0).abs().numpy()
    np.testing.assert_allclose(table.to_numpy(), ref, atol=1e-6)


def test_multiclass_blocks_per_class():
    model, expression = make_model("multiclass")
    table = saliency_table(model, expression)
    assert table.index.names == ["patient", "class"]
    assert table.shape == (3 * len(expression), N_GENES)
    assert (table.dtypes == np.float32).all()
    # One block per class, in class order, patients in expression order within a block.
    assert list(table.index.get_level_values("class")) == [c for c in model.classes for _ in expression.index]
    x = torch.as_tensor(model.scaled(expression), dtype=torch.float32)
    blocks = []
    for k, cls in enumerate(model.classes):
        block = table.xs(cls, level="class")
        assert list(block.index) == list(expression.index)
        ref = per_patient_gradients(model.network, x, k).abs().numpy()
        np.testing.assert_allclose(block.to_numpy(), ref, atol=1e-6)
        blocks.append(block.to_numpy())
    assert not np.allclose(blocks[0], blocks[1]) and not np.allclose(blocks[1], blocks[2])
    assert all(p.grad is None for p in model.network.parameters())


@pytest.mark.parametrize("abs_", [True, False])
def test_attribute_targets_equals_attribute_per_target(abs_):
    net = random_net(3)
    net.train()
    x = torch.randn(25, N_GENES)
    sal = Saliency(net)
    blocks = sal.attribute_targets(x, abs=abs_)  # every output column
    assert net.training
    assert blocks.shape == (3, *x.shape)
    for k in range(3):
        assert (blocks[k] - sal.attribute(x, target=k, abs=abs_)).abs().max().item() <= 1e-6
        assert (blocks[k].abs() - per_patient_gradients(net, x, k).abs()).abs().max().item() <= 1e-6
    picked = sal.attribute_targets(x, [2, 0], abs=abs_)
    assert torch.allclose(picked[0], blocks[2]) and torch.allclose(picked[1], blocks[0])
    assert sal.attribute_targets(x, [1]).shape == (1, *x.shape)
    assert all(p.grad is None for p in net.parameters())
    with pytest.raises(ValueError, match="out of range"):
        sal.attribute_targets(x, [3])


def test_attribute_targets_falls_back_to_one_backward_pass_per_target(monkeypatch):
    net = random_net(3).eval()
    x = torch.randn(10, N_GENES)
    expected = Saliency(net).attribute_targets(x)
    real_grad = torch.autograd.grad

    def no_batched_grad(*args, **kwargs):
        if kwargs.get("is_grads_batched"):
            raise RuntimeError("no batching rule")
        return real_grad(*args, **kwargs)

    monkeypatch.setattr(torch.autograd, "grad", no_batched_grad)
    assert torch.allclose(Saliency(net).attribute_targets(x), expected, atol=1e-7)
