"""Progression-free survival per patient (first progression or death) from the clinical table and the
new-tumour-event Biotab tables; every excluded patient is listed with the reason."""

import _common

log = _common.start(snakemake, "survival_pfs_endpoint")

import pandas as pd

from radiogenomics import results, survival

inp, out = snakemake.input, snakemake.output
clinical = pd.read_parquet(inp.clinical)
nte = [survival.read_biotab_records(p) for p in inp.new_tumor_event]
follow_up = [survival.read_biotab_records(p) for p in inp.follow_up]
endpoint, problems = survival.progression_free_survival(clinical, nte, follow_up=follow_up or None)
log.info("progression-free survival: %d patients, %d events (%s); %d patients excluded (listed in %s)",
         len(endpoint), int(endpoint["event"].sum()), endpoint["event_type"].value_counts().to_dict(), len(problems),
         out.problems)
for reason, n in problems["problem"].str.split(":").str[0].value_counts().items():
    log.warning("progression-free survival: %d patient(s) excluded: %s", n, reason)
results.write_table(endpoint, out.endpoint, index=True)
results.write_table(problems, out.problems)
