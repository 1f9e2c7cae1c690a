# Paper figure set: `snakemake paper_figures` writes the study's figures as PNG and SVG under
# results/paper/ (performance, masking and saliency-GSEA heatmaps, patients per enriched set, KM panels,
# trait-trait and trait-clinical associations) and the demographics table per cohort; a software-versions
# page for the report. Registered for `rule all`. Code: radiogenomics/paper.py; captions: workflow/report/.

PAPER = config["paper"]
P = f"{R}/paper"
PAPER_CAT = "5 Paper figures"
PAPER_CLINICAL = has_input("clinical")
# Categorical targets (binary or multi-class): the association tests and KM panels use their classes.
PAPER_TRAITS = [s.name for s in TARGET_SPECS if s.type in ("binary", "multiclass")]
# KM panels: the categorical imaging traits, else every categorical target (the subtype on TCGA-GBM data).
PAPER_KM_TRAITS = SURVIVAL_IMAGING_CATEGORICAL or PAPER_TRAITS
PAPER_SURVIVAL = HAS_SURVIVAL and bool(PAPER_KM_TRAITS)
# Demographics cohorts: column label -> key of cohorts.json (a target key for the subtype cohort).
PAPER_COHORTS = {
    "expression": "expression",
    "autoencoder": "autoencoder",
    "imaged": "imaged",
    **{f"{t} (subtype cohort)": t for t in SURVIVAL_SUBTYPE},
}
PAPER_ASSOC_OUTPUTS = {}
if len(PAPER_TRAITS) >= 2:
    PAPER_ASSOC_OUTPUTS["traits"] = f"{P}/associations_traits.tsv"
    PAPER_ASSOC_OUTPUTS["traits_png"] = report(
        f"{P}/associations_traits.png",
        caption="../report/paper_associations_traits.rst",
        category=PAPER_CAT,
        subcategory="Associations",
    )
    PAPER_ASSOC_OUTPUTS["traits_svg"] = f"{P}/associations_traits.svg"
if PAPER_CLINICAL and PAPER_TRAITS:
    PAPER_ASSOC_OUTPUTS["clinical"] = f"{P}/associations_clinical.tsv"
    PAPER_ASSOC_OUTPUTS["clinical_png"] = report(
        f"{P}/associations_clinical.png",
        caption="../report/paper_associations_clinical.rst",
        category=PAPER_CAT,
        subcategory="Associations",
    )
    PAPER_ASSOC_OUTPUTS["clinical_svg"] = f"{P}/associations_clinical.svg"
PAPER_CLINICAL_INPUTS = (
    {
        "clinical": f"{R}/ingest/clinical.parquet",
        "endpoint": f"{R}/survival/endpoint.tsv",
    }
    if PAPER_CLINICAL
    else {}
)
PAPER_OUTPUTS = (
    [f"{P}/performance.{ext}" for ext in ("png", "svg")]
    + [f"{P}/cv_scores.{ext}" for ext in ("png", "svg")]
    + expand(
        f"{P}/masking_{{collection}}.{{ext}}",
        collection=COLLECTIONS,
        ext=("png", "svg"),
    )
    + expand(
        f"{P}/enrichment_{{collection}}.{{ext}}",
        collection=COLLECTIONS,
        ext=("png", "svg"),
    )
    + expand(
        f"{P}/enriched_patients_{{collection}}.{{ext}}",
        collection=COLLECTIONS,
        ext=("png", "svg"),
    )
    + [str(p) for p in PAPER_ASSOC_OUTPUTS.values()]
    + [f"{R}/report/software_versions.html"]
    + (
        [f"{P}/{name}.{ext}" for name in ("subtype_masking", "coverage_curve") for ext in ("png", "svg")]
        if VALIDATION
        else []
    )
    + ([f"{P}/demographics.html", f"{P}/demographics.tsv"] if PAPER_CLINICAL else [])
    + (
        [f"{P}/km_traits.{ext}" for ext in ("png", "svg")] + [f"{P}/km_radiogenomic.{ext}" for ext in ("png", "svg")]
        if PAPER_SURVIVAL
        else []
    )
)


rule paper_performance:
    input:
        summary=rules.evaluation_summary.output.summary,
        bootstrap=rules.evaluation_summary.output.bootstrap,
        scores=rules.evaluation_summary.output.scores,
    output:
        performance_png=report(
            f"{P}/performance.png",
            caption="../report/paper_performance.rst",
            category=PAPER_CAT,
            subcategory="Model performance",
        ),
        performance_svg=f"{P}/performance.svg",
        cv_scores_png=report(
            f"{P}/cv_scores.png",
            caption="../report/paper_cv_scores.rst",
            category=PAPER_CAT,
            subcategory="Model performance",
        ),
        cv_scores_svg=f"{P}/cv_scores.svg",
    log:
        f"{R}/logs/paper/performance.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/paper_performance.py"


