"""Kaplan-Meier figure (95% bands, number at risk, log-rank p) for one categorical target."""

import _common

log = _common.start(snakemake, "km_figure")

import pandas as pd

from radiogenomics import figures, files, survival, targets

inp, out, wc = snakemake.input, snakemake.output, snakemake.wildcards
meta = files.read_json(inp.meta)
endpoint = survival.read_endpoint(inp.endpoint)
groups = targets.class_labels(pd.read_parquet(inp.targets), meta, [wc.target])[wc.target]
desc = meta[wc.target].get("description") or wc.target
figures.plot_km(endpoint, groups, out.figure, title=f"{wc.target}: {desc}", group_order=meta[wc.target]["classes"])
