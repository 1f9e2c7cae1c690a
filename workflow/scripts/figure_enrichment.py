"""Heatmap of the share of patients in whom each gene set is enriched in the saliency ranking."""

import _common

log = _common.start(snakemake, "figure_enrichment")  # noqa: F821

from radiogenomics import enrichment, figures  # noqa: E402

inp, out, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
summaries = enrichment.read_summaries(params.targets, inp.summaries)
figures.plot_enrichment_heatmap(summaries, out.figure)
