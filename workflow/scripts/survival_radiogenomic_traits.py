"""Radiogenomic traits: a patient carries (trait network x gene set) when the set is enriched in the patient's
saliency GSEA of that network; traits carried by too few (or all) patients are dropped (logged)."""

import _common

log = _common.start(snakemake, "radiogenomic_traits")  # noqa: F821

import pandas as pd  # noqa: E402

from radiogenomics import files, survival, targets  # noqa: E402

inp, out, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
meta = files.read_json(inp.meta)
table = pd.read_parquet(inp.targets)
categorical = [n for n in params.networks if meta[n]["type"] in ("binary", "multiclass")]
# Class names for categorical networks (a multi-class network uses each patient's own class); raw values otherwise.
observed = targets.class_labels(table, meta, categorical) if categorical else pd.DataFrame(index=table.index)
for name in params.networks:
    if name not in categorical:
        observed[name] = table[name]
observed.index = observed.index.map(str)
parts = []
for collection in params.collections:
    enrichment = {}
    for net in params.networks:
        t = pd.read_csv(inp[f"{net}__{collection}"], sep="\t", dtype={"patient": str, "set": str, "class": str})
        # The collection is part of the trait name: network|collection:set (set names may repeat across collections).
        t["set"] = collection + ":" + t["set"]
        enrichment[net] = t
    rg = survival.radiogenomic_traits(enrichment, observed, fdr=params.fdr, min_patients=params.min_patients)
    log.info("collection %s: %d radiogenomic traits kept", collection, rg.shape[1])
    parts.append(rg)
traits = pd.concat(parts, axis=1).sort_index() if parts else pd.DataFrame()
traits.index.name = "patient"
if traits.shape[1] == 0:
    log.warning("no radiogenomic trait is carried by at least %d patients (and not by all) at per-patient FDR < %g "
                "in networks %s; the radiogenomic tests will be empty", params.min_patients, params.fdr,
                list(params.networks))
log.info("radiogenomic traits: %d traits over %d patients (networks %s, collections %s)", traits.shape[1],
         traits.shape[0], list(params.networks), list(params.collections))
files.write_table(traits, out.traits, index=True)
