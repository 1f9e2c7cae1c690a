"""Shared fixtures: the real TCGA-GBM tables beside the checkout, skipped cleanly when absent."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = REPO.parent / "shared" / "data" / "tcga-gbm"
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
TINY = REPO / "tests" / "data" / "tiny.yaml"
#: snakemake's SLURM executor plugin runs `scontrol show config` whenever snakemake starts, a local run included;
#: with SLURM installed and no controller up (the suite starts one for tests/test_slurm.py only) scontrol retries
#: for about 9 s per snakemake call. Local runs point SLURM_CONF at a controller that refuses at once.
NO_CONTROLLER = REPO / "tests" / "data" / "slurm-no-controller.conf"


def local_env() -> dict[str, str]:
    """The environment of a local (not SLURM) snakemake run of the tests."""
    return {**os.environ, "SLURM_CONF": str(NO_CONTROLLER)}


def snakemake_command(*args: str) -> list[str]:
    """The command line of a snakemake run of the workflow's Snakefile with ``args``."""
    return [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), *args]


def benchmark_module(name: str):
    """``benchmarks/<name>.py`` imported as a module (the benchmarks folder is not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def snakemake(*args: str, cwd: Path = REPO, timeout: int = 900, slurm: bool = False) -> subprocess.CompletedProcess:
    """Run the workflow's Snakefile with ``args`` (from ``cwd``), capturing its output; ``slurm``: keep the
    machine's SLURM configuration (a run through the SLURM executor), else :func:`local_env`."""
    return subprocess.run(snakemake_command(*args), cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=None if slurm else local_env())


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """The whole DAG on tests/data/tiny.yaml, run once per test session; returns its results folder."""
    work = tmp_path_factory.mktemp("tiny")
    res = snakemake("--directory", str(work), "--configfile", str(TINY), "--cores", "2", timeout=1500)
    if res.returncode != 0:
        logs = "\n".join(f"== {p}\n{p.read_text()[-3000:]}" for p in (work / "results" / "logs").rglob("*.log"))
        pytest.fail(f"workflow failed:\n{res.stderr[-6000:]}\n{logs[-8000:]}")
    return work / "results"


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """Folder of the public TCGA-GBM tables (../shared/data/tcga-gbm); skips the test when it is absent."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"real TCGA-GBM tables not found at {REAL_DATA} (a fresh clone without ../shared)")
    return REAL_DATA
