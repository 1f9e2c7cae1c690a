"""Heatmap of gene-masking scores: gene sets x networks for one collection."""

import _common

log = _common.start(snakemake, "figure_masking")  # noqa: F821

import pandas as pd  # noqa: E402

from radiogenomics import evaluation, figures  # noqa: E402

inp, out, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
tables = {t: pd.read_csv(p, sep="\t") for t, p in zip(params.targets, inp.tables)}
metric = {t: next(m for m in evaluation.PRIMARY_METRIC.values() if m in df.columns) for t, df in tables.items()}
figures.plot_masking_heatmap(tables, out.figure, metric_col_by_target=metric)
