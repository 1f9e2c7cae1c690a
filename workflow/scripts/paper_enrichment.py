"""Paper figures: saliency-GSEA heatmap and the count of patients per enriched gene set, for one collection."""

import _common

log = _common.start(snakemake, "paper_enrichment")

from radiogenomics import enrichment, figures, paper

inp, out, params = snakemake.input, snakemake.output, snakemake.params
summaries = enrichment.read_summaries(params.targets, inp.summaries)
paper.draw(figures._enrichment_figure, out.heatmap_png, summaries)
paper.draw(paper.enriched_counts_figure, out.counts_png, summaries, top=params.top)
for name, df in summaries.items():
    log.info("%s: %d of %d sets enriched in at least one patient", name, int((df["n_enriched"] > 0).sum()), len(df))
