"""Simulated cohort only: where each trait's planted driver programs rank in gene-set masking, the
saliency-GSEA summary, the GSEA of the gene-trait correlation and the GSEA of single-gene masking."""

import _common

log = _common.start(snakemake, "driver_recovery")

import pandas as pd

from radiogenomics import results
from radiogenomics.interpret import recovery

inp, out, params = snakemake.input, snakemake.output, snakemake.params
truth = results.read_json(inp.truth)


def read(paths):
    return {t: pd.read_csv(p, sep="\t") for t, p in zip(params.targets, paths)}


table = recovery.driver_ranks(truth, read(inp.masking), read(inp.enrichment), correlation=read(inp.correlation),
                              masking_gsea=read(inp.masking_gsea))
for _, r in table.iterrows():
    log.info("%s driver %s (of %d sets): masking rank %s, saliency-GSEA rank %s, correlation-GSEA rank %s, "
             "single-gene-masking GSEA rank %s", r["target"], r["driver"], r["n_sets"], r["masking_rank"],
             r["enrichment_rank"], r["correlation_rank"], r["masking_gsea_rank"])
results.write_table(table, out.table)
