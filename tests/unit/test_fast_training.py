"""The fast training step and stacked fold training give the plain loop's / sequential training's numbers."""

import copy
import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from test_training import program_cohort
from torch import nn

from radiogenomics.cohorts.splits import inner_fold_indices
from radiogenomics.models import nets, selection, training

#: Adadelta and NAdam (no fused kernel: torch's optimiser in blocks), Adagrad (torch's fused CPU kernel); Adadelta
#: is the published code's
OPTIMIZERS = ["adam", "adamw", "sgd", "adadelta", "nadam", "adagrad"]


def _bce(out, y):
    return nn.functional.binary_cross_entropy_with_logits(out[:, 0], y)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_fast_step_follows_the_plain_torch_loop(optimizer):
    """Same weights, batches and dropout masks: the loss trajectories and final weights agree. The
    block size (96) splits every layer into many optimiser blocks, one not a multiple of 96."""
    torch.manual_seed(0)
    net = nets.TargetNet(300, [64, 32, 16], 1, dropout=0.3)
    fast_net = copy.deepcopy(net)
    cfg = training.TrainingConfig(optimizer=optimizer, lr=1.0 if optimizer == "adadelta" else 1e-2,
                                  weight_decay=0.0 if optimizer == "adam" else 1e-3)
    plain = training.PlainStep(net, _bce, cfg)
    fast = training.FastStep(fast_net, _bce, cfg, block=96)
    expected = {"adadelta": training.BlockedOptimizer, "nadam": training.BlockedOptimizer}
    assert isinstance(fast.optimizer, expected.get(optimizer, training._FusedOptimizer))
    net.train()
    fast_net.train()
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(50, 300, generator=gen)
    y = (torch.rand(50, generator=gen) > 0.5).float()
    l_plain, l_fast = [], []
    for i in range(40):
        idx = torch.arange(10) + 10 * (i % 5)
        torch.manual_seed(i)
        l_plain.append(float(plain(x[idx], y[idx])))
        torch.manual_seed(i)
        l_fast.append(float(fast(x[idx], y[idx])))
    assert l_plain[-1] < l_plain[0]  # it trained
    np.testing.assert_allclose(l_fast, l_plain, rtol=1e-5, atol=1e-6)
    # the same weights to float rounding, fused Adam/SGD included (no parameter has a zero gradient
    # that Adam could turn into ~lr steps: nets.mlp_block gives BatchNorm-fed Linears no bias)
    for (name, a), b in zip(net.state_dict().items(), fast_net.state_dict().values()):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6, msg=name)
    # the fast step's first-layer gradient lives in place: the same tensor every step
    g = fast_net.encoder[0][0].weight.grad
    fast(x[:10], y[:10])
    assert fast_net.encoder[0][0].weight.grad is g


def _fit_fast_and_plain(threads: int = 1):
    """The same frozen-encoder fit through the plain torch loop and the fast step, with ``threads``
    torch threads (the caller may monkeypatch ``training.make_step`` to break the fast path)."""
    expr, _, m, _ = program_cohort(n=80, g=60)
    arch = {"hidden": [16, 8], "activation": "tanh", "dropout": 0.2}
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        ae, _, _ = training.train_autoencoder(expr, arch, training.TrainingConfig(max_epochs=2, log_every=0), seed=1)
        out = {}
        for fast in (False, True):
            cfg = training.TrainingConfig(max_epochs=6, log_every=0, freeze_layers=1, fast=fast)
            model = training.fit_network(expr, m, "multiclass", list("abcd"), arch, cfg, seed=3, encoder=ae.encoder)
            out[fast] = (model.outputs(model.scaled(expr)), [h["train_loss"] for h in model.info["history"]])
            assert torch.equal(model.network.encoder[0][0].weight, ae.encoder[0][0].weight)  # frozen
    finally:
        torch.set_num_threads(before)
    return out


