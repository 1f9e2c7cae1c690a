"""Per-patient gene saliency |d output / d gene| of one network (per class for multi-class networks)."""

import _common

log = _common.start(snakemake, "gene_saliency")

import pandas as pd

from radiogenomics import results
from radiogenomics.cohorts import targets
from radiogenomics.interpret import saliency
from radiogenomics.models.nets import FittedModel

inp, out, wc = snakemake.input, snakemake.output, snakemake.wildcards
model = FittedModel.load(inp.model)
expression = pd.read_parquet(inp.expression)
y = targets.target_vector(pd.read_parquet(inp.targets), wc.target, model.target_type)
table = saliency.saliency_table(model, expression.loc[y.index], device=_common.device(snakemake, log))
log.info("%s: saliency of %d rows x %d genes", wc.target, *table.shape)
results.write_table(table, out.saliency, index=True)
