"""The final network of one target: inner-CV selection on all its patients, then the refit used for interpretation."""

import _common

log = _common.start(snakemake, "final_network")

import pandas as pd

from radiogenomics import results
from radiogenomics.cohorts import targets
from radiogenomics.models import selection, training

inp, out, params, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
meta = results.read_json(inp.meta)[wc.target]
expression = pd.read_parquet(inp.expression)
y = targets.target_vector(pd.read_parquet(inp.targets), wc.target, meta["type"])
encoders = training.load_encoders({k[len("encoder_"):]: v for k, v in inp.items() if k.startswith("encoder_")},
                                  list(expression.columns))
with training.on_device(_common.device(snakemake, log)):
    chosen = selection.select_final("network", expression, y, meta["type"], meta["classes"],
                                    settings=params.settings, seed=params.seed, encoders=encoders or None,
                                    target=wc.target)
    model = selection.fit_selected("network", expression, y, meta["type"], meta["classes"], chosen,
                                   seed=params.seed, encoders=encoders or None, target=wc.target)
results.write_json({"target": wc.target, "type": meta["type"], "n_patients": int(len(y)), "params": chosen.params,
                  "inner_score": {chosen.metric: chosen.score}},
                 out.selected)
model.save(out.model)
