# Stages 5-7: autoencoder pretraining; nested cross-validation of the networks (imaging traits and the
# subtype-validation network) and of the comparison models, one job per target x model x outer fold;
# the final network per target; the evaluation summary with paired bootstrap intervals.


rule train_autoencoder:
    input:
        expression=rules.ingest_expression.output.expression,
        cohorts=rules.build_targets.output.cohorts,
    output:
        model=f"{R}/models/autoencoder/{{arch}}.pt",
        history=f"{R}/models/autoencoder/{{arch}}_history.tsv",
    params:
        architecture=lambda wildcards: ENCODER_ARCHS[wildcards.arch],
        training=config["autoencoder"],
        seed=config["seed"],
    threads: torch_threads()
    log:
        f"{R}/logs/train_autoencoder/{{arch}}.log",
    benchmark:
        f"{R}/benchmarks/train_autoencoder/{{arch}}.tsv"
    conda:
        "../envs/torch.yaml"
    resources:
        **job_resources(gpu=True),
    script:
        "../scripts/train_autoencoder.py"


rule evaluate_network_fold:
    input:
        unpack(encoder_inputs),
        expression=rules.ingest_expression.output.expression,
        targets=rules.build_targets.output.targets,
        meta=rules.build_targets.output.meta,
        folds=rules.make_splits.output.folds,
    output:
        predictions=f"{R}/evaluation/{{target}}/network/fold{{fold}}.tsv",
        params=f"{R}/evaluation/{{target}}/network/fold{{fold}}.json",
        model=f"{R}/models/{{target}}/network/fold{{fold}}.pt",
    params:
        settings=SELECTION_SETTINGS,
        seed=config["seed"],
    threads: torch_threads()
    log:
        f"{R}/logs/evaluate_fold/{{target}}/network/fold{{fold}}.log",
    benchmark:
        f"{R}/benchmarks/evaluate_fold/{{target}}/network/fold{{fold}}.tsv"
    conda:
        "../envs/torch.yaml"
    resources:
        **job_resources(gpu=True),
    script:
        "../scripts/evaluate_fold.py"


rule evaluate_baseline_fold:
    input:
        expression=rules.ingest_expression.output.expression,
        targets=rules.build_targets.output.targets,
        meta=rules.build_targets.output.meta,
        folds=rules.make_splits.output.folds,
    output:
        predictions=f"{R}/evaluation/{{target}}/{{baseline}}/fold{{fold}}.tsv",
        params=f"{R}/evaluation/{{target}}/{{baseline}}/fold{{fold}}.json",
    params:
        settings=SELECTION_SETTINGS,
        seed=config["seed"],
    threads: torch_threads()
    log:
        f"{R}/logs/evaluate_fold/{{target}}/{{baseline}}/fold{{fold}}.log",
    benchmark:
        f"{R}/benchmarks/evaluate_fold/{{target}}/{{baseline}}/fold{{fold}}.tsv"
    conda:
        "../envs/core.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/evaluate_fold.py"


rule final_network:
    input:
        unpack(encoder_inputs),
        expression=rules.ingest_expression.output.expression,
        targets=rules.build_targets.output.targets,
        meta=rules.build_targets.output.meta,
    output:
        model=f"{R}/models/{{target}}/final.pt",
        selected=f"{R}/models/{{target}}/selected.json",
    params:
        settings=SELECTION_SETTINGS,
        seed=config["seed"],
    threads: torch_threads()
    log:
        f"{R}/logs/final_network/{{target}}.log",
    benchmark:
        f"{R}/benchmarks/final_network/{{target}}.tsv"
    conda:
        "../envs/torch.yaml"
    resources:
        **job_resources(gpu=True),
    script:
        "../scripts/final_network.py"


rule evaluation_summary:
    input:
        unpack(fold_predictions),
        meta=rules.build_targets.output.meta,
        selected=expand(f"{R}/models/{{target}}/selected.json", target=TARGETS),
    output:
        scores=f"{R}/evaluation/cv_scores.tsv",
        bootstrap=f"{R}/evaluation/bootstrap.tsv",
        summary=f"{R}/evaluation/summary.tsv",
        selected=f"{R}/evaluation/selected_networks.json",
        figure=f"{R}/figures/performance.png",
    params:
        targets=TARGETS,
        models=MODELS,
        folds=FOLDS,
        n_bootstrap=EVALUATION["n_bootstrap"],
        seed=config["seed"],
    log:
        f"{R}/logs/evaluation_summary.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/evaluation_summary.py"
