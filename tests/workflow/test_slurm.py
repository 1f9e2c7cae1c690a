"""The SLURM profile on a real single-node SLURM cluster (Debian's slurm-wlm + munge, .ci/slurm-cluster.sh).

Part of the tiny DAG runs through `sbatch` with workflow/profiles/slurm; the test checks that every job was a
SLURM job (its ID in snakemake's output, its record in squeue, its SLURM log file), that the profile's
per-rule partition and time limit reached SLURM, and that the outputs equal the local run's (`tiny_run`).
Skips with the reason when the SLURM binaries are absent, or when no cluster runs and this is not root.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO, TINY, snakemake

pytestmark = pytest.mark.workflow

CLUSTER = REPO / ".ci" / "slurm-cluster.sh"
PROFILE = REPO / "workflow" / "profiles" / "slurm" / "config.yaml"
BINARIES = ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol"]
TARGET = "f5"
# A slice of the tiny DAG, kept small (every SLURM job starts its own snakemake): simulate, ingest, targets,
# the split file, the autoencoder and the outer-fold networks of one target (tiny.yaml keeps evaluation.split_folds
# false: one job runs the target's 3 folds; 8 SLURM jobs, 5 levels deep).
OUTPUTS = [f"results/splits/{TARGET}.tsv", f"results/evaluation/{TARGET}/network/fold0.tsv",
           f"results/evaluation/{TARGET}/network/fold0.json"]
N_JOBS = 8
SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (\S+)\)\.")


def _node() -> tuple[int, int]:
    """CPUs and memory (MB) of the cluster's first node."""
    out = subprocess.run(["sinfo", "-h", "-N", "-o", "%c %m"], capture_output=True, text=True, check=True).stdout
    cpus, mem = out.split()[:2]
    return int(cpus), int(re.match(r"\d+", mem).group())


# Session scope, listed before tiny_run: a skip comes before the local run is built.
@pytest.fixture(scope="session")
def slurm_cluster():
    missing = [b for b in BINARIES if shutil.which(b) is None]
    if missing:
        pytest.skip(f"SLURM not installed ({', '.join(missing)} not on PATH; bash .ci/system-packages.sh installs it)")
    started = False
    if subprocess.run(["bash", str(CLUSTER), "status"], capture_output=True).returncode != 0:
        if os.geteuid() != 0:
            pytest.skip("no SLURM cluster running and not root: cannot start munged/slurmctld/slurmd")
        res = subprocess.run(["bash", str(CLUSTER), "start"], capture_output=True, text=True, timeout=180)
        assert res.returncode == 0, f"{CLUSTER} failed:\n{res.stdout}\n{res.stderr}"
        started = True
    yield _node()
    if started:
        subprocess.run(["bash", str(CLUSTER), "stop"], capture_output=True, timeout=60)


