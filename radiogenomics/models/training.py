"""Training: the autoencoder, target networks, cross-validation and the final refit.

No leakage: in each outer fold the gene scaler, the target scaler (continuous
targets), the class weights and early stopping use only the fold's training
part (early stopping on an inner, stratified validation split of it). The
fold being scored is only predicted. Every refit (the model of each outer fold,
and the final model on all patients of the target) trains for exactly the epoch
count that its own inner cross-validation chose (the best epoch of the mean inner
curve, :func:`radiogenomics.models.selection.select_network`); nothing is averaged over
the outer folds.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import random
from dataclasses import dataclass, fields
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from radiogenomics.cohorts.splits import inner_split
from radiogenomics.evaluation import metrics
from radiogenomics.models.nets import (
    Autoencoder,
    Encoder,
    FittedModel,
    Linear,
    Scaler,
    TargetNet,
    build_target_net,
    n_outputs_for,
)

log = logging.getLogger(__name__)


@dataclass
class TrainingConfig:
    lr: float = 1e-3
    batch_size: int = 16
    max_epochs: int = 100
    patience: int = 10
    weight_decay: float = 0.0
    optimizer: str = "adam"
    optimizer_settings: str = "torch"  # "keras": Keras 2.2's defaults of each optimiser (:func:`optimizer_options`)
    class_weight: str | None = "balanced"
    val_fraction: float = 0.2
    transfer: bool = True
    freeze_layers: int = 0
    log_every: int = 10
    fast: bool = True  # the fast training step (:class:`FastStep`); False: the plain torch loop

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "TrainingConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown training settings {sorted(unknown)}; known: {sorted(known)}")
        return cls(**dict(d))


_DEVICE: contextvars.ContextVar[str] = contextvars.ContextVar("radiogenomics_training_device", default="cpu")


@contextlib.contextmanager
def on_device(device: str | torch.device):
    """Train on ``device`` ("cpu", "cuda", "cuda:1") inside the block.

    Networks and their batches move to the device for training and back to the CPU when
    it ends, so fitted models, saved files and predictions are the same objects either way.
    Random draws (initial weights, batch order, dropout masks) stay on the CPU generator,
    so a GPU run trains on the same batches with the same masks as a CPU run and differs
    only by float rounding.
    """
    token = _DEVICE.set(str(torch.device(device)))
    try:
        yield
    finally:
        _DEVICE.reset(token)


def current_device() -> torch.device:
    """The training device set by :func:`on_device` (default: the CPU)."""
    return torch.device(_DEVICE.get())


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def _optimizer(params, cfg: TrainingConfig, fused: bool | None = None,
               foreach: bool | None = None) -> torch.optim.Optimizer:
    """torch's optimiser of ``cfg`` over the trainable ``params``; ``fused``/``foreach`` pick torch's implementation
    (None: torch's default; benchmarks/training.py times each)."""
    return _torch_optimizer([p for p in params if p.requires_grad], cfg, fused, foreach)


#: Optimisers with a fused (one pass over the weights) torch kernel, used by :class:`FastStep`
#: (Adagrad's fused kernel is CPU-only: on a GPU it steps with torch's default, foreach, implementation).
FUSED_OPTIMIZERS = ("adam", "adamw", "sgd", "adagrad")
OPTIMIZER_NAMES = ("adam", "adamw", "sgd", "adadelta", "nadam", "adagrad")
OPTIMIZER_SETTINGS = ("torch", "keras")

#: The settings besides lr and weight decay. "torch": this workflow's (torch's defaults, SGD with momentum
#: 0.9, Adadelta rho 0.9 / eps 1e-6). "keras": the defaults of Keras 2.2 (the published code, which built every
#: optimiser with its defaults; epsilon = K.epsilon() = 1e-7, SGD without momentum, Adadelta rho 0.95, Adagrad
#: accumulators from 0, Nadam schedule_decay 0.004 = torch's momentum_decay). torch's Adagrad, Adadelta, NAdam
#: and SGD then do Keras' arithmetic; Adam adds eps after the bias correction (Keras before), so eps matches
#: Keras' only as the step count grows. Keras 2.2 has no AdamW.
_OPTIMIZER_OPTIONS: dict[str, dict[str, dict[str, Any]]] = {
    "torch": {"adam": {}, "adamw": {}, "sgd": {"momentum": 0.9}, "adadelta": {"rho": 0.9, "eps": 1e-6},
              "nadam": {}, "adagrad": {}},
    "keras": {"adam": {"eps": 1e-7}, "sgd": {"momentum": 0.0}, "adadelta": {"rho": 0.95, "eps": 1e-7},
              "nadam": {"eps": 1e-7, "momentum_decay": 0.004},
              "adagrad": {"eps": 1e-7, "initial_accumulator_value": 0.0}},
}


def optimizer_options(name: str, settings: str = "torch") -> dict[str, Any]:
    """The keyword arguments (besides lr and weight decay) of optimiser ``name`` under ``settings``."""
    if settings not in _OPTIMIZER_OPTIONS:
        raise ValueError(f"unknown optimizer_settings {settings!r}; expected one of {list(OPTIMIZER_SETTINGS)}")
    name = name.lower()
    if name not in OPTIMIZER_NAMES:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {list(OPTIMIZER_NAMES)}")
    if name not in _OPTIMIZER_OPTIONS[settings]:
        raise ValueError(f"optimizer {name!r} has no {settings} settings (Keras 2.2 has no AdamW)")
    return dict(_OPTIMIZER_OPTIONS[settings][name])


def _torch_optimizer(params, cfg: TrainingConfig, fused: bool | None = None,
                     foreach: bool | None = None) -> torch.optim.Optimizer:
    name = cfg.optimizer.lower()
    kw = {"lr": cfg.lr, "weight_decay": cfg.weight_decay, "foreach": foreach,
          **optimizer_options(name, cfg.optimizer_settings)}
    if name == "adam":
        return torch.optim.Adam(params, fused=fused, **kw)
    if name == "adamw":
        return torch.optim.AdamW(params, fused=fused, **kw)
    if name == "sgd":
        return torch.optim.SGD(params, fused=fused, **kw)
    if name == "adagrad":
        return torch.optim.Adagrad(params, fused=fused, **kw)
    if name == "nadam":
        return torch.optim.NAdam(params, **kw)
    return torch.optim.Adadelta(params, **kw)


def _batches(n: int, batch_size: int, gen: torch.Generator) -> list[torch.Tensor]:
    perm = torch.randperm(n, generator=gen)
    chunks = list(torch.split(perm, batch_size))
    # BatchNorm cannot train on a batch of one: fold a single leftover into the previous batch.
    if len(chunks) > 1 and len(chunks[-1]) == 1:
        chunks[-2] = torch.cat([chunks[-2], chunks[-1]])
        chunks.pop()
    return chunks


#: Elements per block of the blocked optimiser update (1 MiB of float32 per tensor): the
#: optimiser's several elementwise passes run over one block while it is in cache.
OPTIMIZER_BLOCK = 1 << 18


class _InPlaceGradOptimizer:
    """``zero_grad`` that keeps the in-place gradients of the linear layers (:class:`FastStep`)."""

    params: list[torch.Tensor]

    def zero_grad(self) -> None:
        for p in self.params:
            if not getattr(p, "_grad_in_place", False):
                p.grad = None


def _grouped_ranges(params, groups: int | None, block: int):
    """``(parameter, group, start, stop)`` ranges of the flattened parameters, at most ``block``
    elements each; with ``groups`` the leading dimension indexes independent models (a stacked
    network) and a range never straddles two models."""
    for p in params:
        if not p.is_contiguous():
            raise ValueError("the fast optimisers need contiguous parameters")
        if groups is not None and (p.dim() == 0 or p.shape[0] != groups):
            raise ValueError(f"stacked parameter of shape {tuple(p.shape)} lacks the leading model dimension {groups}")
        n_groups = groups or 1
        per = p.numel() // n_groups
        for g in range(n_groups):
            for a in range(g * per, (g + 1) * per, block):
                yield p, g, a, min(a + block, (g + 1) * per)


class BlockedOptimizer(_InPlaceGradOptimizer):
    """A torch optimiser stepped block by block over contiguous slices of the parameters.

    torch's CPU optimisers (``foreach=False``, the CPU default) run each update as several
    whole-tensor passes (Adadelta: about ten) and allocate whole-tensor temporaries; at the
    study's size that is memory traffic over 58 M weights several times per step. Here the
    same optimiser class, with the same settings, is built over leaf views of the parameters
    in blocks of :data:`OPTIMIZER_BLOCK` elements: the same elementwise arithmetic, applied
    to a block while it sits in cache. The state (moments, step counts) is per block, and
    identical to the whole-tensor state because every update is elementwise, so the weights are
    torch's to the bit; at the study's size the Adadelta update is about 2.8x faster than torch's
    for-loop or ``foreach=True`` (benchmarks/README.md, "Training speed layer").
    """

    def __init__(self, params, cfg: "TrainingConfig", block: int = OPTIMIZER_BLOCK, groups: int | None = None,
                 fused: bool = False):
        if fused:  # torch's fused kernel already makes one pass: one view per model, no blocks
            block = 1 << 62
        self.params = [p for p in params if p.requires_grad]
        # (parameter, group, start, stop, leaf view)
        self._views = [(p, g, a, b, p.detach().view(-1)[a:b])
                       for p, g, a, b in _grouped_ranges(self.params, groups, block)]
        self.optimizer = _torch_optimizer([v[-1] for v in self._views], cfg, fused=True if fused else None)

    def step(self, active: Sequence[bool] | None = None) -> None:
        """Update every parameter with a gradient; with ``active`` (stacked models) only those models."""
        last, flat_grad = None, None
        for p, g, a, b, view in self._views:
            if p is not last:
                last = p
                flat_grad = None if p.grad is None else p.grad.view(-1)
            skip = flat_grad is None or (active is not None and not active[g])
            view.grad = None if skip else flat_grad[a:b]
        self.optimizer.step()


class _FusedOptimizer(_InPlaceGradOptimizer):
    """A torch optimiser whose ``zero_grad`` keeps the in-place gradients of the linear layers."""

    def __init__(self, optimizer: torch.optim.Optimizer):
        self.optimizer = optimizer
        self.params = [p for group in optimizer.param_groups for p in group["params"]]

    def step(self) -> None:
        self.optimizer.step()


def fast_optimizer(params, cfg: "TrainingConfig", block: int = OPTIMIZER_BLOCK, groups: int | None = None):
    """The optimiser of :class:`FastStep` and of stacked networks: torch's fused kernel (Adam, AdamW,
    SGD; Adagrad on the CPU), else the torch optimiser (Adadelta, NAdam: no fused kernel; Adagrad on a
    GPU) stepped in cache-sized blocks (:class:`BlockedOptimizer`)."""
    params = [p for p in params if p.requires_grad]
    name = cfg.optimizer.lower()
    on_cpu = all(p.device.type == "cpu" for p in params)
    if name in FUSED_OPTIMIZERS and (name != "adagrad" or on_cpu):
        if groups is None:
            return _FusedOptimizer(_torch_optimizer(params, cfg, fused=True))
        return BlockedOptimizer(params, cfg, groups=groups, fused=True)
    return BlockedOptimizer(params, cfg, block, groups=groups)


class PlainStep:
    """One training step of the plain torch loop: zero_grad, forward, backward, optimiser step."""

    def __init__(self, model: nn.Module, loss_fn, cfg: "TrainingConfig"):
        self.model, self.loss_fn = model, loss_fn
        self.optimizer = _optimizer(model.parameters(), cfg)

    def __call__(self, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.model(xb), yb)
        loss.backward()
        self.optimizer.step()
        return loss.detach()


class FastStep(PlainStep):
    """The same step, fast: the linear layers (:class:`radiogenomics.models.nets.Linear`) write their
    gradients in place into persistent ``.grad`` tensors (no per-step 193 MB allocations at the
    study's size), no gradient is computed for the input, and the optimiser update is torch's
    fused CPU kernel, one pass over the weights (Adam, AdamW, SGD: ``fused=True``), or, for
    Adadelta and NAdam, which have none, the torch optimiser stepped in cache-sized blocks
    (:class:`BlockedOptimizer`); see :func:`fast_optimizer`.
    The loss trajectories agree with :class:`PlainStep` to float rounding (tests/unit/test_fast_training.py).
    """

    def __init__(self, model: nn.Module, loss_fn, cfg: "TrainingConfig", block: int = OPTIMIZER_BLOCK):
        self.model, self.loss_fn = model, loss_fn
        for m in model.modules():
            if isinstance(m, Linear):
                m.persistent_grad = True
                for p in (m.weight, m.bias):
                    if p is not None and p.requires_grad:
                        p._grad_in_place = True
        self.optimizer = fast_optimizer(model.parameters(), cfg, block)

    def __call__(self, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(xb.detach()), yb)
        loss.backward()
        self.optimizer.step()
        return loss.detach()


def make_step(model: nn.Module, loss_fn, cfg: "TrainingConfig") -> PlainStep:
    """The training step of ``cfg``: :class:`FastStep` (default) or :class:`PlainStep` (``fast: false``)."""
    return (FastStep if cfg.fast else PlainStep)(model, loss_fn, cfg)


def epoch_steps(model: nn.Module, loss_fn, x_tr: torch.Tensor, y_tr: torch.Tensor, cfg: TrainingConfig,
                seed: int) -> Iterator[float]:
    """Endless mini-batch training, one epoch per ``next()``: yields the epoch's mean training loss.

    The batch order comes from a generator seeded with ``seed``; the
    optimizer is built once. The model is left in training mode; callers
    that evaluate between epochs switch it to ``eval()`` themselves (the next
    epoch switches it back). :func:`_train_loop` and the per-epoch model
    selection of :mod:`radiogenomics.models.selection` both train through this.
    """
    gen = torch.Generator().manual_seed(seed)
    step = make_step(model, loss_fn, cfg)
    while True:
        model.train()
        total, count = 0.0, 0
        for idx in _batches(len(x_tr), cfg.batch_size, gen):
            idx = idx.to(x_tr.device)
            loss = step(x_tr[idx], y_tr[idx])
            total += float(loss) * len(idx)
            count += len(idx)
        yield total / max(count, 1)


# --------------------------------------------------------------------------- models trained in lockstep

#: Stack the K fold models of one configuration on a CPU too when each has at most this many
#: parameters (on a GPU they are always stacked). Measured on 2 CPU cores (benchmarks/training.py,
#: 3 models, 180 patients): 2000 genes -> 256-128-64 (0.55 M) stacked 1.14-1.24x faster than
#: sequential fast steps; 5000 -> 256-128-64 (1.3 M) 1.06x; 12042 -> 256-128-64 (3.1 M) 0.99x;
#: 5000 -> 1000-500-250 (5.6 M) 0.86x (the stacked optimiser step and padding cost more than the
#: saved per-model overhead once the products dominate).
STACK_ON_CPU_MAX_PARAMETERS = 1_500_000


class SequentialRuns:
    """K target networks trained in lockstep, one after another within each epoch.

    Each model draws its dropout masks from its own random state (``rng_states``, the global
    CPU generator's state right after the model was built), so each trains exactly as if it
    were trained alone, whatever the order: :class:`StackedRuns` gives the same models.
    """

    def __init__(self, nets: Sequence[TargetNet], loss_fns: Sequence, xs: Sequence[torch.Tensor],
                 ys: Sequence[torch.Tensor], cfg: TrainingConfig, seeds: Sequence[int],
                 rng_states: Sequence[torch.Tensor]):
        dev = current_device()
        self.nets = [n.to(dev) for n in nets]
        xs, ys = [x.to(dev) for x in xs], [y.to(dev) for y in ys]
        self.states = [s.clone() for s in rng_states]
        self.steps = [epoch_steps(n, lf, x, y, cfg, s) for n, lf, x, y, s in zip(nets, loss_fns, xs, ys, seeds)]

    def epoch(self) -> list[float]:
        """Train every model for one epoch; their mean training losses."""
        losses = []
        outer = torch.get_rng_state()
        for k, steps in enumerate(self.steps):
            torch.set_rng_state(self.states[k])
            losses.append(next(steps))
            self.states[k] = torch.get_rng_state()
        torch.set_rng_state(outer)
        return losses

    @torch.no_grad()
    def outputs(self, xs: Sequence[torch.Tensor]) -> list[np.ndarray]:
        """Raw outputs (eval mode) of model k for input ``xs[k]``."""
        out = []
        for net, x in zip(self.nets, xs):
            net.eval()
            out.append(net(x.to(current_device())).double().cpu().numpy())
        return out

    def finish(self) -> list[TargetNet]:
        """The K trained networks, back on the CPU."""
        return [n.cpu() for n in self.nets]


def _batched_products(x: torch.Tensor) -> bool:
    """Whether :class:`_StackedLinear` makes one batched product (GPUs) or one product per model
    (CPUs: measured faster there than ``bmm`` for the stacked layers' shapes)."""
    return x.device.type != "cpu"


class _StackedLinear(torch.autograd.Function):
    """``baddbmm(bias, x, weightᵀ)`` for stacked weights (models × out × in) whose backward writes
    the weight gradient in the weight's own layout (``gradᵀ @ x``) into its existing ``.grad``
    (``out=``; parameters marked ``_grad_in_place``, kept by the optimiser's ``zero_grad``), as
    :class:`radiogenomics.models.nets.Linear` does for one network. Autograd's own backward makes
    ``xᵀ @ grad`` (models × in × out), a transposing copy and a fresh gradient per step, which
    made a stacked step slower than K sequential fast steps on the CPU. No gradient is computed
    for an input that does not need one (the first layer's). Overwrites, not accumulates."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x)
        ctx.params = (weight, bias)
        if _batched_products(x):
            if bias is None:
                return torch.bmm(x, weight.transpose(1, 2))
            return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))
        out = x.new_empty(x.shape[0], x.shape[1], weight.shape[1])
        for k in range(x.shape[0]):
            if bias is None:
                torch.mm(x[k], weight[k].t(), out=out[k])
            else:
                torch.addmm(bias[k], x[k], weight[k].t(), out=out[k])
        return out

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        weight, bias = ctx.params
        grad_x = torch.bmm(grad_out, weight) if ctx.needs_input_grad[0] else None
        if ctx.needs_input_grad[1]:
            if weight.grad is None:
                weight.grad = torch.empty_like(weight)
            if _batched_products(x):
                torch.bmm(grad_out.transpose(1, 2), x, out=weight.grad)
            else:
                for k in range(x.shape[0]):
                    torch.mm(grad_out[k].t(), x[k], out=weight.grad[k])
        if bias is not None and ctx.needs_input_grad[2]:
            if bias.grad is None:
                bias.grad = grad_out.sum(1)
            else:
                torch.sum(grad_out, 1, out=bias.grad)
        return grad_x, None, None


class StackedTargetNet(nn.Module):
    """K target networks of one architecture as one network (parameters with a leading model
    dimension, batched matrix products), each model with its own batch of its own patients.

    Batches of different sizes are zero-padded; BatchNorm statistics, losses and gradients use
    each model's own rows only. A model without a batch in a step (its epoch has ended) is
    left untouched: no BatchNorm update, no dropout draw, no optimiser step. Dropout is applied
    where the networks have it (before the head; with ``dropout_placement: every_layer`` also on the
    input and after every hidden block), each model's masks drawn in its own network's order.
    """

    def __init__(self, nets: Sequence[TargetNet]):
        super().__init__()
        nets = list(nets)
        self.k = len(nets)
        first = nets[0]
        self.blocks: list[dict] = []
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.gammas = nn.ParameterList()
        self.betas = nn.ParameterList()
        for i, block in enumerate(first.encoder):
            lin = block[0]
            bn = block[1] if isinstance(block[1], nn.BatchNorm1d) else None
            self.weights.append(nn.Parameter(torch.stack([n.encoder[i][0].weight.detach() for n in nets]).contiguous()))
            info = {"act": block[-1], "bn": None, "bias": None}
            if lin.bias is not None:  # a Linear feeding a BatchNorm has none (nets.mlp_block)
                self.biases.append(nn.Parameter(
                    torch.stack([n.encoder[i][0].bias.detach() for n in nets]).contiguous()))
                info["bias"] = len(self.biases) - 1
            if bn is not None:
                self.gammas.append(nn.Parameter(torch.stack([n.encoder[i][1].weight.detach() for n in nets])))
                self.betas.append(nn.Parameter(torch.stack([n.encoder[i][1].bias.detach() for n in nets])))
                self.register_buffer(f"running_mean_{i}", torch.stack([n.encoder[i][1].running_mean for n in nets]))
                self.register_buffer(f"running_var_{i}", torch.stack([n.encoder[i][1].running_var for n in nets]))
                info["bn"] = (len(self.gammas) - 1, bn.eps, bn.momentum)
            self.blocks.append(info)
        self.head_weight = nn.Parameter(torch.stack([n.head.weight.detach() for n in nets]).contiguous())
        self.head_bias = nn.Parameter(torch.stack([n.head.bias.detach() for n in nets]).contiguous())
        self.p = float(first.dropout.p)

        def rate(module: nn.Module) -> float:
            return float(module.p) if isinstance(module, nn.Dropout) else 0.0

        self.input_p = rate(first.input_dropout)
        self.hidden_p = [rate(first.hidden_dropouts[i]) if i < len(first.hidden_dropouts) else 0.0
                         for i in range(len(self.blocks))]

    def _dropout(self, h: torch.Tensor, p: float, sizes: Sequence[int], active: Sequence[bool],
                 rng_states: list[torch.Tensor] | None) -> torch.Tensor:
        """Dropout at rate ``p`` in training mode: model k's mask drawn from ``rng_states[k]`` (advanced in
        place), as its own ``nn.Dropout`` would draw it for its batch; padding rows are zeroed."""
        if not self.training or p == 0:
            return h
        keep = h.new_zeros(h.shape)
        outer = torch.get_rng_state()
        for k, size in enumerate(sizes):
            if active[k]:
                torch.set_rng_state(rng_states[k])
                keep[k, :size] = torch.empty(size, h.shape[2]).bernoulli_(1 - p).div_(1 - p).to(h.device)
                rng_states[k] = torch.get_rng_state()
        torch.set_rng_state(outer)
        return h * keep

    def forward(self, xs: Sequence[torch.Tensor | None], rng_states: list[torch.Tensor] | None = None
                ) -> list[torch.Tensor | None]:
        """Outputs of model k for ``xs[k]`` (None: model k sits this step out). In training mode
        ``rng_states[k]`` is model k's random state for its dropout masks (advanced in place)."""
        active = [x is not None for x in xs]
        sizes = [0 if x is None else len(x) for x in xs]
        b = max(sizes)
        ref = next(x for x in xs if x is not None)
        h = ref.new_zeros(self.k, b, ref.shape[1])
        mask = ref.new_zeros(self.k, b, 1)
        for k, x in enumerate(xs):
            if x is not None:
                h[k, :len(x)] = x
                mask[k, :len(x)] = 1.0
            else:
                mask[k] = 1.0  # placeholder rows keep its (unused) statistics finite
        n = mask.sum(1, keepdim=True)
        act_rows = torch.tensor(active, device=h.device).view(self.k, 1)
        h = self._dropout(h, self.input_p, sizes, active, rng_states)
        for i, info in enumerate(self.blocks):
            h = _StackedLinear.apply(h, self.weights[i], None if info["bias"] is None else self.biases[info["bias"]])
            if info["bn"] is not None:
                j, eps, momentum = info["bn"]
                rm, rv = getattr(self, f"running_mean_{i}"), getattr(self, f"running_var_{i}")
                if self.training:
                    mean = (h * mask).sum(1, keepdim=True) / n
                    d = (h - mean) * mask
                    var = (d * d).sum(1, keepdim=True) / n
                    with torch.no_grad():
                        unbiased = var * n / (n - 1).clamp(min=1)
                        rm.copy_(torch.where(act_rows, (1 - momentum) * rm + momentum * mean[:, 0], rm))
                        rv.copy_(torch.where(act_rows, (1 - momentum) * rv + momentum * unbiased[:, 0], rv))
                else:
                    mean, var = rm.unsqueeze(1), rv.unsqueeze(1)
                h = (h - mean) * torch.rsqrt(var + eps) * self.gammas[j].unsqueeze(1) + self.betas[j].unsqueeze(1)
            h = self._dropout(info["act"](h), self.hidden_p[i], sizes, active, rng_states)
        h = self._dropout(h, self.p, sizes, active, rng_states)
        out = _StackedLinear.apply(h, self.head_weight, self.head_bias)
        return [out[k, :sizes[k]] if active[k] else None for k in range(self.k)]

    @torch.no_grad()
    def unstack(self, nets: Sequence[TargetNet]) -> None:
        """Copy model k's parameters and BatchNorm statistics into ``nets[k]``."""
        for k, net in enumerate(nets):
            for i, info in enumerate(self.blocks):
                net.encoder[i][0].weight.copy_(self.weights[i][k])
                if info["bias"] is not None:
                    net.encoder[i][0].bias.copy_(self.biases[info["bias"]][k])
                if info["bn"] is not None:
                    j = info["bn"][0]
                    bn = net.encoder[i][1]
                    bn.weight.copy_(self.gammas[j][k])
                    bn.bias.copy_(self.betas[j][k])
                    bn.running_mean.copy_(getattr(self, f"running_mean_{i}")[k])
                    bn.running_var.copy_(getattr(self, f"running_var_{i}")[k])
            net.head.weight.copy_(self.head_weight[k])
            net.head.bias.copy_(self.head_bias[k])


