"""Bar chart of the masking rank of each trait's planted driver program (simulated cohort)."""

import _common

log = _common.start(snakemake, "figure_driver_recovery")

import pandas as pd

from radiogenomics.plots import figures

table = pd.read_csv(snakemake.input.table, sep="\t")
figures.draw(figures.driver_recovery_figure, snakemake.output.figure, table.rename(columns={"masking_rank": "rank"}))
