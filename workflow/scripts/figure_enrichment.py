"""Heatmap of the share of patients in whom each gene set is enriched in the saliency ranking."""

import _common

log = _common.start(snakemake, "figure_enrichment")

from radiogenomics import enrichment, figures

inp, out, params = snakemake.input, snakemake.output, snakemake.params
summaries = enrichment.read_summaries(params.targets, inp.summaries)
figures.plot_enrichment_heatmap(summaries, out.figure)
