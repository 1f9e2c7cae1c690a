"""Predictions of every final model of one target for the held-out test cohort (never used in training)."""

import _common

log = _common.start(snakemake, "test_predictions")

import pandas as pd

from radiogenomics import baseline_files, evaluation, files, heldout, targets
from radiogenomics.nets import FittedModel

inp, out, params, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
meta = files.read_json(inp.meta)[wc.target]
test_targets = pd.read_parquet(inp.test_targets)
models = {}
for name in params.models:
    key = f"model_{name}"
    models[name] = FittedModel.load(inp[key]) if name == "network" else baseline_files.load_model(inp[key])
if wc.target in test_targets.columns and test_targets[wc.target].notna().any():
    y = targets.target_vector(test_targets, wc.target, meta["type"])
    expression = pd.read_parquet(inp.test_expression)
    pred = heldout.predictions(models, expression, y, meta["type"], meta["classes"])
    log.info("%s: %d test patients x %d models", wc.target, len(y), len(models))
else:
    cols = evaluation.output_columns(meta["type"], meta["classes"])
    pred = pd.DataFrame(columns=["patient", "model", "y", *cols])
    log.warning("%s: no test-cohort values (see cohorts/test_target_drops.tsv); nothing scored", wc.target)
files.write_table(pred, out.predictions)
