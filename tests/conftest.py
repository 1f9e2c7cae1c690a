"""Shared fixtures: the real TCGA-GBM tables beside the checkout, skipped cleanly when absent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = REPO.parent / "shared" / "data" / "tcga-gbm"
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
TINY = REPO / "tests" / "data" / "tiny.yaml"


def snakemake(*args: str, cwd: Path = REPO, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run the workflow's Snakefile with ``args`` (from ``cwd``), capturing its output."""
    cmd = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


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
