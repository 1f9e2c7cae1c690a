"""Bar chart of the masking rank of each trait's planted driver program (simulated cohort)."""

import _common

log = _common.start(snakemake, "figure_driver_recovery")  # noqa: F821

import pandas as pd  # noqa: E402

from radiogenomics import figures  # noqa: E402

table = pd.read_csv(snakemake.input.table, sep="\t")  # noqa: F821
figures.plot_driver_recovery(table.rename(columns={"masking_rank": "rank"}), snakemake.output.figure)  # noqa: F821
