"""Kaplan-Meier medians and log-rank per categorical target, and Cox models adjusted for the clinical covariates
(covariates alone, then covariates + each trait), for one endpoint (os or pfs)."""

import _common

log = _common.start(snakemake, "survival_cox")

import numpy as np
import pandas as pd

from radiogenomics import results, survival
from radiogenomics.cohorts import targets
from radiogenomics.evaluation.stats import benjamini_hochberg

inp, out, params, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
endpoint = survival.read_endpoint(inp.endpoint)
meta = results.read_json(inp.meta)
groupings = list(params.groupings)
covariates, decisions = survival.cox_covariates(endpoint, params.survival["covariates"],
                                                max_missing=params.survival["max_covariate_missing"])
log.info("%s: Cox covariates used: %s", wc.endpoint, list(covariates.columns))
labels = targets.class_labels(pd.read_parquet(inp.targets), meta, groupings)
# Categorical in the target's class order: the first (negative) class is the Cox reference and the KM order.
traits = pd.DataFrame({c: pd.Categorical(labels[c], categories=meta[c]["classes"]) for c in groupings},
                      index=pd.Index(labels.index.map(str), name="patient"))
parts = [survival.km_logrank_table(endpoint, traits[c], grouping=c) for c in groupings]
km = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=survival.KM_LOGRANK_COLUMNS)
cox = survival.adjusted_cox_table(endpoint, covariates, traits)
is_term = (cox["term"] != "").to_numpy()
fdr = np.full(len(cox), np.nan)
fdr[is_term] = benjamini_hochberg(cox.loc[is_term, "p"].to_numpy(dtype=float))
cox["fdr"] = fdr  # BH across the trait terms of all the per-trait models
for _, r in cox.loc[is_term].iterrows():
    log.info("%s: %s HR %.3g (%.3g-%.3g), p %.3g, FDR %.3g (n %d, %d events)%s", wc.endpoint, r["covariate"], r["hr"],
             r["ci_low"], r["ci_high"], r["p"], r["fdr"], r["n"], r["events"], f" [{r['note']}]" if r["note"] else "")
results.write_table(km, out.km)
results.write_table(cox, out.cox)
results.write_table(decisions, out.covariates)
