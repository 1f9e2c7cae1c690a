# Stage 12: figures across targets. One rule per figure family; every figure is written as PNG and SVG by one
# call (radiogenomics.plots.figures.draw). The report shows the PNG; the paper target (paper.smk) lists both.


rule figure_cv_scores:
    input:
        scores=rules.evaluation_summary.output.scores,
    output:
        figure=report(
            f"{R}/figures/cv_scores.png",
            caption="../report/cv_scores.rst",
            category="2 Models",
            subcategory="Nested cross-validation",
        ),
        figure_svg=f"{R}/figures/cv_scores.svg",
    log:
        f"{R}/logs/figure_cv_scores.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/figure_cv_scores.py"


rule figure_masking:
    input:
        tables=expand(f"{R}/masking/{{target}}/{{{{collection}}}}.tsv", target=S.targets),
    output:
        figure=report(
            f"{R}/figures/masking_{{collection}}.png",
            caption="../report/masking.rst",
            category="3 Interpretation",
            subcategory="Gene masking",
        ),
        figure_svg=f"{R}/figures/masking_{{collection}}.svg",
    log:
        f"{R}/logs/figure_masking/{{collection}}.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    params:
        targets=S.targets,
    script:
        "../scripts/figure_masking.py"


rule figure_enrichment:
    input:
        summaries=expand(f"{R}/enrichment/{{target}}/{{{{collection}}}}_summary.tsv", target=S.targets),
    output:
        figure=report(
            f"{R}/figures/enrichment_{{collection}}.png",
            caption="../report/enrichment.rst",
            category="3 Interpretation",
            subcategory="Saliency GSEA",
        ),
        figure_svg=f"{R}/figures/enrichment_{{collection}}.svg",
        counts=report(
            f"{R}/figures/enriched_patients_{{collection}}.png",
            caption="../report/enriched_patients.rst",
            category="3 Interpretation",
            subcategory="Saliency GSEA",
        ),
        counts_svg=f"{R}/figures/enriched_patients_{{collection}}.svg",
    log:
        f"{R}/logs/figure_enrichment/{{collection}}.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    params:
        targets=S.targets,
        top=config["paper"]["top_sets"],
    script:
        "../scripts/figure_enrichment.py"


rule figure_driver_recovery:
    input:
        table=rules.driver_recovery.output.table,
    output:
        figure=report(
            f"{R}/figures/driver_recovery.png",
            caption="../report/driver_recovery.rst",
            category="3 Interpretation",
            subcategory="Driver recovery (simulated cohort)",
        ),
        figure_svg=f"{R}/figures/driver_recovery.svg",
    log:
        f"{R}/logs/figure_driver_recovery.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/figure_driver_recovery.py"


# --- interpretation figures (subtype validation, driver recovery by method) ---
if S.validation:

    rule figure_subtype_validation:
        input:
            probabilities=S.validation_outputs["probabilities"],
            coverage=S.validation_outputs["coverage"],
        output:
            heatmap=report(
                S.validation_figures["heatmap"],
                caption="../report/subtype_masking.rst",
                category="3 Interpretation",
                subcategory="Subtype validation",
            ),
            heatmap_svg=svg(S.validation_figures["heatmap"]),
            coverage=report(
                S.validation_figures["coverage"],
                caption="../report/coverage_curve.rst",
                category="3 Interpretation",
                subcategory="Subtype validation",
            ),
            coverage_svg=svg(S.validation_figures["coverage"]),
        log:
            f"{R}/logs/figure_subtype_validation.log",
        conda:
            "../envs/plots.yaml"
        resources:
            **job_resources(),
        script:
            "../scripts/figure_subtype_validation.py"


rule figure_driver_recovery_methods:
    input:
        table=rules.driver_recovery.output.table,
    output:
        figure=report(
            f"{R}/figures/driver_recovery_methods.png",
            caption="../report/driver_recovery_methods.rst",
            category="3 Interpretation",
            subcategory="Driver recovery (simulated cohort)",
        ),
        figure_svg=f"{R}/figures/driver_recovery_methods.svg",
    log:
        f"{R}/logs/figure_driver_recovery_methods.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/figure_driver_recovery_methods.py"
