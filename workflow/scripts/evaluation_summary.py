"""Outer-fold scores of every model and target, paired bootstrap intervals, the summary table and figure."""

import _common

log = _common.start(snakemake, "evaluation_summary")

import pandas as pd

from radiogenomics import results
from radiogenomics.evaluation import bootstrap, metrics
from radiogenomics.plots import figures

inp, out, params = snakemake.input, snakemake.output, snakemake.params
meta = results.read_json(inp.meta)
scores, boots, selected = [], [], {}
for target in params.targets:
    m = meta[target]
    parts = []
    for model in params.models:
        for fold in params.folds:
            pred = pd.read_csv(inp[f"{target}__{model}__{fold}"], sep="\t", dtype={"patient": str})
            chosen = results.read_json(inp[f"{target}__{model}__{fold}"][: -len(".tsv")] + ".json")["params"]
            parts.append(pred.assign(model=model, params=results.json_dumps(chosen)))
    pred = pd.concat(parts, ignore_index=True)
    fold_table = metrics.outer_fold_scores(pred, target, m["type"], m["classes"])
    params_of = pred.drop_duplicates(["model", "fold"]).set_index(["model", "fold"])["params"]
    fold_table["params"] = [params_of[(r.model, r.fold)] for r in fold_table.itertuples()]
    scores.append(fold_table)
    boots.append(bootstrap.bootstrap_scores(pred, m["type"], m["classes"], n_boot=params.n_bootstrap,
                                            seed=params.seed, target=target))
for path in inp.selected:
    sel = results.read_json(path)
    selected[sel["target"]] = sel
scores = pd.concat(scores, ignore_index=True)
boots = pd.concat(boots, ignore_index=True)
summary = bootstrap.summarise(scores, boots, reference="network")
for r in summary.itertuples():
    log.info("%s %s: mean %s %.3f [%.3f, %.3f]; network - model %.3f [%.3f, %.3f]", r.target, r.model, r.metric,
             r.mean_score, r.ci_low, r.ci_high, r.diff_mean, r.diff_ci_low, r.diff_ci_high)
results.write_table(scores, out.scores)
results.write_table(boots, out.bootstrap)
results.write_table(summary, out.summary)
results.write_json(selected, out.selected)
figures.draw(figures.performance_figure, out.figure, summary, boots)
