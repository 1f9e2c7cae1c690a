# Settings, input functions and `rule all` outputs of the survival stage (workflow/rules/survival.smk).
# Kept apart from the rules (snakemake --lint: no functions beside rules). Survival runs only with a
# clinical table or a plain survival table (HAS_SURVIVAL in common.smk).

from snakemake.logging import logger

from radiogenomics.survival_config import resolve_radiogenomic_minimums

SURVIVAL = config["survival"]
# Least carriers and non-carriers of a tested radiogenomic trait (the older radiogenomic_min_patients is read as the
# first, with a warning); written back so that the report captions show the values used.
SURVIVAL_MIN_CARRIERS, SURVIVAL_MIN_NON_CARRIERS, _min_message = resolve_radiogenomic_minimums(SURVIVAL)
if _min_message:
    logger.warning(_min_message)
SURVIVAL["radiogenomic_min_carriers"] = SURVIVAL_MIN_CARRIERS
SURVIVAL["radiogenomic_min_non_carriers"] = SURVIVAL_MIN_NON_CARRIERS
SURVIVAL_EXTRA_INPUTS = {
    kind: [str(p) for p in (config["inputs"].get(kind) or [])]
    for kind in ("clinical_follow_up", "clinical_drug", "clinical_radiation", "new_tumor_event")
}
# Follow-up, drug and radiation tables all extend the follow-up (survival.overall_survival).
SURVIVAL_FOLLOW_UP = (
    SURVIVAL_EXTRA_INPUTS["clinical_follow_up"]
    + SURVIVAL_EXTRA_INPUTS["clinical_drug"]
    + SURVIVAL_EXTRA_INPUTS["clinical_radiation"]
)
SURVIVAL_ENDPOINTS = ["os"] + (["pfs"] if SURVIVAL_EXTRA_INPUTS["new_tumor_event"] else [])
if SURVIVAL_TABLE is not None and any(SURVIVAL_EXTRA_INPUTS.values()):
    raise ValueError(
        "config: inputs.clinical_follow_up / clinical_drug / clinical_radiation / new_tumor_event extend a TCGA "
        "Biotab clinical table (inputs.clinical); with a plain survival table (inputs.survival) leave them empty"
    )


def survival_endpoint_input(wildcards=None):
    """The overall-survival source: the ingested Biotab clinical table, or the plain survival table."""
    if SURVIVAL_TABLE is not None:
        return {"survival_table": SURVIVAL_TABLE}
    return {"clinical": f"{R}/ingest/clinical.parquet"}


SURVIVAL_ENDPOINT_FILES = {"os": f"{R}/survival/endpoint.tsv", "pfs": f"{R}/survival/pfs_endpoint.tsv"}
SURVIVAL_ENDPOINT_LABELS = {"os": "Overall survival", "pfs": "Progression-free survival"}
# Imaging traits: every target but the molecular subtype (VASARI traits, and plain-table targets).
SURVIVAL_IMAGING = [s.name for s in TARGET_SPECS if s.source != "subtype"]
SURVIVAL_IMAGING_CATEGORICAL = [
    s.name for s in TARGET_SPECS if s.source != "subtype" and s.type in ("binary", "multiclass")
]
SURVIVAL_SUBTYPE = [s.name for s in TARGET_SPECS if s.source == "subtype"]


def _radiogenomic_networks():
    """Networks of the radiogenomic traits: configured, else the imaging traits, else the subtype network."""
    chosen = list(SURVIVAL["radiogenomic_networks"])
    unknown = [n for n in chosen if n not in TARGETS]
    if unknown:
        raise ValueError(f"config: survival.radiogenomic_networks names {unknown}, not targets ({TARGETS})")
    if chosen:
        return chosen
    if SURVIVAL_IMAGING:
        return list(SURVIVAL_IMAGING)
    # No imaging trait (e.g. config/tcga_gbm.yaml): the subtype network's saliency defines the traits.
    return list(SURVIVAL_SUBTYPE)


SURVIVAL_RG_NETWORKS = _radiogenomic_networks()
# Stepwise candidates besides the radiogenomic traits: the categorical imaging traits, else the subtype.
SURVIVAL_STEPWISE_TRAITS = SURVIVAL_IMAGING_CATEGORICAL or [
    s.name for s in TARGET_SPECS if s.source == "subtype" and s.type in ("binary", "multiclass")
]
SURVIVAL_PREDICTED = bool(SURVIVAL["predicted_traits"] and SURVIVAL_IMAGING_CATEGORICAL)
SURVIVAL_PARAMS = {
    "covariates": list(SURVIVAL["covariates"]),
    "max_covariate_missing": SURVIVAL["max_covariate_missing"],
}


def survival_endpoint_file(wildcards):
    return SURVIVAL_ENDPOINT_FILES[wildcards.endpoint]


def radiogenomic_enrichment_tables(wildcards=None):
    return {
        f"{net}__{collection}": f"{R}/enrichment/{net}/{collection}.tsv"
        for net in SURVIVAL_RG_NETWORKS
        for collection in COLLECTIONS
    }


def predicted_trait_models(wildcards=None):
    return {f"model_{t}": f"{R}/models/{t}/final.pt" for t in SURVIVAL_IMAGING_CATEGORICAL}


def survival_outputs():
    """Final survival outputs for `rule all` (with a clinical table only)."""
    if not HAS_SURVIVAL:
        return []
    out = [
        f"{R}/survival/endpoint_problems.tsv",
        f"{R}/survival/radiogenomic_traits.tsv",
        f"{R}/survival/radiogenomic_skipped.tsv",
    ]
    if "pfs" in SURVIVAL_ENDPOINTS:
        out += [f"{R}/survival/pfs_endpoint.tsv", f"{R}/survival/pfs_endpoint_problems.tsv"]
    for ep in SURVIVAL_ENDPOINTS:
        d = f"{R}/survival/{ep}"
        out += [
            f"{d}/km_logrank.tsv",
            f"{d}/cox.tsv",
            f"{d}/covariates.tsv",
            f"{d}/radiogenomic_tests.tsv",
            f"{d}/stepwise_path.tsv",
            f"{d}/stepwise_final.tsv",
            f"{R}/figures/survival/{ep}_forest_traits.png",
            f"{R}/figures/survival/{ep}_forest_stepwise.png",
            f"{R}/figures/survival/{ep}_radiogenomic_km.png",
        ]
        if SURVIVAL_PREDICTED:
            out += [
                f"{d}/predicted_trait_survival.tsv",
                f"{d}/predicted_trait_cox.tsv",
                f"{R}/figures/survival/{ep}_predicted_km.png",
            ]
    if SURVIVAL_PREDICTED:
        out.append(f"{R}/survival/predicted_traits.tsv")
    return out


STAGE_OUTPUTS.append(survival_outputs)
