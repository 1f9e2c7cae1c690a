"""Interpretation benchmark: masking engine, single-gene masking, saliency and cohort GSEA vs their baselines.

Builds the study-sized network (12,042 genes -> 4000 -> 2000 -> 1000 -> 1, BatchNorm + tanh) with
random weights and random BatchNorm running statistics, 191 patients, and prints in one run:

1. gene-set masking: one full forward pass per masked input (the naive approach) vs
   ``masking.MaskingEngine`` (per set, ms), with the largest difference between the two;
2. all-single-gene masking: the naive approach (measured on a few genes, extrapolated) vs the
   engine on every gene (or on ``--single-genes`` genes, extrapolated, labelled);
3. saliency: a per-patient forward/backward loop vs ``saliency.Saliency`` (batched) vs captum's
   ``Saliency`` (abs=True), for the binary network and per class for a 4-class network;
4. per-patient GSEA of the saliency rankings: gseapy ``prerank`` once per patient (measured on
   ``--gseapy-patients`` patients, extrapolated to the cohort, labelled) vs
   ``enrichment.prerank_gsea`` on the whole cohort at once, and their agreement;
5. cohort GSEA of the gene-trait correlation ranking with the phenotype-permutation null at the
   default workflow size (the simulated default cohort: 2,000 genes, 180 imaged patients, the
   programs, Verhaak and random sets; ``--pheno-perm`` permutations, 10,000 by default): a loop that
   recomputes the ranking and the sets' ES one permutation at a time (measured on
   ``--pheno-loop-perm`` permutations, extrapolated) vs ``enrichment.correlation_gsea`` (chunks of
   permutations, one matrix product each), for a binary trait and the 4-class subtype.

Run from the repository root::

    .venv/bin/python benchmarks/interpretation.py              # the study size (several minutes)
    .venv/bin/python benchmarks/interpretation.py --quick      # a small smoke run (seconds)
    .venv/bin/python benchmarks/interpretation.py --phenotype  # section 5 alone (the phenotype null)

Not a timed test: numbers depend on the machine and on its load.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from radiogenomics import inputs
from radiogenomics.enrichment import gsea
from radiogenomics.interpret.masking import MaskingEngine
from radiogenomics.interpret.saliency import Saliency
from radiogenomics.models.nets import TargetNet

log = logging.getLogger("benchmarks.interpretation")

DEFAULT_GMT = REPO.parent / "shared" / "data" / "tcga-gbm" / "h.all.v6.2.symbols.gmt"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="small smoke run: 2000 genes, hidden 256-128-64, 40 patients, 200 permutations")
    p.add_argument("--genes", type=int, default=12042, help="input genes (default: the study's 12042)")
    p.add_argument("--hidden", type=int, nargs="+", default=[4000, 2000, 1000], help="hidden layer widths")
    p.add_argument("--patients", type=int, default=191, help="patients (default: the study's 191 imaged)")
    p.add_argument("--sets", type=int, default=50, help="gene sets masked by the engine")
    p.add_argument("--naive-sets", type=int, default=10, help="gene sets masked by full forward passes")
    p.add_argument("--single-genes", type=int, default=None,
                   help="genes timed for single-gene masking by the engine (default: all, no extrapolation)")
    p.add_argument("--naive-genes", type=int, default=10, help="genes timed for naive single-gene masking")
    p.add_argument("--loop-patients", type=int, default=None,
                   help="patients timed in the per-patient saliency loop (default: all)")
    p.add_argument("--n-perm", type=int, default=10000, help="GSEA permutations (the study: 10,000)")
    p.add_argument("--gseapy-patients", type=int, default=3, help="patients run through gseapy (extrapolated)")
    p.add_argument("--gseapy-threads", type=int, default=1, help="threads given to gseapy")
    p.add_argument("--gmt", type=Path, default=DEFAULT_GMT,
                   help="gene sets for GSEA (default: MSigDB hallmarks from ../shared; synthetic sets if absent)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--phenotype", action="store_true", help="run only section 5 (phenotype-null GSEA)")
    p.add_argument("--pheno-perm", type=int, default=gsea.DEFAULT_N_PERM,
                   help="phenotype permutations (default: the workflow default, 10,000)")
    p.add_argument("--pheno-loop-perm", type=int, default=200,
                   help="permutations timed in the one-at-a-time loop (extrapolated)")
    args = p.parse_args(argv)
    if args.quick:
        args.genes, args.hidden, args.patients = 2000, [256, 128, 64], 40
        args.sets, args.naive_sets, args.naive_genes = 12, 4, 4
        args.single_genes = args.single_genes or 300
        args.loop_patients = args.loop_patients or 10
        args.n_perm, args.gseapy_patients = 200, 1
        args.pheno_perm, args.pheno_loop_perm = 1000, 10
    return args


# --------------------------------------------------------------------------- set-up


def random_network(n_genes: int, hidden: list[int], n_out: int, seed: int) -> TargetNet:
    """A TargetNet with random weights, random BatchNorm running statistics and affine parameters."""
    torch.manual_seed(seed)
    net = TargetNet(n_genes, hidden, n_out, activation="tanh", dropout=0.3, batch_norm=True)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean.normal_(0.0, 0.3)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.2)
    return net.eval()


def gene_universe(n_genes: int, gmt: Path, rng: np.random.Generator) -> tuple[list[str], dict[str, list[str]], str]:
    """Gene names (the GMT's genes first, padded with synthetic names) and the GSEA gene sets."""
    if gmt.is_file():
        sets = inputs.read_gmt(gmt)
        genes = sorted({g for members in sets.values() for g in members})[:n_genes]
        source = gmt.name
    else:
        genes, sets, source = [], {}, "synthetic (no GMT found)"
    genes = genes + [f"SYN{i:05d}" for i in range(n_genes - len(genes))]
    if not sets:
        sizes = rng.integers(30, 200, 50)
        sets = {f"SET_{k:02d}": list(rng.choice(genes, size, replace=False)) for k, size in enumerate(sizes)}
    return genes, sets, source


def timed(fn: Callable[[], object], repeat: int = 1, warmup: bool = False) -> tuple[float, object]:
    """Best wall time of ``repeat`` calls (after one untimed call with ``warmup``), and the last result."""
    if warmup:
        fn()
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def naive_masked(net: nn.Module, x: torch.Tensor, sets: list[np.ndarray]) -> np.ndarray:
    """The naive approach: zero every gene outside the set, one full forward pass per set."""
    out = []
    with torch.no_grad():
        for s in sets:
            xm = torch.zeros_like(x)
            cols = torch.as_tensor(s)
            xm[:, cols] = x[:, cols]
            out.append(net(xm).numpy())
    return np.stack(out)


def fmt_time(seconds: float) -> str:
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    if seconds < 120.0:
        return f"{seconds:.2f} s"
    return f"{seconds / 60.0:.1f} min"


# --------------------------------------------------------------------------- the benchmark


def phenotype_null(args: argparse.Namespace, row: Callable[..., None],
                   target_check: Callable[[str, str, bool], None]) -> None:
    """Section 5: phenotype-null correlation GSEA at the default workflow size vs a per-permutation loop."""
    from radiogenomics.cohorts.simulate import SimulationParams, simulate_cohort

    cohort = simulate_cohort(SimulationParams(seed=args.seed))  # config/config.yaml sizes
    sets = {**cohort.gmt_sets, **cohort.subtype_sets}
    x = cohort.expression
    imaged = cohort.patients.index[cohort.patients["imaged"]].intersection(x.index, sort=True)
    f7 = cohort.traits["f7"].reindex(imaged)
    binary = f7.isin(["Between 1/3 and 2/3", "More than 2/3"]).astype(int)  # the vasari preset's >1/3
    subtype = cohort.clanc_subtypes.dropna()
    subtype.index = subtype.index.str[:12]  # sample barcodes -> patient IDs
    print(f"5. phenotype-null correlation GSEA: {x.shape[1]} genes, {len(sets)} sets, {args.pheno_perm} "
          f"permutations", flush=True)
    for name, y, tt in (("binary f7", binary, "binary"), ("4-class subtype", subtype, "multiclass")):
        ranking = gsea.correlation_ranking(x, y, tt)
        names, idx = gsea._match_sets(list(ranking.columns if tt == "multiclass" else ranking.index), sets,
                                            15, 500)
        sizes = np.array([i.size for i in idx])
        ids = x.index.intersection(y.index).sort_values()
        rng = np.random.default_rng(args.seed)

        def loop() -> None:  # the straightforward way: one permutation at a time, its ranking and ES
            for _ in range(args.pheno_loop_perm):
                yp = pd.Series(y.loc[ids].to_numpy()[rng.permutation(len(ids))], index=ids)
                r = gsea.correlation_ranking(x, yp, tt)
                gsea._set_es(np.atleast_2d(r.to_numpy()), idx, sizes, 1.0, gsea.DEFAULT_MEMORY_BYTES)

        level = logging.getLogger("radiogenomics.enrichment.gsea").level
        logging.getLogger("radiogenomics.enrichment.gsea").setLevel(logging.WARNING)
        t_loop, _ = timed(loop)
        t_ours, res = timed(lambda: gsea.correlation_gsea(x, y, tt, sets, n_perm=args.pheno_perm,
                                                                seed=args.seed))
        t_gene, _ = timed(lambda: gsea.correlation_gsea(x, y, tt, sets, null="gene_set",
                                                              n_perm=args.pheno_perm, seed=args.seed))
        logging.getLogger("radiogenomics.enrichment.gsea").setLevel(level)
        loop_all = t_loop / args.pheno_loop_perm * args.pheno_perm
        row(f"phenotype-null GSEA, {name}", "per-permutation loop", loop_all, "correlation_gsea", t_ours,
            f"({len(ids)} patients, {res['ranking'].nunique()} ranking(s) x {res['set'].nunique()} sets, "
            f"{args.pheno_perm} permutations, up to {int(res['n_perm'].max())} with the adaptive continuation; "
            f"loop extrapolated from {args.pheno_loop_perm}; the gene-set null of the same ranking(s) takes "
            f"{fmt_time(t_gene)})")
        target_check(f"phenotype-null correlation GSEA, {name}, {args.pheno_perm} permutations <= 60 s",
                     fmt_time(t_ours), t_ours <= 60.0)


def run(args: argparse.Namespace) -> list[dict]:
    if args.threads:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    rows: list[dict] = []
    checks: list[dict] = []

    def target_check(target: str, measured: str, ok: bool) -> None:
        checks.append({"target": target, "measured": measured, "met": bool(ok)})

    def row(task: str, baseline: str, base_s: float, ours: str, ours_s: float, note: str = "") -> None:
        rows.append({"task": task, "baseline": baseline, "baseline_s": base_s, "ours": ours, "ours_s": ours_s,
                     "ratio": base_s / ours_s if ours_s > 0 else float("nan"), "note": note})
        print(f"  {task}: {baseline} {fmt_time(base_s)} | {ours} {fmt_time(ours_s)} | "
              f"x{base_s / ours_s:.1f} {note}", flush=True)

    if args.phenotype:
        phenotype_null(args, row, target_check)
        print_checks(checks)
        return rows

    g, n = args.genes, args.patients
    print(f"network {g} -> {' -> '.join(map(str, args.hidden))} -> 1 (BatchNorm + tanh), {n} patients, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs", flush=True)
    net = random_network(g, args.hidden, 1, args.seed)
    x_np = rng.normal(size=(n, g)).astype(np.float32)
    x = torch.from_numpy(x_np)

    # 1. gene-set masking
    print("1. gene-set masking", flush=True)
    sizes = np.linspace(15, 500, args.sets).round().astype(int)
    sets = [np.sort(rng.choice(g, size, replace=False)) for size in sizes]
    t_build, engine = timed(lambda: MaskingEngine(net))
    engine.outputs(x_np, sets[:2])  # warm-up
    naive_masked(net, x, sets[:1])
    t_naive, ref = timed(lambda: naive_masked(net, x, sets[:args.naive_sets]))
    t_engine, got = timed(lambda: engine.outputs(x_np, sets))
    diff = float(np.abs(got[:args.naive_sets] - ref).max())
    per_naive, per_engine = t_naive / args.naive_sets, t_engine / len(sets)
    row("gene-set masking, per set", "full forward pass", per_naive, "MaskingEngine", per_engine,
        f"(sets of {sizes.min()}-{sizes.max()} genes; naive on {args.naive_sets} sets, engine on {len(sets)}; "
        f"max |diff| {diff:.1e}; engine build {fmt_time(t_build)} once)")
    target_check("gene-set masking >= 5x faster per set than one full forward pass per set",
          f"x{per_naive / per_engine:.1f} (max |diff| {diff:.1e})", per_naive / per_engine >= 5.0)

    # 2. all single genes
    print("2. single-gene masking (every gene)", flush=True)
    genes_naive = rng.choice(g, args.naive_genes, replace=False)
    t_naive1, ref1 = timed(lambda: naive_masked(net, x, [np.array([i]) for i in genes_naive]))
    n_single = g if args.single_genes is None else min(args.single_genes, g)
    single_idx = np.arange(g) if n_single == g else np.sort(rng.choice(g, n_single, replace=False))
    t_single, out1 = timed(lambda: engine.single_gene_outputs(x_np, single_idx))
    check = engine.single_gene_outputs(x_np, genes_naive)
    diff1 = float(np.abs(check - ref1).max())
    naive_all = t_naive1 / args.naive_genes * g
    ours_all = t_single / n_single * g
    note = (f"(naive extrapolated from {args.naive_genes} genes; "
            + ("engine measured on all genes" if n_single == g else f"engine extrapolated from {n_single} genes")
            + f"; max |diff| {diff1:.1e})")
    row(f"all {g} single genes", "full forward passes", naive_all, "MaskingEngine", ours_all, note)
    target_check(f"all {g} single-gene masks for {n} patients <= 10 min",
          fmt_time(ours_all) + ("" if n_single == g else f" (extrapolated from {n_single} genes)"),
          ours_all <= 600.0)

    # 3. saliency
    print("3. saliency", flush=True)
    from captum.attr import Saliency as CaptumSaliency

    n_loop = n if args.loop_patients is None else min(args.loop_patients, n)

    def per_patient() -> torch.Tensor:
        rows_ = []
        for i in range(n_loop):
            xi = x[i:i + 1].clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(net(xi)[0, 0], xi)
            rows_.append(grad[0].abs())
        return torch.stack(rows_)

    t_loop, loop = timed(per_patient)
    t_ours, sal = timed(lambda: Saliency(net).attribute(x, target=0, abs=True), repeat=3, warmup=True)
    t_captum, cap = timed(lambda: CaptumSaliency(net).attribute(x, target=0, abs=True), repeat=3, warmup=True)
    diff_c = float((sal - cap).abs().max())
    diff_l = float((sal[:n_loop] - loop).abs().max())
    row("saliency, binary network", "per-patient loop", t_loop / n_loop * n, "batched", t_ours,
        f"(loop {'measured on all' if n_loop == n else f'extrapolated from {n_loop}'} patients; "
        f"max |diff| {diff_l:.1e})")
    row("saliency, binary network", "captum Saliency", t_captum, "batched", t_ours, f"(max |diff| {diff_c:.1e})")
    net4 = random_network(g, args.hidden, 4, args.seed + 1)
    t_ours4, sal4 = timed(lambda: Saliency(net4).attribute_targets(x, range(4), abs=True), repeat=3, warmup=True)
    t_cap4, cap4 = timed(lambda: torch.stack([CaptumSaliency(net4).attribute(x, target=k, abs=True)
                                              for k in range(4)]), repeat=3, warmup=True)
    diff_c4 = float((sal4 - cap4).abs().max())
    row("saliency, 4-class network (per class)", "captum Saliency x 4", t_cap4, "attribute_targets", t_ours4,
        f"(max |diff| {diff_c4:.1e})")
    target_check("batched saliency equal to captum within 1e-6",
          f"max |diff| {diff_c:.1e} (binary), {diff_c4:.1e} (4-class)", max(diff_c, diff_c4) <= 1e-6)
    target_check("batched saliency at least as fast as captum",
          f"x{t_captum / t_ours:.2f} (binary), x{t_cap4 / t_ours4:.2f} (4-class)",
          t_captum / t_ours >= 1.0 and t_cap4 / t_ours4 >= 1.0)

    # 4. per-patient GSEA of the saliency rankings
    print("4. per-patient saliency GSEA", flush=True)
    names, gene_sets, source = gene_universe(g, args.gmt, rng)
    scores = pd.DataFrame(sal.numpy().astype(np.float64), columns=names,
                          index=[f"P{i:03d}" for i in range(n)])
    logging.getLogger("gseapy").setLevel(logging.ERROR)
    k = min(args.gseapy_patients, n)
    t_gseapy, ref_gsea = timed(lambda: gsea.gseapy_prerank(scores.iloc[:k], gene_sets, n_perm=args.n_perm,
                                                                 seed=args.seed, threads=args.gseapy_threads))
    t_cohort, ours_gsea = timed(lambda: gsea.prerank_gsea(scores, gene_sets, n_perm=args.n_perm,
                                                               seed=args.seed))
    agree = gsea.agreement(ours_gsea[ours_gsea["ranking"].isin(scores.index[:k])], ref_gsea)
    row(f"GSEA of {n} saliency rankings", f"gseapy prerank x {n}", t_gseapy / k * n, "prerank_gsea (cohort)",
        t_cohort,
        f"(gseapy extrapolated from {k} patient(s), {args.gseapy_threads} thread(s); {ours_gsea['set'].nunique()} "
        f"sets from {source}, {args.n_perm} permutations; on those patients NES Spearman "
        f"{agree['nes_spearman']:.4f}, same BH-0.05 call {agree['same_significance']:.1%}, "
        f"max |ES diff| {agree.get('es_max_abs_diff', float('nan')):.1e})")
    speed = (t_gseapy / k) / (t_cohort / n)
    target_check("cohort GSEA >= 20x faster than gseapy per patient", f"x{speed:.1f}", speed >= 20.0)
    target_check("GSEA NES Spearman vs gseapy >= 0.99", f"{agree['nes_spearman']:.4f}", agree["nes_spearman"] >= 0.99)
    target_check("GSEA same BH-0.05 call as gseapy >= 95%", f"{agree['same_significance']:.1%}",
          agree["same_significance"] >= 0.95)
    phenotype_null(args, row, target_check)
    print_checks(checks)
    return rows


def print_checks(checks: list[dict]) -> None:
    print("\nTargets (measured on this machine; shared or loaded machines give noisy times)")
    for c in checks:
        print(f"  [{'met' if c['met'] else 'NOT MET':>7}] {c['target']}: {c['measured']}")


def print_table(rows: list[dict]) -> None:
    print("\nSummary (baseline vs ours; ratio = baseline / ours)")
    print(f"{'task':<40} {'baseline':<28} {'time':>10}   {'ours':<24} {'time':>10}   {'ratio':>7}")
    for r in rows:
        print(f"{r['task']:<40} {r['baseline']:<28} {fmt_time(r['baseline_s']):>10}   {r['ours']:<24} "
              f"{fmt_time(r['ours_s']):>10}   {r['ratio']:>6.1f}x")
    print("\nNotes:")
    for r in rows:
        if r["note"]:
            print(f"- {r['task']} / {r['baseline']}: {r['note'].strip('()')}")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # captum's note that it sets requires_grad on the input itself
    warnings.filterwarnings("ignore", message="Input Tensor 0 did not already require gradients")
    args = parse_args(argv)
    rows = run(args)
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
