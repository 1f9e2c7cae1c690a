"""The published code's training semantics (config/seed.yaml): dropout on the input and after every hidden
layer, Keras' optimiser defaults (NAdam, Adagrad, Adadelta rho 0.95, ...), Keras' BatchNorm and weight
initialisation, and the transfer of the encoder's Dense weights only."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from test_training import program_cohort
from torch import nn

from radiogenomics.cohorts.splits import inner_fold_indices
from radiogenomics.interpret import masking, saliency
from radiogenomics.models import nets, selection, training

SEED_ARCH = {"hidden": [16, 8, 4], "activation": "tanh", "dropout": 0.4, "dropout_placement": "every_layer",
             "batch_norm_momentum": 0.01, "batch_norm_eps": 1e-3, "weight_init": "glorot_uniform",
             "transfer_batch_norm": False}


def _every_layer_net(n_genes=30, n_out=2, p=0.4, seed=0) -> nets.TargetNet:
    torch.manual_seed(seed)
    return nets.build_target_net(n_genes, {**SEED_ARCH, "dropout": p}, n_out)


# --------------------------------------------------------------------------- network structure


def test_every_layer_dropout_network_structure():
    net = _every_layer_net()
    dropouts = [m for m in net.layers() if isinstance(m, nn.Dropout)]
    assert [type(m) for m in net.layers()] == [nets.HostDropout, nn.Sequential, nets.HostDropout, nn.Sequential,
                                               nets.HostDropout, nn.Sequential, nets.HostDropout, nets.Linear]
    assert len(dropouts) == 4 and all(m.p == 0.4 for m in dropouts)  # the input and after each of 3 blocks
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm1d)]
    assert len(bns) == 3 and all(bn.momentum == 0.01 and bn.eps == 1e-3 for bn in bns)
    for lin in (m for m in net.modules() if isinstance(m, nn.Linear)):
        limit = (6.0 / (lin.in_features + lin.out_features)) ** 0.5  # Glorot uniform
        top = float(lin.weight.detach().abs().max())
        assert 0.5 * limit < top <= limit
        assert lin.bias is None or not lin.bias.any()
    # no hidden layer: the head's dropout is the input's, not applied twice
    flat = nets.TargetNet(30, [], 1, dropout=0.3, dropout_placement="every_layer")
    assert sum(isinstance(m, nn.Dropout) for m in flat.layers()) == 1
    with pytest.raises(ValueError, match="dropout_placement"):
        nets.TargetNet(30, [8], 1, dropout_placement="everywhere")


def test_default_network_is_unchanged_by_the_new_options():
    """The default (dropout before the head only) builds the same weights from the same seed and, in training
    mode, draws the same dropout masks as encoder -> dropout -> head did: no extra random numbers."""
    torch.manual_seed(3)
    net = nets.TargetNet(30, [8, 4], 2, dropout=0.5)
    torch.manual_seed(3)
    old = nn.ModuleDict({"encoder": nets.Encoder(30, [8, 4]), "head": nn.Linear(4, 2)})
    for a, b in zip(net.state_dict().values(), old.state_dict().values()):
        assert torch.equal(a, b)
    assert not any(isinstance(m, nn.Dropout) for m in [net.input_dropout, *net.hidden_dropouts])
    x = torch.randn(6, 30)
    net.train()
    old.train()
    torch.manual_seed(9)
    got = net(x)
    torch.manual_seed(9)
    want = old["head"](nn.functional.dropout(old["encoder"](x), 0.5, training=True))
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    assert selection.architecture(selection.full_config({})) == {"hidden": [256, 128, 64], "activation": "tanh",
                                                                 "batch_norm": True, "dropout": 0.3}


def test_every_layer_dropout_draws_each_mask_in_the_published_order():
    """Training mode: the input, then each hidden block's output, then (before the head) the last block's."""
    net = _every_layer_net(p=0.5)
    net.train()
    x = torch.randn(7, 30)
    torch.manual_seed(11)
    got = net(x)
    torch.manual_seed(11)
    h = nn.functional.dropout(x, 0.5, training=True)
    for block in net.encoder:
        h = nn.functional.dropout(block(h), 0.5, training=True)
    torch.testing.assert_close(got, net.head(h), rtol=0, atol=0)


def test_eval_mode_outputs_ignore_every_dropout_layer():
    net = _every_layer_net(p=0.6)
    net.train()
    net(torch.randn(20, 30))  # move the BatchNorm statistics away from their initial values
    net.eval()
    no_dropout = nets.build_target_net(30, {**SEED_ARCH, "dropout": 0.0, "dropout_placement": "head"}, 2)
    no_dropout.load_state_dict(net.state_dict())
    no_dropout.eval()
    x = torch.randn(9, 30)
    with torch.no_grad():
        torch.testing.assert_close(net(x), no_dropout(x), rtol=0, atol=0)
        torch.manual_seed(0)
        a = net(x)
        torch.manual_seed(1)
        torch.testing.assert_close(net(x), a, rtol=0, atol=0)
    net.train()
    with torch.no_grad():
        assert not torch.allclose(net(x), a)  # in training mode the dropout layers act


# --------------------------------------------------------------------------- transfer of the Dense weights only


def test_transfer_without_batch_norm_copies_and_freezes_only_the_dense_weights():
    expr, b, _, _ = program_cohort(n=60, g=30)
    ae, _, _ = training.train_autoencoder(expr, {"hidden": [16, 8, 4]}, training.TrainingConfig(max_epochs=3,
                                                                                                 log_every=0), seed=1)
    net = _every_layer_net()
    fresh_bn = copy.deepcopy(net.encoder[0][1].state_dict())
    net.transfer_encoder(ae.encoder, freeze_layers=2)
    for mine, theirs in zip(net.encoder, ae.encoder):
        assert torch.equal(mine[0].weight, theirs[0].weight)
    for k, v in net.encoder[0][1].state_dict().items():  # BatchNorm starts fresh, as a new Keras layer
        assert torch.equal(v, fresh_bn[k]), k
    assert not torch.equal(net.encoder[0][1].running_var, ae.encoder[0][1].running_var)
    assert [m[0].weight.requires_grad for m in net.encoder] == [False, False, True]
    assert all(p.requires_grad for m in net.encoder for p in m[1].parameters())  # BatchNorm trains
    net.train()
    assert all(m.training for m in net.encoder)  # ... and updates its statistics
    # the default transfer copies and freezes whole blocks (BatchNorm included), as before
    whole = nets.TargetNet(30, [16, 8, 4], 2)
    whole.transfer_encoder(ae.encoder, freeze_layers=1)
    assert torch.equal(whole.encoder[0][1].running_var, ae.encoder[0][1].running_var)
    assert not whole.encoder[0][1].weight.requires_grad
    whole.train()
    assert not whole.encoder[0].training and whole.encoder[1].training


# --------------------------------------------------------------------------- optimisers


def test_keras_optimizer_settings_and_learning_rates():
    assert training.optimizer_options("adadelta", "keras") == {"rho": 0.95, "eps": 1e-7}
    assert training.optimizer_options("adadelta", "torch") == {"rho": 0.9, "eps": 1e-6}
    assert training.optimizer_options("sgd", "keras") == {"momentum": 0.0}
    assert training.optimizer_options("sgd", "torch") == {"momentum": 0.9}
    with pytest.raises(ValueError, match="no keras settings"):
        training.optimizer_options("adamw", "keras")
    cfg = selection.training_config({"optimizer": "nadam", "lr": "keras", "optimizer_settings": "keras"})
    opt = training._optimizer([nn.Parameter(torch.zeros(3))], cfg)
    assert isinstance(opt, torch.optim.NAdam)
    group = opt.param_groups[0]
    assert (group["lr"], group["eps"], group["momentum_decay"]) == (0.002, 1e-7, 0.004)
    lrs = {name: selection.training_config({"optimizer": name, "lr": "keras"}).lr
           for name in ("adam", "sgd", "nadam", "adagrad", "adadelta")}
    assert lrs == {"adam": 0.001, "sgd": 0.01, "nadam": 0.002, "adagrad": 0.01, "adadelta": 1.0}
    opt = training._optimizer([nn.Parameter(torch.zeros(3))],
                              selection.training_config({"optimizer": "adagrad", "lr": "keras",
                                                         "optimizer_settings": "keras"}))
    assert isinstance(opt, torch.optim.Adagrad)
    assert (opt.param_groups[0]["eps"], opt.param_groups[0]["initial_accumulator_value"]) == (1e-7, 0.0)
    for grid, message in [({"optimizer": ["adamw"], "lr": ["keras"]}, "Keras 2.2 does not have"),
                          ({"optimizer": ["adamw"], "optimizer_settings": ["keras"]}, "Keras 2.2 does not have"),
                          ({"lr": ["fast"]}, "'lr' value 'fast' is invalid"),
                          ({"dropout_placement": ["all"]}, "invalid"), ({"batch_norm_momentum": [0.0]}, "invalid"),
                          ({"weight_init": ["he"]}, "invalid"), ({"optimizer_settings": ["tf"]}, "invalid")]:
        with pytest.raises(ValueError, match=message):
            selection.expand_grid(grid)


def _keras_step(name, p, g, state, t):
    """One update of Keras 2.2's optimiser ``name`` at its defaults (keras/optimizers.py), in float64."""
    eps = 1e-7
    if name == "sgd":
        return p - 0.01 * g
    if name == "adagrad":
        state["a"] = state.get("a", 0.0) + g * g
        return p - 0.01 * g / (np.sqrt(state["a"]) + eps)
    if name == "adadelta":
        a, d = state.get("a", 0.0), state.get("d", 0.0)
        a = 0.95 * a + 0.05 * g * g
        update = g * np.sqrt(d + eps) / np.sqrt(a + eps)
        state["a"], state["d"] = a, 0.95 * d + 0.05 * update * update
        return p - 1.0 * update
    if name == "nadam":
        b1, b2, decay = 0.9, 0.999, 0.004
        mc_t = b1 * (1 - 0.5 * 0.96 ** (t * decay))
        mc_t1 = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * decay))
        sched_new = state.get("sched", 1.0) * mc_t
        sched_next = sched_new * mc_t1
        state["sched"] = sched_new
        m = b1 * state.get("m", 0.0) + (1 - b1) * g
        v = b2 * state.get("v", 0.0) + (1 - b2) * g * g
        state["m"], state["v"] = m, v
        m_bar = (1 - mc_t) * g / (1 - sched_new) + mc_t1 * m / (1 - sched_next)
        return p - 0.002 * m_bar / (np.sqrt(v / (1 - b2 ** t)) + eps)
    raise AssertionError(name)


