"""Shared start-up for the workflow scripts: import path, logging to the rule's log, torch threads."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from radiogenomics import logs  # noqa: E402


def start(snakemake, name: str):
    """Log to ``snakemake.log[0]``; set torch's thread count from the rule's ``threads``."""
    logger = logs.setup(snakemake.log[0] if len(snakemake.log) else None).getChild(name)
    if name in TORCH_SCRIPTS:
        import torch

        torch.set_num_threads(max(1, int(snakemake.threads)))
    logger.info("rule %s: inputs %s", snakemake.rule, dict(snakemake.input.items()))
    return logger


TORCH_SCRIPTS = {"train_autoencoder", "evaluate_fold", "final_network", "gene_masking", "gene_saliency"}
