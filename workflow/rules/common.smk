# Helpers shared by the rules: config validation, input paths, wildcard values.
import sys
from pathlib import Path

from snakemake.utils import validate

REPO = Path(workflow.basedir)
sys.path.insert(0, str(REPO))

from radiogenomics import selection as model_selection  # noqa: E402
from radiogenomics.targets import resolve_specs  # noqa: E402


validate(config, schema=str(REPO / "workflow" / "schemas" / "config.schema.yaml"))

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


def input_path(kind):
    """Path of a raw input table: simulated, or from config `inputs` (None when not given)."""
    if SIMULATED:
        return SIMULATED_INPUTS[kind]
    return config["inputs"].get(kind)


def gene_set_paths():
    return SIMULATED_GENE_SETS if SIMULATED else dict(config["inputs"]["gene_sets"])


def has_input(kind):
    return input_path(kind) is not None


if not has_input("expression"):
    raise ValueError("config: inputs.expression is required when simulate.enabled is false")

TARGET_SPECS = resolve_specs(config["targets"]["presets"], config["targets"]["definitions"])
for _spec in TARGET_SPECS:
    _src = {"vasari": "vasari", "subtype": "clanc"}[_spec.source]
    if not has_input(_src):
        raise ValueError(
            f"config: target {_spec.name!r} reads the {_spec.source} table, but inputs.{_src} is not set"
        )
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
ENCODER_ARCHS = (
    model_selection.required_encoders(NETWORK_CONFIGS) if config["autoencoder"]["enabled"] else {}
)
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


def job_resources(gpu=False):
    res = {"mem_mb": config["resources"]["mem_mb"], "runtime": config["resources"]["runtime"]}
    if gpu:
        res["gpu"] = config["resources"]["gpu"]
    return res


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
    if has_input("clinical"):
        out += [f"{R}/survival/logrank.tsv", f"{R}/figures/km_overview.png"]
        out += expand(f"{R}/figures/km/{{target}}.png", target=survival_groupings())
    if SIMULATED:
        out += [f"{R}/recovery/driver_ranks.tsv", f"{R}/figures/driver_recovery.png"]
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
    return src


def encoder_inputs(wildcards=None):
    """Every pretrained encoder the network grid needs (architecture key -> path)."""
    return {f"encoder_{arch}": f"{R}/models/autoencoder/{arch}.pt" for arch in ENCODER_ARCHS}


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
        models = {
            f"fold_model_{k}": f"{R}/models/{wildcards.target}/network/fold{k}.pt" for k in FOLDS
        }
        return {**models, "folds": f"{R}/splits/{wildcards.target}.tsv"}
    return {"model": f"{R}/models/{wildcards.target}/final.pt"}
