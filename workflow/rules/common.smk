# Helpers shared by the rules: config validation, input paths, wildcard values.
import sys
from pathlib import Path

REPO = Path(workflow.basedir)
sys.path.insert(0, str(REPO))

from radiogenomics import config_check
from radiogenomics import selection as model_selection
from radiogenomics.targets import resolve_specs

# The schema's defaults are filled in as snakemake.utils.validate does; a bad config stops with one short
# message (unknown key with its path and the closest valid key, wrong type, ...), not a dump of the schema.
config_check.validate_config(config, REPO / "workflow" / "schemas" / "config.schema.yaml", sources=workflow.configfiles)

R = config["results"]
SIMULATED = config["simulate"]["enabled"]
SIM_DIR = f"{R}/simulated"
SIMULATED_INPUTS = {
    "expression": f"{SIM_DIR}/expression.tsv",
    "vasari": f"{SIM_DIR}/vasari_annotations.csv",
    "clinical": f"{SIM_DIR}/clinical_patient_gbm.txt",
    "clanc": f"{SIM_DIR}/clanc840.txt",
}
SIMULATED_GENE_SETS = {
    "programs": f"{SIM_DIR}/gene_sets/programs.gmt",
    "celltypes": f"{SIM_DIR}/gene_sets/celltypes.csv",
}


# --- public-data downloads (rules: workflow/rules/download.smk; code: radiogenomics/download.py) ---
# With downloads.enabled, a source's `input:` replaces that entry of `inputs` (its local `path`, or
# the file the download rule fetches into downloads.dir). Ignored when simulate.enabled.
from radiogenomics import download as public_data

DOWNLOADS = public_data.plan(
    config["downloads"],
    kinds=public_data.input_kinds(REPO / "workflow" / "schemas" / "config.schema.yaml"),
)
# Every input file the config names must exist (key and path named), even when results of an earlier run
# exist; inputs an enabled download source provides are fetched by the download rule instead.
_DOWNLOADED_KEYS = []
if not SIMULATED:
    _DOWNLOADED_KEYS = [f"inputs.{k}" for k in config_check.INPUT_FILE_KEYS if DOWNLOADS.input_path(k)]
    _DOWNLOADED_KEYS += [f"inputs.gene_sets.{name}" for name in DOWNLOADS.gene_set_paths()]
config_check.check_input_paths(config, simulated=SIMULATED, downloaded=_DOWNLOADED_KEYS)


def input_path(kind):
    """Path of a raw input table: simulated, downloaded, or from config `inputs` (None when not given)."""
    if SIMULATED:
        return SIMULATED_INPUTS.get(kind)
    downloaded = DOWNLOADS.input_path(kind)
    return downloaded if downloaded is not None else config["inputs"].get(kind)


def gene_set_paths():
    if SIMULATED:
        return SIMULATED_GENE_SETS
    return {**config["inputs"]["gene_sets"], **DOWNLOADS.gene_set_paths()}


def has_input(kind):
    return input_path(kind) is not None


# Survival comes from the TCGA Biotab clinical table, else from a plain survival table (inputs.survival).
SURVIVAL_TABLE = None if has_input("clinical") else input_path("survival")
HAS_SURVIVAL = has_input("clinical") or SURVIVAL_TABLE is not None


if not has_input("expression"):
    raise ValueError("config: inputs.expression is required when simulate.enabled is false")

# --- generic inputs: plain target table, held-out test cohort (ingest.smk, cohorts.smk, test_cohort.smk) ---
from radiogenomics import parsers as _parsers
from radiogenomics.simulate import HISTOLOGY_TARGET, radiomic_feature_names

_SIM = config["simulate"]
SIM_PLAIN_TARGETS = SIMULATED and (_SIM.get("n_radiomic", 0) > 0 or _SIM.get("histology", False))
SIM_TEST = SIMULATED and _SIM.get("n_test_patients", 0) > 0
if SIM_PLAIN_TARGETS:
    SIMULATED_INPUTS["targets"] = f"{SIM_DIR}/targets.tsv"
