"""Paper figure: gene-masking heatmap (gene sets x networks) of one collection, PNG and SVG."""

import _common

log = _common.start(snakemake, "paper_masking")

import pandas as pd

from radiogenomics import evaluation, figures, paper

inp, out, params = snakemake.input, snakemake.output, snakemake.params
tables = {t: pd.read_csv(p, sep="\t") for t, p in zip(params.targets, inp.tables)}
metric = {t: next(m for m in evaluation.PRIMARY_METRIC.values() if m in df.columns) for t, df in tables.items()}
paper.draw(figures._masking_figure, out.png, tables, metric_col_by_target=metric)