class StackedRuns:
    """K target networks of one configuration trained as one :class:`StackedTargetNet`.

    Same interface and, to float rounding, the same models as :class:`SequentialRuns`: each
    model keeps its own batch order (``seeds``), dropout random state, loss (its own class
    weights) and optimiser state; a model whose epoch has fewer batches idles for the rest.
    """

    def __init__(self, nets: Sequence[TargetNet], loss_fns: Sequence, xs: Sequence[torch.Tensor],
                 ys: Sequence[torch.Tensor], cfg: TrainingConfig, seeds: Sequence[int],
                 rng_states: Sequence[torch.Tensor]):
        if any(getattr(n, "frozen_layers", 0) for n in nets):
            raise ValueError("stacked training does not support frozen layers; use SequentialRuns")
        dev = current_device()
        self.nets = list(nets)
        self.net = StackedTargetNet(nets).to(dev)
        for p in (*self.net.weights, *self.net.biases, self.net.head_weight, self.net.head_bias):
            p._grad_in_place = True  # written in place by _StackedLinear's backward
        self.loss_fns, self.cfg = list(loss_fns), cfg
        self.xs, self.ys = [x.to(dev) for x in xs], [y.to(dev) for y in ys]
        self.gens = [torch.Generator().manual_seed(s) for s in seeds]
        self.states = [s.clone() for s in rng_states]
        # the optimiser arithmetic of FastStep (fast) or of the plain torch loop, so as SequentialRuns
        self.optimizer = (fast_optimizer if cfg.fast else BlockedOptimizer)(self.net.parameters(), cfg,
                                                                            groups=len(nets))

    def epoch(self) -> list[float]:
        self.net.train()
        k_models = len(self.nets)
        batches = [_batches(len(x), self.cfg.batch_size, g) for x, g in zip(self.xs, self.gens)]
        totals, counts = [0.0] * k_models, [0] * k_models
        for s in range(max(len(b) for b in batches)):
            idx = [b[s].to(x.device) if s < len(b) else None for b, x in zip(batches, self.xs)]
            active = [i is not None for i in idx]
            self.optimizer.zero_grad()
            outs = self.net([None if i is None else x[i] for x, i in zip(self.xs, idx)], self.states)
            losses = [None if i is None else lf(o, y[i]) for lf, o, y, i in zip(self.loss_fns, outs, self.ys, idx)]
            sum(loss for loss in losses if loss is not None).backward()
            self.optimizer.step(active)
            for k, (loss, i) in enumerate(zip(losses, idx)):
                if loss is not None:
                    totals[k] += float(loss.detach()) * len(i)
                    counts[k] += len(i)
        return [t / max(c, 1) for t, c in zip(totals, counts)]

    @torch.no_grad()
    def outputs(self, xs: Sequence[torch.Tensor]) -> list[np.ndarray]:
        self.net.eval()
        dev = current_device()
        return [o.double().cpu().numpy() for o in self.net([x.to(dev) for x in xs])]

    def unstack(self) -> list[TargetNet]:
        """The K trained networks (their parameters overwritten with the stacked ones), on the CPU."""
        self.net.cpu().unstack(self.nets)
        return self.nets

    finish = unstack


