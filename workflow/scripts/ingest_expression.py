"""Parse an expression input (a Xena genes x samples matrix, a ClaNC table, or a plain matrix in either
orientation with a configurable patient-ID rule) into patients x genes parquet.

Also ingests the held-out test cohort's expression (rule ingest_test_expression): then the training
genes are given and the test matrix is cut to them (a missing training gene is an error).
"""

import _common

log = _common.start(snakemake, "ingest_expression")  # noqa: F821

import pandas as pd  # noqa: E402

from radiogenomics import files, heldout, parsers  # noqa: E402

inp, out, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
path, fmt = inp.expression, params.format
if fmt == "clanc":
    table = parsers.read_clanc(path)
    expression, samples = table.expression, table.samples
elif fmt == "matrix":
    expression, samples = parsers.read_matrix(path, orientation=params.orientation, id_rule=params.id_rule,
                                              return_samples=True)
else:
    expression, samples = parsers.read_expression_matrix(path)
log.info("expression (%s format): %d patients x %d genes", fmt, *expression.shape)
if "training" in inp.keys():
    genes = list(pd.read_parquet(inp.training).columns)
    expression = heldout.align_genes(expression, genes, source=path, reference=inp.training)
    log.info("test expression aligned to the %d training genes", len(genes))
files.write_table(expression, out.expression, index=True)
files.write_table(samples, out.samples)
