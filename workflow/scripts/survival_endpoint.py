"""Overall survival per patient from the clinical table; every excluded patient is listed with the reason."""

import _common

log = _common.start(snakemake, "survival_endpoint")  # noqa: F821

import pandas as pd  # noqa: E402

from radiogenomics import files, survival  # noqa: E402

clinical = pd.read_parquet(snakemake.input.clinical)  # noqa: F821
endpoint, problems = survival.overall_survival(clinical)
log.info("overall survival: %d patients, %d events; %d patients excluded", len(endpoint), int(endpoint["event"].sum()),
         len(problems))
files.write_table(endpoint, snakemake.output.endpoint, index=True)  # noqa: F821
files.write_table(problems, snakemake.output.problems)  # noqa: F821
