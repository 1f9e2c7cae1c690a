"""Parse the target table (one row per patient, one column per target; IDs by the configured rule): a plain table
of strings, or an imaging-feature table (numeric features; non-feature and mostly-missing columns dropped, logged)."""

import _common

log = _common.start(snakemake, "ingest_targets")

from radiogenomics import inputs, results

inp, out, params = snakemake.input, snakemake.output, snakemake.params
table = inputs.read_targets_input(inp.targets, id_rule=params.id_rule, **params.layout)
log.info("target table %s: %d patients x %d columns", inp.targets, *table.shape)
results.write_table(table, out.targets, index=True)