def _profile_for_node(dest: Path, node_mem: int) -> dict:
    """The repository profile, with every mem_mb capped at a quarter of the node's memory (a test node can be
    smaller than a paper-scale request, which SLURM would reject); everything else as it is."""
    profile = yaml.safe_load(PROFILE.read_text())
    cap = max(256, node_mem // 4)
    for res in [profile["default-resources"], *profile["set-resources"].values()]:
        if "mem_mb" in res:
            res["mem_mb"] = min(int(res["mem_mb"]), cap)
    dest.mkdir(parents=True)
    (dest / "config.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return profile


def _minutes(limit: str) -> int:
    """squeue's %l (D-HH:MM:SS, HH:MM:SS or MM:SS) in minutes."""
    days, _, rest = limit.rpartition("-")
    parts = [int(p) for p in rest.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    return (int(days) if days else 0) * 1440 + parts[0] * 60 + parts[1] + (parts[2] > 0)


def test_profile_is_a_snakemake_slurm_profile():
    profile = yaml.safe_load(PROFILE.read_text())
    assert profile["executor"] == "slurm"
    for rule in ["evaluate_network_fold", "evaluate_network_folds", "final_network", "train_autoencoder",
                 "gene_masking", "gene_saliency"]:
        res = profile["set-resources"][rule]
        assert res["slurm_partition"] == "gpu" and res["mem_mb"] > 0 and res["runtime"] > 0, rule


def test_tiny_dag_through_slurm_equals_local_run(slurm_cluster, tiny_run, tmp_path):
    _, mem = slurm_cluster
    profile = _profile_for_node(tmp_path / "profile", mem)
    work = tmp_path / "work"
    work.mkdir()
    start = time.monotonic()
    # Threads capped at the tiny config's `threads` (1), as in the local run, so the numbers are comparable
    # (and a 2-CPU node accepts every job).
    res = snakemake(
        "--workflow-profile", str(tmp_path / "profile"), "--configfile", str(TINY),
        "--slurm-status-command", "squeue", "--slurm-no-account", "--slurm-keep-successful-logs",
        "--slurm-init-seconds-before-status-checks", "5", "--max-threads", "1", "--jobs", "4",
        "--latency-wait", "10", *OUTPUTS, cwd=work, timeout=1500, slurm=True)
    elapsed = time.monotonic() - start
    assert res.returncode == 0, f"SLURM run failed after {elapsed:.0f}s:\n{res.stderr[-8000:]}"

    # Every job went through sbatch: one SLURM job ID per snakemake job, each known to squeue as COMPLETED,
    # each with its SLURM log file.
    submitted = SUBMITTED.findall(res.stderr)
    n_jobs = int(re.search(r"^total\s+(\d+)", res.stderr, re.M).group(1))
    assert n_jobs == N_JOBS and len(submitted) == n_jobs, res.stderr[-4000:]
    ids = [s[1] for s in submitted]
    assert len(set(ids)) == n_jobs
    for _, _, log in submitted:
        assert Path(log).is_file(), f"SLURM log {log} missing"
    q = subprocess.run(["squeue", "-h", "-t", "all", "-j", ",".join(ids), "-o", "%i|%j|%P|%T|%l"],
                       capture_output=True, text=True, check=True).stdout
    rows = {r.split("|")[0]: r.split("|") for r in q.splitlines()}
    assert set(rows) == set(ids), f"squeue lists {sorted(rows)}, snakemake submitted {ids}"
    # Job names are the run's UUID; the rule comes from the SLURM log path (.../slurm_logs/rule_<name>/...).
    rule_of = {jid: re.search(r"rule_(\w+?)/", log).group(1) for _, jid, log in submitted}
    for jid, (_, _, partition, state, limit) in rows.items():
        rule = rule_of[jid]
        assert state == "COMPLETED", f"SLURM job {jid} ({rule}) is {state}"
        want = profile["set-resources"].get(rule, {})
        assert partition == want.get("slurm_partition", profile["default-resources"]["slurm_partition"]), rule
        if "runtime" in want:
            assert _minutes(limit) == want["runtime"], f"{rule}: time limit {limit}, profile {want['runtime']} min"
    print(f"SLURM run: {n_jobs} jobs, SLURM job IDs {min(map(int, ids))}-{max(map(int, ids))}, {elapsed:.0f}s")

    # Same numbers as the local run.
    slurm_results = work / "results"
    assert_same_outputs(slurm_results, tiny_run, [o.removeprefix("results/") for o in OUTPUTS])


def assert_same_outputs(a: Path, b: Path, paths: list[str]) -> None:
    for rel in paths:
        if rel.endswith(".json"):
            assert (a / rel).read_text() == (b / rel).read_text(), rel
            continue
        if rel.endswith(".parquet"):
            left, right = pd.read_parquet(a / rel), pd.read_parquet(b / rel)
        else:
            left, right = pd.read_csv(a / rel, sep="\t"), pd.read_csv(b / rel, sep="\t")
        pd.testing.assert_frame_equal(left, right, check_exact=True, obj=rel)
