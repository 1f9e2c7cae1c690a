"""Gene masking of one network with one gene-set collection, against matched-size random sets."""

import _common

log = _common.start(snakemake, "gene_masking")  # noqa: F821

import pandas as pd  # noqa: E402

from radiogenomics import files, masking, parsers, targets  # noqa: E402
from radiogenomics.nets import FittedModel  # noqa: E402

inp, out, params, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards  # noqa: F821
model = FittedModel.load(inp.model)
expression = pd.read_parquet(inp.expression)
y = targets.target_vector(pd.read_parquet(inp.targets), wc.target, model.target_type)
gene_sets = parsers.read_gmt(inp.gene_sets)
table = masking.gene_masking(model, expression, y, gene_sets, n_random=params.n_random, seed=params.seed)
log.info("%s x %s: %d sets masked; unmasked score %s; top sets %s", wc.target, wc.collection, len(table),
         table.attrs.get("full_score"), table["set"].head(5).tolist())
table.attrs = {}
files.write_table(table, out.table)
