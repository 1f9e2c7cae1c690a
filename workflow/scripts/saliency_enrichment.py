"""Per-patient preranked GSEA of saliency rankings for one network and one collection, and a summary.

Null gene_set (random gene sets of the same size in the patient's ranking; there is no trait to permute
within one patient): the p-values ignore gene-gene correlation, NES is the effect size to read.
"""

import _common

log = _common.start(snakemake, "saliency_enrichment")

import pandas as pd

from radiogenomics import inputs, results
from radiogenomics.enrichment import gsea

inp, out, params, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
cfg = params.enrichment
sal = pd.read_parquet(inp.saliency)
gene_sets = inputs.read_gmt(inp.gene_sets)
label_cols = list(sal.index.names)
labels = sal.index.to_frame(index=False)
scores = sal.reset_index(drop=True)
res = gsea.prerank_gsea(scores, gene_sets, n_perm=cfg["n_perm"], min_size=cfg["min_size"],
                              max_size=cfg["max_size"], seed=params.seed, fdr=cfg["fdr"])
# rankings are numbered rows of the saliency table; put the patient (and class) labels back
res = pd.concat([labels.loc[res["ranking"].to_numpy()].reset_index(drop=True),
                 res.drop(columns="ranking").reset_index(drop=True)], axis=1)
per_class = [c for c in label_cols if c != "patient"]
if per_class:  # multi-class networks: one summary per class
    parts = []
    for key, group in res.groupby(per_class, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        parts.append(gsea.enrichment_summary(group, fdr=cfg["fdr"]).assign(**dict(zip(per_class, key))))
    summary = pd.concat(parts, ignore_index=True)
else:
    summary = gsea.enrichment_summary(res, fdr=cfg["fdr"])
log.info("%s x %s: %d rankings x %d sets, gene_set null (%d permutations: p ignores gene-gene correlation, "
         "read NES); most often enriched: %s", wc.target, wc.collection, len(sal), res["set"].nunique(),
         cfg["n_perm"], summary.head(3)[["set", "n_enriched"]].to_dict("records"))
results.write_table(res, out.table)
results.write_table(summary, out.summary)
