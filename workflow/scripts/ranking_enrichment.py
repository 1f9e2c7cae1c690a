"""Preranked GSEA of one gene ranking of a target network for one collection.

Rule correlation_enrichment: the gene-trait correlation over the target's patients (the split file's
patients; one ranking per class for a multi-class target). Rule masking_enrichment: the single-gene
masking score (secondary metric, centred on its median over genes).
"""

import _common

log = _common.start(snakemake, "ranking_enrichment")  # noqa: F821

import pandas as pd  # noqa: E402

from radiogenomics import cohorts, enrichment, files, parsers, targets  # noqa: E402

inp, out, params, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards  # noqa: F821
cfg = params.enrichment
gene_sets = parsers.read_gmt(inp.gene_sets)
if snakemake.rule == "correlation_enrichment":  # noqa: F821
    meta = files.read_json(inp.meta)[wc.target]
    y = targets.target_vector(pd.read_parquet(inp.targets), wc.target, meta["type"])
    patients = pd.Index(cohorts.read_folds(inp.folds)["patient"])
    outside = y.index.difference(patients)
    if len(outside):
        log.info("%s: %d patients with a value are outside the split file (held out) and not used",
                 wc.target, len(outside))
    y = y.loc[y.index.intersection(patients, sort=False)]
    expression = pd.read_parquet(inp.expression)
    ranking = enrichment.correlation_ranking(expression, y, meta["type"], classes=meta.get("classes"))
    label = "class" if meta["type"] == "multiclass" else "ranking"
else:
    single = pd.read_csv(inp.single_genes, sep="\t")
    ranking = enrichment.masking_ranking(single)
    label = "ranking"
res = enrichment.prerank_gsea(ranking, gene_sets, n_perm=cfg["n_perm"], min_size=cfg["min_size"],
                              max_size=cfg["max_size"], seed=params.seed)
res = res.rename(columns={"ranking": label})
res = res.assign(_abs=-res["nes"].abs()).sort_values([label, "_abs", "set"], kind="stable").drop(columns="_abs")
significant = res[(res["fdr"] < cfg["fdr"])]
log.info("%s x %s (%s): %d ranking(s) x %d sets; %d (ranking, set) pairs with BH FDR < %s; top: %s",
         wc.target, wc.collection, snakemake.rule, res[label].nunique(), res["set"].nunique(),  # noqa: F821
         len(significant), cfg["fdr"], res.head(3)[[label, "set", "nes", "fdr"]].to_dict("records"))
files.write_table(res.reset_index(drop=True), out.table)
