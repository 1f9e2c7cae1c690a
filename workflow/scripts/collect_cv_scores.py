"""Gather the per-fold CV scores of every target into one table and a per-target summary."""

import _common

log = _common.start(snakemake, "collect_cv_scores")  # noqa: F821

import pandas as pd  # noqa: E402

from radiogenomics import evaluation, files  # noqa: E402

inp, out = snakemake.input, snakemake.output  # noqa: F821
meta = files.read_json(inp.meta)
scores = pd.concat([pd.read_csv(p, sep="\t") for p in inp.scores], ignore_index=True)
scores.insert(1, "type", scores["target"].map(lambda t: meta[t]["type"]))
scores["metric"] = scores["type"].map(evaluation.PRIMARY_METRIC)
scores["metric_value"] = [row[row["metric"]] for _, row in scores.iterrows()]
summary = (scores.groupby(["target", "type", "metric"], sort=False)["metric_value"]
           .agg(["mean", "std", "min", "max", "count"]).reset_index())
for _, r in summary.iterrows():
    log.info("%s (%s): mean %s %.3f (sd %.3f) over %d folds", r["target"], r["type"], r["metric"], r["mean"], r["std"],
             r["count"])
files.write_table(scores, out.scores)
files.write_table(summary, out.summary)
