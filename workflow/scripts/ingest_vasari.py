"""Parse the VASARI annotation CSV."""

import _common

log = _common.start(snakemake, "ingest_vasari")

from radiogenomics import files, parsers

vasari = parsers.read_vasari(snakemake.input.vasari)
log.info("VASARI: %d patients, columns %s", len(vasari), list(vasari.columns))
files.write_table(vasari, snakemake.output.vasari, index=True)
