"""Per-patient gene saliency |d output / d gene| of one network (per class for multi-class networks)."""

import _common

log = _common.start(snakemake, "gene_saliency")  # noqa: F821

import pandas as pd  # noqa: E402

from radiogenomics import files, saliency, targets  # noqa: E402
from radiogenomics.nets import FittedModel  # noqa: E402

inp, out, wc = snakemake.input, snakemake.output, snakemake.wildcards  # noqa: F821
model = FittedModel.load(inp.model)
expression = pd.read_parquet(inp.expression)
y = targets.target_vector(pd.read_parquet(inp.targets), wc.target, model.target_type)
table = saliency.saliency_table(model, expression.loc[y.index], device=_common.device(snakemake, log))  # noqa: F821
log.info("%s: saliency of %d rows x %d genes", wc.target, *table.shape)
files.write_table(table, out.saliency, index=True)
