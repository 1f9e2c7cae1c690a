"""Agreement with the reference implementations: captum's Saliency and gseapy's prerank.

Saliency: the same gradients as captum (abs=True) within 1e-6, per class for multi-class
networks. GSEA: on the same rankings, gseapy prerank (one call per ranking) and our cohort GSEA
give the same ES, NES with a Spearman correlation of at least 0.99 (both NES come from random
permutations), and the same significance calls in at least 95% of (ranking x set) pairs when
both sides use one FDR definition: Benjamini-Hochberg within each ranking of each side's nominal
p (gseapy's own FDR is the NES-based GSEA estimate, see ``enrichment.agreement``).
"""

from __future__ import annotations

import logging
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from radiogenomics.enrichment import gsea
from radiogenomics.inputs.gene_sets import read_gmt
from radiogenomics.interpret.saliency import Saliency, saliency_table
from radiogenomics.models.nets import FittedModel, Scaler, TargetNet

captum_attr = pytest.importorskip("captum.attr")
gseapy = pytest.importorskip("gseapy")

REPO = Path(__file__).resolve().parents[2]
N_GENES = 400


def random_net(n_out: int, seed: int = 0, hidden=(96, 48, 24)) -> TargetNet:
    torch.manual_seed(seed)
    net = TargetNet(N_GENES, list(hidden), n_out, dropout=0.3)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean.normal_(0.0, 0.3)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.2)
    return net.eval()


def captum_saliency(net: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # captum sets requires_grad on the input itself
        return captum_attr.Saliency(net).attribute(x, target=target, abs=True)


@pytest.mark.parametrize("n_out", [1, 4])
def test_saliency_equals_captum(n_out):
    net = random_net(n_out)
    x = torch.randn(64, N_GENES)
    ours = Saliency(net).attribute_targets(x, range(n_out), abs=True)
    for k in range(n_out):
        ref = captum_saliency(net, x, k)
        assert (Saliency(net).attribute(x, target=k, abs=True) - ref).abs().max().item() <= 1e-6
        assert (ours[k] - ref).abs().max().item() <= 1e-6


def test_saliency_table_per_class_equals_captum():
    rng = np.random.default_rng(1)
    genes = [f"G{i}" for i in range(N_GENES)]
    raw = rng.normal(5.0, 2.0, size=(30, N_GENES))
    expression = pd.DataFrame(raw, index=[f"P{i}" for i in range(30)], columns=genes)
    classes = ["Proneural", "Neural", "Classical", "Mesenchymal"]
    model = FittedModel(network=random_net(4, seed=2), genes=genes, scaler=Scaler.fit(raw), target="subtype",
                        target_type="multiclass", classes=classes, arch={"hidden": [96, 48, 24]})
    table = saliency_table(model, expression)
    x = torch.as_tensor(model.scaled(expression), dtype=torch.float32)
    for k, cls in enumerate(classes):
        ref = captum_saliency(model.network, x, k).numpy()
        np.testing.assert_allclose(table.xs(cls, level="class").to_numpy(), ref, atol=1e-6)


# ---------------------------------------------------------------------------- GSEA vs gseapy


def planted_rankings(genes: list[str], sets: dict[str, list[str]], n_saliency: int, n_signed: int,
                     seed: int) -> pd.DataFrame:
    """Saliency-like (|t|, all positive) and signed (correlation-like) rankings, some sets raised."""
    rng = np.random.default_rng(seed)
    pos = {g: i for i, g in enumerate(genes)}
    names = list(sets)
    rows = []
    for r in range(n_saliency + n_signed):
        signed = r >= n_saliency
        scores = rng.normal(size=len(genes)) if signed else np.abs(rng.standard_t(4, size=len(genes)))
        for k in rng.choice(len(names), 4, replace=False):
            idx = [pos[g] for g in sets[names[k]] if g in pos]
            if signed:
                scores[idx] += rng.choice([-1.0, 1.0]) * rng.uniform(0.1, 0.6)
            else:
                scores[idx] *= rng.uniform(1.0, 1.6)
        rows.append(scores)
    return pd.DataFrame(rows, columns=genes, index=[f"R{r:02d}" for r in range(len(rows))])


def check_agreement(scores: pd.DataFrame, sets: dict[str, list[str]], n_perm: int) -> dict[str, float]:
    logging.getLogger("gseapy").setLevel(logging.ERROR)
    ours = gsea.prerank_gsea(scores, sets, n_perm=n_perm, seed=11)
    ref = gsea.gseapy_prerank(scores, sets, n_perm=n_perm, seed=5)
    assert set(zip(ours["ranking"], ours["set"])) == set(zip(ref["ranking"], ref["set"]))  # same size filter
    sizes = ours.merge(ref, on=["ranking", "set"], suffixes=("", "_ref"))
    assert (sizes["size"] == sizes["size_ref"]).all()
    a = gsea.agreement(ours, ref, fdr=0.05)
    assert a["es_max_abs_diff"] <= 1e-10  # the same enrichment scores
    assert a["nes_spearman"] >= 0.99
    assert a["same_significance"] >= 0.95
    # not a vacuous check: both significant and non-significant pairs
    assert 5 <= a["significant_ours"] <= a["n_pairs"] - 5
    print("agreement with gseapy:", {k: round(v, 4) for k, v in a.items()})
    return a


def test_gsea_agrees_with_gseapy_synthetic_sets():
    rng = np.random.default_rng(3)
    genes = [f"GENE{i:05d}" for i in range(2000)]
    sets = {f"SET_{k:02d}": list(rng.choice(genes, size, replace=False))
            for k, size in enumerate(rng.integers(10, 320, 36))}  # some below min_size 15
    scores = planted_rankings(genes, sets, n_saliency=5, n_signed=3, seed=4)
    check_agreement(scores, sets, n_perm=1000)


@pytest.mark.realdata
def test_gsea_agrees_with_gseapy_hallmark_sets(real_data_dir):
    sets = read_gmt(real_data_dir / "h.all.v6.2.symbols.gmt")
    genes = sorted({g for members in sets.values() for g in members})
    scores = planted_rankings(genes, sets, n_saliency=3, n_signed=2, seed=5)
    check_agreement(scores, sets, n_perm=1000)


def test_benchmark_quick_run():
    """The benchmark script runs end to end at a small size and prints its comparison table."""
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "interpretation.py"), "--quick"],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "Summary (baseline vs ours" in out
    for task in ("gene-set masking, per set", "single genes", "saliency, binary network",
                 "saliency, 4-class network", "saliency rankings", "phenotype-null GSEA, binary",
                 "phenotype-null GSEA, 4-class"):
        assert task in out
    assert "extrapolated" in out
