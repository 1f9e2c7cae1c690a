# Stage 12: figures across targets.


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
        tables=expand(f"{R}/masking/{{target}}/{{{{collection}}}}.tsv", target=TARGETS),
    output:
        figure=report(
            f"{R}/figures/masking_{{collection}}.png",
            caption="../report/masking.rst",
            category="3 Interpretation",
            subcategory="Gene masking",
        ),
    log:
        f"{R}/logs/figure_masking/{{collection}}.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    params:
        targets=TARGETS,
    script:
        "../scripts/figure_masking.py"


rule figure_enrichment:
    input:
        summaries=expand(f"{R}/enrichment/{{target}}/{{{{collection}}}}_summary.tsv", target=TARGETS),
    output:
        figure=report(
            f"{R}/figures/enrichment_{{collection}}.png",
            caption="../report/enrichment.rst",
            category="3 Interpretation",
            subcategory="Saliency GSEA",
        ),
    log:
        f"{R}/logs/figure_enrichment/{{collection}}.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    params:
        targets=TARGETS,
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
    log:
        f"{R}/logs/figure_driver_recovery.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/figure_driver_recovery.py"


# --- interpretation figures (subtype validation, driver recovery by method) ---
if VALIDATION:

    rule figure_subtype_validation:
        input:
            probabilities=VALIDATION_OUTPUTS["probabilities"],
            coverage=VALIDATION_OUTPUTS["coverage"],
        output:
            heatmap=report(
                VALIDATION_FIGURES["heatmap"],
                caption="../report/subtype_masking.rst",
                category="3 Interpretation",
                subcategory="Subtype validation",
            ),
            coverage=report(
                VALIDATION_FIGURES["coverage"],
                caption="../report/coverage_curve.rst",
                category="3 Interpretation",
                subcategory="Subtype validation",
            ),
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
    log:
        f"{R}/logs/figure_driver_recovery_methods.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/figure_driver_recovery_methods.py"
