"""Encode the typed targets, restrict them to patients with expression, and define the cohorts.

With a held-out test cohort, its targets are encoded here too (same class codes), before any model
is fitted: a test cohort overlapping the training patients stops the workflow. A declared split
(inputs.test.patients) removes the listed patients from every training cohort.
"""

import _common

log = _common.start(snakemake, "build_targets")

import pandas as pd

from radiogenomics import inputs, results
from radiogenomics.cohorts import splits, targets
from radiogenomics.evaluation import heldout
from radiogenomics.models import selection

inp, out, params = snakemake.input, snakemake.output, snakemake.params
specs = [targets.spec_from_dict(d) for d in params.specs]
sources = {}
if "vasari" in inp.keys():
    sources["vasari"] = pd.read_parquet(inp.vasari)
if "subtype" in inp.keys():
    sources["subtype"] = pd.read_csv(inp.subtype, sep="\t", index_col="patient", dtype=str)
if "targets" in inp.keys():
    sources["targets"] = pd.read_parquet(inp.targets)
expression_patients = pd.read_parquet(inp.expression, columns=[]).index

held_out = pd.Index([])
if "test_patients" in inp.keys():
    held_out = pd.Index(inputs.read_patient_list(inp.test_patients, id_rule=params.id_rule))
    unknown = held_out.difference(expression_patients)
    if len(unknown):
        log.warning("declared test split %s: %d listed patient(s) have no expression and are ignored, e.g. %s",
                    inp.test_patients, len(unknown), list(unknown[:5]))
    log.info("declared test split %s: %d patients held out of every training cohort", inp.test_patients,
             len(held_out.intersection(expression_patients)))
train_patients = expression_patients.difference(held_out)
train_sources = {k: v.loc[~v.index.isin(held_out)] for k, v in sources.items()}
table, meta, drops = targets.build_targets(specs, train_sources, patients=train_patients,
                                           source_paths=params.source_paths, min_class_size=params.folds)
# The same encoding on every patient of each source table, expression or not: survival by an observed trait
# uses every patient with the trait and an endpoint (never permuted: no model is scored on it).
trait_values = targets.encode_all_patients(specs, train_sources, source_paths=params.source_paths)
if params.permute_labels:
    # Null calibration: every target's values are permuted among its own patients (seeded, per target).
    for i, name in enumerate(table.columns):
        present = table[name].dropna()
        table.loc[present.index, name] = selection.permute_labels(present, params.seed + i).to_numpy()
        log.warning("evaluation.permute_labels: labels of %s permuted among its %d patients (null run)",
                    name, len(present))
imaged = pd.Index([])
for name in ("vasari", "targets"):  # imaging annotations: VASARI and the plain (e.g. radiomic) target table
    if name in sources:
        imaged = imaged.union(sources[name].index)
groups = splits.build_cohorts(train_patients, imaged.union(held_out), table)
if params.encoder_scopes:  # the networks use a transferred encoder: which patients each one is trained on
    groups["encoder_patients"] = splits.encoder_cohorts(groups, table, meta, dict(params.encoder_scopes),
                                                         params.folds, params.seed)

if "test_expression" in inp.keys() or "test_patients" in inp.keys():
    if "test_expression" in inp.keys():
        test_patients = pd.read_parquet(inp.test_expression, columns=[]).index
        heldout.check_disjoint(expression_patients, test_patients, train_source=params.source_paths["expression"],
                               test_source=params.test_paths["expression"])
        test_sources, test_paths = {}, {}
        if "test_targets" in inp.keys():
            test_sources["targets"] = pd.read_parquet(inp.test_targets)
            test_paths["targets"] = params.test_paths["targets"]
            heldout.check_disjoint(sources.get("targets", pd.DataFrame()).index, test_sources["targets"].index,
                                   train_source=params.source_paths.get("targets"),
                                   test_source=params.test_paths["targets"])
    else:
        test_patients = held_out.intersection(expression_patients)
        test_sources = {k: v.loc[v.index.isin(test_patients)] for k, v in sources.items()}
        test_paths = params.source_paths
    test_table, test_report = targets.build_test_targets(specs, test_sources, patients=test_patients,
                                                         train_meta=meta, source_paths=test_paths)
    groups["test"] = {name: sorted(test_table[name].dropna().index) for name in test_table.columns}
    results.write_table(test_table, out.test_targets, index=True)
    results.write_table(test_report, out.test_drops)
results.write_table(table, out.targets, index=True)
results.write_table(trait_values, out.trait_values, index=True)
results.write_json(meta, out.meta)
results.write_table(drops, out.drops)
results.write_json(groups, out.cohorts)
