# Stages 3-4: typed targets, cohorts, and split files written before any model is fitted.


rule build_targets:
    input:
        unpack(target_sources),
        unpack(test_cohort_inputs),
        expression=rules.ingest_expression.output.expression,
    output:
        **S.test_target_outputs,
        targets=f"{R}/cohorts/targets.parquet",
        trait_values=f"{R}/cohorts/traits_all_patients.parquet",
        meta=f"{R}/cohorts/targets.json",
        drops=report(
            f"{R}/cohorts/target_drops.tsv",
            caption="../report/cohorts_target_drops.rst",
            category="1 Cohorts",
            subcategory="Targets",
        ),
        cohorts=f"{R}/cohorts/cohorts.json",
    log:
        f"{R}/logs/build_targets.log",
    conda:
        "../envs/core.yaml"
    resources:
        **job_resources(),
    params:
        specs=[s.to_dict() for s in S.target_specs],
        folds=config["cv"]["folds"],
        source_paths={
            "vasari": S.input_path("vasari"),
            "subtype": S.input_path("clanc"),
            "targets": S.input_path("targets"),
            "expression": S.input_path("expression"),
        },
        test_paths={"expression": S.test_input("expression"), "targets": S.test_input("targets")},
        id_rule=S.id_rule,
        permute_labels=config["evaluation"]["permute_labels"],
        encoder_scopes=S.encoder_scopes,
        seed=config["seed"],
    script:
        "../scripts/build_targets.py"


rule make_splits:
    input:
        targets=rules.build_targets.output.targets,
        meta=rules.build_targets.output.meta,
    output:
        folds=f"{R}/splits/{{target}}.tsv",
    log:
        f"{R}/logs/make_splits/{{target}}.log",
    conda:
        "../envs/core.yaml"
    resources:
        **job_resources(),
    params:
        folds=config["cv"]["folds"],
        seed=config["seed"],
    script:
        "../scripts/make_splits.py"
