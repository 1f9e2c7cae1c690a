"""Rank of each planted driver program under each interpretation method (simulated cohort)."""

import _common

log = _common.start(snakemake, "figure_driver_recovery_methods")

import pandas as pd

from radiogenomics import figures

table = pd.read_csv(snakemake.input.table, sep="\t")
figures.plot_driver_recovery_methods(table, snakemake.output.figure)
log.info("%d (target, driver) rows drawn", len(table))
