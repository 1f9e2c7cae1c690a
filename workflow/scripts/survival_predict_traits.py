"""Each categorical imaging trait predicted by its final network for the patients with expression but no imaging,
with which model saw each of them: never the trait network (checked), but the autoencoder whose encoder the network
transferred when it was pretrained on that patient's expression (cohorts.json)."""

import _common

log = _common.start(snakemake, "survival_predict_traits")

import pandas as pd

from radiogenomics import results, survival
from radiogenomics.models.nets import FittedModel

inp, out, params = snakemake.input, snakemake.output, snakemake.params
expression = pd.read_parquet(inp.expression)
cohorts = results.read_json(inp.cohorts)
imaged = set(cohorts["imaged"])
unimaged = [p for p in cohorts["expression"] if p not in imaged]
log.info("%d patients with expression and no imaging (of %d with expression); autoencoder %s", len(unimaged),
         len(cohorts["expression"]), "enabled" if params.autoencoder else "disabled")
parts, transferred = [], {}
for trait in params.traits:
    model = FittedModel.load(inp[f"model_{trait}"])
    if model.target != trait:
        raise ValueError(f"{inp[f'model_{trait}']}: the model is for target {model.target!r}, expected {trait!r}")
    try:
        transferred[trait] = survival.transferred_encoder(model) and bool(params.autoencoder)
    except ValueError as exc:
        raise ValueError(f"{inp[f'model_{trait}']}: {exc}") from None
    parts.append(survival.predict_trait_classes(model, expression, unimaged))
table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=survival.PREDICTED_COLUMNS)
encoders = {t: survival.encoder_patients(cohorts, t) for t, on in transferred.items() if on}
table = survival.predicted_provenance(table, trait_patients=cohorts["targets"], encoder_patients=encoders,
                                      transferred=transferred)
results.write_table(table, out.predicted)
