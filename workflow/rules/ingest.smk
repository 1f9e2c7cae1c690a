# Stage 2: parse each raw table in its real format into tidy parquet/TSV files.


rule ingest_expression:
    input:
        expression=S.input_path("expression"),
    output:
        expression=f"{R}/ingest/expression.parquet",
        samples=f"{R}/ingest/expression_samples.tsv",
    log:
        f"{R}/logs/ingest_expression.log",
    conda:
        "../envs/core.yaml"
    resources:
        **job_resources(),
    params:
        format="xena" if S.simulated else config["inputs"]["expression_format"],
        orientation=config["inputs"]["expression_orientation"],
        id_rule=S.id_rule,
        min_genes=config["inputs"]["min_informative_genes"],
    script:
        "../scripts/ingest_expression.py"


rule ingest_vasari:
    input:
        vasari=S.input_path("vasari") or [],
    output:
        vasari=f"{R}/ingest/vasari.parquet",
    log:
        f"{R}/logs/ingest_vasari.log",
    conda:
        "../envs/core.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/ingest_vasari.py"


rule ingest_clinical:
    input:
        clinical=S.input_path("clinical") or [],
    output:
        clinical=f"{R}/ingest/clinical.parquet",
    log:
        f"{R}/logs/ingest_clinical.log",
    conda:
        "../envs/core.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/ingest_clinical.py"


rule ingest_clanc:
    input:
        clanc=S.input_path("clanc") or [],
    output:
        subtypes=f"{R}/ingest/subtypes.tsv",
        gene_sets=f"{R}/ingest/verhaak_gene_sets.gmt",
    log:
        f"{R}/logs/ingest_clanc.log",
    conda:
        "../envs/core.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/ingest_clanc.py"


rule ingest_gene_sets:
    input:
        gene_sets=gene_set_source,
        expression=rules.ingest_expression.output.expression,
    output:
        gene_sets=f"{R}/ingest/gene_sets/{{collection}}.gmt",
        report=f"{R}/ingest/gene_sets/{{collection}}_matching.tsv",
    log:
        f"{R}/logs/ingest_gene_sets/{{collection}}.log",
    conda:
        "../envs/core.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/ingest_gene_sets.py"


# Generic inputs: the plain target table (any cohort; or the simulator's radiomic/histology table) and the
# held-out test cohort (its expression cut to the training genes, and its target table).


if S.sim_plain_targets or S.sim_test:

    rule simulate_plain_tables:
        output:
            **S.simulated_plain_outputs,
        log:
            f"{R}/logs/simulate_plain_tables.log",
        conda:
            "../envs/core.yaml"
        resources:
            **job_resources(),
        params:
            simulation=config["simulate"],
            seed=config["seed"],
        script:
            "../scripts/simulate_plain_tables.py"


rule ingest_targets:
    input:
        targets=S.input_path("targets") or [],
    output:
        targets=f"{R}/ingest/targets.parquet",
    log:
        f"{R}/logs/ingest_targets.log",
    conda:
        "../envs/core.yaml"
    resources:
        **job_resources(),
    params:
        id_rule=S.id_rule,
        layout=S.targets_format,
    script:
        "../scripts/ingest_targets.py"


rule ingest_test_expression:
    input:
        expression=S.test_input("expression") or [],
        training=rules.ingest_expression.output.expression,
    output:
        expression=f"{R}/ingest/test/expression.parquet",
        samples=f"{R}/ingest/test/expression_samples.tsv",
    log:
        f"{R}/logs/ingest_test_expression.log",
    conda:
        "../envs/core.yaml"
    resources:
        **job_resources(),
    params:
        format=(
            "xena"
            if S.simulated
            else (config["inputs"]["test"].get("expression_format") or config["inputs"]["expression_format"])
        ),
        orientation=config["inputs"]["expression_orientation"],
        id_rule=S.id_rule,
    script:
        "../scripts/ingest_expression.py"


use rule ingest_targets as ingest_test_targets with:
    input:
        targets=S.test_input("targets") or [],
    output:
        targets=f"{R}/ingest/test/targets.parquet",
    log:
        f"{R}/logs/ingest_test_targets.log",
