"""Bar chart of the networks' outer-fold CV scores per target."""

import _common

log = _common.start(snakemake, "figure_cv_scores")

import pandas as pd

from radiogenomics.plots import figures

scores = pd.read_csv(snakemake.input.scores, sep="\t")
network = scores[scores["model"] == "network"].rename(columns={"value": "metric_value"})
figures.draw(figures.cv_scores_figure, snakemake.output.figure, network)
