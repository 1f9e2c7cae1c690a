"""Paper table: demographics per cohort (age, gender, race, Karnofsky, survival status), TSV and HTML."""

import _common

log = _common.start(snakemake, "paper_demographics")

import pandas as pd

from radiogenomics import results, survival
from radiogenomics.plots import paper

inp, out, params = snakemake.input, snakemake.output, snakemake.params
covariates = paper.clinical_covariates(pd.read_parquet(inp.clinical))
endpoint = survival.read_endpoint(inp.endpoint)
lists = results.read_json(inp.cohorts)
cohorts = {}
for label, key in params.cohorts.items():
    patients = lists["targets"].get(key, []) if key in lists.get("targets", {}) else lists.get(key, [])
    if not patients:
        log.info("cohort %s (%s) has no patients: left out of the demographics table", label, key)
        continue
    cohorts[label] = patients
long = paper.demographics(covariates, cohorts, endpoint)
wide = paper.demographics_wide(long)
results.write_table(long, out.long)
results.write_table(wide, out.table)
results.write_text(paper.table_html(wide, title="Patient characteristics per cohort", note=(
    "Age (years) and Karnofsky score: median [interquartile range]; categories: n (% of the cohort). Race: white "
    "vs non-white, unknown counted as missing. Survival status from the overall-survival endpoint; 'no endpoint' "
    "patients are listed with the reason in survival/endpoint_problems.tsv.")), out.html)
log.info("demographics: cohorts %s", {k: len(v) for k, v in cohorts.items()})
