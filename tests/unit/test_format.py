"""workflow/Snakefile and workflow/rules/*.smk are formatted by snakefmt (pinned in the test extra of pyproject.toml,
line length from its [tool.snakefmt]); `snakefmt workflow` fixes what this test reports."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SNAKEFMT = Path(sys.executable).parent / "snakefmt"


def test_snakemake_files_are_snakefmt_formatted():
    exe = str(SNAKEFMT) if SNAKEFMT.exists() else shutil.which("snakefmt")
    if exe is None:
        pytest.skip("snakefmt not installed (pip install -e '.[test]' installs the pinned version)")
    rules = sorted(str(p.relative_to(REPO)) for p in (REPO / "workflow" / "rules").glob("*.smk"))
    files = ["workflow/Snakefile", *rules]
    assert len(files) > 5
    res = subprocess.run([exe, "--check", *files], cwd=REPO, capture_output=True, text=True, timeout=300)
    if res.returncode != 0:
        diff = subprocess.run([exe, "--diff", *files], cwd=REPO, capture_output=True, text=True, timeout=300)
        pytest.fail(f"snakefmt --check failed (run `snakefmt workflow`):\n{res.stderr[-3000:]}\n"
                    f"{diff.stdout[-6000:]}")


def test_python_files_pass_ruff():
    """ruff (pinned in the test extra; rules and the per-file exceptions in pyproject.toml's [tool.ruff]) over the
    package, the scripts, the tests and the benchmarks; `ruff check .` lists what this test reports."""
    exe = Path(sys.executable).parent / "ruff"
    exe = str(exe) if exe.exists() else shutil.which("ruff")
    if exe is None:
        pytest.skip("ruff not installed (pip install -e '.[test]' installs the pinned version)")
    res = subprocess.run([exe, "check", "--no-cache", "--output-format", "concise", "."], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, f"ruff check failed:\n{res.stdout[-6000:]}{res.stderr[-2000:]}"
    # every deliberate exception is a per-file ignore in pyproject.toml, none a noqa comment
    marker = "# " + "noqa"  # (spelt in two parts so this line is not one)
    noqa = [f"{p.relative_to(REPO)}:{i}" for folder in ("radiogenomics", "workflow", "tests", "benchmarks")
            for p in sorted((REPO / folder).rglob("*")) if p.suffix in (".py", ".smk")
            for i, line in enumerate(p.read_text().splitlines(), 1) if marker in line]
    assert not noqa, noqa
