# Helpers shared by the rules. The settings are resolved once, in radiogenomics/settings.py (unit-tested without
# Snakemake); the names below are views of that object for the rule files.
import sys
from pathlib import Path

REPO = Path(workflow.basedir)
sys.path.insert(0, str(REPO))

from snakemake.logging import logger

from radiogenomics.settings import SINGLE_GENES, SURVIVAL_ENDPOINT_LABELS, Settings

# The schema's defaults are filled in as snakemake.utils.validate does; a bad config stops with one short
# message (unknown key with its path and the closest valid key, wrong type, ...), not a dump of the schema.
# Every input file the config names must exist (key and path named), even when results of an earlier run exist;
# fields that conflict, targets without their table and bad model grids stop here, before any job runs.
S = Settings.from_config(config, REPO, sources=workflow.configfiles)
for _warning in S.warnings:
    logger.warning(_warning)

R = S.results
SIMULATED = S.simulated
SIM_DIR = S.sim_dir
SIMULATED_INPUTS = S.simulated_inputs
SIMULATED_GENE_SETS = S.simulated_gene_sets
SIMULATED_TEST = S.simulated_test
SIM_PLAIN_TARGETS = S.sim_plain_targets
SIM_TEST = S.sim_test
DOWNLOADS = S.downloads  # public-data downloads (rules: download.smk; code: radiogenomics/download.py)
input_path = S.input_path
gene_set_paths = S.gene_set_paths
has_input = S.has_input
test_input = S.test_input
SURVIVAL_TABLE = S.survival_table
HAS_SURVIVAL = S.has_survival
ID_RULE = S.id_rule
TARGETS_FORMAT = S.targets_format
TEST_COHORT = S.test_cohort
TARGET_SPECS = S.target_specs
TARGETS = S.targets
EVALUATION = S.config["evaluation"]
SELECTION_SETTINGS = S.selection_settings
ENCODER_ARCHS = S.encoder_archs
ENCODER_SCOPES = S.encoder_scopes
MODELS = S.models
BASELINE_MODELS = S.baseline_models
FOLDS = S.folds
COLLECTIONS = S.collections
COLLECTION_PATTERN = S.collection_pattern
VALIDATION_TARGET = S.validation_target  # subtype validation (study Figure 2): the subtype network, Verhaak sets
VALIDATION = S.validation
VALIDATION_OUTPUTS = S.validation_outputs
VALIDATION_FIGURES = S.validation_figures
SIMULATED_PLAIN_OUTPUTS = S.simulated_plain_outputs
TEST_TARGET_OUTPUTS = S.test_target_outputs
NULL_PERMUTATIONS = S.null_permutations
# survival (survival.smk): runs only with a clinical table or a plain survival table (HAS_SURVIVAL)
SURVIVAL = config["survival"]
SURVIVAL_MIN_CARRIERS = SURVIVAL["radiogenomic_min_carriers"]
SURVIVAL_MIN_NON_CARRIERS = SURVIVAL["radiogenomic_min_non_carriers"]
SURVIVAL_FOLLOW_UP = S.survival_follow_up
SURVIVAL_EXTRA_INPUTS = S.survival_extra_inputs
SURVIVAL_IMAGING_CATEGORICAL = S.survival_imaging_categorical
SURVIVAL_SUBTYPE = S.survival_subtype
SURVIVAL_RG_NETWORKS = S.radiogenomic_networks
SURVIVAL_STEPWISE_TRAITS = S.survival_stepwise_traits
SURVIVAL_PREDICTED = S.survival_predicted
SURVIVAL_PARAMS = S.survival_params


def collections():
    return S.collections


# Wildcards of split files, models and evaluation jobs are constrained to known names.
wildcard_constraints:
    target="|".join(TARGETS),
    model="|".join(MODELS),
    baseline="|".join(BASELINE_MODELS) or "NONE",
    fold=r"\d+",
    arch="|".join(ENCODER_ARCHS) or "NONE",


# Every user-supplied table is read and checked now, with the functions the ingest / targets jobs use, so a
# bad input stops the run before any job starts (and before Snakemake removes earlier outputs to rerun).
# Simulated inputs are written by the workflow; inputs still to be downloaded are checked by their jobs.
S.run_preflight()


def job_resources(gpu=False):
    res = {"mem_mb": config["resources"]["mem_mb"], "runtime": config["resources"]["runtime"]}
    if gpu:
        res["gpu"] = config["resources"]["gpu"]
    return res


# Each stage file may register a function returning its final outputs for `rule all`
# (STAGE_OUTPUTS.append(fn)); they are called when `rule all` is built, after every include.
STAGE_OUTPUTS = []


