"""Stepwise AIC Cox selection (forward, backward or both, as R's step) between the clinical covariates (lower scope,
always in) and the covariates plus the imaging traits and the radiogenomic traits (upper scope); writes the selection
path and the final model, whose p-values are post-selection (not valid inference; said on every row)."""

import _common

log = _common.start(snakemake, "survival_stepwise")

import pandas as pd

from radiogenomics import results, survival
from radiogenomics.cohorts import targets
from radiogenomics.errors import InputError

inp, out, params, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
endpoint = survival.read_endpoint(inp.endpoint)
meta = results.read_json(inp.meta)
covariates, _ = survival.cox_covariates(endpoint, params.survival["covariates"],
                                        max_missing=params.survival["max_covariate_missing"])
labels = targets.class_labels(pd.read_parquet(inp.targets), meta, list(params.traits))
candidates = pd.DataFrame({c: pd.Categorical(labels[c], categories=meta[c]["classes"]) for c in params.traits},
                          index=pd.Index(labels.index.map(str), name="patient"))
rg = pd.read_csv(inp.traits, sep="\t", dtype={"patient": str}).set_index("patient")
tests = pd.read_csv(inp.tests, sep="\t")
if params.candidate_fdr >= 1:
    chosen = [t for t, status in zip(tests["trait"], tests["status"]) if t in rg.columns and status == "tested"]
else:
    chosen = tests.loc[tests["cox_fdr"] < params.candidate_fdr, "trait"].tolist()  # skipped traits: no FDR
log.info("%s: %d of %d radiogenomic traits are candidates (adjusted Cox FDR < %g): %s", wc.endpoint, len(chosen),
         len(tests), params.candidate_fdr, chosen[:20])
candidates = candidates.join(rg[chosen], how="outer")
log.info("%s: stepwise (%s) from covariates %s over %d candidates: %s", wc.endpoint, params.direction,
         list(covariates.columns), candidates.shape[1], list(candidates.columns)[:30])
try:
    final, path = survival.stepwise_cox(endpoint, covariates, candidates, direction=params.direction)
except InputError as exc:
    # A whole-cohort problem (no patient with every candidate, no events): reported in the path, not a crash.
    log.error("%s: stepwise Cox not fitted: %s", wc.endpoint, exc)
    path = pd.DataFrame([{"step": 0, "action": "not fitted", "term": "", "aic_before": float("nan"),
                          "aic_after": float("nan"), "loglik": float("nan"), "n_params": float("nan"),
                          "note": str(exc)}], columns=survival.STEPWISE_PATH_COLUMNS)
    final = pd.DataFrame(columns=survival.STEPWISE_FINAL_COLUMNS)
log.info("%s: the final model's p-values and intervals are post-selection (not valid inference); the table says so "
            "on every row", wc.endpoint)
results.write_table(path, out.path)
results.write_table(final, out.final)
