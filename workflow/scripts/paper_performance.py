"""Paper figures: network vs comparison models (CV bars, paired bootstrap differences) and per-fold CV scores."""

import _common

log = _common.start(snakemake, "paper_performance")

import pandas as pd

from radiogenomics import figures, paper

inp, out = snakemake.input, snakemake.output
summary = pd.read_csv(inp.summary, sep="\t")
boot = pd.read_csv(inp.bootstrap, sep="\t")
scores = pd.read_csv(inp.scores, sep="\t")
paper.draw(figures._performance_figure, out.performance_png, summary, boot, reference="network")
network = scores[scores["model"] == "network"].rename(columns={"value": "metric_value"})
paper.draw(figures._cv_figure, out.cv_scores_png, network)
log.info("performance: %d targets x %d models; %d bootstrap rows", summary["target"].nunique(),
         summary["model"].nunique(), len(boot))