def _assert_fast_and_plain_agree(out):
    """Same batches, masks and Adam arithmetic: the two paths differ only by float rounding of the
    products (~1e-7 relative per step, 6 epochs x 8 steps), so outputs agree to 1e-4 relative. Before
    the BatchNorm-fed Linears lost their bias (nets.mlp_block), Adam amplified the ~1e-8 rounding noise
    of that bias's zero gradient into ~lr steps and the outputs differed by up to 1.1e-3 on AVX-512 CPUs."""
    np.testing.assert_allclose(out[True][1], out[False][1], rtol=1e-5)
    np.testing.assert_allclose(out[True][0], out[False][0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_fast_and_plain_fit_network_agree_with_frozen_layers(threads):
    _assert_fast_and_plain_agree(_fit_fast_and_plain(threads))


def test_a_broken_fast_path_fails_the_agreement_check(monkeypatch):
    """The tolerance still catches a real bug: a fast step whose Adam learning rate is 1% off."""
    make_step = training.make_step

    def off_by_one_percent(model, loss_fn, cfg):
        return make_step(model, loss_fn, dataclasses.replace(cfg, lr=cfg.lr * 1.01) if cfg.fast else cfg)

    monkeypatch.setattr(training, "make_step", off_by_one_percent)
    with pytest.raises(AssertionError):
        _assert_fast_and_plain_agree(_fit_fast_and_plain())


def test_no_linear_layer_feeding_a_batchnorm_has_a_bias():
    """Such a bias has a zero gradient in exact arithmetic; an adaptive optimiser turns its rounding noise
    into full-size steps that differ by machine and thread count (the flaky fast-vs-plain test)."""
    nets_ = [nets.Autoencoder(30, [8, 4]), nets.TargetNet(30, [8, 4], 3, dropout=0.1),
             nets.build_target_net(30, {"hidden": [8, 4, 2]}, 1)]
    checked = 0
    for net in nets_:
        leaves = [m for m in net.modules() if not list(m.children())]
        for a, b in zip(leaves, leaves[1:]):
            if isinstance(a, nn.Linear) and isinstance(b, nn.BatchNorm1d):
                assert a.bias is None, net
                checked += 1
    assert checked == 2 + 2 + 1 + 3  # encoder 2 + decoder 1 + target 2 + target 3 blocks
    # without BatchNorm the Linear keeps its bias
    assert nets.TargetNet(30, [8], 1, batch_norm=False).encoder[0][0].bias is not None


def _runs(kind, y, classes, optimizer, n_folds=3):
    expr = _runs.expr
    config = selection.full_config({"hidden": [32, 16, 8], "transfer": False, "optimizer": optimizer,
                                    "lr": {"adadelta": 1.0, "sgd": 1e-2}.get(optimizer, 1e-3), "dropout": 0.3,
                                    "weight_decay": 0.0 if optimizer == "adam" else 1e-3, "batch_size": 16})
    arch, cfg = selection.architecture(config), selection.training_config(config)
    splits = inner_fold_indices(y, kind, n_folds, 7)
    built = {}
    for mode in ("sequential", "stacked"):
        nets_, lfs, xs, ts, seeds, states, xv = [], [], [], [], [], [], []
        for k, (tr, va) in enumerate(splits):
            training.set_seed(100 + k)
            prep = training.prepare_network(expr, y.iloc[tr], kind, classes, arch, cfg)
            states.append(torch.get_rng_state())
            nets_.append(prep.network)
            lfs.append(prep.loss_fn)
            xs.append(torch.as_tensor(prep.scaler.transform(expr.loc[y.index[tr]].to_numpy())))
            ts.append(training.y_tensor(prep.y_fit.loc[y.index[tr]].to_numpy(), kind))
            seeds.append(100 + k)
            xv.append(torch.as_tensor(prep.scaler.transform(expr.loc[y.index[va]].to_numpy())))
        runs = training.lockstep_runs(nets_, lfs, xs, ts, cfg, seeds, states, stacked=mode == "stacked")
        built[mode] = (runs, xv)
    return built


@pytest.mark.parametrize("kind,optimizer", [("binary", "adam"), ("binary", "adadelta"), ("binary", "sgd"),
                                            ("multiclass", "adamw"), ("continuous", "adam"),
                                            ("binary", "nadam"), ("multiclass", "adagrad")])
def test_stacked_folds_equal_sequential_folds(kind, optimizer):
    """Folds of unequal size (different batch counts and a short last batch), own class weights,
    own dropout states: per model, the stacked network's losses and outputs are the sequential ones."""
    expr, b, m, c = program_cohort(n=100, g=80)
    _runs.expr = expr
    y, classes = {"binary": (b, ["n", "p"]), "multiclass": (m, list("abcd")), "continuous": (c, [])}[kind]
    if kind == "continuous":
        y = (y - y.mean()) / y.std()
    built = _runs(kind, y, classes, optimizer)
    (seq, xv), (stk, _) = built["sequential"], built["stacked"]
    assert isinstance(seq, training.SequentialRuns) and isinstance(stk, training.StackedRuns)
    if optimizer in ("adadelta", "nadam"):  # no fused kernel: the stacked models step torch's optimiser in blocks
        assert isinstance(stk.optimizer, training.BlockedOptimizer)
    sizes = {len(x) for x in stk.xs}
    assert len(sizes) > 1  # unequal folds
    # BatchNorm over padded batches rounds differently from nn.BatchNorm1d: rounding only. (Adam once
    # needed 3e-2 here: the bias of a BatchNorm-fed Linear, gone since, had a zero gradient whose
    # rounding noise Adam turned into ~lr steps.)
    for epoch in range(6):
        l_seq, l_stk = seq.epoch(), stk.epoch()
        np.testing.assert_allclose(l_stk, l_seq, rtol=2e-4, atol=1e-5, err_msg=f"epoch {epoch + 1}")
        for a, s in zip(seq.outputs(xv), stk.outputs(xv)):
            np.testing.assert_allclose(s, a, rtol=2e-3, atol=2e-4)
    # unstacking gives the trained networks themselves
    for net, o in zip(stk.unstack(), stk.outputs(xv)):
        net.eval()
        with torch.no_grad():
            np.testing.assert_allclose(net(xv[stk.nets.index(net)]).double().numpy(), o, rtol=1e-5, atol=1e-6)


def test_inner_curve_is_the_same_stacked_or_sequential():
    expr, b, _, _ = program_cohort(n=90, g=60)
    config = selection.full_config({"hidden": [16, 8], "transfer": False, "max_epochs": 5, "patience": 5,
                                    "optimizer": "adadelta", "lr": 1.0})
    splits = inner_fold_indices(b, "binary", 3, 3)
    seq = selection._inner_curve(expr, b, "binary", ["n", "p"], config, splits, None, 3, stacked=False)
    stk = selection._inner_curve(expr, b, "binary", ["n", "p"], config, splits, None, 3, stacked=True)
    auto = selection._inner_curve(expr, b, "binary", ["n", "p"], config, splits, None, 3)
    assert seq.shape == (5, 3)
    np.testing.assert_allclose(stk, seq, atol=0.02)  # AUCs on ~30 patients: one swapped pair at most
    np.testing.assert_array_equal(auto, stk)  # a network this small is stacked on a CPU too by default


def test_small_networks_are_stacked_by_default_large_ones_trained_in_turn(monkeypatch):
    expr, b, _, _ = program_cohort(n=60, g=40)
    _runs.expr = expr
    built = _runs("binary", b, ["n", "p"], "adam")
    runs, _ = built["sequential"]
    n_params = sum(p.numel() for p in runs.nets[0].parameters())
    args = (runs.nets, [runs.nets[0]] * 3, [torch.zeros(4, 40)] * 3, [torch.zeros(4)] * 3,
            training.TrainingConfig(), [1, 2, 3], [torch.get_rng_state()] * 3)
    monkeypatch.setattr(training, "STACK_ON_CPU_MAX_PARAMETERS", n_params)
    assert isinstance(training.lockstep_runs(*args), training.StackedRuns)
    monkeypatch.setattr(training, "STACK_ON_CPU_MAX_PARAMETERS", n_params - 1)
    assert isinstance(training.lockstep_runs(*args), training.SequentialRuns)
    monkeypatch.setattr(training, "STACK_ON_CPU_MAX_PARAMETERS", n_params)
    runs.nets[1].frozen_layers = 1  # frozen layers: never stacked
    assert isinstance(training.lockstep_runs(*args), training.SequentialRuns)


def test_blocked_optimizer_checks_the_model_dimension():
    with pytest.raises(ValueError, match="leading model dimension"):
        training.BlockedOptimizer([nn.Parameter(torch.zeros(4, 3))], training.TrainingConfig(), groups=3)


def test_training_benchmark_runs_and_its_fast_routes_follow_the_plain_loop():
    """benchmarks/training.py --quick (seconds): every row printed, loss trajectories and stacked AUC
    curves within rounding of the plain / sequential ones (the timings themselves are not judged)."""
    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, str(repo / "benchmarks" / "training.py"), "--quick",
                           "--optimizers", "adadelta,adam"], capture_output=True, text=True, cwd=repo, timeout=300)
    assert proc.returncode == 0, proc.stderr
    steps = re.findall(r"^  (\S+) +plain .* max loss diff (\S+)$", proc.stdout, re.M)
    assert [name for name, _ in steps] == ["adadelta", "adam"], proc.stdout
    assert all(float(diff) < 1e-4 for _, diff in steps), steps
    folds = re.findall(r"sequential .* stacked .* max \|AUC difference\| over the curve (\S+)$", proc.stdout, re.M)
    assert len(folds) == 1 and float(folds[0]) < 1e-2, proc.stdout


