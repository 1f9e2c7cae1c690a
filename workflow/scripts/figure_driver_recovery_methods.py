"""Rank of each planted driver program under each interpretation method (simulated cohort)."""

import _common

log = _common.start(snakemake, "figure_driver_recovery_methods")  # noqa: F821

import pandas as pd  # noqa: E402

from radiogenomics import figures  # noqa: E402

table = pd.read_csv(snakemake.input.table, sep="\t")  # noqa: F821
figures.plot_driver_recovery_methods(table, snakemake.output.figure)  # noqa: F821
log.info("%d (target, driver) rows drawn", len(table))
