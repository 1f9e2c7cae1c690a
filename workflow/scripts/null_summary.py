"""Every model's cross-validated score and bootstrap interval beside its null-label score; table and figure."""

import _common

log = _common.start(snakemake, "null_summary")

import pandas as pd

from radiogenomics import results
from radiogenomics.evaluation import null_calibration
from radiogenomics.plots import figures

inp, out = snakemake.input, snakemake.output
summary = pd.read_csv(inp.summary, sep="\t")
null = pd.concat([pd.read_csv(p, sep="\t") for p in inp.null], ignore_index=True)
table = null_calibration.calibrate(summary, null)
for r in table.itertuples():
    log.info("%s %s: %s %.3f [%.3f, %.3f]; null %.3f (%.3f to %.3f, %d permutations), p %.3g: %s", r.target, r.model,
             r.metric, r.mean_score, r.ci_low, r.ci_high, r.null_mean, r.null_low, r.null_high, r.n_perm, r.p_perm,
             r.verdict)
results.write_table(null, out.scores)
results.write_table(table, out.table)
figures.draw(figures.calibration_figure, out.figure, table)
