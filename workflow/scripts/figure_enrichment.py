"""Saliency GSEA of one collection: the heatmap of the share of patients in whom each gene set is enriched, and the
count of patients per enriched gene set (the top sets), each as PNG and SVG."""

import _common

log = _common.start(snakemake, "figure_enrichment")

from radiogenomics.enrichment import gsea
from radiogenomics.plots import figures, paper

inp, out, params = snakemake.input, snakemake.output, snakemake.params
summaries = gsea.read_summaries(params.targets, inp.summaries)
figures.draw(figures.enrichment_figure, out.figure, summaries)
figures.draw(paper.enriched_counts_figure, out.counts, summaries, top=params.top)
for name, df in summaries.items():
    log.info("%s: %d of %d sets enriched in at least one patient", name, int((df["n_enriched"] > 0).sum()), len(df))
