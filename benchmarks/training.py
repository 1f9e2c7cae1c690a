"""Training benchmark: the plain torch training step vs ours, and sequential vs stacked fold models.

Prints in one run:

1. this machine's copy bandwidth (GB/s, ``copy_`` of a 256 MB float32 tensor: read + write) and
   matmul rate (GFLOP/s, 2048 x 2048 float32 matrix products), measured in the same run;
2. one training step at the study's size (12,042 genes -> 4000 -> 2000 -> 1000 -> 1, BatchNorm +
   tanh, dropout 0.3, batch 10, per optimiser; Adadelta is the issue's case): the plain torch loop
   (``zero_grad(set_to_none=True)``, forward, backward, ``torch.optim.<X>`` with torch's CPU
   default implementation) vs :class:`radiogenomics.models.training.FastStep`, measured interleaved
   (plain, fast, plain, fast, ...) on the same batches from the same weights, medians reported
   with the ratio, the achieved GB/s (minimum memory traffic of the step: weights read by the
   forward pass, weight gradients written by the backward pass, the optimiser's reads and writes
   of weights, gradients and state) and GFLOP/s (matrix products of forward and backward), and
   the largest difference between the two loss trajectories;
3. training the K inner-fold models of one configuration at the default sizes (2,000 genes ->
   256 -> 128 -> 64, 3 inner folds), then with the study's 12,042 genes: one after another vs as
   one stacked network (:class:`radiogenomics.models.training.StackedRuns`), wall time per epoch and the
   largest difference between their inner validation AUC curves (the second size sits near
   ``training.STACK_ON_CPU_MAX_PARAMETERS``, above which CPUs train the folds in turn);
4. (printed as 3.) the ablation at the step's size, Adadelta and Adam (``--ablation-optimizers``), every
   route interleaved with the others in one run, medians side by side, an A/A repeat of one route
   as the run's own noise:
   a. the optimiser update alone on the network's parameter set (each route on its own copy of the
      weights, the same gradients every repetition): ``torch.optim.<X>`` with torch's CPU default
      (the per-tensor for-loop), ``foreach=True``, ``fused=True`` (Adam), ``torch.compile`` of the
      foreach step and :class:`radiogenomics.models.training.BlockedOptimizer` (torch's optimiser
      stepped in cache-sized blocks: Adadelta's and NAdam's route, which have no fused kernel); the
      largest weight difference from torch's default after the same updates;
   b. the whole training step: the plain torch loop with torch's default and with the foreach
      optimiser, the plain foreach step under ``torch.compile`` (forward + loss; the whole step, whose
      ``backward`` is a graph break: forward + backward and the optimiser step compile as two graphs),
      :class:`~radiogenomics.models.training.FastStep`, and FastStep with each piece switched off in
      turn (``nn.Linear`` for the persistent-gradient Linear, ``nn.Dropout`` for ``HostDropout``, the
      torch foreach optimiser, eager or compiled, for its optimiser), all from the
      same weights on the same batches and dropout seeds. Compilation (inductor's caches switched off,
      so each compiled route pays its own) happens in untimed warm-up steps and is reported apart: the
      warm-up time minus the eager foreach route's. A route that fails (torch.compile without a C++
      compiler, ...) prints the reason in its row;
5. (printed as 4.) torch.compile of the Adadelta foreach step over ten successive networks in one process (each a
   new optimiser, as in a training job), at the default and the study's sizes, against BlockedOptimizer.

Run from the repository root::

    .venv/bin/python benchmarks/training.py            # study size (about 5 minutes on 2 cores)
    .venv/bin/python benchmarks/training.py --quick    # a small smoke run, without torch.compile
    .venv/bin/python benchmarks/training.py --sections ablation --threads 1   # the ablation alone, 1 thread

Not a timed test: numbers depend on the machine and on its load (the medians of interleaved
measurements make the ratios robust to slow drifts of the load, not to bursts).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from radiogenomics.cohorts.splits import inner_fold_indices
from radiogenomics.models import nets, selection, training

#: Passes over the weights (4 bytes each) per optimiser update: reads + writes of parameter,
#: gradient and state, with momentum (SGD) / both moments (Adam, AdamW) / both averages (Adadelta).
OPTIMIZER_PASSES = {"adadelta": 7, "adam": 7, "adamw": 7, "sgd": 5}


def _median_ms(f, reps: int) -> float:
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(ts)


def machine_rates(quick: bool) -> tuple[float, float]:
    n = (1 << 22) if quick else (1 << 26)  # 16 MB / 256 MB
    a = torch.randn(n)
    b = torch.empty_like(a)
    b.copy_(a)
    ms = _median_ms(lambda: b.copy_(a), 5 if quick else 9)
    copy_gbs = 2 * 4 * n / (ms / 1e3) / 1e9
    m = 512 if quick else 2048
    x, y = torch.randn(m, m), torch.randn(m, m)
    out = torch.empty(m, m)
    torch.mm(x, y, out=out)
    ms = _median_ms(lambda: torch.mm(x, y, out=out), 5 if quick else 9)
    gflops = 2 * m ** 3 / (ms / 1e3) / 1e9
    return copy_gbs, gflops


def step_bytes_flops(net: nn.Module, batch: int, optimizer: str) -> tuple[float, float]:
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    n_w = sum(p.numel() for p in net.parameters() if p.requires_grad)
    n_lin = sum(m.weight.numel() for m in linears)
    first = linears[0].weight.numel()
    # forward reads the weights; backward writes the weight gradients and reads the weights of all
    # but the first layer (gradient of the layer input); the optimiser passes over everything.
    bytes_ = 4 * (n_lin + n_lin + (n_lin - first) + OPTIMIZER_PASSES[optimizer] * n_w)
    flops = 2 * batch * (n_lin + n_lin + (n_lin - first))
    return bytes_, flops


def bench_step(genes: int, hidden: list[int], batch: int, optimizer: str, steps: int, copy_gbs: float,
               gflops: float) -> dict:
    """One optimiser's study-size step, plain torch loop vs FastStep, interleaved on the same batches."""
    torch.manual_seed(0)
    net_plain = nets.TargetNet(genes, hidden, 1, activation="tanh", dropout=0.3)
    net_fast = copy.deepcopy(net_plain)
    lr = {"adadelta": 1.0, "adam": 1e-4, "adamw": 1e-4, "sgd": 1e-3}[optimizer]
    cfg = training.TrainingConfig(optimizer=optimizer, lr=lr, batch_size=batch)
    bce = nn.BCEWithLogitsLoss()

    def loss_fn(out, y):
        return bce(out[:, 0], y)

    plain = training.PlainStep(net_plain, loss_fn, cfg)
    fast = training.FastStep(net_fast, loss_fn, cfg)
    net_plain.train()
    net_fast.train()
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(batch * 4, genes, generator=gen)
    y = (torch.rand(batch * 4, generator=gen) > 0.5).float()
    t_plain, t_fast, l_plain, l_fast = [], [], [], []
    for i in range(steps + 1):  # step 0 allocates state and gradients: not timed
        idx = torch.arange(batch) + batch * (i % 4)
        for which, step, ts, ls in (("plain", plain, t_plain, l_plain), ("fast", fast, t_fast, l_fast)):
            torch.manual_seed(100 + i)  # same dropout masks for both
            t0 = time.perf_counter()
            loss = step(x[idx], y[idx])
            dt = time.perf_counter() - t0
            ls.append(float(loss))
            if i:
                ts.append(dt)
    ms_plain, ms_fast = 1e3 * statistics.median(t_plain), 1e3 * statistics.median(t_fast)
    bytes_, flops = step_bytes_flops(net_fast, batch, optimizer)
    return {"optimizer": optimizer, "ms_plain": ms_plain, "ms_fast": ms_fast, "ratio": ms_plain / ms_fast,
            "GBps_plain": bytes_ / (ms_plain / 1e3) / 1e9, "GBps_fast": bytes_ / (ms_fast / 1e3) / 1e9,
            "GFLOPps_plain": flops / (ms_plain / 1e3) / 1e9, "GFLOPps_fast": flops / (ms_fast / 1e3) / 1e9,
            "copy_GBps": copy_gbs, "matmul_GFLOPps": gflops, "MB_per_step": bytes_ / 1e6,
            "max_loss_diff": float(np.max(np.abs(np.subtract(l_plain, l_fast)))), "steps": steps}


