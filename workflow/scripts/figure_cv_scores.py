"""Bar chart of the networks' outer-fold CV scores per target."""

import _common

log = _common.start(snakemake, "figure_cv_scores")  # noqa: F821

import pandas as pd  # noqa: E402

from radiogenomics import figures  # noqa: E402

scores = pd.read_csv(snakemake.input.scores, sep="\t")  # noqa: F821
network = scores[scores["model"] == "network"].rename(columns={"value": "metric_value"})
figures.plot_cv_scores(network, snakemake.output.figure)  # noqa: F821
