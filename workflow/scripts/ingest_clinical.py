"""Parse the TCGA Biotab clinical patient table."""

import _common

log = _common.start(snakemake, "ingest_clinical")  # noqa: F821

from radiogenomics import files, parsers  # noqa: E402

clinical = parsers.read_clinical_biotab(snakemake.input.clinical)  # noqa: F821
log.info("clinical: %d patients, %d columns", *clinical.shape)
files.write_table(clinical, snakemake.output.clinical, index=True)  # noqa: F821
