"""Rank of each planted driver program under each interpretation method (simulated cohort)."""

import _common

log = _common.start(snakemake, "figure_driver_recovery_methods")

import pandas as pd

from radiogenomics.plots import figures

table = pd.read_csv(snakemake.input.table, sep="\t")
figures.draw(figures.driver_recovery_methods_figure, snakemake.output.figure, table)
log.info("%d (target, driver) rows drawn", len(table))
