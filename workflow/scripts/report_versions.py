"""Report page: software versions (importlib.metadata) and the resolved configuration of the run."""

import _common

log = _common.start(snakemake, "report_versions")

from radiogenomics import results
from radiogenomics.plots import paper

versions = paper.software_versions()
results.write_table(versions, snakemake.output.table)
results.write_text(paper.versions_html(versions, snakemake.config), snakemake.output.html)
log.info("versions: %s", dict(zip(versions["software"], versions["version"])))
