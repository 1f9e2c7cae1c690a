"""Subtype validation figures: per-patient class probabilities under each Verhaak-set mask (and a random
set of the same size), grouped by true subtype; coverage of the ClaNC genes by single-gene masking."""

import _common

log = _common.start(snakemake, "figure_subtype_validation")

import pandas as pd

from radiogenomics.plots import figures

inp, out = snakemake.input, snakemake.output
probs = pd.read_parquet(inp.probabilities)
figures.draw(figures.subtype_masking_figure, out.heatmap, probs, random_draw=0)
coverage = pd.read_csv(inp.coverage, sep="\t")
figures.draw(figures.coverage_figure, out.coverage, coverage)
log.info("subtype masking heatmap (%d patients) and coverage curves (%s) drawn", probs["patient"].nunique(),
         ", ".join(map(str, pd.unique(coverage["class"]))))
