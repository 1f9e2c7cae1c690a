# Stages 8-10: gene masking, gene saliency and per-patient saliency GSEA.


rule gene_masking:
    input:
        unpack(masking_models),
        expression=rules.ingest_expression.output.expression,
        targets=rules.build_targets.output.targets,
        gene_sets=rules.ingest_gene_sets.output.gene_sets,
    output:
        table=f"{R}/masking/{{target}}/{{collection}}.tsv",
    params:
        n_random=config["masking"]["n_random"],
        mode=config["masking"]["mode"],
        seed=config["seed"],
    threads: torch_threads()
    log:
        f"{R}/logs/gene_masking/{{target}}/{{collection}}.log",
    benchmark:
        f"{R}/benchmarks/gene_masking/{{target}}/{{collection}}.tsv"
    conda:
        "../envs/torch.yaml"
    resources:
        **job_resources(gpu=True),
    script:
        "../scripts/gene_masking.py"


rule gene_saliency:
    input:
        model=rules.final_network.output.model,
        expression=rules.ingest_expression.output.expression,
        targets=rules.build_targets.output.targets,
    output:
        saliency=f"{R}/saliency/{{target}}.parquet",
    threads: torch_threads()
    log:
        f"{R}/logs/gene_saliency/{{target}}.log",
    benchmark:
        f"{R}/benchmarks/gene_saliency/{{target}}.tsv"
    conda:
        "../envs/torch.yaml"
    resources:
        **job_resources(gpu=True),
    script:
        "../scripts/gene_saliency.py"


rule saliency_enrichment:
    input:
        saliency=rules.gene_saliency.output.saliency,
        gene_sets=rules.ingest_gene_sets.output.gene_sets,
    output:
        table=f"{R}/enrichment/{{target}}/{{collection}}.tsv",
        summary=f"{R}/enrichment/{{target}}/{{collection}}_summary.tsv",
    params:
        enrichment=config["enrichment"],
        seed=config["seed"],
    threads: 1
    log:
        f"{R}/logs/saliency_enrichment/{{target}}/{{collection}}.log",
    benchmark:
        f"{R}/benchmarks/saliency_enrichment/{{target}}/{{collection}}.tsv"
    conda:
        "../envs/core.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/saliency_enrichment.py"


rule driver_recovery:
    input:
        truth=f"{SIM_DIR}/truth.json",
        masking=expand(f"{R}/masking/{{target}}/programs.tsv", target=TARGETS),
        enrichment=expand(f"{R}/enrichment/{{target}}/programs_summary.tsv", target=TARGETS),
    output:
        table=f"{R}/recovery/driver_ranks.tsv",
    params:
        targets=TARGETS,
    log:
        f"{R}/logs/driver_recovery.log",
    conda:
        "../envs/core.yaml"
    resources:
        **job_resources(),
    script:
        "../scripts/driver_recovery.py"
