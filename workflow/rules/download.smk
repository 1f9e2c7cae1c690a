# Stage 0: public input tables (config `downloads`, checked in common.smk as S.downloads).
# Each enabled source without a local `path` is fetched into downloads.dir by `download`
# (sha256 verified, atomic rename; see radiogenomics/inputs/download.py). Sources that provide a
# workflow input are pulled in by the ingest rules; `snakemake download_all` fetches all of them.
import re

from snakemake.logging import logger

from radiogenomics.inputs import download as public_data

_FETCHED = S.downloads.fetched()
# `file` matches only the configured file names (a pattern that never matches when there are none).
_FILE_PATTERN = "|".join(re.escape(f) for f in _FETCHED) or "(?!)"


rule download:
    output:
        download=f"{S.downloads.dir}/{{file,{_FILE_PATTERN}}}",
    log:
        f"{R}/logs/download/{{file}}.log",
    retries: config["downloads"]["retries"]
    localrule: True
    conda:
        "../envs/core.yaml"
    resources:
        **job_resources(),
    params:
        source=lambda wildcards: _FETCHED[wildcards.file].name,
        url=lambda wildcards: _FETCHED[wildcards.file].url,
        sha256=lambda wildcards: _FETCHED[wildcards.file].sha256,
        timeout=S.downloads.timeout,
    script:
        "../scripts/download.py"


rule download_all:
    input:
        S.downloads.targets(),
    localrule: True


# Where each input comes from, and what cannot run without the absent ones (real-data route only).
if not S.simulated:
    for _line in public_data.input_report(
        {kind: S.input_path(kind) for kind in public_data.NEEDED_FOR},
        S.gene_set_paths(),
        S.downloads,
        expression_format=config["inputs"]["expression_format"],
    ):
        logger.info(_line)
