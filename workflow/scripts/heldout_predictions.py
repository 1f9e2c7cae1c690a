"""Predictions of every final model of one target for the held-out test cohort (never used in training)."""

import _common

log = _common.start(snakemake, "heldout_predictions")

import pandas as pd

from radiogenomics import results
from radiogenomics.cohorts import targets
from radiogenomics.evaluation import heldout, metrics
from radiogenomics.models import baseline_files
from radiogenomics.models.nets import FittedModel

inp, out, params, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
meta = results.read_json(inp.meta)[wc.target]
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
    cols = metrics.output_columns(meta["type"], meta["classes"])
    pred = pd.DataFrame(columns=["patient", "model", "y", *cols])
    log.warning("%s: no test-cohort values (see cohorts/test_target_drops.tsv); nothing scored", wc.target)
results.write_table(pred, out.predictions)
