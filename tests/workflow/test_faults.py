"""Faults on the tiny config (one trait's saliency GSEA and the jobs it needs): snakemake and its jobs SIGKILLed
while a network trains and again while an enrichment job runs leave no complete-looking output of the killed
jobs; `snakemake --unlock` and `--rerun-incomplete` (as Snakemake's messages ask) finish the run with the same
tables as an uninterrupted run (the `tiny_run` fixture). While the resumed run works, a second `snakemake` on the
same directory fails fast (Snakemake's incomplete-files message, and with --rerun-incomplete its lock message)
and changes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import REPO, TINY, benchmark_module, local_env, snakemake, snakemake_command

pytestmark = pytest.mark.workflow

LOCKED = "Directory cannot be locked"
#: The faulted runs build one trait's outer-fold networks and saliency GSEA (with their ingest, autoencoder,
#: splits, final network and saliency): the stages where a kill is tested, at a tenth of the tiny DAG's jobs.
TARGET = "f6"
COLLECTIONS = ("celltypes", "programs", "verhaak")
FILES = (*(f"results/evaluation/{TARGET}/network/fold{k}.tsv" for k in range(3)),  # tiny.yaml cv.folds
         *(f"results/enrichment/{TARGET}/{c}{suffix}.tsv" for c in COLLECTIONS for suffix in ("", "_summary")))
#: Outputs compared byte for byte with the uninterrupted run: every table, model and JSON of the DAG
#: (benchmarks/compare_runs.py's data files: logs, benchmarks, figures and the report are not data).
_data_files = benchmark_module("compare_runs").data_files


def _start(work: Path, *args: str) -> subprocess.Popen:
    """snakemake on the tiny config in ``work``, in its own process group (it and its jobs are killed together)."""
    cmd = snakemake_command("--directory", str(work), "--configfile", str(TINY), "--cores", "2", *args, *FILES)
    out = open(work / f"run{len(list(work.glob('run*.out')))}.out", "w")
    return subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                            env=local_env())


def _kill(proc: subprocess.Popen) -> None:
    """SIGKILL the process group of ``proc`` (snakemake and every job it started) and wait until none is left."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError(f"processes of group {proc.pid} still alive 60 s after SIGKILL")


def _output(work: Path, proc: subprocess.Popen) -> str:
    return "\n".join(p.read_text()[-6000:] for p in sorted(work.glob("run*.out")))


def _running(work: Path, log_glob: str, outputs) -> list[Path]:
    """Logs of started jobs (their log exists) whose outputs are not all written yet: jobs running now."""
    logs = work / "results" / "logs"
    return [log for log in logs.glob(log_glob) if not all((work / "results" / o).exists() for o in outputs(log))]


