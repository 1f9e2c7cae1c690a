"""The config schema fills documented defaults and rejects bad values with a clear message."""

import copy
from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

REPO = Path(__file__).resolve().parents[2]
SCHEMA = str(REPO / "workflow" / "schemas" / "config.schema.yaml")


def load(name="config/config.yaml"):
    return yaml.safe_load((REPO / name).read_text())


def test_default_config_validates_and_fills_nested_defaults():
    cfg = {"seed": 3}
    validate(cfg, SCHEMA)
    assert cfg["simulate"]["enabled"] is True
    assert cfg["evaluation"]["network_grid"]["hidden"] == [[256, 128, 64]]
    assert cfg["evaluation"]["models"][0] == "network" and cfg["evaluation"]["n_bootstrap"] == 100
    assert cfg["enrichment"]["min_size"] == 15
    assert cfg["resources"]["gpu"] == 0
    full = load()
    validate(full, SCHEMA)
    assert full["cv"]["folds"] == 5


def test_every_schema_key_has_a_description_or_is_self_evident():
    schema = yaml.safe_load(Path(SCHEMA).read_text())
    for section, sub in schema["properties"].items():
        assert "description" in sub or sub.get("type") == "object", section
        assert "default" in sub, f"{section} has no default"


@pytest.mark.parametrize("patch", [
    {"cv": {"folds": 1}},
    {"evaluation": {"models": ["network", "lasso_svm"]}},
    {"evaluation": {"inner_folds": 1}},
    {"targets": {"presets": ["radiomics"]}},
    {"evaluation": {"learning_rate": 0.1}},
    {"targets": {"definitions": [{"name": "x", "type": "ordinal", "source": "vasari"}]}},
])
def test_bad_values_are_rejected(patch):
    cfg = copy.deepcopy(load())
    for k, v in patch.items():
        cfg[k] = {**cfg.get(k, {}), **v}
    with pytest.raises(WorkflowError):
        validate(cfg, SCHEMA)


def test_tiny_and_real_configs_validate():
    for name in ["tests/data/tiny.yaml"]:
        validate(load(name), SCHEMA)
