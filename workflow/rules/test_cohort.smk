# Held-out test cohort (inputs.test, or simulate.n_test_patients): never used for selection or training.
# The selected final models - models/{target}/final.pt and a final refit of each comparison model - are
# scored on it once, with bootstrap intervals, beside the cross-validated scores.


rule final_baseline:
    input:
        expression=rules.ingest_expression.output.expression,
        targets=rules.build_targets.output.targets,
        meta=rules.build_targets.output.meta,
    output:
        model=f"{R}/models/{{target}}/{{baseline}}/final.skops.zip",
        selected=f"{R}/models/{{target}}/{{baseline}}/selected.json",
    log:
        f"{R}/logs/final_baseline/{{target}}/{{baseline}}.log",
    benchmark:
        f"{R}/benchmarks/final_baseline/{{target}}/{{baseline}}.tsv"
    conda:
        "../envs/core.yaml"
    threads: torch_threads()
    resources:
        **job_resources(),
    params:
        settings=SELECTION_SETTINGS,
        seed=config["seed"],
    script:
        "../scripts/final_baseline.py"


rule test_predictions:
    input:
        unpack(final_models),
        test_expression=test_expression_input,
        test_targets=f"{R}/cohorts/test_targets.parquet",
        meta=rules.build_targets.output.meta,
    output:
        predictions=f"{R}/evaluation/{{target}}/test_predictions.tsv",
    log:
        f"{R}/logs/test_predictions/{{target}}.log",
    benchmark:
        f"{R}/benchmarks/test_predictions/{{target}}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: torch_threads()
    resources:
        **job_resources(gpu=True),
    params:
        models=MODELS,
    script:
        "../scripts/test_predictions.py"


rule test_scores:
    input:
        predictions=expand(f"{R}/evaluation/{{target}}/test_predictions.tsv", target=TARGETS),
        meta=rules.build_targets.output.meta,
        cv_scores=rules.evaluation_summary.output.scores,
    output:
        scores=f"{R}/evaluation/test_scores.tsv",
    log:
        f"{R}/logs/test_scores.log",
    conda:
        "../envs/core.yaml"
    resources:
        **job_resources(),
    params:
        targets=TARGETS,
        n_bootstrap=EVALUATION["n_bootstrap"],
        seed=config["seed"],
    script:
        "../scripts/test_scores.py"
