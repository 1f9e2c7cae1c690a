"""Every rule that runs code has a pinned conda env, each conda pin equals the pip pin in pyproject.toml, and each
rule's env holds every third-party package its script imports at module level (directly or through the package)."""

import ast
import re
import sys
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
ENVS = REPO / "workflow" / "envs"
CONDA_NAME = {"pytorch": "torch", "py-xgboost-cpu": "xgboost-cpu"}  # conda-forge name -> PyPI name
IMPORT_NAME = {"sklearn": "scikit-learn", "yaml": "pyyaml", "torch": "pytorch", "xgboost": "py-xgboost-cpu"}
NOT_IN_RULE_ENVS = {"snakemake"}  # provided by the snakemake that runs the job
CODE = re.compile(r"\n\s+(script|shell|run|wrapper|notebook):")


def pip_pins():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + [d for ds in project["optional-dependencies"].values() for d in ds]
    pins = {}
    for d in deps:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)==([0-9][A-Za-z0-9.+-]*)", d)
        assert m, f"pyproject dependency {d!r} is not pinned with =="
        pins[m.group(1).lower()] = m.group(2)
    return pins


def rules() -> dict[str, str]:
    """Rule name -> its text, from every .smk file (rules inside `if` blocks are indented)."""
    text = "\n".join(p.read_text() for p in sorted((REPO / "workflow" / "rules").glob("*.smk")))
    blocks = re.split(r"\n(?=[ \t]*rule \w+:)", text)[1:]
    return {re.match(r"\s*rule (\w+):", b).group(1): b for b in blocks}


def env_packages(name: str) -> set[str]:
    return {dep.partition("=")[0] for dep in yaml.safe_load((ENVS / name).read_text())["dependencies"]}


def test_conda_envs_are_pinned_and_match_pip():
    pins = pip_pins()
    envs = sorted(ENVS.glob("*.yaml"))
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
    found = rules()
    assert len(found) > 15
    for name, body in found.items():
        if not CODE.search(body):  # rule all, download_all: no code, nothing to run in an env
            continue
        assert re.search(r"\n\s+log:", body), f"rule {name} has no log"
        env = re.search(r'\n\s+conda:\n\s+"\.\./envs/([\w.]+)"', body)
        assert env, f"rule {name} has no conda env"
        assert (ENVS / env.group(1)).exists(), f"rule {name}: env {env.group(1)} missing"


def test_the_workflow_env_pins_snakemake_and_the_slurm_executor():
    pins = pip_pins()
    workflow = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["workflow"]
    names = {d.split("==")[0] for d in workflow}
    assert {"snakemake", "snakemake-executor-plugin-slurm", "snakemake-executor-plugin-slurm-jobstep"} <= names
    assert env_packages("snakemake.yaml") - {"python"} == names
    assert tuple(int(x) for x in pins["snakemake-executor-plugin-slurm"].split(".")[:3]) >= (2, 7, 1)


def _module_imports(path: Path) -> set[str]:
    """Modules imported at module level (including inside top-level if/try), not inside functions."""
    tree = ast.parse(path.read_text())
    nodes = []
    for stmt in tree.body:
        nodes += list(ast.walk(stmt)) if isinstance(stmt, (ast.If, ast.Try)) else [stmt]
    out = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import inside the package
                names = [node.module] if node.module else [a.name for a in node.names]
                out |= {f"radiogenomics.{n}" for n in names}
            elif node.module == "radiogenomics":
                out |= {f"radiogenomics.{a.name}" for a in node.names}
            elif node.module:
                out.add(node.module)
    return out


def _third_party(path: Path, seen: set[Path]) -> set[str]:
    needed = set()
    for module in _module_imports(path):
        top, _, rest = module.partition(".")
        if top in ("radiogenomics", "_common"):
            target = (REPO / "workflow" / "scripts" / "_common.py" if top == "_common"
                      else REPO / "radiogenomics" / f"{rest.split('.')[0]}.py")
            if target.exists() and target not in seen:
                seen.add(target)
                needed |= _third_party(target, seen)
        elif top not in sys.stdlib_module_names and top not in ("__future__", *NOT_IN_RULE_ENVS):
            needed.add(IMPORT_NAME.get(top, top))
    return needed


def test_each_rule_env_holds_what_its_script_imports():
    checked = 0
    for name, body in rules().items():
        script = re.search(r'\n\s+script:\n\s+"\.\./scripts/([\w.]+)"', body)
        env = re.search(r'\n\s+conda:\n\s+"\.\./envs/([\w.]+)"', body)
        if not script or not env:
            continue
        needed = _third_party(REPO / "workflow" / "scripts" / script.group(1), set())
        missing = needed - env_packages(env.group(1))
        assert not missing, f"rule {name}: {script.group(1)} imports {sorted(missing)}, not in envs/{env.group(1)}"
        checked += 1
    assert checked > 15


def test_torch_is_pinned_to_the_cpu_build_version():
    assert pip_pins()["torch"] == "2.13.0"
