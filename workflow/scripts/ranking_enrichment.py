"""Preranked GSEA of one gene ranking of a target network for one collection.

Rule correlation_enrichment: the gene-trait correlation over the target's patients (the split file's
patients; one ranking per class for a multi-class target), tested against the null of config
(enrichment.permute: phenotype by default, the trait permuted across those patients and the ranking recomputed). Rule
masking_enrichment: the single-gene masking score (secondary metric, centred on its median over genes),
tested against the gene-set null (the network's per-gene scores are all this job has; see the log line).
Every table names its null in the column `null`.
"""

import _common

log = _common.start(snakemake, "ranking_enrichment")

import pandas as pd

from radiogenomics import inputs, results
from radiogenomics.cohorts import splits, targets
from radiogenomics.enrichment import gsea

inp, out, params, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
cfg = params.enrichment
gene_sets = inputs.read_gmt(inp.gene_sets)
if snakemake.rule == "correlation_enrichment":
    meta = results.read_json(inp.meta)[wc.target]
    y = targets.target_vector(pd.read_parquet(inp.targets), wc.target, meta["type"])
    patients = pd.Index(splits.read_folds(inp.folds)["patient"])
    outside = y.index.difference(patients)
    if len(outside):
        log.info("%s: %d patients with a value are outside the split file (held out) and not used",
                 wc.target, len(outside))
    y = y.loc[y.index.intersection(patients, sort=False)]
    expression = pd.read_parquet(inp.expression)
    res = gsea.correlation_gsea(expression, y, meta["type"], gene_sets, null=cfg["permute"],
                                      classes=meta.get("classes"), n_perm=cfg["n_perm"],
                                      max_perm=max(cfg["max_perm"], cfg["n_perm"]),
                                      min_exceedances=cfg["min_exceedances"], fdr=cfg["fdr"],
                                      min_size=cfg["min_size"], max_size=cfg["max_size"], seed=params.seed)
    label = "class" if meta["type"] == "multiclass" else "ranking"
else:
    single = pd.read_csv(inp.single_genes, sep="\t")
    ranking = gsea.masking_ranking(single)
    label = "ranking"
    log.info("%s: null gene_set (random gene sets of the same size in the network's single-gene masking "
             "ranking); the p-values ignore gene-gene correlation, NES is the effect size to read", wc.target)
    res = gsea.prerank_gsea(ranking, gene_sets, n_perm=cfg["n_perm"], min_size=cfg["min_size"],
                                  max_size=cfg["max_size"], seed=params.seed, fdr=cfg["fdr"])
res = res.rename(columns={"ranking": label})
res = res.assign(_abs=-res["nes"].abs()).sort_values([label, "_abs", "set"], kind="stable").drop(columns="_abs")
significant = res[(res["fdr"] < cfg["fdr"])]
log.info("%s x %s (%s, %s null, %d-%d permutations): %d ranking(s) x %d sets; %d (ranking, set) pairs with BH "
         "FDR < %s; top: %s", wc.target, wc.collection, snakemake.rule, res["null"].iloc[0],
         res["n_perm"].min(), res["n_perm"].max(), res[label].nunique(), res["set"].nunique(), len(significant),
         cfg["fdr"], res.head(3)[[label, "set", "nes", "fdr"]].to_dict("records"))
results.write_table(res.reset_index(drop=True), out.table)
