"""The Snakefile and workflow/rules/*.smk are formatted by snakefmt (pinned in the test extra of pyproject.toml,
line length from its [tool.snakefmt]); `snakefmt Snakefile workflow/rules` fixes what this test reports."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SNAKEFMT = Path(sys.executable).parent / "snakefmt"


def test_snakemake_files_are_snakefmt_formatted():
    exe = str(SNAKEFMT) if SNAKEFMT.exists() else shutil.which("snakefmt")
    if exe is None:
        pytest.skip("snakefmt not installed (pip install -e '.[test]' installs the pinned version)")
    files = ["Snakefile", *sorted(str(p.relative_to(REPO)) for p in (REPO / "workflow" / "rules").glob("*.smk"))]
    assert len(files) > 5
    res = subprocess.run([exe, "--check", *files], cwd=REPO, capture_output=True, text=True, timeout=300)
    if res.returncode != 0:
        diff = subprocess.run([exe, "--diff", *files], cwd=REPO, capture_output=True, text=True, timeout=300)
        pytest.fail(f"snakefmt --check failed (run `snakefmt Snakefile workflow/rules`):\n{res.stderr[-3000:]}\n"
                    f"{diff.stdout[-6000:]}")
