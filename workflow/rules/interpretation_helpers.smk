# Settings, input functions and `rule all` outputs of the interpretation stage (interpretation.smk,
# figures.smk). Kept apart from the rules (snakemake --lint: no functions beside rules).

# Single-gene masking writes masking/{target}/single_genes.tsv beside the collections' tables.
SINGLE_GENES = "single_genes"
if SINGLE_GENES in COLLECTIONS:
    raise ValueError(
        f"config: a gene-set collection may not be named {SINGLE_GENES!r} (the single-gene "
        "masking table masking/{target}/single_genes.tsv uses that name)"
    )
# Rankings besides per-patient saliency that are tested by GSEA: enrichment/{target}/{collection}_{ranking}.tsv
GSEA_RANKINGS = ["correlation", "masking"]
_clash = [c for c in COLLECTIONS if any(c.endswith(f"_{r}") or c.endswith("_summary") for r in GSEA_RANKINGS)]
if _clash:
    raise ValueError(
        f"config: gene-set collection names {_clash} end like the enrichment tables "
        "(_summary, _correlation, _masking); rename them"
    )
COLLECTION_PATTERN = "|".join(COLLECTIONS)

# Subtype validation (study Figure 2): the multi-class `subtype` network masked with the Verhaak sets.
_SUBTYPE_SPECS = [s for s in TARGET_SPECS if s.source == "subtype" and s.type == "multiclass"]
VALIDATION_TARGET = _SUBTYPE_SPECS[0].name if _SUBTYPE_SPECS else None
VALIDATION = VALIDATION_TARGET is not None and "verhaak" in COLLECTIONS
VALIDATION_DIR = f"{R}/validation"
VALIDATION_OUTPUTS = {
    "probabilities": f"{VALIDATION_DIR}/subtype_probabilities.parquet",
    "auc": f"{VALIDATION_DIR}/subtype_set_auc.tsv",
    "summary": f"{VALIDATION_DIR}/subtype_summary.tsv",
    "coverage": f"{VALIDATION_DIR}/coverage_curve.tsv",
}
VALIDATION_FIGURES = {
    "heatmap": f"{R}/figures/validation/subtype_masking.png",
    "coverage": f"{R}/figures/validation/coverage_curve.png",
}


def validation_models(wildcards=None):
    """The subtype network(s) masked by subtype validation: as gene_masking (out-of-fold or final)."""
    if config["masking"]["mode"] == "out_of_fold":
        models = {f"fold_model_{k}": f"{R}/models/{VALIDATION_TARGET}/network/fold{k}.pt" for k in FOLDS}
        return {**models, "folds": f"{R}/splits/{VALIDATION_TARGET}.tsv"}
    return {"model": f"{R}/models/{VALIDATION_TARGET}/final.pt"}


def interpretation_outputs():
    """Final outputs of single-gene masking, the correlation/masking GSEA, subtype validation and recovery."""
    out = expand(f"{R}/masking/{{target}}/{SINGLE_GENES}.tsv", target=TARGETS)
    out += expand(
        f"{R}/enrichment/{{target}}/{{collection}}_{{ranking}}.tsv",
        target=TARGETS,
        collection=COLLECTIONS,
        ranking=GSEA_RANKINGS,
    )
    if VALIDATION:
        out += list(VALIDATION_OUTPUTS.values()) + list(VALIDATION_FIGURES.values())
    if SIMULATED:
        out += [f"{R}/recovery/driver_ranks.tsv", f"{R}/figures/driver_recovery_methods.png"]
    return out


STAGE_OUTPUTS.append(interpretation_outputs)