SIMULATED_TEST = {"expression": f"{SIM_DIR}/test_expression.tsv"}
if SIM_PLAIN_TARGETS:
    SIMULATED_TEST["targets"] = f"{SIM_DIR}/test_targets.tsv"
if SIM_TEST and not SIM_PLAIN_TARGETS:
    raise ValueError(
        "config: simulate.n_test_patients needs simulate.n_radiomic > 0 or simulate.histology: the "
        "simulated test cohort is scored on the plain target table"
    )
ID_RULE = config["inputs"]["id_rule"]  # patient-ID rule of the plain tables (radiogenomics/ids.py)
# Layout of the target table: plain strings, or an imaging-feature table (parsers.read_targets_input).
TARGETS_FORMAT = {"fmt": config["inputs"]["targets_format"], "features": config["inputs"]["features"]}
_parsers.make_id_rule(ID_RULE)  # an unknown rule or a bad regex stops here, before any job runs
TARGET_SOURCE_INPUT = {"vasari": "vasari", "subtype": "clanc", "targets": "targets"}


def test_input(kind):
    """Path of a held-out test-cohort input (expression, targets, patients), or None."""
    if SIMULATED:
        return SIMULATED_TEST.get(kind) if SIM_TEST else None
    return config["inputs"]["test"].get(kind)


TEST_COHORT = test_input("expression") is not None or test_input("patients") is not None
if test_input("expression") is not None and test_input("patients") is not None:
    raise ValueError(
        "config: inputs.test takes either a second cohort (expression + targets) or a declared "
        "split (patients), not both"
    )
if test_input("expression") is not None and test_input("targets") is None:
    raise ValueError("config: inputs.test.expression needs inputs.test.targets (the test cohort's target table)")


def _table_target_columns():
    """Columns of the plain target table declared as continuous targets by targets.continuous_columns."""
    columns = config["targets"]["continuous_columns"]
    if columns != "all":
        return list(columns)
    if not has_input("targets"):
        raise ValueError(
            "config: targets.continuous_columns is 'all' but there is no plain target table "
            "(inputs.targets, or simulate.n_radiomic / simulate.histology)"
        )
    if SIMULATED:
        return radiomic_feature_names(_SIM.get("n_radiomic", 0)) + ([HISTOLOGY_TARGET] if _SIM.get("histology") else [])
    if TARGETS_FORMAT["fmt"] == "features":  # the kept features (ignored, mostly-missing and constant columns dropped)
        return list(_parsers.read_targets_input(input_path("targets"), id_rule=ID_RULE, **TARGETS_FORMAT).columns)
    return _parsers.read_table_columns(input_path("targets"))


TARGET_SPECS = resolve_specs(
    config["targets"]["presets"],
    config["targets"]["definitions"],
    _table_target_columns(),
    continuous_missing=config["targets"]["continuous_missing"],
)
for _spec in TARGET_SPECS:
    _src = TARGET_SOURCE_INPUT[_spec.source]
    if not has_input(_src):
        raise ValueError(f"config: target {_spec.name!r} reads the {_spec.source} table, but inputs.{_src} is not set")
TARGETS = [s.name for s in TARGET_SPECS]
IMAGING_TARGETS = [s.name for s in TARGET_SPECS if s.source == "vasari"]
# Model selection: the settings are checked here, before any job runs (empty grids, unknown models).
EVALUATION = config["evaluation"]
for _model in EVALUATION["models"]:
    model_selection.check_model_name(_model)
if "network" not in EVALUATION["models"]:
    raise ValueError("config: evaluation.models must include 'network' (the interpretation rules use it)")
