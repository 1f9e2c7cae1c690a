"""Null-label calibration of one model on one target: nested CV on labels permuted within each outer fold."""

import _common

model_name = getattr(snakemake.wildcards, "baseline", "network")
log = _common.start(snakemake, "null_calibration", uses_torch=model_name == "network")

import contextlib

import pandas as pd

from radiogenomics import results
from radiogenomics.cohorts import splits, targets
from radiogenomics.evaluation import null_calibration

inp, out, params, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
meta = results.read_json(inp.meta)[wc.target]
expression = pd.read_parquet(inp.expression)
y = targets.target_vector(pd.read_parquet(inp.targets), wc.target, meta["type"])
folds = splits.read_folds(inp.folds)
encoder_paths, on_device, encoders_for_fold = {}, contextlib.nullcontext(), None
if model_name == "network":
    from radiogenomics.models import training

    # encoder_{arch}: the shared encoder; encoder_{arch}__fold{k}: fold k's (a target with one autoencoder per fold)
    encoder_paths = {k[len("encoder_"):]: v for k, v in inp.items() if k.startswith("encoder_")}
    on_device = training.on_device(_common.device(snakemake, log))

    def encoders_for_fold(fold):
        if not encoder_paths:
            return None
        suffix = f"__fold{fold}"
        per_fold = {k[:-len(suffix)]: v for k, v in encoder_paths.items() if k.endswith(suffix)}
        paths = per_fold or {k: v for k, v in encoder_paths.items() if "__fold" not in k}
        return training.load_encoders(paths, list(expression.columns))


with on_device:
    table = null_calibration.null_scores(model_name, expression, y, folds, meta["type"], meta["classes"],
                                         settings=params.settings, seed=params.seed, n_perm=params.n_perm,
                                         encoders_for_fold=encoders_for_fold, target=wc.target)
per_perm = table.groupby("permutation")["value"].mean()
log.info("%s %s: %d permutations, null mean outer-fold %s %.3f (sd %.3f, range %.3f to %.3f)", wc.target, model_name,
         len(per_perm), table["metric"].iloc[0], per_perm.mean(), per_perm.std(), per_perm.min(), per_perm.max())
results.write_table(table, out.null)
