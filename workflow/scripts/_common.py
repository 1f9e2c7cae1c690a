"""Shared start-up for the workflow scripts: import path, logging to the rule's log, torch threads."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from radiogenomics import logs


def start(snakemake, name: str, *, uses_torch: bool | None = None):
    """Log to ``snakemake.log[0]``; set torch's thread count from the rule's ``threads`` when the script
    uses torch (default: ``name`` in :data:`TORCH_SCRIPTS`; only then is torch imported)."""
    logger = logs.setup(snakemake.log[0] if len(snakemake.log) else None).getChild(name)
    if name in TORCH_SCRIPTS if uses_torch is None else uses_torch:
        import torch

        torch.set_num_threads(max(1, int(snakemake.threads)))
        # part of the numerical recipe: torch's CPU sums depend on it (docs/methods.md, "Reproducibility:
        # seeds and threads")
        logger.info("torch %s, %d thread(s)", torch.__version__, torch.get_num_threads())
    logger.info("rule %s: inputs %s", snakemake.rule, dict(snakemake.input.items()))
    check_downloads(snakemake, logger)
    return logger


def check_downloads(snakemake, logger) -> None:
    """Before anything is parsed: every input that is a pinned public source must still have its sha256
    (radiogenomics.inputs.download.check_inputs; a downloaded file that does not is removed and the job fails)."""
    downloads = (snakemake.config or {}).get("downloads") or {}
    if not downloads.get("enabled"):
        return
    from radiogenomics.inputs import download

    plan = download.plan(downloads, kinds=download.input_kinds(ROOT / "workflow" / "schemas" / "config.schema.yaml"),
                         check_local=False)
    for line in download.check_inputs([str(p) for p in snakemake.input], plan):
        logger.info(line)


def load_networks(inp, out_of_fold: bool):
    """The network(s) an interpretation job applies, with their target type.

    Out of fold: ``({fold: model}, split file, type)`` from the ``fold_model_<k>`` and ``folds`` inputs
    (each outer-fold network predicts its held-out patients); otherwise ``(final model, None, type)``
    from the ``model`` input.
    """
    from radiogenomics.cohorts import splits
    from radiogenomics.models.nets import FittedModel

    if out_of_fold:
        models = {int(k[len("fold_model_"):]): FittedModel.load(v) for k, v in inp.items()
                  if k.startswith("fold_model_")}
        return models, splits.read_folds(inp.folds), next(iter(models.values())).target_type
    model = FittedModel.load(inp.model)
    return model, None, model.target_type


# scripts whose rule has ``threads: torch_threads()`` and that run torch (tests/unit/test_gpu_tags.py checks the list)
TORCH_SCRIPTS = {"train_autoencoder", "evaluate_fold", "final_network", "gene_masking", "single_gene_masking",
                 "gene_saliency", "subtype_validation", "survival_predict_traits", "heldout_predictions"}


# --- GPU resource tag (resources: gpu=, from config resources.gpu; see job_resources in common.smk) ---
def device(snakemake, logger):
    """``"cuda"`` when the job was given a GPU (resources gpu > 0) and torch sees CUDA, else ``"cpu"``; logged.

    A job that asked for a GPU on a machine without CUDA runs on the CPU with a warning (same numbers,
    slower); a job with gpu=0 never touches a GPU even when one is visible.
    """
    import torch

    gpus = int(getattr(snakemake.resources, "gpu", 0) or 0)
    cuda = torch.cuda.is_available()
    if gpus > 0 and cuda:
        logger.info("device: cuda (%s; job resources gpu=%d)", torch.cuda.get_device_name(0), gpus)
        return "cuda"
    if gpus > 0:
        logger.warning("device: cpu (job resources gpu=%d, but torch %s sees no CUDA device)", gpus,
                       torch.__version__)
    else:
        logger.info("device: cpu (job resources gpu=0)")
    return "cpu"
