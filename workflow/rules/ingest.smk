# Stage 2: parse each raw table in its real format into tidy parquet/TSV files.


rule ingest_expression:
    input:
        expression=input_path("expression"),
    output:
        expression=f"{R}/ingest/expression.parquet",
        samples=f"{R}/ingest/expression_samples.tsv",
    params:
        format="xena" if SIMULATED else config["inputs"]["expression_format"],
    log:
        f"{R}/logs/ingest_expression.log",
    conda:
        "../envs/core.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/ingest_expression.py"


rule ingest_vasari:
    input:
        vasari=input_path("vasari") or [],
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
        clinical=input_path("clinical") or [],
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
        clanc=input_path("clanc") or [],
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
