"""Radiogenomic traits: a patient carries (trait network x gene set) when the set is enriched in the patient's
saliency GSEA of that network; traits with fewer than the minimum carriers or non-carriers among the assessed patients
are not tested and listed, with their counts and the reason, in the skipped table."""

import _common

log = _common.start(snakemake, "radiogenomic_traits")

import pandas as pd

from radiogenomics import results, survival
from radiogenomics.cohorts import targets

inp, out, params = snakemake.input, snakemake.output, snakemake.params
meta = results.read_json(inp.meta)
table = pd.read_parquet(inp.targets)
categorical = [n for n in params.networks if meta[n]["type"] in ("binary", "multiclass")]
# Class names for categorical networks (a multi-class network uses each patient's own class); raw values otherwise.
observed = targets.class_labels(table, meta, categorical) if categorical else pd.DataFrame(index=table.index)
for name in params.networks:
    if name not in categorical:
        observed[name] = table[name]
observed.index = observed.index.map(str)
parts, skipped_parts = [], []
for collection in params.collections:
    enrichment = {}
    for net in params.networks:
        t = pd.read_csv(inp[f"{net}__{collection}"], sep="\t", dtype={"patient": str, "set": str, "class": str})
        # The collection is part of the trait name: network|collection:set (set names may repeat across collections).
        t["set"] = collection + ":" + t["set"]
        enrichment[net] = t
    rg, skipped = survival.radiogenomic_traits_with_skipped(enrichment, observed, fdr=params.fdr,
                                                            min_carriers=params.min_carriers,
                                                            min_non_carriers=params.min_non_carriers)
    log.info("collection %s: %d radiogenomic traits kept, %d network x set pairs skipped", collection, rg.shape[1],
             len(skipped))
    parts.append(rg)
    skipped_parts.append(skipped)
traits = pd.concat(parts, axis=1).sort_index() if parts else pd.DataFrame()
traits.index.name = "patient"
skipped = (pd.concat(skipped_parts, ignore_index=True) if skipped_parts
           else pd.DataFrame(columns=survival.RADIOGENOMIC_SKIPPED_COLUMNS))
# network|collection:set -> collection and set, as in the radiogenomic tests table
skipped.insert(skipped.columns.get_loc("set"), "collection", skipped["set"].map(lambda v: str(v).partition(":")[0]))
skipped["set"] = skipped["set"].map(lambda v: str(v).partition(":")[2])
if traits.shape[1] == 0:
    log.warning("no radiogenomic trait has at least %d carriers and %d non-carriers at per-patient FDR < %g in "
                "networks %s; the radiogenomic tests will be empty", params.min_carriers, params.min_non_carriers,
                params.fdr, list(params.networks))
log.info("radiogenomic traits: %d traits over %d patients (networks %s, collections %s); %d skipped (listed in %s)",
         traits.shape[1], traits.shape[0], list(params.networks), list(params.collections), len(skipped),
         out.skipped)
results.write_table(traits, out.traits, index=True)
results.write_table(skipped, out.skipped)
