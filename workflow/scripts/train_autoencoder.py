"""Pretrain a gene-expression autoencoder (one per encoder architecture) on patients with expression but no imaging."""

import _common

log = _common.start(snakemake, "train_autoencoder")  # noqa: F821

import pandas as pd  # noqa: E402

from radiogenomics import files, training  # noqa: E402

inp, out, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
expression = pd.read_parquet(inp.expression)
cohort = files.read_json(inp.cohorts)["autoencoder"]
if len(cohort) < 10:
    raise ValueError(f"autoencoder cohort has {len(cohort)} patients (expression without imaging); need at least 10, "
                     "or set autoencoder.enabled: false")
cfg = dict(params.training)
cfg.pop("enabled", None)
with training.on_device(_common.device(snakemake, log)):  # noqa: F821
    model, scaler, res = training.train_autoencoder(expression.loc[cohort], params.architecture,
                                                    training.TrainingConfig.from_dict(cfg), params.seed)
training.save_autoencoder(model, scaler, list(expression.columns), params.architecture,
                          {"n_patients": len(cohort), "best_epoch": res["best_epoch"]}, out.model)
files.write_table(pd.DataFrame(res["history"]), out.history)
