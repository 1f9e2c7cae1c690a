"""Paper figure: gene-masking heatmap (gene sets x networks) of one collection, PNG and SVG."""

import _common

log = _common.start(snakemake, "paper_masking")  # noqa: F821

import pandas as pd  # noqa: E402

from radiogenomics import evaluation, figures, paper  # noqa: E402

inp, out, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
tables = {t: pd.read_csv(p, sep="\t") for t, p in zip(params.targets, inp.tables)}
metric = {t: next(m for m in evaluation.PRIMARY_METRIC.values() if m in df.columns) for t, df in tables.items()}
paper.draw(figures._masking_figure, out.png, tables, metric_col_by_target=metric)
