# Stage 11: overall survival from the clinical table; Kaplan-Meier and log-rank per imaging trait.


rule survival_endpoint:
    input:
        clinical=rules.ingest_clinical.output.clinical,
    output:
        endpoint=f"{R}/survival/endpoint.tsv",
        problems=f"{R}/survival/endpoint_problems.tsv",
    log:
        f"{R}/logs/survival_endpoint.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/survival_endpoint.py"


rule survival_by_trait:
    input:
        endpoint=rules.survival_endpoint.output.endpoint,
        targets=rules.build_targets.output.targets,
        meta=rules.build_targets.output.meta,
    output:
        logrank=f"{R}/survival/logrank.tsv",
        km=f"{R}/survival/km_summary.tsv",
        overview=f"{R}/figures/km_overview.png",
    params:
        groupings=survival_groupings(),
    log:
        f"{R}/logs/survival_by_trait.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/survival_by_trait.py"


rule km_figure:
    input:
        endpoint=rules.survival_endpoint.output.endpoint,
        targets=rules.build_targets.output.targets,
        meta=rules.build_targets.output.meta,
    output:
        figure=f"{R}/figures/km/{{target}}.png",
    log:
        f"{R}/logs/km_figure/{{target}}.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/km_figure.py"
