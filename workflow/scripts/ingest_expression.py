"""Parse the expression input (a Xena genes x samples matrix or a ClaNC table) into patients x genes parquet."""

import _common

log = _common.start(snakemake, "ingest_expression")  # noqa: F821

from radiogenomics import files, parsers  # noqa: E402

path, fmt = snakemake.input.expression, snakemake.params.format  # noqa: F821
if fmt == "clanc":
    table = parsers.read_clanc(path)
    expression, samples = table.expression, table.samples
else:
    expression, samples = parsers.read_expression_matrix(path)
log.info("expression (%s format): %d patients x %d genes", fmt, *expression.shape)
files.write_table(expression, snakemake.output.expression, index=True)  # noqa: F821
files.write_table(samples, snakemake.output.samples)  # noqa: F821
