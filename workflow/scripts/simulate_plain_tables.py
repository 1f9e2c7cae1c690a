"""The simulator's optional plain tables: radiomic/histology target table and the held-out test cohort.

The simulation is deterministic in its parameters, so this rule draws the same cohort as
simulate_cohort (whose files and truth.json it does not touch) and writes only the optional files.
"""

import _common

log = _common.start(snakemake, "simulate_plain_tables")

from radiogenomics import results
from radiogenomics.cohorts.simulate import SimulationParams, simulate_cohort

params = SimulationParams.from_config(snakemake.params.simulation, snakemake.params.seed)
cohort = simulate_cohort(params)
out = snakemake.output
if "targets" in out.keys():
    results.write_text(cohort.plain_targets_text(), out.targets)
if "test_expression" in out.keys():
    results.write_text(cohort.test_expression_text(), out.test_expression)
if "test_targets" in out.keys():
    results.write_text(cohort.plain_targets_text(test=True), out.test_targets)
log.info("simulated plain tables written: %s", dict(out.items()))