SELECTION_SETTINGS = {
    "inner_folds": EVALUATION["inner_folds"],
    "network": EVALUATION["network_grid"],
    "baselines": EVALUATION["baseline_grids"],
    "n_jobs": config["threads"],
}
NETWORK_CONFIGS = model_selection.check_settings(SELECTION_SETTINGS)["network_configs"]
ENCODER_ARCHS = model_selection.required_encoders(NETWORK_CONFIGS) if config["autoencoder"]["enabled"] else {}
# Which autoencoder each target's networks transfer (radiogenomics.cohorts.encoder_scope): the shared one
# (imaging targets: their patients are never in its cohort) or one per outer fold (e.g. the subtype target).
from radiogenomics.cohorts import encoder_scope

ENCODER_SCOPES = {s.name: encoder_scope(s.source) for s in TARGET_SPECS} if ENCODER_ARCHS else {}
MODELS = list(EVALUATION["models"])
BASELINE_MODELS = [m for m in MODELS if m != "network"]
FOLDS = list(range(config["cv"]["folds"]))


# Wildcards of split files, models and evaluation jobs are constrained to known names.
wildcard_constraints:
    target="|".join(TARGETS),
    model="|".join(MODELS),
    baseline="|".join(BASELINE_MODELS) or "NONE",
    fold=r"\d+",
    arch="|".join(ENCODER_ARCHS) or "NONE",


def collections():
    names = list(gene_set_paths())
    if has_input("clanc") and config["masking"]["verhaak"]:
        names.append("verhaak")
    if not names:
        raise ValueError("config: no gene-set collection (inputs.gene_sets is empty and no ClaNC table)")
    return names


COLLECTIONS = collections()


# --- pre-flight input check (radiogenomics/preflight.py) ---
# Every user-supplied table is read and checked now, with the functions the ingest / targets jobs use, so a
# bad input stops the run before any job starts (and before Snakemake removes earlier outputs to rerun).
# Simulated inputs are written by the workflow; inputs still to be downloaded are checked by their jobs.
from radiogenomics import preflight

if not SIMULATED:
    _TEST_FORMAT = config["inputs"]["test"].get("expression_format") or config["inputs"]["expression_format"]
    PREFLIGHT_PLAN = {
        "expression": {
            "path": input_path("expression"),
            "format": config["inputs"]["expression_format"],
            "orientation": config["inputs"]["expression_orientation"],
        },
        "id_rule": ID_RULE,
        "min_informative_genes": config["inputs"]["min_informative_genes"],
        "tables": {k: input_path(k) for k in ("vasari", "clanc", "clinical", "targets")},
        "targets_format": TARGETS_FORMAT,
        "survival": (
            {"path": SURVIVAL_TABLE, **config["inputs"]["survival_columns"]} if SURVIVAL_TABLE is not None else None
        ),
        "biotab_extra": [
            str(p)
            for k in ("clinical_follow_up", "clinical_drug", "clinical_radiation", "new_tumor_event")
            for p in config["inputs"][k]
        ],
        "gene_sets": dict(gene_set_paths()),
        "target_specs": [s.to_dict() for s in TARGET_SPECS],
        "folds": config["cv"]["folds"],
        "test": {
            "expression": (
                {"path": test_input("expression"), "format": _TEST_FORMAT} if test_input("expression") else None
            ),
            "targets": test_input("targets"),
            "patients": test_input("patients"),
        },
    }
    if all(Path(p).is_file() for p in preflight.input_paths(PREFLIGHT_PLAN)):
        preflight.run_cached(PREFLIGHT_PLAN)


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
    for stage_outputs in STAGE_OUTPUTS:
        out += stage_outputs()
    return out


def survival_groupings():
    """Targets shown as Kaplan-Meier curves: categorical imaging traits and the subtype."""
    return [s.name for s in TARGET_SPECS if s.type in ("binary", "multiclass")]


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
    if config["masking"]["mode"] == "out_of_fold":
        models = {f"fold_model_{k}": f"{R}/models/{wildcards.target}/network/fold{k}.pt" for k in FOLDS}
        return {**models, "folds": f"{R}/splits/{wildcards.target}.tsv"}
    return {"model": f"{R}/models/{wildcards.target}/final.pt"}
