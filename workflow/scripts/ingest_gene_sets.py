"""Read one gene-set collection and restrict it to the expression genes (report of what matched)."""

import _common

log = _common.start(snakemake, "ingest_gene_sets")

import pandas as pd

from radiogenomics import inputs, results

source = snakemake.input.gene_sets
sets = inputs.read_gene_sets(source)
genes = pd.read_parquet(snakemake.input.expression).columns
kept, report = inputs.filter_gene_sets(sets, list(genes), min_size=1, source=source)
log.info("%s: %d of %d sets kept with at least one expression gene", snakemake.wildcards.collection,
         len(kept), len(sets))
results.write_text(inputs.format_gmt(kept, description=f"from {source}"), snakemake.output.gene_sets)
results.write_table(report, snakemake.output.report)