rule paper_masking:
    input:
        tables=expand(f"{R}/masking/{{target}}/{{{{collection}}}}.tsv", target=TARGETS),
    output:
        png=report(
            f"{P}/masking_{{collection}}.png",
            caption="../report/paper_masking.rst",
            category=PAPER_CAT,
            subcategory="Gene masking",
        ),
        svg=f"{P}/masking_{{collection}}.svg",
    log:
        f"{R}/logs/paper/masking_{{collection}}.log",
    wildcard_constraints:
        collection="|".join(COLLECTIONS),
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    params:
        targets=TARGETS,
    script:
        "../scripts/paper_masking.py"


rule paper_enrichment:
    input:
        summaries=expand(f"{R}/enrichment/{{target}}/{{{{collection}}}}_summary.tsv", target=TARGETS),
    output:
        heatmap_png=report(
            f"{P}/enrichment_{{collection}}.png",
            caption="../report/paper_enrichment.rst",
            category=PAPER_CAT,
            subcategory="Saliency GSEA",
        ),
        heatmap_svg=f"{P}/enrichment_{{collection}}.svg",
        counts_png=report(
            f"{P}/enriched_patients_{{collection}}.png",
            caption="../report/paper_enriched_patients.rst",
            category=PAPER_CAT,
            subcategory="Saliency GSEA",
        ),
        counts_svg=f"{P}/enriched_patients_{{collection}}.svg",
    log:
        f"{R}/logs/paper/enrichment_{{collection}}.log",
    wildcard_constraints:
        collection="|".join(COLLECTIONS),
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    params:
        targets=TARGETS,
        top=PAPER["top_sets"],
    script:
        "../scripts/paper_enrichment.py"


rule paper_survival:
    input:
        endpoint=f"{R}/survival/endpoint.tsv",
        targets=rules.build_targets.output.trait_values,
        meta=rules.build_targets.output.meta,
        traits=f"{R}/survival/radiogenomic_traits.tsv",
        tests=f"{R}/survival/os/radiogenomic_tests.tsv",
    output:
        km_traits_png=report(
            f"{P}/km_traits.png",
            caption="../report/paper_km_traits.rst",
            category=PAPER_CAT,
            subcategory="Survival",
        ),
        km_traits_svg=f"{P}/km_traits.svg",
        km_radiogenomic_png=report(
            f"{P}/km_radiogenomic.png",
            caption="../report/paper_km_radiogenomic.rst",
            category=PAPER_CAT,
            subcategory="Survival",
        ),
        km_radiogenomic_svg=f"{P}/km_radiogenomic.svg",
    log:
        f"{R}/logs/paper/survival.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    params:
        km_traits=PAPER_KM_TRAITS,
        alpha=PAPER["alpha"],
        max_panels=SURVIVAL["max_panels"],
    script:
        "../scripts/paper_survival.py"


rule paper_demographics:
    input:
        clinical=f"{R}/ingest/clinical.parquet",
        endpoint=f"{R}/survival/endpoint.tsv",
        cohorts=rules.build_targets.output.cohorts,
    output:
        long=f"{P}/demographics.tsv",
        table=f"{P}/demographics_table.tsv",
        html=report(
            f"{P}/demographics.html",
            caption="../report/paper_demographics.rst",
            category=PAPER_CAT,
            subcategory="Cohorts",
        ),
    log:
        f"{R}/logs/paper/demographics.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    params:
        cohorts=PAPER_COHORTS,
    script:
        "../scripts/paper_demographics.py"


rule paper_associations:
    input:
        **PAPER_CLINICAL_INPUTS,
        targets=rules.build_targets.output.trait_values,
        meta=rules.build_targets.output.meta,
    output:
        **PAPER_ASSOC_OUTPUTS,
    log:
        f"{R}/logs/paper/associations.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    params:
        traits=PAPER_TRAITS,
        paper=PAPER,
        seed=config["seed"],
    script:
        "../scripts/paper_associations.py"


rule report_versions:
    output:
        table=f"{R}/report/software_versions.tsv",
        html=report(
            f"{R}/report/software_versions.html",
            caption="../report/software_versions.rst",
            category="6 Software and configuration",
            subcategory="Versions and config",
        ),
    log:
        f"{R}/logs/report_versions.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/report_versions.py"


if VALIDATION:

    rule paper_subtype_validation:
        input:
            probabilities=VALIDATION_OUTPUTS["probabilities"],
            coverage=VALIDATION_OUTPUTS["coverage"],
        output:
            heatmap_png=report(
                f"{P}/subtype_masking.png",
                caption="../report/paper_subtype_masking.rst",
                category=PAPER_CAT,
                subcategory="Subtype validation",
            ),
            heatmap_svg=f"{P}/subtype_masking.svg",
            coverage_png=report(
                f"{P}/coverage_curve.png",
                caption="../report/paper_coverage_curve.rst",
                category=PAPER_CAT,
                subcategory="Subtype validation",
            ),
            coverage_svg=f"{P}/coverage_curve.svg",
        log:
            f"{R}/logs/paper/subtype_validation.log",
        conda:
            "../envs/plots.yaml"
        resources:
            **job_resources(),
        script:
            "../scripts/paper_subtype_validation.py"


rule paper_figures:
    input:
        PAPER_OUTPUTS,


STAGE_OUTPUTS.append(lambda: PAPER_OUTPUTS)