def all_outputs():
    out = [
        f"{R}/evaluation/cv_scores.tsv",
        f"{R}/evaluation/summary.tsv",
        f"{R}/evaluation/selected_networks.json",
        f"{R}/figures/performance.png",
        f"{R}/figures/cv_scores.png",
        expand(f"{R}/masking/{{target}}/{{collection}}.tsv", target=TARGETS, collection=COLLECTIONS),
        expand(f"{R}/saliency/{{target}}.parquet", target=TARGETS),
        expand(f"{R}/enrichment/{{target}}/{{collection}}_summary.tsv", target=TARGETS, collection=COLLECTIONS),
        expand(f"{R}/figures/masking_{{collection}}.png", collection=COLLECTIONS),
        expand(f"{R}/figures/enrichment_{{collection}}.png", collection=COLLECTIONS),
    ]
    if HAS_SURVIVAL:
        out += [f"{R}/survival/logrank.tsv", f"{R}/figures/km_overview.png"]
        out += expand(f"{R}/figures/km/{{target}}.png", target=survival_groupings())
    if SIMULATED:
        out += [f"{R}/recovery/driver_ranks.tsv", f"{R}/figures/driver_recovery.png"]
    out += S.test_cohort_outputs() + S.null_outputs() + S.interpretation_outputs() + S.survival_outputs()
    for stage_outputs in STAGE_OUTPUTS:
        out += stage_outputs()
    return out


def survival_groupings():
    """Targets shown as Kaplan-Meier curves: categorical imaging traits and the subtype."""
    return S.survival_groupings


def torch_threads():
    return config["threads"]


# Input functions (evaluated when the DAG is built).
def gene_set_source(wildcards):
    if wildcards.collection == "verhaak":
        return rules.ingest_clanc.output.gene_sets
    return gene_set_paths()[wildcards.collection]


def target_sources(wildcards=None):
    src = {}
    if has_input("vasari"):
        src["vasari"] = rules.ingest_vasari.output.vasari
    if has_input("clanc"):
        src["subtype"] = rules.ingest_clanc.output.subtypes
    if has_input("targets"):
        src["targets"] = rules.ingest_targets.output.targets
    return src


def shared_encoder_inputs(wildcards=None):
    """Every shared pretrained encoder the network grid needs (architecture key -> path): the final networks'."""
    return {f"encoder_{arch}": f"{R}/models/autoencoder/{arch}.pt" for arch in ENCODER_ARCHS}


def fold_encoder_path(arch, target, fold):
    return f"{R}/models/autoencoder/{arch}/{target}/fold{fold}.pt"


def encoder_inputs(wildcards):
    """The encoders of a target's outer-fold networks: the shared ones, or for a target with one
    autoencoder per outer fold the fold's (``encoder_{arch}``, one fold's job) or every fold's
    (``encoder_{arch}__fold{k}``, the batched job)."""
    if ENCODER_SCOPES.get(wildcards.target) != "fold":
        return shared_encoder_inputs()
    if hasattr(wildcards, "fold"):
        return {f"encoder_{arch}": fold_encoder_path(arch, wildcards.target, wildcards.fold) for arch in ENCODER_ARCHS}
    return {
        f"encoder_{arch}__fold{k}": fold_encoder_path(arch, wildcards.target, k)
        for arch in ENCODER_ARCHS
        for k in FOLDS
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
    return expand(pattern, fold=FOLDS, allow_missing=True)


def fold_predictions(wildcards=None):
    return {
        f"{target}__{model}__{fold}": f"{R}/evaluation/{target}/{model}/fold{fold}.tsv"
        for target in TARGETS
        for model in MODELS
        for fold in FOLDS
    }


def masking_models(wildcards):
    """Out-of-fold masking reads the outer-fold networks and the split file; `final` reads the refit network."""
    return S.masking_models(wildcards.target)


def validation_models(wildcards=None):
    """The subtype network(s) masked by subtype validation: as gene_masking (out-of-fold or final)."""
    return S.masking_models(VALIDATION_TARGET)


def final_models(wildcards):
    """The selected final models of one target: the network and one refit per comparison model."""
    return S.final_models(wildcards.target)


def test_cohort_inputs(wildcards=None):
    """The held-out test cohort's ingested tables (second cohort) or its patient list (declared split)."""
    if not TEST_COHORT:
        return {}
    if test_input("patients") is not None:
        return {"test_patients": test_input("patients")}
    return {
        "test_expression": rules.ingest_test_expression.output.expression,
        "test_targets": rules.ingest_test_targets.output.targets,
    }


def test_expression_input(wildcards=None):
    if test_input("patients") is not None:  # declared split: the held-out patients of the training tables
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