def lockstep_runs(nets: Sequence[TargetNet], loss_fns: Sequence, xs: Sequence[torch.Tensor],
                  ys: Sequence[torch.Tensor], cfg: TrainingConfig, seeds: Sequence[int],
                  rng_states: Sequence[torch.Tensor], *, stacked: bool | None = None
                  ) -> SequentialRuns | StackedRuns:
    """Train K networks of one configuration in lockstep: :class:`StackedRuns` when ``stacked``
    (default: on a GPU, or on the CPU for networks of at most :data:`STACK_ON_CPU_MAX_PARAMETERS`
    parameters, and no frozen layers), else :class:`SequentialRuns`."""
    if stacked is None:
        on_gpu = current_device().type != "cpu"
        frozen = any(getattr(n, "frozen_layers", 0) for n in nets)
        small = sum(p.numel() for p in nets[0].parameters()) <= STACK_ON_CPU_MAX_PARAMETERS
        stacked = len(nets) > 1 and not frozen and (on_gpu or small)
    runs = StackedRuns if stacked else SequentialRuns
    return runs(nets, loss_fns, xs, ys, cfg, seeds, rng_states)


def _train_loop(model: nn.Module, loss_fn, x_tr: torch.Tensor, y_tr: torch.Tensor, cfg: TrainingConfig, seed: int,
                x_va: torch.Tensor | None = None, y_va: torch.Tensor | None = None,
                epochs: int | None = None, label: str = "") -> dict[str, Any]:
    """Mini-batch training; early stopping on the validation loss when a validation set is given.

    Returns the history and the best epoch (1-based); the model is left with the best weights,
    on the CPU (it trains on :func:`current_device`).
    """
    dev = current_device()
    model.to(dev)
    x_tr, y_tr = x_tr.to(dev), y_tr.to(dev)
    if x_va is not None:
        x_va, y_va = x_va.to(dev), y_va.to(dev)
    steps = epoch_steps(model, loss_fn, x_tr, y_tr, cfg, seed)
    max_epochs = epochs if epochs is not None else cfg.max_epochs
    history: list[dict[str, float]] = []
    best = (math.inf, 0, None)
    since_best = 0
    for epoch in range(1, max_epochs + 1):
        row = {"epoch": epoch, "train_loss": next(steps)}
        if x_va is not None:
            model.eval()
            with torch.no_grad():
                row["val_loss"] = float(loss_fn(model(x_va), y_va))
            if row["val_loss"] < best[0] - 1e-7:
                best = (row["val_loss"], epoch, {k: v.detach().clone() for k, v in model.state_dict().items()})
                since_best = 0
            else:
                since_best += 1
        history.append(row)
        if cfg.log_every and (epoch % cfg.log_every == 0 or epoch == 1):
            log.info("%s epoch %d: train loss %.4f%s", label, epoch, row["train_loss"],
                     f", val loss {row['val_loss']:.4f}" if "val_loss" in row else "")
        if x_va is not None and since_best >= cfg.patience:
            log.info("%s early stop at epoch %d (best %d, val loss %.4f)", label, epoch, best[1], best[0])
            break
    if x_va is not None and best[2] is not None:
        model.load_state_dict(best[2])
        best_epoch = best[1]
    else:
        best_epoch = len(history)
    model.cpu().eval()
    return {"history": history, "best_epoch": best_epoch}


