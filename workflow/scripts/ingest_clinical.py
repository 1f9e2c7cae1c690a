"""Parse the TCGA Biotab clinical patient table."""

import _common

log = _common.start(snakemake, "ingest_clinical")

from radiogenomics import inputs, results

clinical = inputs.read_clinical_biotab(snakemake.input.clinical)
log.info("clinical: %d patients, %d columns", *clinical.shape)
results.write_table(clinical, snakemake.output.clinical, index=True)
