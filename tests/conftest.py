"""Shared fixtures and helpers of tests/unit and tests/workflow: snakemake runs of the workflow, the real TCGA-GBM
tables beside the checkout (skipped cleanly when absent), small generated tables and a loopback HTTP server."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import importlib.util
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = REPO.parent / "shared" / "data" / "tcga-gbm"
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
TINY = REPO / "tests" / "data" / "tiny.yaml"
#: snakemake's SLURM executor plugin runs `scontrol show config` whenever snakemake starts, a local run included;
#: with SLURM installed and no controller up (the suite starts one for tests/workflow/test_slurm.py only)
#: scontrol retries for about 9 s per snakemake call. Local runs point SLURM_CONF at a controller that refuses at once.
NO_CONTROLLER = REPO / "tests" / "data" / "slurm-no-controller.conf"


def local_env() -> dict[str, str]:
    """The environment of a local (not SLURM) snakemake run of the tests."""
    return {**os.environ, "SLURM_CONF": str(NO_CONTROLLER)}


def snakemake_command(*args: str) -> list[str]:
    """The command line of a snakemake run of the workflow's Snakefile with ``args``."""
    return [SNAKEMAKE, "--snakefile", str(REPO / "workflow" / "Snakefile"), *args]


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


# --------------------------------------------------------------------------- small generated tables


def write(tmp: Path, name: str, rows: list[list[str]] | str, sep: str = "\t") -> Path:
    path = tmp / name
    path.write_text(rows if isinstance(rows, str) else "\n".join(sep.join(r) for r in rows) + "\n")
    return path


def matrix_rows(samples: list[str], n_genes: int = 30, seed: int = 0, label: str = "gene") -> list[list[str]]:
    """A genes x samples matrix of distinct random values."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n_genes, len(samples)))
    return [[label, *samples]] + [[f"G{g}", *(f"{v:.4f}" for v in values[g])] for g in range(n_genes)]


# --------------------------------------------------------------------------- a loopback HTTP server


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; ``/truncated/<name>`` announces more bytes than it sends, then hangs up."""

    def do_GET(self):
        if self.path.startswith("/truncated/"):
            body = b"only part of the table"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body) + 1000))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, format, *args):  # keep the test output clean
        pass


@contextlib.contextmanager
def serve(folder: Path):
    """An HTTP server on 127.0.0.1 (free port) serving ``folder`` from a thread; yields its base URL."""
    handler = functools.partial(_Handler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture()
def served(tmp_path):
    """A small generated table served over loopback: (base URL, file name, bytes)."""
    folder = tmp_path / "served"
    folder.mkdir()
    data = b"sample\tTCGA-02-0003-01A\tTCGA-02-0010-01A\nEGFR\t1.5\t2.25\nPDGFRA\t-0.5\t0.75\n" * 50
    (folder / "table.tsv").write_bytes(data)
    with serve(folder) as base:
        yield base, "table.tsv", data
