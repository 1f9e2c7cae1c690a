"""Encode the typed targets, restrict them to patients with expression, and define the cohorts."""

import _common

log = _common.start(snakemake, "build_targets")  # noqa: F821

import pandas as pd  # noqa: E402

from radiogenomics import cohorts, files, selection, targets  # noqa: E402

inp, out, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
specs = [targets.spec_from_dict(d) for d in params.specs]
sources = {}
if "vasari" in inp.keys():
    sources["vasari"] = pd.read_parquet(inp.vasari)
if "subtype" in inp.keys():
    sources["subtype"] = pd.read_csv(inp.subtype, sep="\t", index_col="patient", dtype=str)
expression_patients = pd.read_parquet(inp.expression, columns=[]).index
table, meta, drops = targets.build_targets(specs, sources, patients=expression_patients,
                                           source_paths=params.source_paths, min_class_size=params.folds)
if params.permute_labels:
    # Null calibration: every target's values are permuted among its own patients (seeded, per target).
    for i, name in enumerate(table.columns):
        present = table[name].dropna()
        table.loc[present.index, name] = selection.permute_labels(present, params.seed + i).to_numpy()
        log.warning("evaluation.permute_labels: labels of %s permuted among its %d patients (null run)", name, len(present))
imaged = sources["vasari"].index if "vasari" in sources else pd.Index([])
groups = cohorts.build_cohorts(expression_patients, imaged, table)
files.write_table(table, out.targets, index=True)
files.write_json(meta, out.meta)
files.write_table(drops, out.drops)
files.write_json(groups, out.cohorts)
