"""Log-rank and covariate-adjusted Cox test of every radiogenomic trait (carriers vs the other assessed patients),
with Benjamini-Hochberg FDR across the tested traits beside the raw p; a trait with fewer than the minimum carriers or
non-carriers among the patients with the endpoint is listed as skipped with its counts, not tested."""

import _common

log = _common.start(snakemake, "survival_radiogenomic")

import pandas as pd

from radiogenomics import results, survival

inp, out, params, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
endpoint = survival.read_endpoint(inp.endpoint)
covariates, _ = survival.cox_covariates(endpoint, params.survival["covariates"],
                                        max_missing=params.survival["max_covariate_missing"])
traits = pd.read_csv(inp.traits, sep="\t", dtype={"patient": str}).set_index("patient")
tests = survival.radiogenomic_tests(endpoint, traits, covariates, min_carriers=params.min_carriers,
                                   min_non_carriers=params.min_non_carriers)
# network|collection:set -> collection and set
tests.insert(tests.columns.get_loc("set"), "collection", tests["set"].map(lambda v: str(v).partition(":")[0]))
tests["set"] = tests["set"].map(lambda v: str(v).partition(":")[2])
if tests.empty:
    log.warning("%s: no radiogenomic trait to test (see results/logs/radiogenomic_traits.log)", wc.endpoint)
skipped = tests.loc[tests["status"] == "skipped"]
if len(skipped):
    log.warning("%s: %d of %d radiogenomic traits not tested (too few carriers or non-carriers with this endpoint; "
                "status skipped in the table): %s", wc.endpoint, len(skipped), len(tests),
                skipped["trait"].tolist()[:10])
best = tests.loc[tests["cox_p"].notna()].sort_values("cox_p", kind="mergesort").head(5)
for _, r in best.iterrows():
    log.info("%s: %s HR %.3g (%.3g-%.3g), Cox p %.3g FDR %.3g; log-rank p %.3g FDR %.3g", wc.endpoint, r["trait"],
             r["hr"], r["ci_low"], r["ci_high"], r["cox_p"], r["cox_fdr"], r["logrank_p"], r["logrank_fdr"])
results.write_table(tests, out.tests)
