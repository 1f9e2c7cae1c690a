"""Subtype validation (study Figure 2): the subtype network masked to each Verhaak set and to random sets.

Writes the per-patient class probabilities (unmasked, each subtype set, random sets of the same sizes),
each class's one-vs-rest AUC under each set (own set vs the others vs random), the own-vs-other summary,
and the coverage of the ClaNC genes by the single-gene masking ranking (pooled, and per class by the
class's own one-vs-rest AUC).
"""

import _common

log = _common.start(snakemake, "subtype_validation")

import pandas as pd

from radiogenomics import inputs, results
from radiogenomics.cohorts import targets
from radiogenomics.interpret import subtype_validation

inp, out, params = snakemake.input, snakemake.output, snakemake.params
expression = pd.read_parquet(inp.expression)
meta = results.read_json(inp.meta)
table = pd.read_parquet(inp.targets)
truth = targets.class_labels(table, meta, [params.target])[params.target].dropna().astype(str)
model, folds, _ = _common.load_networks(inp, "folds" in inp.keys())
keep = truth.index if folds is None else folds["patient"]
expression = expression.loc[expression.index.intersection(keep, sort=False)]
sets = inputs.read_gmt(inp.gene_sets)
classes = meta[params.target]["classes"]
unknown = sorted(set(sets) - set(classes))
if unknown:
    log.warning("Verhaak sets %s are not classes of the %s network %s; they are masked as other sets",
                unknown, params.target, classes)

probs = subtype_validation.subtype_masking_probabilities(model, expression, sets, n_random=params.n_random,
                                                 seed=params.seed, folds=folds, subtypes=truth)
auc = subtype_validation.subtype_set_auc(probs)
summary = subtype_validation.subtype_validation_summary(auc)
for _, r in summary.iterrows():
    log.info("%s: own-set AUC %.3f (rank %d of %d sets), other sets mean %.3f (best %s %.3f), random sets of "
             "the same size %.3f (p %.4f), unmasked %.3f", r["class"], r["own_set_auc"], r["own_rank"],
             int((auc["class"] == r["class"]).sum()), r["other_sets_mean_auc"], r["best_other_set"],
             r["best_other_auc"], r["random_auc_mean"], r["p_random"], r["unmasked_auc"])

single = pd.read_csv(inp.single_genes, sep="\t")
reference = sorted({g for genes in sets.values() for g in genes})
pooled = subtype_validation.coverage_curve(single, reference).assign(reference_size=len(reference), **{"class": "all"})
per_class = subtype_validation.class_coverage_curves(single, sets)
coverage = pd.concat([pooled[per_class.columns], per_class], ignore_index=True)
points = [10, 25, 50, 100, 200, 500, 1000]
for cls, curve in coverage.groupby("class", sort=False):
    log.info("coverage (%s, %d reference genes of %d ranked): %s", cls, int(curve["reference_size"].iloc[0]),
             len(curve), "; ".join(f"top {int(r.n)}: {r.n_reference} ({100 * r.share_of_reference:.1f}% vs "
                                   f"{100 * r.expected_share_of_reference:.1f}% expected)"
                                   for r in subtype_validation.coverage_at(curve, points).itertuples()))
results.write_table(probs, out.probabilities)
results.write_table(auc, out.auc)
results.write_table(summary, out.summary)
results.write_table(coverage, out.coverage)
