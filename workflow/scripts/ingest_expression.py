"""Parse an expression input (a Xena genes x samples matrix, a ClaNC table, or a plain matrix in either
orientation with a configurable patient-ID rule) into patients x genes parquet. Genes constant across
the patients are dropped (logged); fewer than inputs.min_informative_genes informative genes is an error.

Also ingests the held-out test cohort's expression (rule ingest_test_expression): then the training
genes are given and the test matrix is cut to them (a missing training gene is an error).
"""

import _common

log = _common.start(snakemake, "ingest_expression")

import pandas as pd

from radiogenomics import inputs, results
from radiogenomics.evaluation import heldout

inp, out, params = snakemake.input, snakemake.output, snakemake.params
path, fmt = inp.expression, params.format
expression, samples = inputs.read_expression_input(path, fmt=fmt, orientation=params.orientation,
                                                    id_rule=params.id_rule)
log.info("expression (%s format): %d patients x %d genes", fmt, *expression.shape)
if "training" in inp.keys():
    genes = list(pd.read_parquet(inp.training).columns)
    expression = heldout.align_genes(expression, genes, source=path, reference=inp.training)
    log.info("test expression aligned to the %d training genes", len(genes))
else:  # constant genes carry no information: dropped (logged); too few informative genes stop here
    expression = inputs.drop_constant_genes(expression, source=path, min_genes=params.min_genes)
results.write_table(expression, out.expression, index=True)
results.write_table(samples, out.samples)
