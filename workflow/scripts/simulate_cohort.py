"""Simulate the TCGA-like default cohort in the real file formats (planted truth in truth.json)."""

import _common

log = _common.start(snakemake, "simulate_cohort")

from radiogenomics.cohorts.simulate import SimulationParams, simulate_cohort

params = SimulationParams.from_config(snakemake.params.simulation, snakemake.params.seed)
cohort = simulate_cohort(params)
out = snakemake.output
cohort.write(expression=out.expression, vasari=out.vasari, clinical=out.clinical, clanc=out.clanc,
             gene_sets={"programs": out.programs, "celltypes": out.celltypes}, truth=out.truth)
log.info("simulated cohort written (seed %d)", params.seed)