def bench_folds(genes: int, hidden: list[int], n: int, epochs: int, reps: int) -> dict:

    rng = np.random.default_rng(0)
    z = rng.normal(size=n)
    x = rng.normal(size=(n, genes))
    x[:, :30] += 1.5 * z[:, None]
    idx = pd.Index([f"TCGA-02-{i:04d}" for i in range(n)], name="patient")
    expr = pd.DataFrame(x, index=idx, columns=[f"G{j}" for j in range(genes)])
    y = pd.Series((z + 0.5 * rng.normal(size=n) > 0).astype(int), index=idx, name="b")
    config = selection.full_config({"hidden": hidden, "transfer": False, "max_epochs": epochs, "patience": epochs})
    splits = inner_fold_indices(y, "binary", 3, 7)
    t_seq, t_stk, curves = [], [], {}
    for r in range(reps):
        for mode in ("sequential", "stacked"):
            t0 = time.perf_counter()
            curves[mode] = selection._inner_curve(expr, y, "binary", ["n", "p"], config, splits, None, 7,
                                                  stacked=mode == "stacked")
            (t_seq if mode == "sequential" else t_stk).append(time.perf_counter() - t0)
    ms_seq = 1e3 * statistics.median(t_seq) / epochs
    ms_stk = 1e3 * statistics.median(t_stk) / epochs
    return {"genes": genes, "hidden": hidden, "patients": n, "folds": 3, "epochs": epochs,
            "ms_per_epoch_sequential": ms_seq, "ms_per_epoch_stacked": ms_stk, "ratio": ms_seq / ms_stk,
            "max_auc_diff": float(np.nanmax(np.abs(curves["sequential"] - curves["stacked"])))}