@pytest.mark.parametrize("name", ["sgd", "adagrad", "adadelta", "nadam"])
def test_keras_settings_do_keras_arithmetic(name):
    """torch's SGD, Adagrad, Adadelta and NAdam with the keras settings make Keras 2.2's updates (float64;
    NAdam's momentum schedule rounds its step count through float32, ~1e-9 of an update). Small gradients
    (1e-3) make the epsilons count: torch's eps instead of Keras' 1e-7 moves the updates by 1e-5 or more."""
    rng = np.random.default_rng(0)
    grads = rng.normal(scale=1e-3, size=(30, 50))
    p0 = rng.normal(size=50)
    cfg = selection.training_config({"optimizer": name, "lr": "keras", "optimizer_settings": "keras"})
    param = nn.Parameter(torch.tensor(p0))
    opt = training._optimizer([param], cfg)
    keras_p, state = p0.copy(), {}
    for t, g in enumerate(grads, start=1):
        param.grad = torch.tensor(g)
        opt.step()
        keras_p = _keras_step(name, keras_p, g, state, t)
        # atol: 1e-7 of one step (~lr), for elements whose steps nearly cancel
        np.testing.assert_allclose(param.detach().numpy() - p0, keras_p - p0, rtol=1e-7, atol=1e-7 * cfg.lr,
                                   err_msg=f"step {t}")


