"""Kaplan-Meier figure (95% bands, number at risk, log-rank p) for one categorical target."""

import _common

log = _common.start(snakemake, "km_figure")

import pandas as pd

from radiogenomics import results, survival
from radiogenomics.cohorts import targets
from radiogenomics.plots import figures

inp, out, wc = snakemake.input, snakemake.output, snakemake.wildcards
meta = results.read_json(inp.meta)
endpoint = survival.read_endpoint(inp.endpoint)
groups = targets.class_labels(pd.read_parquet(inp.targets), meta, [wc.target])[wc.target]
desc = meta[wc.target].get("description") or wc.target
figures.draw(figures.km_figure, out.figure, endpoint, groups, title=f"{wc.target}: {desc}",
             group_order=meta[wc.target]["classes"])
