"""Heatmap of gene-masking scores: gene sets x networks for one collection."""

import _common

log = _common.start(snakemake, "figure_masking")

import pandas as pd

from radiogenomics.evaluation import metrics
from radiogenomics.plots import figures

inp, out, params = snakemake.input, snakemake.output, snakemake.params
tables = {t: pd.read_csv(p, sep="\t") for t, p in zip(params.targets, inp.tables)}
metric = {t: next(m for m in metrics.PRIMARY_METRIC.values() if m in df.columns) for t, df in tables.items()}
figures.draw(figures.masking_figure, out.figure, tables, metric_col_by_target=metric)
