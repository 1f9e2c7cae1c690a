"""Fetch one public table into downloads.dir: sha256 checked, atomic rename, no partial file on failure."""

import _common

log = _common.start(snakemake, "download")

from radiogenomics.inputs import download

params = snakemake.params
log.info("source %s: %s -> %s", params.source, params.url, snakemake.output.download)
result = download.fetch(params.url, snakemake.output.download, params.sha256, timeout=params.timeout)
if result.verified:
    log.info("source %s: %d bytes, sha256 %s verified", params.source, result.n_bytes, result.sha256)
else:
    log.warning("source %s: no sha256 pinned; observed sha256 %s (%d bytes). Pin it with "
                "downloads.sources.%s.sha256: %s", params.source, result.sha256, result.n_bytes,
                params.source, result.sha256)
