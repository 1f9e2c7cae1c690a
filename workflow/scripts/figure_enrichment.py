"""Heatmap of the share of patients in whom each gene set is enriched in the saliency ranking."""

import _common

log = _common.start(snakemake, "figure_enrichment")  # noqa: F821

import pandas as pd  # noqa: E402

from radiogenomics import figures  # noqa: E402

inp, out, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
summaries = {}
for target, path in zip(params.targets, inp.summaries):
    df = pd.read_csv(path, sep="\t")
    if "class" in df.columns:  # multi-class network: one column per class
        for cls, part in df.groupby("class", sort=False):
            summaries[f"{target}:{cls}"] = part.drop(columns="class")
    else:
        summaries[target] = df
figures.plot_enrichment_heatmap(summaries, out.figure)
