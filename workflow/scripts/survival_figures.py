"""Forest plots (each trait adjusted for the covariates; the stepwise model) and the radiogenomic KM grid."""

import _common

log = _common.start(snakemake, "survival_figures")

import pandas as pd

from radiogenomics import figures, survival

inp, out, params = snakemake.input, snakemake.output, snakemake.params
endpoint = survival.read_endpoint(inp.endpoint)
cox = pd.read_csv(inp.cox, sep="\t", keep_default_na=True).fillna({"term": "", "note": ""})
covariate_model = cox.loc[cox["model"] == "covariates"]
terms = cox.loc[cox["term"] != ""]
if len(terms):
    figures.plot_forest(terms, out.forest_traits,
                        title=f"{params.label}: each trait in its own Cox model with the covariates")
else:
    log.warning("no categorical trait: the trait forest plot shows the covariate-only model")
    figures.plot_forest(covariate_model, out.forest_traits,
                        title=f"{params.label}: covariates (no categorical trait to test)")
final = pd.read_csv(inp.final, sep="\t").fillna({"note": ""})[survival.COX_COLUMNS]
if len(final):
    figures.plot_forest(final, out.forest_stepwise,
                        title=f"{params.label}: Cox model selected by stepwise AIC ({params.direction})\n"
                              "post-selection p and CI: not valid inference")
else:
    log.warning("the stepwise model was not fitted (see its path table); its forest plot shows the covariate-only "
                "model")
    figures.plot_forest(covariate_model, out.forest_stepwise,
                        title=f"{params.label}: stepwise AIC not fitted; covariate-only Cox model")
traits = pd.read_csv(inp.traits, sep="\t", dtype={"patient": str}).set_index("patient")
tests = pd.read_csv(inp.tests, sep="\t")
tests = tests.loc[tests["status"] == "tested"]  # skipped traits (too few carriers or non-carriers) are not drawn
figures.plot_radiogenomic_km_grid(
    endpoint, traits, out.radiogenomic_km, tests=tests, max_panels=params.max_panels,
    ylabel=f"{params.label} probability",
    empty_message=(f"No radiogenomic trait tested: none has a gene set enriched (per-patient FDR < {params.fdr:g}) "
                   f"in at least {params.min_carriers} patients with the endpoint and not enriched in at least "
                   f"{params.min_non_carriers} (radiogenomic_skipped.tsv and radiogenomic_tests.tsv give the counts)."))