# ----------------------------------------------------------------------------------------------- ablation
#: The optimisers of the ablation (section 3): Adadelta, the study's, and Adam.
ABLATION_OPTIMIZERS = ("adadelta", "adam")
LR = {"adadelta": 1.0, "adam": 1e-4, "adamw": 1e-4, "sgd": 1e-3}


class _KeepInPlaceGrads:
    """A torch optimiser whose ``zero_grad`` keeps the gradients the persistent-gradient Linear writes in
    place (as FastStep's own optimisers do), so that only the optimiser route differs."""

    def __init__(self, optimizer: torch.optim.Optimizer, compiled: bool = False):
        self.optimizer = optimizer
        self.params = [p for g in optimizer.param_groups for p in g["params"]]
        self._step = torch.compile(optimizer.step) if compiled else optimizer.step

    def zero_grad(self) -> None:
        for p in self.params:
            if not getattr(p, "_grad_in_place", False):
                p.grad = None

    def step(self) -> None:
        self._step()


def _cold_compiles() -> None:
    """Switch off inductor's compiled-graph caches (in memory and on disk), so every torch.compile route
    pays its own compilation, as a workflow job on a fresh machine would, whatever ran before it."""
    try:
        from torch._inductor import config as inductor_config

        inductor_config.fx_graph_cache = False
        inductor_config.autotune_local_cache = False
        if hasattr(inductor_config, "bundled_autotune_remote_cache"):
            inductor_config.bundled_autotune_remote_cache = False
        from torch._functorch import config as functorch_config

        functorch_config.enable_autograd_cache = False
    except (ImportError, AttributeError):
        pass


def _release() -> None:
    """Drop torch.compile's cached frames (they hold the routes' networks and optimisers) and collect."""
    import gc

    try:
        torch._dynamo.reset()
    except Exception:
        pass
    gc.collect()


def _compile_reason(err: BaseException) -> str:
    lines = [s for s in str(err).strip().splitlines() if s.strip()]
    return f"{type(err).__name__}: {lines[0][:150] if lines else ''}"


def _interleaved(routes: dict, rounds: int, warm: int, before=None) -> tuple[dict, dict, dict]:
    """Call every route in turn (``before(i)`` first, then the route), ``warm + rounds`` rounds; the first
    ``warm`` rounds (state allocation, compilation) are not timed. Returns the timed seconds per route, the
    warm-up seconds per route and the failures (route -> reason; a failed route is dropped)."""
    times = {k: [] for k in routes}
    warmup = dict.fromkeys(routes, 0.0)
    failed: dict[str, str] = {}
    for i in range(warm + rounds):
        for name, call in routes.items():
            if name in failed:
                continue
            if before is not None:
                before(i)
            t0 = time.perf_counter()
            try:
                call(i)
            except Exception as err:  # torch.compile without a working compiler, ...
                failed[name] = _compile_reason(err)
                continue
            dt = time.perf_counter() - t0
            if i < warm:
                warmup[name] += dt
            else:
                times[name].append(dt)
    return times, warmup, failed


