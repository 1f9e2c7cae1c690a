# Stage 1: the embedded default input, a TCGA-like cohort written in the real file formats.


rule simulate_cohort:
    output:
        expression=SIMULATED_INPUTS["expression"],
        vasari=SIMULATED_INPUTS["vasari"],
        clinical=SIMULATED_INPUTS["clinical"],
        clanc=SIMULATED_INPUTS["clanc"],
        programs=SIMULATED_GENE_SETS["programs"],
        celltypes=SIMULATED_GENE_SETS["celltypes"],
        truth=f"{SIM_DIR}/truth.json",
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
