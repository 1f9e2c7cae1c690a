# Stages 5-7: autoencoder pretraining; nested cross-validation of the networks (imaging traits and the
# subtype-validation network) and of the comparison models, one job per target x model x outer fold
# (evaluation.split_folds) or per target x model;
# the final network per target; the evaluation summary with paired bootstrap intervals.


rule train_autoencoder:
    input:
        expression=rules.ingest_expression.output.expression,
        cohorts=rules.build_targets.output.cohorts,
    output:
        model=f"{R}/models/autoencoder/{{arch}}.pt",
        history=f"{R}/models/autoencoder/{{arch}}_history.tsv",
    log:
        f"{R}/logs/train_autoencoder/{{arch}}.log",
    benchmark:
        f"{R}/benchmarks/train_autoencoder/{{arch}}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: torch_threads()
    resources:
        **job_resources(gpu=True),
    params:
        architecture=lambda wildcards: S.encoder_archs[wildcards.arch],
        training=config["autoencoder"],
        seed=config["seed"],
    script:
        "../scripts/train_autoencoder.py"


# One autoencoder per outer fold for a target whose patients can be in the shared autoencoder's cohort
# (S.encoder_scopes "fold", e.g. the subtype target): trained on every training patient outside the fold's test
# patients (results/cohorts/cohorts.json encoder_patients), checked against the split file.
rule train_fold_autoencoder:
    input:
        expression=rules.ingest_expression.output.expression,
        cohorts=rules.build_targets.output.cohorts,
        folds=rules.make_splits.output.folds,
    output:
        model=f"{R}/models/autoencoder/{{arch}}/{{target}}/fold{{fold}}.pt",
        history=f"{R}/models/autoencoder/{{arch}}/{{target}}/fold{{fold}}_history.tsv",
    log:
        f"{R}/logs/train_autoencoder/{{arch}}/{{target}}/fold{{fold}}.log",
    benchmark:
        f"{R}/benchmarks/train_autoencoder/{{arch}}/{{target}}/fold{{fold}}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: torch_threads()
    resources:
        **job_resources(gpu=True),
    params:
        architecture=lambda wildcards: S.encoder_archs[wildcards.arch],
        training=config["autoencoder"],
        seed=config["seed"],
    script:
        "../scripts/train_autoencoder.py"


# evaluation.split_folds: one job per target x model x outer fold (true), or one job per target x model that
# runs its outer folds in turn (false); both write the same per-fold files, which is all the rest reads.
if config["evaluation"]["split_folds"]:

    rule evaluate_network_fold:
        input:
            unpack(encoder_inputs),
            **fold_job_inputs(),
        output:
            predictions=f"{R}/evaluation/{{target}}/network/fold{{fold}}.tsv",
            params=f"{R}/evaluation/{{target}}/network/fold{{fold}}.json",
            model=f"{R}/models/{{target}}/network/fold{{fold}}.pt",
        log:
            f"{R}/logs/evaluate_fold/{{target}}/network/fold{{fold}}.log",
        benchmark:
            f"{R}/benchmarks/evaluate_fold/{{target}}/network/fold{{fold}}.tsv"
        conda:
            "../envs/torch.yaml"
        threads: torch_threads()
        resources:
            **job_resources(gpu=True),
        params:
            settings=S.selection_settings,
            seed=config["seed"],
        script:
            "../scripts/evaluate_fold.py"

    rule evaluate_baseline_fold:
        input:
            **fold_job_inputs(),
        output:
            predictions=f"{R}/evaluation/{{target}}/{{baseline}}/fold{{fold}}.tsv",
            params=f"{R}/evaluation/{{target}}/{{baseline}}/fold{{fold}}.json",
        log:
            f"{R}/logs/evaluate_fold/{{target}}/{{baseline}}/fold{{fold}}.log",
        benchmark:
            f"{R}/benchmarks/evaluate_fold/{{target}}/{{baseline}}/fold{{fold}}.tsv"
        conda:
            "../envs/core.yaml"
        threads: torch_threads()
        resources:
            **job_resources(),
        params:
            settings=S.selection_settings,
            seed=config["seed"],
        script:
            "../scripts/evaluate_fold.py"

