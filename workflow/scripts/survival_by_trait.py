"""Log-rank test and Kaplan-Meier summary per categorical target (imaging traits, subtype); overview figure."""

import _common

log = _common.start(snakemake, "survival_by_trait")

import pandas as pd

from radiogenomics import figures, files, survival, targets

inp, out, params = snakemake.input, snakemake.output, snakemake.params
endpoint = survival.read_endpoint(inp.endpoint)
groups = targets.class_labels(pd.read_parquet(inp.targets), files.read_json(inp.meta), params.groupings)
table = survival.logrank_table(endpoint, groups, list(params.groupings))
km = pd.concat([survival.km_summary(endpoint, groups[c]).assign(target=c) for c in params.groupings], ignore_index=True)
for _, r in table.iterrows():
    log.info("%s: n %s, log-rank p %s %s", r["trait"], r["n"], r["p"], r.get("note", ""))
files.write_table(table, out.logrank)
files.write_table(km, out.km)
figures.plot_km_grid(endpoint, groups, list(params.groupings), out.overview)