def bench_update(genes: int, hidden: list[int], optimizer: str, reps: int, compile_: bool) -> dict:
    """The optimiser update alone on the study network's parameters, the same gradients every repetition,
    each route on its own copy of the weights; interleaved. Returns rows and the reference route."""
    torch.manual_seed(0)
    net = nets.TargetNet(genes, hidden, 1, activation="tanh", dropout=0.3)
    net.train()
    x = torch.randn(10, genes)
    y = (torch.rand(10) > 0.5).float()
    nn.functional.binary_cross_entropy_with_logits(net(x)[:, 0], y).backward()  # realistic gradient magnitudes
    base = [(p.detach().clone(), p.grad.detach().clone()) for p in net.parameters()]
    del net
    cfg = training.TrainingConfig(optimizer=optimizer, lr=LR[optimizer], batch_size=10)

    def params():
        ps = []
        for w, g in base:
            p = nn.Parameter(w.clone())
            p.grad = g.clone()
            ps.append(p)
        return ps

    builders = {"torch default (for-loop)": lambda ps: training._optimizer(ps, cfg).step,
                "torch foreach=True": lambda ps: training._optimizer(ps, cfg, foreach=True).step}
    if optimizer == "adam":
        builders["torch fused=True"] = lambda ps: training._optimizer(ps, cfg, fused=True).step
    if compile_:
        def compiled(ps):
            opt = training._optimizer(ps, cfg, foreach=True)
            return torch.compile(opt.step)
        builders["torch.compile(foreach step)"] = compiled
    builders["BlockedOptimizer"] = lambda ps: training.BlockedOptimizer(ps, cfg).step
    builders["torch foreach=True (repeat)"] = builders["torch foreach=True"]  # A/A: the noise of the run
    owned, routes, failed = {}, {}, {}
    for name, build in builders.items():
        owned[name] = params()
        try:
            step = build(owned[name])
        except Exception as err:
            failed[name] = _compile_reason(err)
            continue
        routes[name] = lambda i, step=step: step()
    times, warmup, failed_run = _interleaved(routes, reps, warm=2)
    failed.update(failed_run)
    n_w = sum(w.numel() for w, _ in base)
    ref = owned["torch default (for-loop)"]
    rows = []
    for name in builders:
        if name in failed or not times.get(name):
            rows.append({"route": name, "failed": failed.get(name, "no timing")})
            continue
        ms = 1e3 * statistics.median(times[name])
        diff = max(float((a.detach() - b.detach()).abs().max()) for a, b in zip(owned[name], ref))
        rows.append({"route": name, "ms": ms, "GBps": 4 * OPTIMIZER_PASSES[optimizer] * n_w / (ms / 1e3) / 1e9,
                     "max_weight_diff": diff, "warmup_s": warmup[name]})
    return {"optimizer": optimizer, "parameters": n_w, "reps": reps, "rows": rows}


def _swap_classes(net: nn.Module, old: type, new: type) -> nn.Module:
    """``net`` with every module of exactly class ``old`` turned into ``new`` (same parameters)."""
    for m in net.modules():
        if type(m) is old:
            m.__class__ = new
    return net


