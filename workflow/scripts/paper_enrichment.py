"""Paper figures: saliency-GSEA heatmap and the count of patients per enriched gene set, for one collection."""

import _common

log = _common.start(snakemake, "paper_enrichment")  # noqa: F821

import pandas as pd  # noqa: E402

from radiogenomics import figures, paper  # noqa: E402

inp, out, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
summaries = {}
for target, path in zip(params.targets, inp.summaries):
    df = pd.read_csv(path, sep="\t")
    if "class" in df.columns:  # multi-class network: one entry per class
        for cls, part in df.groupby("class", sort=False):
            summaries[f"{target}:{cls}"] = part.drop(columns="class")
    else:
        summaries[target] = df
paper.draw(figures._enrichment_figure, out.heatmap_png, summaries)
paper.draw(paper.enriched_counts_figure, out.counts_png, summaries, top=params.top)
for name, df in summaries.items():
    log.info("%s: %d of %d sets enriched in at least one patient", name, int((df["n_enriched"] > 0).sum()), len(df))
