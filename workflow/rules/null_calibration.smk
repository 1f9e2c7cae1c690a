# Stage 7b: null-label calibration (evaluation.null_permutations > 0). For each target and model, the nested
# cross-validation is rerun on labels permuted within each outer fold of the target's split file (same folds,
# selection, refits and seeds); the summary puts every score and its bootstrap interval beside the null.
# Code: radiogenomics/evaluation/null_calibration.py.


rule null_calibration_network:
    input:
        unpack(encoder_inputs),
        **fold_job_inputs(),
    output:
        null=f"{R}/evaluation/null/{{target}}/network.tsv",
    log:
        f"{R}/logs/null_calibration/{{target}}/network.log",
    benchmark:
        f"{R}/benchmarks/null_calibration/{{target}}/network.tsv"
    conda:
        "../envs/torch.yaml"
    threads: torch_threads()
    resources:
        **job_resources(gpu=True),
    params:
        settings=S.selection_settings,
        seed=config["seed"],
        n_perm=S.null_permutations,
    script:
        "../scripts/null_calibration.py"


rule null_calibration_baseline:
    input:
        **fold_job_inputs(),
    output:
        null=f"{R}/evaluation/null/{{target}}/{{baseline}}.tsv",
    log:
        f"{R}/logs/null_calibration/{{target}}/{{baseline}}.log",
    benchmark:
        f"{R}/benchmarks/null_calibration/{{target}}/{{baseline}}.tsv"
    conda:
        "../envs/core.yaml"
    threads: torch_threads()
    resources:
        **job_resources(),
    params:
        settings=S.selection_settings,
        seed=config["seed"],
        n_perm=S.null_permutations,
    script:
        "../scripts/null_calibration.py"


rule null_summary:
    input:
        summary=rules.evaluation_summary.output.summary,
        null=expand(f"{R}/evaluation/null/{{target}}/{{model}}.tsv", target=S.targets, model=S.models),
    output:
        scores=f"{R}/evaluation/null_scores.tsv",
        table=report(
            f"{R}/evaluation/null_calibration.tsv",
            caption="../report/null_calibration.rst",
            category="2 Models",
            subcategory="Null-label calibration",
        ),
        figure=report(
            f"{R}/figures/null_calibration.png",
            caption="../report/null_calibration_figure.rst",
            category="2 Models",
            subcategory="Null-label calibration",
        ),
        figure_svg=f"{R}/figures/null_calibration.svg",
    log:
        f"{R}/logs/null_summary.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/null_summary.py"