@pytest.mark.parametrize("batched", [False, True])  # True: the GPU route (one bmm), run here on the CPU
def test_stacked_linear_matches_autograd_and_writes_gradients_in_place(batched, monkeypatch):
    monkeypatch.setattr(training, "_batched_products", lambda x: batched)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 5, 7, generator=gen)
    w = nn.Parameter(torch.randn(3, 4, 7, generator=gen))
    b = nn.Parameter(torch.randn(3, 4, generator=gen))
    x_ref, w_ref, b_ref = (t.detach().clone().requires_grad_() for t in (x, w, b))
    x.requires_grad_()
    up = torch.randn(3, 5, 4, generator=gen)
    ref = torch.baddbmm(b_ref.unsqueeze(1), x_ref, w_ref.transpose(1, 2))
    (ref * up).sum().backward()
    for step in range(2):  # the second backward overwrites the persistent gradients, as after zero_grad
        grad_w = w.grad
        x.grad = None
        out = training._StackedLinear.apply(x, w, b)
        torch.testing.assert_close(out, ref)
        (out * up).sum().backward()
        torch.testing.assert_close(w.grad, w_ref.grad)
        torch.testing.assert_close(b.grad, b_ref.grad)
        torch.testing.assert_close(x.grad, x_ref.grad)
        if step:
            assert w.grad is grad_w  # written in place, not reallocated