def train_autoencoder(expression: pd.DataFrame, arch: Mapping[str, Any], cfg: TrainingConfig, seed: int
                      ) -> tuple[Autoencoder, Scaler, dict[str, Any]]:
    """Train the gene-expression autoencoder (MAE loss) with early stopping on a random validation split."""
    set_seed(seed)
    x_all = expression.to_numpy(dtype=np.float32)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x_all))
    n_val = max(1, int(round(cfg.val_fraction * len(x_all)))) if len(x_all) >= 10 else 0
    va, tr = order[:n_val], order[n_val:]
    scaler = Scaler.fit(x_all[tr])
    x = torch.as_tensor(scaler.transform(x_all))
    model = Autoencoder(x.shape[1], arch["hidden"], arch.get("activation", "tanh"), arch.get("batch_norm", True))
    res = _train_loop(model, nn.L1Loss(), x[tr], x[tr], cfg, seed,
                      x_va=x[va] if n_val else None, y_va=x[va] if n_val else None, label="autoencoder")
    log.info("autoencoder: %d training / %d validation patients, best epoch %d", len(tr), n_val, res["best_epoch"])
    model.encoder.pretrained_scaler = scaler  # a network transferring the encoder scales its input the same way
    return model, scaler, res


def save_autoencoder(model: Autoencoder, scaler: Scaler, genes: list[str], arch: Mapping[str, Any],
                     info: Mapping[str, Any], path: str) -> None:
    """Save the autoencoder atomically as tensors and plain types (:func:`nets.save_torch`: same model, same bytes)."""
    from radiogenomics.models.nets import save_torch

    save_torch({"state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                "genes": [str(g) for g in genes], "arch": dict(arch), "scaler_mean": scaler.mean,
                "scaler_scale": scaler.scale, "info": dict(info)}, path)