def bench_step_ablation(genes: int, hidden: list[int], batch: int, optimizer: str, steps: int,
                        compile_: bool) -> dict:
    """One training step, every route on its own copy of the same network, same batches and dropout
    seeds, interleaved: the plain torch loop (torch's default and foreach optimiser, under torch.compile),
    FastStep, and FastStep with each of its pieces switched off in turn."""
    torch.manual_seed(0)
    net0 = nets.TargetNet(genes, hidden, 1, activation="tanh", dropout=0.3)
    cfg = training.TrainingConfig(optimizer=optimizer, lr=LR[optimizer], batch_size=batch)
    bce = nn.BCEWithLogitsLoss()

    def loss_fn(out, y):
        return bce(out[:, 0], y)

    def plain(impl: dict | None = None):
        step = training.PlainStep(copy.deepcopy(net0), loss_fn, cfg)
        if impl is not None:
            step.optimizer = training._optimizer(step.model.parameters(), cfg, **impl)
        return step

    def compiled_forward():
        model = copy.deepcopy(net0)
        opt = training._optimizer(model.parameters(), cfg, foreach=True)
        fwd = torch.compile(lambda xb, yb: loss_fn(model(xb), yb))

        def step(xb, yb):
            opt.zero_grad(set_to_none=True)
            loss = fwd(xb, yb)
            loss.backward()
            opt.step()
            return loss.detach()
        return step

    def compiled_step():
        model = copy.deepcopy(net0)
        opt = training._optimizer(model.parameters(), cfg, foreach=True)

        @torch.compile
        def step(xb, yb):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()  # a graph break: forward + backward compiled as one graph, the step as another
            opt.step()
            return loss.detach()
        return step

    def fast(swap: tuple[type, type] | None = None, optimizer_route: str | None = None):
        model = copy.deepcopy(net0)
        if swap is not None:
            _swap_classes(model, *swap)
        step = training.FastStep(model, loss_fn, cfg)
        if optimizer_route in ("foreach", "compiled"):
            step.optimizer = _KeepInPlaceGrads(training._optimizer(model.parameters(), cfg, foreach=True),
                                               compiled=optimizer_route == "compiled")
        return step

    builders = {
        "plain, torch default optimiser": lambda: plain(),
        "plain, torch foreach=True": lambda: plain({"foreach": True}),
    }
    if compile_:
        builders["plain foreach, torch.compile(forward+loss)"] = compiled_forward
        builders["plain foreach, torch.compile(whole step)"] = compiled_step
    builders["FastStep (default)"] = lambda: fast()
    builders["FastStep, nn.Linear instead of persistent-grad Linear"] = lambda: fast((nets.Linear, nn.Linear))
    builders["FastStep, nn.Dropout instead of HostDropout"] = lambda: fast((nets.HostDropout, nn.Dropout))
    builders["FastStep, torch foreach=True optimiser"] = lambda: fast(optimizer_route="foreach")
    if compile_:
        builders["FastStep, torch.compile(foreach optimiser step)"] = lambda: fast(optimizer_route="compiled")
    builders["FastStep (default, repeat)"] = lambda: fast()  # A/A: the noise of the run
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(batch * 4, genes, generator=gen)
    y = (torch.rand(batch * 4, generator=gen) > 0.5).float()
    routes, failed, losses, optimizer_class = {}, {}, {}, {}
    for name, build in builders.items():
        try:
            step = build()
        except Exception as err:
            failed[name] = _compile_reason(err)
            continue
        if hasattr(step, "model"):
            step.model.train()
        inner = getattr(step, "optimizer", None)
        optimizer_class[name] = type(getattr(inner, "optimizer", inner)).__name__ if inner is not None else "compiled"
        losses[name] = []

        def call(i, step=step, name=name):
            idx = torch.arange(batch) + batch * (i % 4)
            losses[name].append(float(step(x[idx], y[idx])))
        routes[name] = call
    warm = 3  # state allocation; compilation (and a recompile once the optimiser state exists)
    times, warmup, failed_run = _interleaved(routes, steps, warm, before=lambda i: torch.manual_seed(100 + i))
    failed.update(failed_run)
    ref = losses.get("plain, torch default optimiser")
    ref_fast = losses.get("FastStep (default)")
    rows = []
    for name in builders:
        if name in failed or not times.get(name):
            rows.append({"route": name, "failed": failed.get(name, "no timing")})
            continue
        ms = 1e3 * statistics.median(times[name])
        rows.append({"route": name, "ms": ms, "warmup_s": warmup[name], "optimizer_class": optimizer_class[name],
                     "max_loss_diff": float(np.max(np.abs(np.subtract(losses[name], ref)))),
                     "max_loss_diff_fast": float(np.max(np.abs(np.subtract(losses[name], ref_fast))))})
    return {"optimizer": optimizer, "steps": steps, "warm": warm, "rows": rows}


