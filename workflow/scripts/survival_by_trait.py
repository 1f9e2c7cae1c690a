"""Log-rank test and Kaplan-Meier summary per categorical target (imaging traits, subtype); overview figure."""

import _common

log = _common.start(snakemake, "survival_by_trait")

import pandas as pd

from radiogenomics import results, survival
from radiogenomics.cohorts import targets
from radiogenomics.plots import figures

inp, out, params = snakemake.input, snakemake.output, snakemake.params
endpoint = survival.read_endpoint(inp.endpoint)
groups = targets.class_labels(pd.read_parquet(inp.targets), results.read_json(inp.meta), params.groupings)
table = survival.logrank_table(endpoint, groups, list(params.groupings))
km = pd.concat([survival.km_summary(endpoint, groups[c]).assign(target=c) for c in params.groupings], ignore_index=True)
for _, r in table.iterrows():
    log.info("%s: n %s, log-rank p %s %s", r["trait"], r["n"], r["p"], r.get("note", ""))
results.write_table(table, out.logrank)
results.write_table(km, out.km)
figures.draw(figures.km_grid_figure, out.overview, endpoint, groups, list(params.groupings))
