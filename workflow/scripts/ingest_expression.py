"""Parse the genes x samples expression matrix into patients x genes parquet."""

import _common

log = _common.start(snakemake, "ingest_expression")  # noqa: F821

from radiogenomics import files, parsers  # noqa: E402

expression, samples = parsers.read_expression_matrix(snakemake.input.expression)  # noqa: F821
log.info("expression: %d patients x %d genes", *expression.shape)
files.write_table(expression, snakemake.output.expression, index=True)  # noqa: F821
files.write_table(samples, snakemake.output.samples)  # noqa: F821
