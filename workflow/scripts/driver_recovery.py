"""Simulated cohort only: where each trait's planted driver programs rank in masking and saliency GSEA."""

import _common

log = _common.start(snakemake, "driver_recovery")  # noqa: F821

import pandas as pd  # noqa: E402

from radiogenomics import files, recovery  # noqa: E402

inp, out, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
truth = files.read_json(inp.truth)
masking = {t: pd.read_csv(p, sep="\t") for t, p in zip(params.targets, inp.masking)}
enrich = {t: pd.read_csv(p, sep="\t") for t, p in zip(params.targets, inp.enrichment)}
table = recovery.driver_ranks(truth, masking, enrich)
for _, r in table.iterrows():
    log.info("%s driver %s: masking rank %d of %d, saliency-GSEA rank %s", r["target"], r["driver"],
             r["masking_rank"], r["n_sets"], r["enrichment_rank"])
files.write_table(table, out.table)
