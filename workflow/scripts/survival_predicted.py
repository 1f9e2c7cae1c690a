"""Survival by network-predicted imaging trait in the patients without imaging, beside the observed trait in the
imaged patients: KM/log-rank table, covariate-adjusted Cox per predicted trait, and a KM grid labelled predicted."""

import _common

log = _common.start(snakemake, "survival_predicted")

import pandas as pd

from radiogenomics import results, survival
from radiogenomics.cohorts import targets
from radiogenomics.plots import figures

inp, out, params, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
endpoint = survival.read_endpoint(inp.endpoint)
meta = results.read_json(inp.meta)
predicted = pd.read_csv(inp.predicted, sep="\t", dtype={"patient": str, "trait": str, "predicted": str})
observed = targets.class_labels(pd.read_parquet(inp.targets), meta, list(params.traits))
observed.index = observed.index.map(str)
parts, panels = [], {}
for trait in params.traits:
    classes = meta[trait]["classes"]
    pred = predicted.loc[predicted["trait"] == trait].set_index("patient")["predicted"]
    pred = pd.Series(pd.Categorical(pred, categories=classes), index=pred.index, name=trait)
    obs = pd.Series(pd.Categorical(observed[trait], categories=classes), index=observed.index, name=trait)
    parts.append(survival.predicted_trait_survival(endpoint, pred, observed=obs, grouping=trait))
    panels[f"{trait} (predicted)"] = pred
table = pd.concat(parts, ignore_index=True)
results.write_table(table, out.table)
covariates, _ = survival.cox_covariates(endpoint, params.survival["covariates"],
                                        max_missing=params.survival["max_covariate_missing"])
grid = pd.DataFrame(panels)
grid.index.name = "patient"
# One Cox model per predicted trait, with the covariates, on the patients without imaging only.
cox = survival.adjusted_cox_table(endpoint, covariates, grid)
cox = cox.loc[cox["model"] != "covariates"].reset_index(drop=True)  # that model is not on this cohort
cox.insert(0, "label", "predicted")
results.write_table(cox, out.cox)
with_endpoint = predicted.loc[predicted["patient"].isin(endpoint.index)]
n = int(with_endpoint["patient"].nunique())
seen = with_endpoint.loc[with_endpoint["encoder_pretrained_on_patient"].astype(str).str.lower() == "true"]
seen_by = ", ".join(dict.fromkeys(seen["trait"]))
# Which model saw these patients: never the trait networks (checked by predict_traits); the autoencoder may have.
provenance = (f"the autoencoder was pretrained on {seen['patient'].nunique()} of them (encoder transferred into "
              f"{seen_by})" if len(seen) else "no model was trained on them")
log.info("%s: %d predicted patients with the endpoint; trait networks never trained on them; %s", wc.endpoint, n,
         provenance)
figures.draw(figures.km_grid_figure, out.figure, endpoint, grid, list(grid.columns),
             title=f"{params.label} by network-PREDICTED imaging trait (predicted, not observed): "
                           f"{n} patients with expression and no imaging\ntrait networks never trained on them; "
                           f"{provenance}",
             ylabel=f"{params.label} probability")
