"""Every rule runs in a pinned conda env, and each conda pin equals the pip pin in pyproject.toml."""

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
CONDA_NAME = {"pytorch": "torch", "py-xgboost-cpu": "xgboost-cpu"}  # conda-forge name -> PyPI name


def pip_pins():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + [d for ds in project["optional-dependencies"].values() for d in ds]
    pins = {}
    for d in deps:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)==([0-9][A-Za-z0-9.+-]*)", d)
        assert m, f"pyproject dependency {d!r} is not pinned with =="
        pins[m.group(1).lower()] = m.group(2)
    return pins


def test_conda_envs_are_pinned_and_match_pip():
    pins = pip_pins()
    envs = sorted((REPO / "workflow" / "envs").glob("*.yaml"))
    assert envs
    for env in envs:
        spec = yaml.safe_load(env.read_text())
        assert spec["channels"] == ["conda-forge", "bioconda", "nodefaults"], env.name
        for dep in spec["dependencies"]:
            name, _, version = dep.partition("=")
            assert version and not version.startswith("="), f"{env.name}: {dep!r} is not pinned"
            if name == "python":
                assert version == "3.11"
                continue
            pip_name = CONDA_NAME.get(name, name).lower()
            assert pip_name in pins, f"{env.name}: {name} is not pinned in pyproject.toml"
            assert pins[pip_name] == version, f"{env.name}: {name}={version} but pip pins {pins[pip_name]}"


def test_every_rule_has_log_and_conda_env():
    text = "\n".join(p.read_text() for p in (REPO / "workflow" / "rules").glob("*.smk"))
    rules = re.split(r"\n(?=rule \w+:)", text)[1:]
    assert len(rules) > 15
    for body in rules:
        name = re.match(r"rule (\w+):", body).group(1)
        assert "\n    log:" in body, f"rule {name} has no log"
        assert "\n    conda:" in body, f"rule {name} has no conda env"
        env = re.search(r'conda:\n\s+"\.\./envs/([\w.]+)"', body).group(1)
        assert (REPO / "workflow" / "envs" / env).exists(), f"rule {name}: env {env} missing"


def test_torch_is_pinned_to_the_cpu_build_version():
    assert pip_pins()["torch"] == "2.13.0"
