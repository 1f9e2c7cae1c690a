"""Report page: software versions (importlib.metadata) and the resolved configuration of the run."""

import _common

log = _common.start(snakemake, "report_versions")  # noqa: F821

from radiogenomics import files, paper  # noqa: E402

versions = paper.software_versions()
files.write_table(versions, snakemake.output.table)  # noqa: F821
files.write_text(paper.versions_html(versions, snakemake.config), snakemake.output.html)  # noqa: F821
log.info("versions: %s", dict(zip(versions["software"], versions["version"])))
