"""Training on a device: CPU draws for every random choice, models back on the CPU, CUDA when present.

No test needs a GPU: the CUDA comparisons are skipped without one; the CPU tests check the
properties that make a GPU run equal a CPU run (dropout masks from the CPU generator).
"""

import numpy as np
import pytest
import torch
from test_training import ARCH, CFG, program_cohort
from torch import nn

from radiogenomics.cohorts.splits import inner_fold_indices
from radiogenomics.models import nets, selection, training

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")


def test_host_dropout_is_torch_dropout_on_cpu():
    x = torch.randn(20, 50)
    a, b = nets.HostDropout(0.4), nn.Dropout(0.4)
    torch.manual_seed(3)
    out_a = a(x)
    torch.manual_seed(3)
    out_b = b(x)
    assert torch.equal(out_a, out_b)
    assert (out_a == 0).float().mean().item() == pytest.approx(0.4, abs=0.05)
    a.eval()
    assert torch.equal(a(x), x)


def test_cpu_drawn_mask_is_the_mask_torch_draws():
    """The GPU branch of HostDropout draws ``bernoulli_(1 - p) / (1 - p)`` on the CPU: the very mask
    that ``nn.Dropout`` applies on the CPU from the same generator state."""
    x = torch.randn(16, 40)
    torch.manual_seed(11)
    ref = nn.functional.dropout(x, 0.3, training=True)
    torch.manual_seed(11)
    keep = torch.empty(x.shape).bernoulli_(0.7).div_(0.7)
    assert torch.equal(x * keep, ref)


def test_on_device_sets_and_restores():
    assert training.current_device() == torch.device("cpu")
    with training.on_device("cpu"):
        assert training.current_device().type == "cpu"
    with pytest.raises(RuntimeError):
        with training.on_device("not-a-device"):
            pass
    assert training.current_device() == torch.device("cpu")


def _fit(device):
    expr, b, _, _ = program_cohort(n=80, g=60)
    with training.on_device(device):
        return training.fit_network(expr, b, "binary", ["n", "p"], ARCH, CFG, seed=2), expr


def test_fit_network_on_cpu_context_is_the_default():
    m1, expr = _fit("cpu")
    m2 = training.fit_network(expr, program_cohort(n=80, g=60)[1], "binary", ["n", "p"], ARCH, CFG, seed=2)
    x = m1.scaled(expr)
    np.testing.assert_array_equal(m1.outputs(x), m2.outputs(x))
    assert all(p.device.type == "cpu" for p in m1.network.parameters())


@CUDA
def test_fit_network_on_cuda_equals_cpu():
    m_cpu, expr = _fit("cpu")
    m_gpu, _ = _fit("cuda")
    assert all(p.device.type == "cpu" for p in m_gpu.network.parameters())  # returned on the CPU
    x = m_cpu.scaled(expr)
    np.testing.assert_allclose(m_gpu.outputs(x), m_cpu.outputs(x), rtol=1e-3, atol=1e-3)
    assert m_gpu.info["best_epoch"] == m_cpu.info["best_epoch"]


@CUDA
@pytest.mark.parametrize("stacked", [False, True])
def test_inner_selection_on_cuda_equals_cpu(stacked):
    expr, b, _, _ = program_cohort(n=80, g=60)
    cfg = selection.full_config({"hidden": [16, 8], "transfer": False, "max_epochs": 8, "patience": 8,
                                 "dropout": 0.3, "optimizer": "adadelta", "lr": 1.0})
    splits = inner_fold_indices(b, "binary", 3, 3)
    curve_cpu = selection._inner_curve(expr, b, "binary", ["n", "p"], cfg, splits, None, seed=4, stacked=False)
    with training.on_device("cuda"):
        curve_gpu = selection._inner_curve(expr, b, "binary", ["n", "p"], cfg, splits, None, seed=4, stacked=stacked)
    np.testing.assert_allclose(curve_gpu, curve_cpu, atol=1e-3)


def test_loss_weights_follow_the_output_device():
    y = np.array([0, 0, 0, 1], dtype=float)
    loss = training._loss_fn("binary", y, 1, "balanced")
    out = torch.zeros(4, 1, dtype=torch.float64)
    val = loss(out, torch.as_tensor(y))
    # pos_weight 3: mean of (3 * log 2 for the positive, log 2 for the three negatives)
    assert float(val) == pytest.approx(6 * np.log(2) / 4)
    ce = training._loss_fn("multiclass", np.array([0, 0, 1, 2]), 3, "balanced")
    # balanced weights 4/(3*2), 4/3, 4/3; uniform logits: every term is log 3, so the weighted mean is log 3
    assert float(ce(torch.zeros(4, 3), torch.tensor([0, 0, 1, 2]))) == pytest.approx(np.log(3))
