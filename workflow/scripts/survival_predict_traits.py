"""Each categorical imaging trait predicted by its final network for the patients with expression but no imaging
(the autoencoder cohort; none of them trained the trait networks)."""

import _common

log = _common.start(snakemake, "survival_predict_traits")  # noqa: F821

import pandas as pd  # noqa: E402

from radiogenomics import files, survival  # noqa: E402
from radiogenomics.nets import FittedModel  # noqa: E402

inp, out, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
expression = pd.read_parquet(inp.expression)
unimaged = files.read_json(inp.cohorts)["autoencoder"]
log.info("%d patients with expression and no imaging", len(unimaged))
parts = []
for trait in params.traits:
    model = FittedModel.load(inp[f"model_{trait}"])
    if model.target != trait:
        raise ValueError(f"{inp[f'model_{trait}']}: the model is for target {model.target!r}, expected {trait!r}")
    parts.append(survival.predict_trait_classes(model, expression, unimaged))
table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=survival.PREDICTED_COLUMNS)
files.write_table(table, out.predicted)
