"""One model on one outer fold of one target: inner-fold selection on the training part, refit, predict the fold."""

import contextlib

import _common

model_name = getattr(snakemake.wildcards, "baseline", "network")  # noqa: F821
# comparison-model jobs never import torch (about 1 s of start-up per job)
log = _common.start(snakemake, "evaluate_fold", uses_torch=model_name == "network")  # noqa: F821

import pandas as pd  # noqa: E402

from radiogenomics import cohorts, files, selection, targets  # noqa: E402

inp, out, params, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards  # noqa: F821
meta = files.read_json(inp.meta)[wc.target]
expression = pd.read_parquet(inp.expression)
y = targets.target_vector(pd.read_parquet(inp.targets), wc.target, meta["type"])
folds = cohorts.read_folds(inp.folds)
encoders, on_device = {}, contextlib.nullcontext()
if model_name == "network":
    from radiogenomics import training

    encoders = training.load_encoders({k[len("encoder_"):]: v for k, v in inp.items() if k.startswith("encoder_")},
                                      list(expression.columns))
    on_device = training.on_device(_common.device(snakemake, log))  # noqa: F821
with on_device:
    result = selection.evaluate_outer_fold(model_name, expression, y, folds, int(wc.fold), meta["type"],
                                           meta["classes"], settings=params.settings, seed=params.seed,
                                           encoders=encoders or None, target=wc.target)
log.info("%s %s fold %s: chosen %s", wc.target, model_name, wc.fold, result.params)
files.write_table(result.predictions, out.predictions)
files.write_json({"target": wc.target, "model": model_name, "fold": int(wc.fold), "params": result.params}, out.params)
if model_name == "network":
    result.model.save(out.model)
