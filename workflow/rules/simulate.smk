# Stage 1: the embedded default input, a TCGA-like cohort written in the real file formats.


rule simulate_cohort:
    output:
        expression=S.simulated_inputs["expression"],
        vasari=S.simulated_inputs["vasari"],
        clinical=S.simulated_inputs["clinical"],
        clanc=S.simulated_inputs["clanc"],
        programs=S.simulated_gene_sets["programs"],
        celltypes=S.simulated_gene_sets["celltypes"],
        truth=f"{S.sim_dir}/truth.json",
    log:
        f"{R}/logs/simulate_cohort.log",
    conda:
        "../envs/core.yaml"
    resources:
        **job_resources(),
    params:
        simulation=config["simulate"],
        seed=config["seed"],
    script:
        "../scripts/simulate_cohort.py"
