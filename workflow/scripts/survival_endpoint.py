"""Overall survival per patient, from the clinical table (and the optional follow-up / drug / radiation Biotab
tables) or from a plain survival table; every excluded patient is listed with the reason."""

import _common

log = _common.start(snakemake, "survival_endpoint")

import pandas as pd

from radiogenomics import inputs, results, survival

inp, out, params = snakemake.input, snakemake.output, snakemake.params
if "survival_table" in inp.keys():
    columns = params.columns
    endpoint, problems = inputs.read_survival_table(inp.survival_table, id_rule=params.id_rule,
                                                     time_column=columns["time"], event_column=columns["event"])
    log.info("overall survival from the plain survival table %s (no clinical covariates)", inp.survival_table)
else:
    clinical = pd.read_parquet(inp.clinical)
    follow_up = [survival.read_biotab_records(p) for p in inp.follow_up]
    endpoint, problems = survival.overall_survival(clinical, follow_up=follow_up or None)
log.info("overall survival: %d patients, %d events; %d patients excluded (listed in %s)", len(endpoint),
         int(endpoint["event"].sum()), len(problems), out.problems)
for reason, n in problems["problem"].str.split(":").str[0].value_counts().items():
    log.warning("overall survival: %d patient(s) excluded: %s", n, reason)
results.write_table(endpoint, out.endpoint, index=True)
results.write_table(problems, out.problems)
