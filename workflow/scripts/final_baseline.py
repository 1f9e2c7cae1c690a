"""The final refit of one comparison model for one target (inner-CV selection on all its training patients),
scored once on the held-out test cohort."""

import _common

log = _common.start(snakemake, "final_baseline")

import pandas as pd

from radiogenomics import results
from radiogenomics.cohorts import targets
from radiogenomics.models import baseline_files, selection

inp, out, params, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
meta = results.read_json(inp.meta)[wc.target]
expression = pd.read_parquet(inp.expression)
y = targets.target_vector(pd.read_parquet(inp.targets), wc.target, meta["type"])
chosen = selection.select_final(wc.baseline, expression, y, meta["type"], meta["classes"], settings=params.settings,
                                seed=params.seed, target=wc.target)
model = selection.fit_selected(wc.baseline, expression, y, meta["type"], meta["classes"], chosen, seed=params.seed,
                               n_jobs=params.settings["n_jobs"], target=wc.target)
results.write_json({"target": wc.target, "model": wc.baseline, "type": meta["type"], "n_patients": int(len(y)),
                  "params": chosen.params, "inner_score": {chosen.metric: chosen.score}}, out.selected)
baseline_files.save_model(model, out.model)  # skops, no pickle
