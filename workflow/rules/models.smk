# Stages 5-7: autoencoder pretraining, one network per target (imaging traits and the
# subtype-validation network), cross-validated on the split files, then refit on all patients.


rule train_autoencoder:
    input:
        expression=rules.ingest_expression.output.expression,
        cohorts=rules.build_targets.output.cohorts,
    output:
        model=f"{R}/models/autoencoder.pt",
        history=f"{R}/models/autoencoder_history.tsv",
    params:
        architecture=config["architecture"],
        training=config["autoencoder"],
        seed=config["seed"],
    threads: torch_threads()
    log:
        f"{R}/logs/train_autoencoder.log",
    benchmark:
        f"{R}/benchmarks/train_autoencoder.tsv"
    conda:
        "../envs/torch.yaml"
    resources:
        **job_resources(gpu=True),
    script:
        "../scripts/train_autoencoder.py"


rule train_network:
    input:
        unpack(encoder_input),
        expression=rules.ingest_expression.output.expression,
        targets=rules.build_targets.output.targets,
        meta=rules.build_targets.output.meta,
        folds=rules.make_splits.output.folds,
    output:
        model=f"{R}/models/{{target}}/final.pt",
        fold_models=f"{R}/models/{{target}}/cv_models.pt",
        predictions=f"{R}/evaluation/{{target}}/cv_predictions.tsv",
        scores=f"{R}/evaluation/{{target}}/cv_scores.tsv",
    params:
        architecture=config["architecture"],
        training=config["network"],
        val_fraction=config["cv"]["val_fraction"],
        seed=config["seed"],
    threads: torch_threads()
    log:
        f"{R}/logs/train_network/{{target}}.log",
    benchmark:
        f"{R}/benchmarks/train_network/{{target}}.tsv"
    conda:
        "../envs/torch.yaml"
    resources:
        **job_resources(gpu=True),
    script:
        "../scripts/train_network.py"


rule collect_cv_scores:
    input:
        scores=expand(f"{R}/evaluation/{{target}}/cv_scores.tsv", target=TARGETS),
        meta=rules.build_targets.output.meta,
    output:
        scores=f"{R}/evaluation/cv_scores.tsv",
        summary=f"{R}/evaluation/cv_summary.tsv",
    log:
        f"{R}/logs/collect_cv_scores.log",
    conda:
        "../envs/core.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/collect_cv_scores.py"
