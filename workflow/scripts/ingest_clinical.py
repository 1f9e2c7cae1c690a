"""Parse the TCGA Biotab clinical patient table."""

import _common

log = _common.start(snakemake, "ingest_clinical")

from radiogenomics import files, parsers

clinical = parsers.read_clinical_biotab(snakemake.input.clinical)
log.info("clinical: %d patients, %d columns", *clinical.shape)
files.write_table(clinical, snakemake.output.clinical, index=True)
