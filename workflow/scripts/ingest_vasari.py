"""Parse the VASARI annotation CSV."""

import _common

log = _common.start(snakemake, "ingest_vasari")

from radiogenomics import inputs, results

vasari = inputs.read_vasari(snakemake.input.vasari)
log.info("VASARI: %d patients, columns %s", len(vasari), list(vasari.columns))
results.write_table(vasari, snakemake.output.vasari, index=True)