def _bce(out, y):
    return nn.functional.binary_cross_entropy_with_logits(out[:, 0], y)


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "nadam", "adagrad", "adadelta"])
def test_fast_step_follows_the_plain_loop_with_keras_settings_and_every_layer_dropout(optimizer):
    cfg = selection.training_config({"optimizer": optimizer, "lr": "keras", "optimizer_settings": "keras"})
    net = _every_layer_net(n_genes=40, n_out=1, p=0.3)
    fast_net = copy.deepcopy(net)
    plain = training.PlainStep(net, _bce, cfg)
    fast = training.FastStep(fast_net, _bce, cfg, block=96)
    expected = {"nadam": training.BlockedOptimizer, "adadelta": training.BlockedOptimizer}
    assert isinstance(fast.optimizer, expected.get(optimizer, training._FusedOptimizer))
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(50, 40, generator=gen)
    y = (torch.rand(50, generator=gen) > 0.5).float()
    net.train()
    fast_net.train()
    l_plain, l_fast = [], []
    for i in range(30):
        idx = torch.arange(10) + 10 * (i % 5)
        torch.manual_seed(i)
        l_plain.append(float(plain(x[idx], y[idx])))
        torch.manual_seed(i)
        l_fast.append(float(fast(x[idx], y[idx])))
    np.testing.assert_allclose(l_fast, l_plain, rtol=1e-5, atol=1e-6)
    for (name, a), b in zip(net.state_dict().items(), fast_net.state_dict().values()):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6, msg=name)


