"""Stratified K-fold split file (patient, fold) for one target, written before any model is fitted."""

import _common

log = _common.start(snakemake, "make_splits")

import pandas as pd

from radiogenomics import results
from radiogenomics.cohorts import splits, targets

inp, out, params, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
meta = results.read_json(inp.meta)[wc.target]
y = targets.target_vector(pd.read_parquet(inp.targets), wc.target, meta["type"])
folds = splits.make_folds(y, meta["type"], params.folds, params.seed)
log.info("%s: %d patients in %d folds, sizes %s", wc.target, len(folds), params.folds,
         folds["fold"].value_counts().sort_index().tolist())
results.write_table(folds, out.folds)
