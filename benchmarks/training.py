"""Training benchmark: the plain torch training step vs ours, and sequential vs stacked fold models.

Prints in one run:

1. this machine's copy bandwidth (GB/s, ``copy_`` of a 256 MB float32 tensor: read + write) and
   matmul rate (GFLOP/s, 2048 x 2048 float32 matrix products), measured in the same run;
2. one training step at the study's size (12,042 genes -> 4000 -> 2000 -> 1000 -> 1, BatchNorm +
   tanh, dropout 0.3, batch 10, per optimiser; Adadelta is the issue's case): the plain torch loop
   (``zero_grad(set_to_none=True)``, forward, backward, ``torch.optim.<X>`` with torch's CPU
   default implementation) vs :class:`radiogenomics.training.FastStep`, measured interleaved
   (plain, fast, plain, fast, ...) on the same batches from the same weights, medians reported
   with the ratio, the achieved GB/s (minimum memory traffic of the step: weights read by the
   forward pass, weight gradients written by the backward pass, the optimiser's reads and writes
   of weights, gradients and state) and GFLOP/s (matrix products of forward and backward), and
   the largest difference between the two loss trajectories;
3. training the K inner-fold models of one configuration at the default sizes (2,000 genes ->
   256 -> 128 -> 64, 3 inner folds), then with the study's 12,042 genes: one after another vs as
   one stacked network (:class:`radiogenomics.training.StackedRuns`), wall time per epoch and the
   largest difference between their inner validation AUC curves (the second size sits near
   ``training.STACK_ON_CPU_MAX_PARAMETERS``, above which CPUs train the folds in turn).

Run from the repository root::

    .venv/bin/python benchmarks/training.py            # study size (a few minutes on 2 cores)
    .venv/bin/python benchmarks/training.py --quick    # a small smoke run (seconds)

Not a timed test: numbers depend on the machine and on its load (the medians of interleaved
measurements make the ratios robust to slow drifts of the load, not to bursts).
"""

from __future__ import annotations

import argparse
import copy
import os
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

from radiogenomics import nets, selection, training

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
    """``optimizer`` "adadelta-blocked": Adadelta's fast step without the C kernel (as where no
    C compiler is found: torch's Adadelta stepped in cache-sized blocks)."""
    name, optimizer = optimizer, optimizer.removesuffix("-blocked")
    torch.manual_seed(0)
    net_plain = nets.TargetNet(genes, hidden, 1, activation="tanh", dropout=0.3)
    net_fast = copy.deepcopy(net_plain)
    lr = {"adadelta": 1.0, "adam": 1e-4, "adamw": 1e-4, "sgd": 1e-3}[optimizer]
    cfg = training.TrainingConfig(optimizer=optimizer, lr=lr, batch_size=batch)
    bce = nn.BCEWithLogitsLoss()

    def loss_fn(out, y):
        return bce(out[:, 0], y)

    plain = training.PlainStep(net_plain, loss_fn, cfg)
    if name.endswith("-blocked"):
        os.environ["RADIOGENOMICS_NO_KERNELS"] = "1"
    try:
        fast = training.FastStep(net_fast, loss_fn, cfg)
    finally:
        os.environ.pop("RADIOGENOMICS_NO_KERNELS", None)
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
    return {"optimizer": name, "ms_plain": ms_plain, "ms_fast": ms_fast, "ratio": ms_plain / ms_fast,
            "GBps_plain": bytes_ / (ms_plain / 1e3) / 1e9, "GBps_fast": bytes_ / (ms_fast / 1e3) / 1e9,
            "GFLOPps_plain": flops / (ms_plain / 1e3) / 1e9, "GFLOPps_fast": flops / (ms_fast / 1e3) / 1e9,
            "copy_GBps": copy_gbs, "matmul_GFLOPps": gflops, "MB_per_step": bytes_ / 1e6,
            "max_loss_diff": float(np.max(np.abs(np.subtract(l_plain, l_fast)))), "steps": steps}


def bench_folds(genes: int, hidden: list[int], n: int, epochs: int, reps: int) -> dict:
    from radiogenomics import baselines

    rng = np.random.default_rng(0)
    z = rng.normal(size=n)
    x = rng.normal(size=(n, genes))
    x[:, :30] += 1.5 * z[:, None]
    idx = pd.Index([f"TCGA-02-{i:04d}" for i in range(n)], name="patient")
    expr = pd.DataFrame(x, index=idx, columns=[f"G{j}" for j in range(genes)])
    y = pd.Series((z + 0.5 * rng.normal(size=n) > 0).astype(int), index=idx, name="b")
    config = selection.full_config({"hidden": hidden, "transfer": False, "max_epochs": epochs, "patience": epochs})
    splits = baselines.inner_fold_indices(y, "binary", 3, 7)
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


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few steps (smoke run)")
    ap.add_argument("--steps", type=int, default=None, help="timed steps per optimiser (default 10, quick 5)")
    ap.add_argument("--optimizers", default="adadelta,adadelta-blocked,adam,sgd",
                    help="comma-separated (study-size steps); adadelta-blocked: without the C kernel")
    args = ap.parse_args(argv)
    quick = args.quick
    steps = args.steps or (5 if quick else 10)
    genes, hidden = (1200, [400, 200, 100]) if quick else (12042, [4000, 2000, 1000])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    copy_gbs, gflops = machine_rates(quick)
    print(f"machine: copy bandwidth {copy_gbs:.1f} GB/s, float32 matmul {gflops:.1f} GFLOP/s")
    print(f"\n1. training step, {genes} -> {' -> '.join(map(str, hidden))} -> 1, batch 10, "
          f"median of {steps} interleaved steps")
    rows = []
    for opt in args.optimizers.split(","):
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
    for fg, fh, fn, fe in fold_sizes:
        params = sum(a * b + b for a, b in zip([fg, *fh], fh))
        print(f"\n2. {3} inner-fold models, {fg} -> {' -> '.join(map(str, fh))} -> 1 "
              f"({params / 1e6:.2f} M parameters), "
              f"{fn} patients, batch 16, {fe} epochs: sequential vs stacked "
              f"(stacked by default on a CPU up to {training.STACK_ON_CPU_MAX_PARAMETERS / 1e6:.1f} M)")
        f = bench_folds(fg, fh, fn, fe, reps=1 if quick else 3)
        print(f"  sequential {f['ms_per_epoch_sequential']:.1f} ms/epoch  stacked {f['ms_per_epoch_stacked']:.1f} "
              f"ms/epoch  ratio {f['ratio']:.2f}x | max |AUC difference| over the curve {f['max_auc_diff']:.2e}",
              flush=True)


if __name__ == "__main__":
    main()