def _wait_and_kill(work: Path, proc: subprocess.Popen, log_glob: str, outputs, timeout: float = 3600) -> list[Path]:
    """Poll until a job of ``log_glob`` is running, then SIGKILL the whole run; returns the killed jobs' logs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the run ended (rc {proc.returncode}) before a {log_glob} job was seen running:\n"
                                 + _output(work, proc))
        if _running(work, log_glob, outputs):
            break
        time.sleep(0.05)
    else:
        _kill(proc)
        raise AssertionError(f"no {log_glob} job started within {timeout} s")
    _kill(proc)
    return _running(work, log_glob, outputs)


def _training_outputs(log: Path) -> list[str]:
    target = log.parent.name  # logs/evaluate_folds/{target}/network.log
    folds = 3  # tiny.yaml cv.folds
    return [f"{d}/{target}/network/fold{k}.{ext}" for k in range(folds)
            for d, ext in (("evaluation", "tsv"), ("evaluation", "json"), ("models", "pt"))]


def _enrichment_outputs(log: Path) -> list[str]:
    target, collection = log.parent.name, log.stem  # logs/saliency_enrichment/{target}/{collection}.log
    return [f"enrichment/{target}/{collection}.tsv", f"enrichment/{target}/{collection}_summary.tsv"]



def _check_after_kill(work: Path, killed: list[Path], outputs, reference: Path) -> dict:
    """The killed jobs left no complete-looking output: whatever they wrote is a finished atomic write (equal to the
    uninterrupted run's file) or a hidden ``.part`` temporary file; nothing else under results/ is half-written."""
    results = work / "results"
    assert killed, "the kill did not land while a job was running"
    for log in killed:
        for o in outputs(log):
            if (results / o).exists():  # written completely before the kill (atomic rename)
                assert (results / o).read_bytes() == (reference / o).read_bytes(), o
    parts = [p for p in results.rglob("*.part")]
    assert all(p.name.startswith(".") for p in parts), parts
    for name, path in _data_files(results).items():
        assert path.read_bytes() == (reference / name).read_bytes(), f"{name} differs from the uninterrupted run"
    return {"killed": [str(p.relative_to(results)) for p in killed], "parts": len(parts)}


def _rerun_incomplete_asked(work: Path) -> str:
    """A dry run without --rerun-incomplete: Snakemake's message when it finds outputs of killed jobs."""
    res = snakemake("--directory", str(work), "--configfile", str(TINY), "--dry-run", "--quiet", *FILES, timeout=600)
    return res.stdout + res.stderr if res.returncode != 0 else ""


def _locked_then_unlock(work: Path) -> None:
    """After a SIGKILL, a user following Snakemake's messages: the plain command stops on the killed jobs' incomplete
    outputs and asks for --rerun-incomplete; with it, the lock left by the killed run stops it and asks for --unlock."""
    res = snakemake("--directory", str(work), "--configfile", str(TINY), "--cores", "1", *FILES, timeout=600)
    assert res.returncode != 0, res.stderr[-3000:]
    assert "--rerun-incomplete" in res.stderr or LOCKED in res.stderr, res.stderr[-3000:]
    res = snakemake("--directory", str(work), "--configfile", str(TINY), "--cores", "1", "--rerun-incomplete",
                    *FILES, timeout=600)
    assert res.returncode != 0 and LOCKED in res.stderr and "--unlock" in res.stderr, res.stderr[-3000:]
    res = snakemake("--directory", str(work), "--configfile", str(TINY), "--unlock", timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]


@pytest.fixture(scope="module")
def faulted(tmp_path_factory, tiny_run):
    work = tmp_path_factory.mktemp("faults")
    seen = {}
    # 1. kill while an outer-fold network trains
    proc = _start(work)
    killed = _wait_and_kill(work, proc, "evaluate_folds/*/network.log", _training_outputs)
    seen["training"] = _check_after_kill(work, killed, _training_outputs, tiny_run)
    seen["training_message"] = _rerun_incomplete_asked(work)
    _locked_then_unlock(work)
    # 2. resume, and kill again while a saliency GSEA runs
    proc = _start(work, "--rerun-incomplete")
    killed = _wait_and_kill(work, proc, "saliency_enrichment/*/*.log", _enrichment_outputs)
    seen["enrichment"] = _check_after_kill(work, killed, _enrichment_outputs, tiny_run)
    seen["enrichment_message"] = _rerun_incomplete_asked(work)
    _locked_then_unlock(work)
    # 3. resume to the end; while it holds its lock, a second snakemake on the same directory must fail fast. The
    # first run is paused (SIGSTOP) as soon as its lock exists and resumed afterwards: its remaining jobs take
    # seconds, so without the pause the second one could find nothing left to do
    proc = _start(work, "--rerun-incomplete")
    try:
        deadline = time.monotonic() + 600
        while not any((work / ".snakemake" / "locks").glob("*")) and time.monotonic() < deadline:
            assert proc.poll() is None, _output(work, proc)
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGSTOP)
        try:
            assert any((work / ".snakemake" / "locks").glob("*")), "the first run released its lock before the pause"
            # the same command again: Snakemake stops on the paused jobs' incomplete outputs (asking for
            # --rerun-incomplete) or, before any job started, on the lock; with --rerun-incomplete (a user following
            # that advice) the lock stops it. A second run that waited for the lock would hang here (timeout)
            for key, extra in (("second", ()), ("second_rerun", ("--rerun-incomplete",))):
                t0 = time.monotonic()
                res = snakemake("--directory", str(work), "--configfile", str(TINY), "--cores", "1", *extra,
                                *FILES, timeout=600)
                seen[key] = (res, time.monotonic() - t0)
        finally:
            os.killpg(proc.pid, signal.SIGCONT)
        proc.wait(timeout=3600)
    finally:
        if proc.poll() is None:
            _kill(proc)
    assert proc.returncode == 0, _output(work, proc)
    seen["work"] = work
    return seen


@pytest.mark.parametrize("stage", ["training", "enrichment"])
def test_killed_jobs_leave_no_complete_looking_output(faulted, stage):
    """Checked right after each SIGKILL (in the fixture): here, what was killed and what Snakemake asked."""
    assert faulted[stage]["killed"]
    message = faulted[f"{stage}_message"]
    if message:  # outputs of a killed job exist (complete, atomic): Snakemake asks for --rerun-incomplete
        assert "--rerun-incomplete" in message and "incomplete" in message.lower(), message[-2000:]


def test_second_snakemake_on_the_same_directory_fails_fast_with_the_lock_message(faulted):
    """Nothing it could have touched differs from the uninterrupted run (test_resumed_run_has_the_tables_...)."""
    for key in ("second", "second_rerun"):
        second, seconds = faulted[key]
        assert second.returncode != 0, (key, second.stdout[-2000:], second.stderr[-3000:])
        if key == "second":  # stopped before any job: on the paused jobs' incomplete outputs or on the lock
            assert LOCKED in second.stderr or "--rerun-incomplete" in second.stderr, second.stderr[-3000:]
        else:
            assert LOCKED in second.stderr, second.stderr[-3000:]
        # it ran no job and wrote nothing: its log says so (the first run was paused all along, so it did not wait)
        assert "Finished jobid" not in second.stderr, (key, f"{seconds:.0f} s", second.stderr[-3000:])


def test_resumed_run_has_the_tables_of_an_uninterrupted_run(faulted, tiny_run):
    results = faulted["work"] / "results"
    ours, reference = _data_files(results), _data_files(tiny_run)
    assert all(f.removeprefix("results/") in ours for f in FILES), sorted(ours)
    assert not set(ours) - set(reference), sorted(set(ours) - set(reference))
    differ = [name for name in sorted(ours) if ours[name].read_bytes() != reference[name].read_bytes()]
    assert not differ, f"{len(differ)} of {len(ours)} files differ from the uninterrupted run: {differ[:20]}"
    assert not list(results.rglob("*.part")), "temporary files of killed jobs were left behind"