@pytest.mark.parametrize("optimizer", ["nadam", "adagrad"])
def test_nadam_and_adagrad_train_through_fit_network(optimizer):
    """The seed's semantics end to end: every-layer dropout, Keras settings, the encoder's Dense weights
    transferred with the first layer frozen; the network learns (training AUC of the untrained network 0.71,
    0.96 after 15 epochs with either optimiser), the frozen weights stay, the model reloads."""
    expr, b, _, _ = program_cohort(n=120, g=40)
    ae, _, _ = training.train_autoencoder(expr, {"hidden": [16, 8, 4]},
                                          training.TrainingConfig(max_epochs=3, log_every=0), seed=1)
    config = selection.full_config({**SEED_ARCH, "optimizer": optimizer, "lr": "keras", "optimizer_settings": "keras",
                                    "batch_size": 10, "freeze_layers": 1})
    training.set_seed(5)
    untrained = training.prepare_network(expr, b, "binary", ["n", "p"], selection.architecture(config),
                                         selection.training_config(config), encoder=ae.encoder).fitted()
    model = training.fit_network(expr, b, "binary", ["n", "p"], selection.architecture(config),
                                 selection.training_config(config), seed=5, encoder=ae.encoder, epochs=15)
    assert len(model.info["history"]) == 15
    auc = {name: roc_auc_score(b, m.outputs(m.scaled(expr))[:, 0]) for name, m in [("before", untrained),
                                                                                    ("after", model)]}
    assert auc["after"] > 0.9 and auc["after"] > auc["before"] + 0.15, auc
    assert torch.equal(model.network.encoder[0][0].weight, ae.encoder[0][0].weight)
    assert not torch.equal(model.network.encoder[1][0].weight, ae.encoder[1][0].weight)
    out = model.outputs(model.scaled(expr))
    blob = model.to_blob()
    again = nets.FittedModel.from_blob(blob)
    assert again.arch["dropout_placement"] == "every_layer" and again.network.transfer_batch_norm is False
    np.testing.assert_array_equal(again.outputs(again.scaled(expr)), out)


def test_a_model_saved_without_the_new_keys_loads_as_before():
    arch = {"hidden": [8, 4], "activation": "tanh", "batch_norm": True, "dropout": 0.3}
    net = nets.build_target_net(20, arch, 1)
    assert net.dropout_placement == "head" and net.transfer_batch_norm
    assert all(bn.momentum == 0.1 and bn.eps == 1e-5 for bn in net.modules() if isinstance(bn, nn.BatchNorm1d))


# --------------------------------------------------------------------------- stacked folds


