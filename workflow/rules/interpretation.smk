# Stages 8-10: gene masking (gene-set collections and every single gene), gene saliency, per-patient
# saliency GSEA and GSEA of the gene-trait correlation and single-gene masking rankings; subtype
# validation (study Figure 2) and, on the simulated cohort, recovery of the planted drivers.


rule gene_masking:
    input:
        unpack(masking_models),
        expression=rules.ingest_expression.output.expression,
        targets=rules.build_targets.output.targets,
        gene_sets=rules.ingest_gene_sets.output.gene_sets,
    output:
        table=f"{R}/masking/{{target}}/{{collection}}.tsv",
    log:
        f"{R}/logs/gene_masking/{{target}}/{{collection}}.log",
    benchmark:
        f"{R}/benchmarks/gene_masking/{{target}}/{{collection}}.tsv"
    wildcard_constraints:
        collection=S.collection_pattern,
    conda:
        "../envs/torch.yaml"
    threads: torch_threads()
    resources:
        **job_resources(gpu=True),
    params:
        n_random=config["masking"]["n_random"],
        mode=config["masking"]["mode"],
        seed=config["seed"],
    script:
        "../scripts/gene_masking.py"


# Every gene of the model as a set of one (rank-one first layer). No random-set sampling: the null of a
# random single gene is every other gene, computed exactly (null_mean / null_sd over all genes); an
# empirical p would be a rank quantile that BH can never call significant, so p and FDR are left empty.
rule single_gene_masking:
    input:
        unpack(masking_models),
        expression=rules.ingest_expression.output.expression,
        targets=rules.build_targets.output.targets,
    output:
        table=f"{R}/masking/{{target}}/{SINGLE_GENES}.tsv",
    log:
        f"{R}/logs/single_gene_masking/{{target}}.log",
    benchmark:
        f"{R}/benchmarks/single_gene_masking/{{target}}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: torch_threads()
    resources:
        **job_resources(gpu=True),
    params:
        mode=config["masking"]["mode"],
    script:
        "../scripts/single_gene_masking.py"


rule gene_saliency:
    input:
        model=rules.final_network.output.model,
        expression=rules.ingest_expression.output.expression,
        targets=rules.build_targets.output.targets,
    output:
        saliency=f"{R}/saliency/{{target}}.parquet",
    log:
        f"{R}/logs/gene_saliency/{{target}}.log",
    benchmark:
        f"{R}/benchmarks/gene_saliency/{{target}}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: torch_threads()
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
    log:
        f"{R}/logs/saliency_enrichment/{{target}}/{{collection}}.log",
    benchmark:
        f"{R}/benchmarks/saliency_enrichment/{{target}}/{{collection}}.tsv"
    wildcard_constraints:
        collection=S.collection_pattern,
    conda:
        "../envs/core.yaml"
    threads: 1
    resources:
        **job_resources(),
    params:
        enrichment=config["enrichment"],
        seed=config["seed"],
    script:
        "../scripts/saliency_enrichment.py"


# Cohort-level GSEA of the gene-trait correlation: null enrichment.permute (phenotype by default: the trait
# permuted across the target's patients and the ranking recomputed; gene_set as an option).
rule correlation_enrichment:
    input:
        expression=rules.ingest_expression.output.expression,
        targets=rules.build_targets.output.targets,
        meta=rules.build_targets.output.meta,
        folds=f"{R}/splits/{{target}}.tsv",
        gene_sets=rules.ingest_gene_sets.output.gene_sets,
    output:
        table=f"{R}/enrichment/{{target}}/{{collection}}_correlation.tsv",
    log:
        f"{R}/logs/correlation_enrichment/{{target}}/{{collection}}.log",
    benchmark:
        f"{R}/benchmarks/correlation_enrichment/{{target}}/{{collection}}.tsv"
    wildcard_constraints:
        collection=S.collection_pattern,
    conda:
        "../envs/core.yaml"
    threads: 1
    resources:
        **job_resources(),
    params:
        enrichment=config["enrichment"],
        seed=config["seed"],
    script:
        "../scripts/ranking_enrichment.py"


# GSEA of the single-gene masking ranking of the trained network: gene_set null (random gene sets), the only
# one this job can compute from the per-gene scores of single_gene_masking; the table's null column says so.
rule masking_enrichment:
    input:
        single_genes=rules.single_gene_masking.output.table,
        gene_sets=rules.ingest_gene_sets.output.gene_sets,
    output:
        table=f"{R}/enrichment/{{target}}/{{collection}}_masking.tsv",
    log:
        f"{R}/logs/masking_enrichment/{{target}}/{{collection}}.log",
    benchmark:
        f"{R}/benchmarks/masking_enrichment/{{target}}/{{collection}}.tsv"
    wildcard_constraints:
        collection=S.collection_pattern,
    conda:
        "../envs/core.yaml"
    threads: 1
    resources:
        **job_resources(),
    params:
        enrichment=config["enrichment"],
        seed=config["seed"],
    script:
        "../scripts/ranking_enrichment.py"


if S.validation:

    rule subtype_validation:
        input:
            unpack(validation_models),
            expression=rules.ingest_expression.output.expression,
            targets=rules.build_targets.output.targets,
            meta=rules.build_targets.output.meta,
            gene_sets=f"{R}/ingest/gene_sets/verhaak.gmt",
            single_genes=f"{R}/masking/{S.validation_target}/{SINGLE_GENES}.tsv",
        output:
            **S.validation_outputs,
        log:
            f"{R}/logs/subtype_validation.log",
        benchmark:
            f"{R}/benchmarks/subtype_validation.tsv"
        conda:
            "../envs/torch.yaml"
        threads: torch_threads()
        resources:
            **job_resources(gpu=True),
        params:
            target=S.validation_target,
            n_random=config["masking"]["n_random"],
            seed=config["seed"],
        script:
            "../scripts/subtype_validation.py"


rule driver_recovery:
    input:
        truth=f"{S.sim_dir}/truth.json",
        masking=expand(f"{R}/masking/{{target}}/programs.tsv", target=S.targets),
        enrichment=expand(f"{R}/enrichment/{{target}}/programs_summary.tsv", target=S.targets),
        correlation=expand(f"{R}/enrichment/{{target}}/programs_correlation.tsv", target=S.targets),
        masking_gsea=expand(f"{R}/enrichment/{{target}}/programs_masking.tsv", target=S.targets),
    output:
        table=report(
            f"{R}/recovery/driver_ranks.tsv",
            caption="../report/driver_ranks.rst",
            category="3 Interpretation",
            subcategory="Driver recovery (simulated cohort)",
        ),
    log:
        f"{R}/logs/driver_recovery.log",
    conda:
        "../envs/core.yaml"
    resources:
        **job_resources(),
    params:
        targets=S.targets,
    script:
        "../scripts/driver_recovery.py"
