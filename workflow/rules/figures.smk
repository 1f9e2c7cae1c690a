# Stage 12: figures across targets.


rule figure_cv_scores:
    input:
        scores=rules.evaluation_summary.output.scores,
    output:
        figure=f"{R}/figures/cv_scores.png",
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
        figure=f"{R}/figures/masking_{{collection}}.png",
    params:
        targets=TARGETS,
    log:
        f"{R}/logs/figure_masking/{{collection}}.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/figure_masking.py"


rule figure_enrichment:
    input:
        summaries=expand(f"{R}/enrichment/{{target}}/{{{{collection}}}}_summary.tsv", target=TARGETS),
    output:
        figure=f"{R}/figures/enrichment_{{collection}}.png",
    params:
        targets=TARGETS,
    log:
        f"{R}/logs/figure_enrichment/{{collection}}.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/figure_enrichment.py"


rule figure_driver_recovery:
    input:
        table=rules.driver_recovery.output.table,
    output:
        figure=f"{R}/figures/driver_recovery.png",
    log:
        f"{R}/logs/figure_driver_recovery.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/figure_driver_recovery.py"
