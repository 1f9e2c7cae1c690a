# Radiogenomics workflow: transcriptomic drivers of tumour imaging traits.
# Stages live in workflow/rules/*.smk; all analysis code lives in the radiogenomics package.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/download.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/cohorts.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/null_calibration.smk"
include: "workflow/rules/interpretation.smk"
include: "workflow/rules/survival.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/test_cohort.smk"
include: "workflow/rules/paper.smk"


rule all:
    default_target: True
    input:
        all_outputs(),
