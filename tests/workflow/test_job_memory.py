"""benchmarks/job_memory.py: the peak-memory measurement behind the per-rule-family memory table of
benchmarks/README.md."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO, TINY, local_env

pytestmark = pytest.mark.workflow
SCRIPT = str(REPO / "benchmarks" / "job_memory.py")


def _job_memory(*snakemake_args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, SCRIPT, "--interval", "0.05", "--", *snakemake_args], capture_output=True,
                          text=True, timeout=timeout, env=local_env())


def test_a_run_with_much_output_finishes(tmp_path):
    """A dry run of the whole tiny DAG prints about 180 kB: more than a pipe holds, so a measurement that left
    snakemake's output in an unread pipe would block here until the timeout (as it once blocked the default run
    after 22 jobs; the dry run takes about 10 s)."""
    res = _job_memory("--dry-run", "--cores", "1", "--configfile", str(TINY), "--directory", str(tmp_path), timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "largest job peak: 0 MB (none); 0 script jobs sampled" in res.stdout


def test_peaks_per_rule_family(tmp_path):
    res = _job_memory("--cores", "1", "--configfile", str(TINY), "--directory", str(tmp_path),
                      "results/ingest/expression.parquet")
    assert res.returncode == 0, res.stderr[-3000:]
    rows = {line.split()[0]: line.split()[1:] for line in res.stdout.splitlines()[1:-1]}
    assert set(rows) == {"simulate_cohort", "ingest_expression"}, res.stdout
    for jobs, peak_mb, median_mb in rows.values():
        assert jobs == "1" and 30 < float(peak_mb) < 4000 and peak_mb == median_mb, res.stdout
    assert "2 script jobs sampled" in res.stdout.splitlines()[-1]
