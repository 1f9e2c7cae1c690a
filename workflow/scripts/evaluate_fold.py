"""One model on one outer fold of one target: inner-fold selection on the training part, refit, predict the fold."""

import _common

log = _common.start(snakemake, "evaluate_fold")  # noqa: F821

import pandas as pd  # noqa: E402

from radiogenomics import cohorts, files, selection, targets, training  # noqa: E402

inp, out, params, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards  # noqa: F821
model_name = getattr(wc, "baseline", "network")
meta = files.read_json(inp.meta)[wc.target]
expression = pd.read_parquet(inp.expression)
y = targets.target_vector(pd.read_parquet(inp.targets), wc.target, meta["type"])
folds = cohorts.read_folds(inp.folds)
encoders = training.load_encoders({k[len("encoder_"):]: v for k, v in inp.items() if k.startswith("encoder_")},
                                  list(expression.columns))
device = _common.device(snakemake, log) if model_name == "network" else "cpu"  # noqa: F821
with training.on_device(device):
    result = selection.evaluate_outer_fold(model_name, expression, y, folds, int(wc.fold), meta["type"],
                                           meta["classes"], settings=params.settings, seed=params.seed,
                                           encoders=encoders or None, target=wc.target)
log.info("%s %s fold %s: chosen %s", wc.target, model_name, wc.fold, result.params)
files.write_table(result.predictions, out.predictions)
files.write_json({"target": wc.target, "model": model_name, "fold": int(wc.fold), "params": result.params}, out.params)
if model_name == "network":
    result.model.save(out.model)