def bench_recompiles(genes: int, hidden: list[int], models: int) -> list[dict]:
    """torch.compile of the Adadelta foreach step over ``models`` successive networks in one process, as a
    training job builds them (inner folds x grid x refits): each new optimiser is a new object, so dynamo
    compiles again, and after its recompile limit it runs the step eagerly. Per model: the first compiled
    step (compilation included), the best of three later ones, and BlockedOptimizer's best of three."""
    torch._dynamo.reset()
    cfg = training.TrainingConfig(optimizer="adadelta", lr=1.0, batch_size=10)
    x = torch.randn(10, genes)
    y = (torch.rand(10) > 0.5).float()
    rows = []
    for k in range(models):
        net = nets.TargetNet(genes, hidden, 1, activation="tanh", dropout=0.3)
        opt = training._optimizer(net.parameters(), cfg, foreach=True)
        step = torch.compile(opt.step)
        compiled = []
        for _ in range(4):
            opt.zero_grad()
            nn.functional.binary_cross_entropy_with_logits(net(x)[:, 0], y).backward()
            t0 = time.perf_counter()
            step()
            compiled.append(time.perf_counter() - t0)
        blocked_opt, blocked = training.BlockedOptimizer(net.parameters(), cfg), []
        for _ in range(4):
            t0 = time.perf_counter()
            blocked_opt.step()
            blocked.append(time.perf_counter() - t0)
        rows.append({"model": k + 1, "first_ms": 1e3 * compiled[0], "later_ms": 1e3 * min(compiled[1:]),
                     "blocked_ms": 1e3 * min(blocked[1:])})
    _release()
    return rows


