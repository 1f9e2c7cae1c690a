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
        settings=S.selection_settings,
        seed=config["seed"],
    script:
        "../scripts/final_baseline.py"


rule heldout_predictions:
    input:
        unpack(final_models),
        test_expression=test_expression_input,
        test_targets=f"{R}/cohorts/test_targets.parquet",
        meta=rules.build_targets.output.meta,
    output:
        predictions=f"{R}/evaluation/{{target}}/test_predictions.tsv",
    log:
        f"{R}/logs/heldout_predictions/{{target}}.log",
    benchmark:
        f"{R}/benchmarks/heldout_predictions/{{target}}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: torch_threads()
    resources:
        **job_resources(gpu=True),
    params:
        models=S.models,
    script:
        "../scripts/heldout_predictions.py"


rule heldout_scores:
    input:
        predictions=expand(f"{R}/evaluation/{{target}}/test_predictions.tsv", target=S.targets),
        meta=rules.build_targets.output.meta,
        cv_scores=rules.evaluation_summary.output.scores,
    output:
        scores=f"{R}/evaluation/test_scores.tsv",
    log:
        f"{R}/logs/heldout_scores.log",
    conda:
        "../envs/core.yaml"
    resources:
        **job_resources(),
    params:
        targets=S.targets,
        n_bootstrap=config["evaluation"]["n_bootstrap"],
        seed=config["seed"],
    script:
        "../scripts/heldout_scores.py"
