# Helpers shared by the rules: config validation, input paths, wildcard values.
import sys
from pathlib import Path

from snakemake.utils import validate

REPO = Path(workflow.basedir)
sys.path.insert(0, str(REPO))

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
# Per-target columns of the split files and models are wildcards; constrain them to known names.
wildcard_constraints:
    target="|".join(TARGETS),


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


def encoder_input(wildcards):
    if config["autoencoder"]["enabled"] and config["network"]["transfer"]:
        return {"encoder": rules.train_autoencoder.output.model}
    return {}


def masking_models(wildcards):
    """Out-of-fold masking reads the outer-fold models and the split file; `final` reads the refit model."""
    if config["masking"]["mode"] == "out_of_fold":
        return {"fold_models": rules.train_network.output.fold_models, "folds": rules.make_splits.output.folds}
    return {"model": rules.train_network.output.model}