else:

    # One job per target x model: its outer folds one after another, each fold's files written as soon as
    # that fold is done; the same per-fold output paths (and bytes) as the per-fold rules above.
    rule evaluate_network_folds:
        input:
            unpack(encoder_inputs),
            **fold_job_inputs(),
        output:
            predictions=every_fold(f"{R}/evaluation/{{target}}/network/fold{{fold}}.tsv"),
            params=every_fold(f"{R}/evaluation/{{target}}/network/fold{{fold}}.json"),
            model=every_fold(f"{R}/models/{{target}}/network/fold{{fold}}.pt"),
        log:
            f"{R}/logs/evaluate_folds/{{target}}/network.log",
        benchmark:
            f"{R}/benchmarks/evaluate_folds/{{target}}/network.tsv"
        conda:
            "../envs/torch.yaml"
        threads: torch_threads()
        resources:
            **job_resources(gpu=True),
        params:
            settings=S.selection_settings,
            seed=config["seed"],
            folds=S.folds,
        script:
            "../scripts/evaluate_fold.py"

    rule evaluate_baseline_folds:
        input:
            **fold_job_inputs(),
        output:
            predictions=every_fold(f"{R}/evaluation/{{target}}/{{baseline}}/fold{{fold}}.tsv"),
            params=every_fold(f"{R}/evaluation/{{target}}/{{baseline}}/fold{{fold}}.json"),
        log:
            f"{R}/logs/evaluate_folds/{{target}}/{{baseline}}.log",
        benchmark:
            f"{R}/benchmarks/evaluate_folds/{{target}}/{{baseline}}.tsv"
        conda:
            "../envs/core.yaml"
        threads: torch_threads()
        resources:
            **job_resources(),
        params:
            settings=S.selection_settings,
            seed=config["seed"],
            folds=S.folds,
        script:
            "../scripts/evaluate_fold.py"


rule final_network:
    input:
        unpack(shared_encoder_inputs),
        expression=rules.ingest_expression.output.expression,
        targets=rules.build_targets.output.targets,
        meta=rules.build_targets.output.meta,
    output:
        model=f"{R}/models/{{target}}/final.pt",
        selected=f"{R}/models/{{target}}/selected.json",
    log:
        f"{R}/logs/final_network/{{target}}.log",
    benchmark:
        f"{R}/benchmarks/final_network/{{target}}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: torch_threads()
    resources:
        **job_resources(gpu=True),
    params:
        settings=S.selection_settings,
        seed=config["seed"],
    script:
        "../scripts/final_network.py"


rule evaluation_summary:
    input:
        unpack(fold_predictions),
        meta=rules.build_targets.output.meta,
        selected=expand(f"{R}/models/{{target}}/selected.json", target=S.targets),
    output:
        scores=f"{R}/evaluation/cv_scores.tsv",
        bootstrap=f"{R}/evaluation/bootstrap.tsv",
        summary=report(
            f"{R}/evaluation/summary.tsv",
            caption="../report/evaluation_summary.rst",
            category="2 Models",
            subcategory="Nested cross-validation",
        ),
        selected=f"{R}/evaluation/selected_networks.json",
        figure=report(
            f"{R}/figures/performance.png",
            caption="../report/performance.rst",
            category="2 Models",
            subcategory="Nested cross-validation",
        ),
        figure_svg=f"{R}/figures/performance.svg",
    log:
        f"{R}/logs/evaluation_summary.log",
    conda:
        "../envs/plots.yaml"
    resources:
        **job_resources(),
    params:
        targets=S.targets,
        models=S.models,
        folds=S.folds,
        n_bootstrap=config["evaluation"]["n_bootstrap"],
        seed=config["seed"],
    script:
        "../scripts/evaluation_summary.py"
