# Helpers shared by the rules. The settings are resolved once, in radiogenomics/config/settings.py (unit-tested without
# Snakemake); the rule files read that object, `S` (and `R`, its results folder).
import sys
from pathlib import Path

REPO = Path(workflow.current_basedir).resolve().parents[1]  # this file is <repo>/workflow/rules/common.smk
sys.path.insert(0, str(REPO))

from snakemake.logging import logger

from radiogenomics.config.settings import SINGLE_GENES, SURVIVAL_ENDPOINT_LABELS, Settings

# The schema's defaults are filled in as snakemake.utils.validate does; a bad config stops with one short
# message (unknown key with its path and the closest valid key, wrong type, ...), not a dump of the schema.
# Every input file the config names must exist (key and path named), even when results of an earlier run exist;
# fields that conflict, targets without their table and bad model grids stop here, before any job runs.
S = Settings.from_config(config, REPO, sources=workflow.configfiles)
for _warning in S.warnings:
    logger.warning(_warning)

R = S.results  # the results folder: every output path starts with it


# Wildcards of split files, models and evaluation jobs are constrained to known names.
wildcard_constraints:
    target="|".join(S.targets),
    model="|".join(S.models),
    baseline="|".join(S.baseline_models) or "NONE",
    fold=r"\d+",
    arch="|".join(S.encoder_archs) or "NONE",


# Every user-supplied table is read and checked now, with the functions the ingest / targets jobs use, so a
# bad input stops the run before any job starts (and before Snakemake removes earlier outputs to rerun).
# Simulated inputs are written by the workflow; inputs still to be downloaded are checked by their jobs.
S.run_preflight()


def job_resources(gpu=False):
    res = {"mem_mb": config["resources"]["mem_mb"], "runtime": config["resources"]["runtime"]}
    if gpu:
        res["gpu"] = config["resources"]["gpu"]
    return res


def svg(png):
    """The SVG twin of a figure's PNG path (both written by one radiogenomics.plots.figures.draw call)."""
    return png[: -len(".png")] + ".svg"


def survival_groupings():
    """Targets shown as Kaplan-Meier curves: categorical imaging traits and the subtype."""
    return S.survival_groupings


def torch_threads():
    return config["threads"]


# Input functions (evaluated when the DAG is built).
def gene_set_source(wildcards):
    if wildcards.collection == "verhaak":
        return rules.ingest_clanc.output.gene_sets
    return S.gene_set_paths()[wildcards.collection]


def target_sources(wildcards=None):
    src = {}
    if S.has_input("vasari"):
        src["vasari"] = rules.ingest_vasari.output.vasari
    if S.has_input("clanc"):
        src["subtype"] = rules.ingest_clanc.output.subtypes
    if S.has_input("targets"):
        src["targets"] = rules.ingest_targets.output.targets
    return src


def shared_encoder_inputs(wildcards=None):
    """Every shared pretrained encoder the network grid needs (architecture key -> path): the final networks'."""
    return {f"encoder_{arch}": f"{R}/models/autoencoder/{arch}.pt" for arch in S.encoder_archs}


def fold_encoder_path(arch, target, fold):
    return f"{R}/models/autoencoder/{arch}/{target}/fold{fold}.pt"


def encoder_inputs(wildcards):
    """The encoders of a target's outer-fold networks: the shared ones, or for a target with one
    autoencoder per outer fold the fold's (``encoder_{arch}``, one fold's job) or every fold's
    (``encoder_{arch}__fold{k}``, the batched job)."""
    if S.encoder_scopes.get(wildcards.target) != "fold":
        return shared_encoder_inputs()
    if hasattr(wildcards, "fold"):
        return {
            f"encoder_{arch}": fold_encoder_path(arch, wildcards.target, wildcards.fold) for arch in S.encoder_archs
        }
    return {
        f"encoder_{arch}__fold{k}": fold_encoder_path(arch, wildcards.target, k)
        for arch in S.encoder_archs
        for k in S.folds
    }


def fold_job_inputs():
    """The inputs of every outer-fold evaluation rule (models.smk; the network rules add the encoders);
    called in the rules, once the rules named here are defined."""
    return dict(
        expression=rules.ingest_expression.output.expression,
        targets=rules.build_targets.output.targets,
        meta=rules.build_targets.output.meta,
        folds=rules.make_splits.output.folds,
    )


def every_fold(pattern):
    """``pattern`` for each outer fold, the other wildcards left in place (the batched fold rules' outputs)."""
    return expand(pattern, fold=S.folds, allow_missing=True)


def fold_predictions(wildcards=None):
    return {
        f"{target}__{model}__{fold}": f"{R}/evaluation/{target}/{model}/fold{fold}.tsv"
        for target in S.targets
        for model in S.models
        for fold in S.folds
    }


def masking_models(wildcards):
    """Out-of-fold masking reads the outer-fold networks and the split file; `final` reads the refit network."""
    return S.masking_models(wildcards.target)


def validation_models(wildcards=None):
    """The subtype network(s) masked by subtype validation: as gene_masking (out-of-fold or final)."""
    return S.masking_models(S.validation_target)


def final_models(wildcards):
    """The selected final models of one target: the network and one refit per comparison model."""
    return S.final_models(wildcards.target)


def test_cohort_inputs(wildcards=None):
    """The held-out test cohort's ingested tables (second cohort) or its patient list (declared split)."""
    if not S.test_cohort:
        return {}
    if S.test_input("patients") is not None:
        return {"test_patients": S.test_input("patients")}
    return {
        "test_expression": rules.ingest_test_expression.output.expression,
        "test_targets": rules.ingest_test_targets.output.targets,
    }


def test_expression_input(wildcards=None):
    if S.test_input("patients") is not None:  # declared split: the held-out patients of the training tables
        return rules.ingest_expression.output.expression
    return rules.ingest_test_expression.output.expression


def survival_endpoint_input(wildcards=None):
    """The overall-survival source: the ingested Biotab clinical table, or the plain survival table."""
    return S.survival_endpoint_input()


def survival_endpoint_file(wildcards):
    return S.survival_endpoint_files[wildcards.endpoint]


def radiogenomic_enrichment_tables(wildcards=None):
    return S.radiogenomic_enrichment_tables()


def predicted_trait_models(wildcards=None):
    return S.predicted_trait_models()
