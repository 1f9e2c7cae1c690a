"""One model on the outer folds of one target: inner-fold selection on each training part, refit, predict the fold.

Rules evaluate_network_fold / evaluate_baseline_fold (evaluation.split_folds: true) run one outer fold, named by
the ``fold`` wildcard; evaluate_network_folds / evaluate_baseline_folds (false) run every fold of
``params.folds`` one after another, their outputs being lists in that order. Each fold's files are written as
soon as the fold is done, with the same contents as its own job would write (the fold's seed is derived from
the config seed and the fold inside :func:`radiogenomics.models.selection.evaluate_outer_fold`;
tests/workflow/test_fold_jobs.py compares the two modes).
"""

import contextlib
import time

import _common

model_name = getattr(snakemake.wildcards, "baseline", "network")
# comparison-model jobs never import torch (about 1 s of start-up per job)
log = _common.start(snakemake, "evaluate_fold", uses_torch=model_name == "network")

import pandas as pd

from radiogenomics import results
from radiogenomics.cohorts import splits, targets
from radiogenomics.models import selection

inp, out, params, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
single = hasattr(wc, "fold")
fold_ids = [int(wc.fold)] if single else [int(k) for k in params.folds]


def per_fold(name: str) -> list[str]:
    """The output ``name`` of each fold, in the order of ``fold_ids``."""
    value = getattr(out, name)
    paths = [value] if single else list(value)
    if len(paths) != len(fold_ids):
        raise ValueError(f"rule {snakemake.rule}: {len(paths)} {name} outputs for {len(fold_ids)} folds")
    return paths


outputs = {name: per_fold(name) for name in ("predictions", "params") + (("model",) if model_name == "network" else ())}
meta = results.read_json(inp.meta)[wc.target]
expression = pd.read_parquet(inp.expression)
y = targets.target_vector(pd.read_parquet(inp.targets), wc.target, meta["type"])
folds = splits.read_folds(inp.folds)
encoder_paths, on_device = {}, contextlib.nullcontext()
if model_name == "network":
    from radiogenomics.models import training

    # encoder_{arch}: the shared (or this fold's) encoder; encoder_{arch}__fold{k}: fold k's (batched job)
    encoder_paths = {k[len("encoder_"):]: v for k, v in inp.items() if k.startswith("encoder_")}
    on_device = training.on_device(_common.device(snakemake, log))


def fold_encoders(fold: int) -> dict:
    """The encoders of one outer fold by architecture key, loaded when the fold starts."""
    if not encoder_paths:
        return {}
    suffix = f"__fold{fold}"
    per_fold = {k[:-len(suffix)]: v for k, v in encoder_paths.items() if k.endswith(suffix)}
    paths = per_fold or {k: v for k, v in encoder_paths.items() if "__fold" not in k}
    return training.load_encoders(paths, list(expression.columns))


start = time.monotonic()
with on_device:
    for i, fold in enumerate(fold_ids):
        encoders = fold_encoders(fold)
        result = selection.evaluate_outer_fold(model_name, expression, y, folds, fold, meta["type"],
                                               meta["classes"], settings=params.settings, seed=params.seed,
                                               encoders=encoders or None, target=wc.target)
        results.write_table(result.predictions, outputs["predictions"][i])
        results.write_json({"target": wc.target, "model": model_name, "fold": fold, "params": result.params},
                         outputs["params"][i])
        if model_name == "network":
            result.model.save(outputs["model"][i])
        log.info("%s %s fold %d (%d/%d) done: chosen %s, elapsed %.1f s", wc.target, model_name, fold, i + 1,
                 len(fold_ids), result.params, time.monotonic() - start)
