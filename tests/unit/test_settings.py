"""radiogenomics.config.settings: the config resolved once, without Snakemake (the rule files read this object)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from radiogenomics.config.schema import ConfigError
from radiogenomics.config.settings import Settings, SettingsError


def _config(name: str = "config/config.yaml", **overrides) -> dict:
    config = yaml.safe_load((REPO / name).read_text())
    for dotted, value in overrides.items():
        node = config
        *parents, last = dotted.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return config


def _settings(config: dict) -> Settings:
    return Settings.from_config(config, REPO, sources=["test.yaml"])


def test_default_config():
    s = _settings(_config())
    assert s.simulated and s.results == "results" and s.sim_dir == "results/simulated"
    assert s.targets == ["f5", "f6", "f7", "f14", "f9", "f10", "subtype"]  # the VASARI preset's order
    assert s.survival_groupings == s.targets  # all categorical
    assert s.models == ["network", "logreg_l1", "logreg_l2", "svm", "random_forest", "xgboost"]
    assert s.baseline_models == s.models[1:] and s.folds == [0, 1, 2, 3, 4]
    assert s.collections == ["programs", "celltypes", "verhaak"]
    assert s.input_path("expression") == "results/simulated/expression.tsv"
    assert s.input_path("targets") is None and not s.has_input("survival") and s.has_input("clinical")
    assert s.gene_set_paths() == {"programs": "results/simulated/gene_sets/programs.gmt",
                                  "celltypes": "results/simulated/gene_sets/celltypes.csv"}
    assert s.has_survival and s.survival_table is None
    assert not s.test_cohort and s.test_input("expression") is None
    # the subtype network's patients may be in the shared autoencoder's cohort: one encoder per outer fold
    assert s.encoder_scopes == {**{t: "shared" for t in s.targets[:-1]}, "subtype": "fold"}
    assert list(s.encoder_archs) and s.selection_settings["n_jobs"] == 1
    assert s.preflight_plan() is None and s.run_preflight() is False  # simulated inputs: written by the workflow


def test_schema_defaults_are_filled_in_place():
    config = _config()
    assert "id_rule" not in config["inputs"] and "verhaak" not in config["masking"]
    _settings(config)
    assert config["masking"]["verhaak"] is True and config["inputs"]["id_rule"] == "identity"


def test_without_pretraining_there_are_no_encoders():
    s = _settings(_config(autoencoder__enabled=False))
    assert s.encoder_archs == {} and s.encoder_scopes == {}


def test_simulated_plain_targets_and_test_cohort():
    s = _settings(_config(simulate__n_radiomic=3, simulate__n_test_patients=20,
                          targets__continuous_columns="all"))
    assert s.sim_plain_targets and s.sim_test and s.test_cohort
    assert s.input_path("targets") == "results/simulated/targets.tsv"
    assert s.test_input("targets") == "results/simulated/test_targets.tsv"
    assert [t for t in s.targets if t.startswith("original_")] == [t for t in s.targets[7:]] and len(s.targets) == 10


@pytest.mark.parametrize("overrides, message", [
    ({"simulate__n_test_patients": 20}, r"simulate\.n_test_patients needs simulate\.n_radiomic > 0"),
    ({"evaluation__models": ["logreg_l2"]}, r"evaluation\.models must include 'network'"),
    ({"targets__continuous_columns": "all"}, r"continuous_columns is 'all' but there is no plain target table"),
    ({"targets__presets": ["vasari"], "targets__definitions": [
        {"name": "grade", "source": "targets", "column": "grade", "type": "binary",
         "classes": {"high": ["high"], "low": ["low"]}, "positive": "high"}]},
     r"target 'grade' reads the targets table, but inputs\.targets is not set"),
])
def test_conflicting_fields_stop_with_the_keys_named(overrides, message):
    with pytest.raises(SettingsError, match=message):
        _settings(_config(**overrides))


def _real(tmp_path: Path, **inputs) -> dict:
    expression = tmp_path / "expr.tsv"
    expression.write_text("gene\tP1\tP2\nG1\t1\t2\n")
    gmt = tmp_path / "h.gmt"
    gmt.write_text("SET\turl\tG1\n")
    config = _config(simulate__enabled=False)
    config["inputs"] = {"expression": str(expression), "expression_format": "matrix",
                        "gene_sets": {"h": str(gmt)}, **inputs}
    config["targets"] = {"presets": [], "definitions": [], "continuous_columns": ["size"]}
    return config


def test_real_inputs_and_the_preflight_plan(tmp_path):
    targets = tmp_path / "targets.tsv"
    targets.write_text("patient\tsize\nP1\t1.5\nP2\t2.5\n")
    s = _settings(_real(tmp_path, targets=str(targets)))
    assert not s.simulated and s.input_path("expression") == str(tmp_path / "expr.tsv")
    assert s.targets == ["size"] and s.collections == ["h"] and not s.has_survival
    plan = s.preflight_plan()
    assert plan["expression"]["path"] == str(tmp_path / "expr.tsv") and plan["tables"]["targets"] == str(targets)
    assert plan["gene_sets"] == {"h": str(tmp_path / "h.gmt")} and plan["survival"] is None
    assert [spec["name"] for spec in plan["target_specs"]] == ["size"]


def test_no_gene_set_collection(tmp_path):
    targets = tmp_path / "targets.tsv"
    targets.write_text("patient\tsize\nP1\t1.5\nP2\t2.5\n")
    config = _real(tmp_path, targets=str(targets))
    config["inputs"]["gene_sets"] = {}
    with pytest.raises(SettingsError, match=r"no gene-set collection \(inputs\.gene_sets is empty and no ClaNC"):
        _settings(config)


def test_a_missing_input_file_is_named_with_its_key(tmp_path):
    config = _real(tmp_path, targets=str(tmp_path / "nowhere.tsv"))
    with pytest.raises(ConfigError, match=r"inputs\.targets = '.*nowhere\.tsv': file not found"):
        _settings(config)
    # the check can be left to the caller (e.g. a dry look at a config whose files are elsewhere)
    relaxed = Settings.from_config(copy.deepcopy(config), REPO, check_files=False)
    assert relaxed.input_path("targets").endswith("nowhere.tsv")


def test_a_test_cohort_is_either_a_second_cohort_or_a_split(tmp_path):
    patients = tmp_path / "test_patients.txt"
    patients.write_text("P2\n")
    config = _real(tmp_path, targets=str(tmp_path / "expr.tsv"))
    config["inputs"]["test"] = {"expression": str(tmp_path / "expr.tsv"), "patients": str(patients)}
    with pytest.raises(SettingsError, match=r"inputs\.test takes either a second cohort .* or a declared split"):
        Settings.from_config(config, REPO, check_files=False)
    config = _real(tmp_path)
    config["inputs"]["test"] = {"expression": str(tmp_path / "expr.tsv")}
    with pytest.raises(SettingsError, match=r"inputs\.test\.expression needs inputs\.test\.targets"):
        Settings.from_config(config, REPO, check_files=False)


def test_stage_outputs_and_model_inputs():
    s = _settings(_config())
    assert s.validation_target == "subtype" and s.validation
    outputs = s.interpretation_outputs()
    assert "results/masking/f5/single_genes.tsv" in outputs
    assert "results/enrichment/subtype/verhaak_masking.tsv" in outputs and len(outputs) == 7 + 7 * 3 * 2 + 6 + 2
    assert s.test_cohort_outputs() == [] and s.null_outputs() == [] and s.test_target_outputs == {}
    assert s.masking_models("f5") == {**{f"fold_model_{k}": f"results/models/f5/network/fold{k}.pt" for k in range(5)},
                                      "folds": "results/splits/f5.tsv"}
    assert s.final_models("f5")["model_svm"] == "results/models/f5/svm/final.skops.zip"
    final = _settings(_config(masking__mode="final", evaluation__null_permutations=5))
    assert final.masking_models("f5") == {"model": "results/models/f5/final.pt"}
    assert final.null_outputs() == ["results/evaluation/null_calibration.tsv", "results/figures/null_calibration.png"]
    without_subtype = _settings(_config(targets__presets=["vasari"]))
    assert without_subtype.validation_target is None and not without_subtype.validation
    test = _settings(_config(simulate__n_radiomic=3, simulate__n_test_patients=20, targets__continuous_columns="all"))
    assert test.simulated_plain_outputs == {"targets": "results/simulated/targets.tsv",
                                            "test_expression": "results/simulated/test_expression.tsv",
                                            "test_targets": "results/simulated/test_targets.tsv"}
    assert test.test_cohort_outputs() == ["results/evaluation/test_scores.tsv"]
    assert set(test.test_target_outputs) == {"test_targets", "test_drops"}


@pytest.mark.parametrize("name, message", [
    ("single_genes", r"may not be named 'single_genes'"),
    ("h_masking", r"collection names \['h_masking'\] end like the enrichment tables"),
    ("h_summary", r"collection names \['h_summary'\] end like the enrichment tables"),
])
def test_collection_names_that_clash_with_output_tables(tmp_path, name, message):
    targets = tmp_path / "targets.tsv"
    targets.write_text("patient\tsize\nP1\t1.5\nP2\t2.5\n")
    config = _real(tmp_path, targets=str(targets))
    config["inputs"]["gene_sets"] = {name: config["inputs"]["gene_sets"]["h"]}
    with pytest.raises(SettingsError, match=message):
        _settings(config)


def test_survival_settings():
    s = _settings(_config())
    assert s.survival_endpoints == ["os"] and s.survival_follow_up == []
    assert s.survival_endpoint_input() == {"clinical": "results/ingest/clinical.parquet"}
    assert s.radiogenomic_networks == s.survival_imaging == s.targets[:-1]  # the imaging traits by default
    assert s.survival_subtype == ["subtype"] and s.survival_stepwise_traits == s.targets[:-1]
    assert s.config["survival"]["radiogenomic_min_carriers"] == 10 and s.warnings == []
    outputs = s.survival_outputs()
    assert "results/survival/os/stepwise_final.tsv" in outputs and "results/survival/pfs_endpoint.tsv" not in outputs
    assert s.radiogenomic_enrichment_tables()["f5__verhaak"] == "results/enrichment/f5/verhaak.tsv"
    subtype_only = _settings(_config(targets__presets=["subtype"]))
    assert subtype_only.radiogenomic_networks == ["subtype"] and not subtype_only.survival_predicted
    chosen = _settings(_config(survival__radiogenomic_networks=["f7"]))
    assert chosen.radiogenomic_networks == ["f7"]


def test_survival_deprecated_key_and_unknown_network():
    s = _settings(_config(survival__radiogenomic_min_patients=12))
    assert s.config["survival"]["radiogenomic_min_carriers"] == 12
    assert s.warnings and "radiogenomic_min_patients is deprecated" in s.warnings[0]
    with pytest.raises(SettingsError, match=r"survival\.radiogenomic_networks names \['f99'\], not targets"):
        _settings(_config(survival__radiogenomic_networks=["f99"]))


def test_biotab_extra_tables_need_the_biotab_clinical_table(tmp_path):
    survival = tmp_path / "surv.tsv"
    survival.write_text("patient\ttime\tevent\nP1\t10\t1\n")
    follow_up = tmp_path / "follow_up.txt"
    follow_up.write_text("x\n")
    targets = tmp_path / "targets.tsv"
    targets.write_text("patient\tsize\nP1\t1.5\nP2\t2.5\n")
    config = _real(tmp_path, targets=str(targets), survival=str(survival), clinical_follow_up=[str(follow_up)])
    with pytest.raises(SettingsError, match=r"extend a TCGA Biotab clinical table .* leave them empty"):
        Settings.from_config(config, REPO, check_files=False)