def print_ablation(upd: dict, stp: dict) -> None:
    opt = upd["optimizer"]
    print(f"\n  {opt}: a. optimiser update alone, {upd['parameters'] / 1e6:.1f} M weights, same gradients, "
          f"median of {upd['reps']} interleaved updates (ratio: torch default / route)", flush=True)
    ref = next((r["ms"] for r in upd["rows"] if r["route"] == "torch default (for-loop)" and "ms" in r), None)
    for r in upd["rows"]:
        if "failed" in r:
            print(f"    {r['route']:44s} failed: {r['failed']}")
            continue
        extra = ""
        if "compile" in r["route"]:
            eager = next((e["warmup_s"] for e in upd["rows"] if e["route"] == "torch foreach=True" and "ms" in e), 0.0)
            extra = (f" | compile time {r['warmup_s'] - eager:.1f} s (cold cache: warm-up of 2 calls "
                     f"{r['warmup_s']:.1f} s - eager foreach's {eager:.1f} s)")
        print(f"    {r['route']:44s} {r['ms']:8.1f} ms  ratio {ref / r['ms']:5.2f}x  {r['GBps']:5.1f} GB/s | "
              f"weights vs torch default {r['max_weight_diff']:.1e}{extra}")
    print(f"  {opt}: b. training step, median of {stp['steps']} interleaved steps after {stp['warm']} untimed "
          f"(ratio: route / FastStep default, > 1: the route is slower; vs plain: plain default / route)", flush=True)
    by = {r["route"]: r for r in stp["rows"]}
    fast = by["FastStep (default)"]["ms"]
    plain = by["plain, torch default optimiser"].get("ms")
    for r in stp["rows"]:
        if "failed" in r:
            print(f"    {r['route']:56s} failed: {r['failed']}")
            continue
        extra = ""
        if "compile" in r["route"]:
            eager = by["plain, torch foreach=True"].get("warmup_s", 0.0)
            extra = (f" | compile time {r['warmup_s'] - eager:.1f} s (cold cache: warm-up of {stp['warm']} steps "
                     f"{r['warmup_s']:.1f} s - eager foreach's {eager:.1f} s)")
        print(f"    {r['route']:56s} {r['ms']:8.1f} ms  vs FastStep {r['ms'] / fast:5.2f}x  "
              f"vs plain {plain / r['ms']:5.2f}x | {r['optimizer_class']:16s} | losses vs plain "
              f"{r['max_loss_diff']:.1e}, vs FastStep {r['max_loss_diff_fast']:.1e}{extra}", flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few steps (smoke run)")
    ap.add_argument("--steps", type=int, default=None, help="timed steps per optimiser (default 10, quick 5)")
    ap.add_argument("--optimizers", default="adadelta,adam,sgd", help="comma-separated (study-size steps)")
    ap.add_argument("--sections", default="steps,folds,ablation,recompiles",
                    help="comma-separated: steps (1.), folds (2.), ablation (3.), recompiles (4.)")
    ap.add_argument("--ablation-optimizers", default=",".join(ABLATION_OPTIMIZERS), help="comma-separated (3.)")
    ap.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                    help="include the torch.compile routes in the ablation (default: yes, no with --quick)")
    ap.add_argument("--ablation-steps", type=int, default=None,
                    help="timed rounds per route in the ablation (default 15, quick 5)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = ap.parse_args(argv)
    quick = args.quick
    if args.threads:
        torch.set_num_threads(args.threads)
    ablation_steps = args.ablation_steps or (5 if quick else 15)
    sections = {s.strip() for s in args.sections.split(",")}
    compile_ = (not quick) if args.compile is None else args.compile
    steps = args.steps or (5 if quick else 10)
    genes, hidden = (1200, [400, 200, 100]) if quick else (12042, [4000, 2000, 1000])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    copy_gbs, gflops = machine_rates(quick)
    print(f"machine: copy bandwidth {copy_gbs:.1f} GB/s, float32 matmul {gflops:.1f} GFLOP/s")
    if "steps" in sections:
        print(f"\n1. training step, {genes} -> {' -> '.join(map(str, hidden))} -> 1, batch 10, "
              f"median of {steps} interleaved steps")
    rows = []
    for opt in args.optimizers.split(",") if "steps" in sections else []:
        r = bench_step(genes, hidden, 10, opt.strip(), steps, copy_gbs, gflops)
        rows.append(r)
        print(f"  {r['optimizer']:16s} plain {r['ms_plain']:8.1f} ms  fast {r['ms_fast']:8.1f} ms  "
              f"ratio {r['ratio']:5.2f}x | GB/s plain {r['GBps_plain']:5.1f} fast {r['GBps_fast']:5.1f} "
              f"(copy {copy_gbs:.1f}) | GFLOP/s plain {r['GFLOPps_plain']:5.1f} fast {r['GFLOPps_fast']:5.1f} "
              f"(matmul {gflops:.1f}) | {r['MB_per_step']:.0f} MB/step | max loss diff {r['max_loss_diff']:.2e}",
              flush=True)
    # the default sizes, then the study's gene count with the default network: near
    # training.STACK_ON_CPU_MAX_PARAMETERS, where stacking stops paying on a CPU
    fold_sizes = [(300, [64, 32, 16], 90, 4)] if quick else [(2000, [256, 128, 64], 180, 10),
                                                             (12042, [256, 128, 64], 180, 5)]
    for fg, fh, fn, fe in fold_sizes if "folds" in sections else []:
        params = sum(a * b + b for a, b in zip([fg, *fh], fh))
        print(f"\n2. {3} inner-fold models, {fg} -> {' -> '.join(map(str, fh))} -> 1 "
              f"({params / 1e6:.2f} M parameters), "
              f"{fn} patients, batch 16, {fe} epochs: sequential vs stacked "
              f"(stacked by default on a CPU up to {training.STACK_ON_CPU_MAX_PARAMETERS / 1e6:.1f} M)")
        f = bench_folds(fg, fh, fn, fe, reps=1 if quick else 3)
        print(f"  sequential {f['ms_per_epoch_sequential']:.1f} ms/epoch  stacked {f['ms_per_epoch_stacked']:.1f} "
              f"ms/epoch  ratio {f['ratio']:.2f}x | max |AUC difference| over the curve {f['max_auc_diff']:.2e}",
              flush=True)
    if "ablation" in sections:
        print(f"\n3. ablation at {genes} -> {' -> '.join(map(str, hidden))} -> 1, batch 10: each piece of the "
              f"fast step against torch's own routes, interleaved in one run"
              f"{'' if compile_ else ' (torch.compile routes skipped: --compile to include them)'}", flush=True)
        if compile_:
            _cold_compiles()
        for opt in args.ablation_optimizers.split(","):
            opt = opt.strip()
            upd = bench_update(genes, hidden, opt, ablation_steps, compile_)
            _release()
            stp = bench_step_ablation(genes, hidden, 10, opt, ablation_steps, compile_)
            _release()
            print_ablation(upd, stp)
    if "recompiles" in sections and compile_:
        for rg, rh in [(300, [64, 32, 16])] if quick else [(2000, [256, 128, 64]), (genes, hidden)]:
            print(f"\n4. torch.compile(Adadelta foreach step) over 10 successive networks {rg} -> "
                  f"{' -> '.join(map(str, rh))} -> 1 in one process (a new optimiser each: dynamo recompiles, "
                  f"then falls back to eager after torch._dynamo.config.recompile_limit), vs BlockedOptimizer",
                  flush=True)
            for r in bench_recompiles(rg, rh, 10):
                print(f"  network {r['model']:2d}: compiled first step {r['first_ms']:7.0f} ms, later "
                      f"{r['later_ms']:7.1f} ms | BlockedOptimizer {r['blocked_ms']:7.1f} ms", flush=True)


if __name__ == "__main__":
    main()