@pytest.mark.parametrize("optimizer", ["nadam", "adagrad"])
def test_stacked_folds_equal_sequential_folds_with_every_layer_dropout(optimizer):
    """Each model's input, hidden and head dropout masks come from its own random state in its own
    network's order, so the stacked network trains the same models as one after another."""
    expr, b, _, _ = program_cohort(n=100, g=80)
    config = selection.full_config({**SEED_ARCH, "hidden": [32, 16, 8], "transfer": False, "optimizer": optimizer,
                                    "lr": "keras", "optimizer_settings": "keras", "batch_size": 10})
    arch, cfg = selection.architecture(config), selection.training_config(config)
    splits = inner_fold_indices(b, "binary", 3, 7)
    built = {}
    for mode in ("sequential", "stacked"):
        nets_, lfs, xs, ts, seeds, states, xv = [], [], [], [], [], [], []
        for k, (tr, va) in enumerate(splits):
            training.set_seed(100 + k)
            prep = training.prepare_network(expr, b.iloc[tr], "binary", ["n", "p"], arch, cfg)
            states.append(torch.get_rng_state())
            nets_.append(prep.network)
            lfs.append(prep.loss_fn)
            xs.append(torch.as_tensor(prep.scaler.transform(expr.loc[b.index[tr]].to_numpy())))
            ts.append(training.y_tensor(prep.y_fit.loc[b.index[tr]].to_numpy(), "binary"))
            seeds.append(100 + k)
            xv.append(torch.as_tensor(prep.scaler.transform(expr.loc[b.index[va]].to_numpy())))
        built[mode] = (training.lockstep_runs(nets_, lfs, xs, ts, cfg, seeds, states, stacked=mode == "stacked"), xv)
    (seq, xv), (stk, _) = built["sequential"], built["stacked"]
    assert isinstance(stk, training.StackedRuns) and stk.net.input_p == 0.4 and stk.net.hidden_p == [0.4, 0.4, 0.0]
    for epoch in range(5):
        np.testing.assert_allclose(stk.epoch(), seq.epoch(), rtol=2e-4, atol=1e-5, err_msg=f"epoch {epoch + 1}")
        for a, s in zip(seq.outputs(xv), stk.outputs(xv)):
            np.testing.assert_allclose(s, a, rtol=2e-3, atol=2e-4)


# --------------------------------------------------------------------------- interpretation


def _trained_every_layer_net(n_out=3):
    net = _every_layer_net(n_genes=25, n_out=n_out, p=0.5, seed=4)
    net.train()
    with torch.no_grad():
        for _ in range(5):
            net(torch.randn(16, 25))  # BatchNorm running statistics away from 0 / 1
    net.eval()
    return net


def test_masking_of_an_every_layer_dropout_network_equals_the_naive_computation():
    net = _trained_every_layer_net()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 25)).astype(np.float32)
    sets = [np.array([0, 3, 7]), np.array([5]), np.arange(10, 25), np.array([], dtype=np.int64)]
    assert masking.fold_layers(net) is not None  # the folded engine, BatchNorm folded and dropout skipped
    got = masking.masked_outputs(net, x, sets)
    for s, out in zip(sets, got):
        xm = np.zeros_like(x)
        xm[:, s] = x[:, s]
        with torch.no_grad():
            want = net(torch.from_numpy(xm)).numpy()
        np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)
    single = masking.MaskingEngine(net).single_gene_outputs(x)
    for g in (0, 13, 24):
        xm = np.zeros_like(x)
        xm[:, g] = x[:, g]
        with torch.no_grad():
            np.testing.assert_allclose(single[g], net(torch.from_numpy(xm)).numpy(), rtol=1e-5, atol=1e-6)
    # the unfolded route: first Linear split off, the network's own modules after it
    first, rest = masking.split_first_linear(net)
    with torch.no_grad():
        torch.testing.assert_close(rest(first(torch.from_numpy(x))), net(torch.from_numpy(x)))


def test_saliency_of_an_every_layer_dropout_network_equals_per_patient_gradients():
    net = _trained_every_layer_net()
    x = torch.randn(6, 25)
    net.train()  # saliency switches to eval mode for the call and back
    got = saliency.Saliency(net).attribute_targets(x)
    assert net.training
    net.eval()
    for t in range(3):
        for i in range(len(x)):
            xi = x[i:i + 1].clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(net(xi)[0, t], xi)
            torch.testing.assert_close(got[t, i], grad[0].abs(), rtol=1e-5, atol=1e-7)
