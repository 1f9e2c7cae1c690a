"""Paper figures: subtype-network masking heatmaps and the coverage curve of the ClaNC genes, PNG and SVG."""

import _common

log = _common.start(snakemake, "paper_subtype_validation")

import pandas as pd

from radiogenomics import figures

inp, out = snakemake.input, snakemake.output
probs = pd.read_parquet(inp.probabilities)
coverage = pd.read_csv(inp.coverage, sep="\t")
for path in (out.heatmap_png, out.heatmap_svg):
    figures.plot_subtype_masking_heatmap(probs, path, random_draw=0)
for path in (out.coverage_png, out.coverage_svg):
    figures.plot_coverage_curve(coverage, path)
log.info("subtype validation: %d patients, coverage curve of %d genes", probs["patient"].nunique(), len(coverage))
