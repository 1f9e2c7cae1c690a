"""Gene masking of one network with one gene-set collection, against matched-size random sets.

Mode out_of_fold: each outer-fold network predicts its held-out patients; mode final: the final network
predicts all of the target's patients (the study's approach).
"""

import _common

log = _common.start(snakemake, "gene_masking")

import pandas as pd

from radiogenomics import inputs, results
from radiogenomics.cohorts import targets
from radiogenomics.interpret import masking

inp, out, params, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
expression = pd.read_parquet(inp.expression)
gene_sets = inputs.read_gmt(inp.gene_sets)
model, folds, target_type = _common.load_networks(inp, params.mode == "out_of_fold")
y = targets.target_vector(pd.read_parquet(inp.targets), wc.target, target_type)
table = masking.gene_masking(model, expression, y, gene_sets, folds=folds, n_random=params.n_random,
                             seed=params.seed, collection=wc.collection,
                             device=_common.device(snakemake, log))
log.info("%s x %s (%s): %d sets masked; unmasked score %s; top sets %s", wc.target, wc.collection, params.mode,
         len(table), table.attrs.get("full_score"), table["set"].head(5).tolist())
table.attrs = {}
results.write_table(table, out.table)
