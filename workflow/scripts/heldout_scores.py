"""Held-out test-cohort scores of every target and model with bootstrap intervals, beside the CV scores."""

import _common

log = _common.start(snakemake, "heldout_scores")

import pandas as pd

from radiogenomics import results
from radiogenomics.evaluation import heldout

inp, out, params = snakemake.input, snakemake.output, snakemake.params
meta = results.read_json(inp.meta)
cv = pd.read_csv(inp.cv_scores, sep="\t")
tables = []
for target, path in zip(params.targets, inp.predictions):
    pred = pd.read_csv(path, sep="\t", dtype={"patient": str})
    if pred.empty:
        log.warning("%s: no held-out predictions (the test cohort has no values for it)", target)
        continue
    m = meta[target]
    tables.append(heldout.score_predictions(pred, target, m["type"], m["classes"], n_boot=params.n_bootstrap,
                                            seed=params.seed, cv_scores=cv))
if not tables:
    raise ValueError("no target has values in the held-out test cohort; check its target table "
                     "(cohorts/test_target_drops.tsv lists why each target was not scored)")
scores = pd.concat(tables, ignore_index=True)
first = [c for c in heldout.SCORE_COLUMNS if c in scores.columns]
scores = scores[first + [c for c in scores.columns if c not in first]]
results.write_table(scores, out.scores)
