"""Parse the VASARI annotation CSV."""

import _common

log = _common.start(snakemake, "ingest_vasari")  # noqa: F821

from radiogenomics import files, parsers  # noqa: E402

vasari = parsers.read_vasari(snakemake.input.vasari)  # noqa: F821
log.info("VASARI: %d patients, columns %s", len(vasari), list(vasari.columns))
files.write_table(vasari, snakemake.output.vasari, index=True)  # noqa: F821
