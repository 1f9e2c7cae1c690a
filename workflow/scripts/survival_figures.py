"""Forest plots (each trait adjusted for the covariates; the stepwise model) and the radiogenomic KM grid."""

import _common

log = _common.start(snakemake, "survival_figures")

import pandas as pd

from radiogenomics import survival
from radiogenomics.plots import figures

inp, out, params = snakemake.input, snakemake.output, snakemake.params
endpoint = survival.read_endpoint(inp.endpoint)
cox = pd.read_csv(inp.cox, sep="\t", keep_default_na=True).fillna({"term": "", "note": ""})
covariate_model = cox.loc[cox["model"] == "covariates"]
terms = cox.loc[cox["term"] != ""]
if len(terms):
    figures.draw(figures.forest_figure, out.forest_traits, terms,
                 title=f"{params.label}: each trait in its own Cox model with the covariates")
else:
    log.warning("no categorical trait: the trait forest plot shows the covariate-only model")
    figures.draw(figures.forest_figure, out.forest_traits, covariate_model,
                 title=f"{params.label}: covariates (no categorical trait to test)")
final = pd.read_csv(inp.final, sep="\t").fillna({"note": ""})[survival.COX_COLUMNS]
if len(final):
    figures.draw(figures.forest_figure, out.forest_stepwise, final,
                 title=f"{params.label}: Cox model selected by stepwise AIC ({params.direction})\n"
                              "post-selection p and CI: not valid inference")
else:
    log.warning("the stepwise model was not fitted (see its path table); its forest plot shows the covariate-only "
                "model")
    figures.draw(figures.forest_figure, out.forest_stepwise, covariate_model,
                 title=f"{params.label}: stepwise AIC not fitted; covariate-only Cox model")
traits = pd.read_csv(inp.traits, sep="\t", dtype={"patient": str}).set_index("patient")
tests = pd.read_csv(inp.tests, sep="\t")
tests = tests.loc[tests["status"] == "tested"]  # skipped traits (too few carriers or non-carriers) are not drawn
figures.draw(figures.radiogenomic_grid_figure, out.radiogenomic_km, endpoint, traits, tests=tests,
             max_panels=params.max_panels, ylabel=f"{params.label} probability",
             empty_message=(f"No radiogenomic trait tested: none has a gene set enriched (per-patient FDR < "
                            f"{params.fdr:g}) in at least {params.min_carriers} patients with the endpoint and not "
                            f"enriched in at least {params.min_non_carriers} (radiogenomic_skipped.tsv and "
                            "radiogenomic_tests.tsv give the counts)."))