def load_encoder(path: str) -> tuple[Encoder, list[str], dict]:
    from radiogenomics.models.nets import load_torch

    blob = load_torch(path)  # torch.load(weights_only=True)
    arch = blob["arch"]
    model = Autoencoder(len(blob["genes"]), arch["hidden"], arch.get("activation", "tanh"),
                        arch.get("batch_norm", True))
    model.load_state_dict(blob["state_dict"])
    # the patients the autoencoder was trained on (radiogenomics.models.selection checks them against each test fold)
    patients = blob.get("info", {}).get("patients")
    model.encoder.pretrained_patients = None if patients is None else [str(p) for p in patients]
    # the input scaling the encoder was trained under: a network transferring it scales its input the same way
    model.encoder.pretrained_scaler = Scaler(np.asarray(blob["scaler_mean"], dtype=np.float32),
                                             np.asarray(blob["scaler_scale"], dtype=np.float32))
    return model.encoder, list(blob["genes"]), arch


def _on(t: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor | None:
    """``t`` (a loss weight) on the device of ``like``; a no-op on the same device."""
    return None if t is None else t.to(like.device)


def _loss_fn(target_type: str, y_train: np.ndarray, n_outputs: int, class_weight: str | None):
    if target_type == "binary":
        pos = float((y_train == 1).sum())
        neg = float((y_train == 0).sum())
        pos_weight = torch.tensor([neg / pos]) if class_weight == "balanced" and pos > 0 else None
        return lambda out, y: F.binary_cross_entropy_with_logits(out[:, 0], y, pos_weight=_on(pos_weight, out))
    if target_type == "multiclass":
        weight = None
        if class_weight == "balanced":
            counts = np.bincount(y_train.astype(int), minlength=n_outputs).astype(np.float32)
            weight = torch.as_tensor(len(y_train) / (n_outputs * np.maximum(counts, 1)))
        return lambda out, y: F.cross_entropy(out, y, weight=_on(weight, out))
    mse = nn.MSELoss()
    return lambda out, y: mse(out[:, 0], y)


def _y_tensor(y: np.ndarray, target_type: str) -> torch.Tensor:
    if target_type == "multiclass":
        return torch.as_tensor(y, dtype=torch.long)
    return torch.as_tensor(y, dtype=torch.float32)


def fit_network(expression: pd.DataFrame, y: pd.Series, target_type: str, classes: list[str], arch: Mapping[str, Any],
                cfg: TrainingConfig, seed: int, *, encoder: Encoder | None = None, epochs: int | None = None,
                target: str = "", label: str = "") -> FittedModel:
    """Fit one target network on the given patients.

    With ``epochs=None`` an inner stratified validation split of these
    patients drives early stopping; otherwise exactly ``epochs`` epochs are
    run on all of them. Scalers and class weights come from these patients only.
    """
    set_seed(seed)
    y = y.sort_index()
    patients = y.index
    if epochs is None:
        tr_idx, va_idx = inner_split(y, target_type, cfg.val_fraction, seed)
    else:
        tr_idx, va_idx = patients, pd.Index([])
    prep = prepare_network(expression, y, target_type, classes, arch, cfg, encoder=encoder, loss_patients=tr_idx)
    net, scaler, y_fit = prep.network, prep.scaler, prep.y_fit
    x_tr = torch.as_tensor(scaler.transform(expression.loc[tr_idx].to_numpy()))
    y_tr = _y_tensor(y_fit.loc[tr_idx].to_numpy(), target_type)
    kwargs = {}
    if len(va_idx):
        kwargs = {"x_va": torch.as_tensor(scaler.transform(expression.loc[va_idx].to_numpy())),
                  "y_va": _y_tensor(y_fit.loc[va_idx].to_numpy(), target_type)}
    res = _train_loop(net, prep.loss_fn, x_tr, y_tr, cfg, seed, epochs=epochs, label=label or target, **kwargs)
    info = {"best_epoch": res["best_epoch"], "n_train": len(tr_idx), "n_val": len(va_idx), "history": res["history"]}
    return prep.fitted(target=target, info=info)


@dataclass
class PreparedNetwork:
    """An untrained target network with its scalers and loss, built from one set of training patients."""

    network: TargetNet
    scaler: Scaler
    target_scaler: tuple[float, float] | None
    y_fit: pd.Series  # training targets as the loss sees them (continuous: standardised)
    loss_fn: Any
    genes: list[str]
    target_type: str
    classes: list[str]
    arch: dict

    def fitted(self, *, target: str = "", info: Mapping[str, Any] | None = None) -> FittedModel:
        return FittedModel(network=self.network, genes=self.genes, scaler=self.scaler, target=target,
                           target_type=self.target_type, classes=self.classes, arch=self.arch,
                           target_scaler=self.target_scaler, info=dict(info or {}))


def prepare_network(expression: pd.DataFrame, y: pd.Series, target_type: str, classes: list[str],
                    arch: Mapping[str, Any], cfg: TrainingConfig, *, encoder: Encoder | None = None,
                    loss_patients: pd.Index | None = None) -> PreparedNetwork:
    """Build the network for the patients of ``y`` (sorted by ID): the gene scaler and the target
    scaler (continuous targets) come from them, the class weights of the loss from ``loss_patients``
    (default: all of them). The encoder is transferred when given and ``cfg.transfer`` is set; then the
    gene scaler is the encoder's own (``encoder.pretrained_scaler``, the autoencoder's, set by
    :func:`train_autoencoder` and :func:`load_encoder`), so the transferred first layer sees inputs
    scaled as in pretraining.

    Initial weights come from torch's global generator: call :func:`set_seed` first.
    """
    y = y.sort_index()
    patients = y.index
    loss_patients = patients if loss_patients is None else loss_patients
    transfer = encoder is not None and cfg.transfer
    if transfer and getattr(encoder, "pretrained_scaler", None) is not None:
        # the transferred encoder's first layer was trained on inputs scaled by its autoencoder's scaler
        # (fitted on the autoencoder's patients, never a patient this network is scored on)
        scaler = encoder.pretrained_scaler
    else:
        scaler = Scaler.fit(expression.loc[patients].to_numpy(dtype=np.float32))
    y_np = y.to_numpy()
    target_scaler = None
    if target_type == "continuous":
        mu, sd = float(y_np.mean()), float(y_np.std()) or 1.0
        target_scaler = (mu, sd)
        y_np = (y_np - mu) / sd
    y_fit = pd.Series(y_np, index=patients)
    n_out = n_outputs_for(target_type, classes)
    net = build_target_net(expression.shape[1], arch, n_out)
    if transfer:
        net.transfer_encoder(encoder, cfg.freeze_layers)
    loss_fn = _loss_fn(target_type, y_fit.loc[loss_patients].to_numpy(), n_out, cfg.class_weight)
    return PreparedNetwork(network=net, scaler=scaler, target_scaler=target_scaler, y_fit=y_fit, loss_fn=loss_fn,
                           genes=list(expression.columns), target_type=target_type, classes=list(classes),
                           arch=dict(arch))


def y_tensor(y: np.ndarray, target_type: str) -> torch.Tensor:
    """Targets as the loss expects them: class codes as int64, binary / continuous values as float32."""
    return _y_tensor(y, target_type)


output_columns = metrics.output_columns


def cross_validate(expression: pd.DataFrame, y: pd.Series, folds: pd.DataFrame, target_type: str, classes: list[str],
                   arch: Mapping[str, Any], cfg: TrainingConfig, seed: int, *, encoder: Encoder | None = None,
                   target: str = "") -> tuple[pd.DataFrame, pd.DataFrame, dict[int, FittedModel]]:
    """Outer K-fold CV from a split file: (out-of-fold predictions, per-fold scores, fold -> model).

    Joins by patient ID: split-file patients without expression or a target
    value are an error, never silently dropped.
    """
    folds = folds.set_index("patient")["fold"]
    missing = folds.index.difference(y.index).union(folds.index.difference(expression.index))
    if len(missing):
        raise ValueError(f"{len(missing)} patients of the split file for {target!r} lack expression or a target value "
                         f"(e.g. {list(missing[:5])})")
    extra = y.index.difference(folds.index)
    if len(extra):
        log.warning("%s: %d patients with a target value are not in the split file and are not used",
                    target, len(extra))
    pred_rows, score_rows, models = [], [], {}
    cols = output_columns(target_type, classes)
    for k in sorted(folds.unique()):
        test = folds.index[folds == k].sort_values()
        train = folds.index[folds != k].sort_values()
        fold_seed = seed + 1000 * (int(k) + 1)
        model = fit_network(expression, y.loc[train], target_type, classes, arch, cfg, fold_seed, encoder=encoder,
                            target=target, label=f"{target} fold {k}")
        models[int(k)] = model
        out = model.outputs(model.scaled(expression.loc[test]))
        s = metrics.score(target_type, y.loc[test].to_numpy(), out, classes)
        log.info("%s fold %d: n_train %d, n_test %d, best epoch %d, %s", target, k, len(train), len(test),
                 model.info["best_epoch"], ", ".join(f"{m} {v:.3f}" for m, v in s.items()))
        score_rows.append({"target": target, "fold": int(k), "n_train": len(train), "n_test": len(test),
                           "best_epoch": model.info["best_epoch"], **s})
        pred = pd.DataFrame(out, index=test, columns=cols)
        pred.insert(0, "y", y.loc[test].to_numpy())
        pred.insert(0, "fold", int(k))
        pred_rows.append(pred)
    predictions = pd.concat(pred_rows).sort_index()
    predictions.index.name = "patient"
    return predictions.reset_index(), pd.DataFrame(score_rows), models


def load_encoders(paths: Mapping[str, str], genes: list[str]) -> dict[str, Encoder]:
    """Pretrained encoders by architecture key; each must have been trained on exactly ``genes``."""
    encoders = {}
    for key, path in paths.items():
        encoder, enc_genes, _ = load_encoder(path)
        if enc_genes != list(genes):
            raise ValueError(f"{path}: the autoencoder's genes differ from the expression matrix's")
        encoders[key] = encoder
    return encoders
