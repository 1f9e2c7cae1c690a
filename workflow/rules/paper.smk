# Paper figure set: `snakemake paper_figures` builds the study's figures and tables. The figures are the stages'
# own (results/figures/, each as PNG and SVG from one radiogenomics.plots.figures.draw call: performance, CV
# scores, masking and saliency-GSEA heatmaps, patients per enriched set, KM panels, subtype validation); this
# file adds what only the paper has: the demographics table per cohort, the trait-trait and trait-clinical
# associations (results/paper/) and a software-versions page for the report. Registered for `rule all`.
# Code: radiogenomics/plots/paper.py; captions: workflow/report/.

PAPER_CAT = "5 Paper figures"
# the association tables and figures of paper_associations; the PNGs go into the report
PAPER_ASSOCIATIONS = S.paper_association_outputs()
for kind in ("traits", "clinical"):
    if f"{kind}_png" in PAPER_ASSOCIATIONS:
        PAPER_ASSOCIATIONS[f"{kind}_png"] = report(
            PAPER_ASSOCIATIONS[f"{kind}_png"],
            caption=f"../report/paper_associations_{kind}.rst",
            category=PAPER_CAT,
            subcategory="Associations",
        )


rule paper_demographics:
    input:
        clinical=f"{R}/ingest/clinical.parquet",
        endpoint=f"{R}/survival/endpoint.tsv",
        cohorts=rules.build_targets.output.cohorts,
    output:
        long=f"{R}/paper/demographics.tsv",
        table=f"{R}/paper/demographics_table.tsv",
        html=report(
            f"{R}/paper/demographics.html",
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
        cohorts=S.paper_cohorts,
    script:
        "../scripts/paper_demographics.py"


rule paper_associations:
    input:
        **(
            {"clinical": f"{R}/ingest/clinical.parquet", "endpoint": f"{R}/survival/endpoint.tsv"}
            if S.has_input("clinical")
            else {}
        ),
        targets=rules.build_targets.output.trait_values,
        meta=rules.build_targets.output.meta,
    output:
        **PAPER_ASSOCIATIONS,
    log:
        f"{R}/logs/paper/associations.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    params:
        traits=S.paper_traits,
        paper=config["paper"],
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


rule paper_figures:
    input:
        S.paper_outputs(),
