"""Pretrain a gene-expression autoencoder: the shared one (rule train_autoencoder, one per encoder
architecture: patients with expression but no imaging) or one target's outer-fold one (rule
train_fold_autoencoder: every training patient outside the fold's test patients). The patients it was
trained on are saved with it; the evaluation refuses an encoder that saw a patient it scores."""

import _common

log = _common.start(snakemake, "train_autoencoder")

import pandas as pd

from radiogenomics import results
from radiogenomics.cohorts import splits
from radiogenomics.models import training

inp, out, params, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
expression = pd.read_parquet(inp.expression)
groups = results.read_json(inp.cohorts)
if hasattr(wc, "target"):
    cohort = groups["encoder_patients"][wc.target][str(wc.fold)]
    folds = splits.read_folds(inp.folds)
    test = set(folds.loc[folds["fold"] == int(wc.fold), "patient"])
    if test.intersection(cohort):
        raise ValueError(f"{inp.cohorts}: the fold-{wc.fold} autoencoder of {wc.target!r} lists "
                         f"{len(test.intersection(cohort))} patients of that fold's test part ({inp.folds})")
    what = f"{wc.target} outer fold {wc.fold} (every training patient outside its {len(test)} test patients)"
else:
    cohort = groups["autoencoder"]
    what = "shared (expression without imaging)"
if len(cohort) < 10:
    raise ValueError(f"autoencoder cohort {what} has {len(cohort)} patients; need at least 10, "
                     "or set autoencoder.enabled: false")
log.info("autoencoder %s: %d patients", what, len(cohort))
cfg = dict(params.training)
cfg.pop("enabled", None)
with training.on_device(_common.device(snakemake, log)):
    model, scaler, res = training.train_autoencoder(expression.loc[cohort], params.architecture,
                                                    training.TrainingConfig.from_dict(cfg), params.seed)
training.save_autoencoder(model, scaler, list(expression.columns), params.architecture,
                          {"n_patients": len(cohort), "best_epoch": res["best_epoch"],
                           "patients": sorted(map(str, cohort))}, out.model)
results.write_table(pd.DataFrame(res["history"]), out.history)
