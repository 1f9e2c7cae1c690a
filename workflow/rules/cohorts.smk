# Stages 3-4: typed targets, cohorts, and split files written before any model is fitted.


rule build_targets:
    input:
        unpack(target_sources),
        expression=rules.ingest_expression.output.expression,
    output:
        targets=f"{R}/cohorts/targets.parquet",
        meta=f"{R}/cohorts/targets.json",
        drops=f"{R}/cohorts/target_drops.tsv",
        cohorts=f"{R}/cohorts/cohorts.json",
    params:
        specs=[s.to_dict() for s in TARGET_SPECS],
        folds=config["cv"]["folds"],
        source_paths={"vasari": input_path("vasari"), "subtype": input_path("clanc")},
        permute_labels=config["evaluation"]["permute_labels"],
        seed=config["seed"],
    log:
        f"{R}/logs/build_targets.log",
    conda:
        "../envs/core.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/build_targets.py"


rule make_splits:
    input:
        targets=rules.build_targets.output.targets,
        meta=rules.build_targets.output.meta,
    output:
        folds=f"{R}/splits/{{target}}.tsv",
    params:
        folds=config["cv"]["folds"],
        seed=config["seed"],
    log:
        f"{R}/logs/make_splits/{{target}}.log",
    conda:
        "../envs/core.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/make_splits.py"
