"""Peak resident memory of every job of a workflow run, grouped by script (rule family).

Runs ``snakemake`` with the given arguments and samples, every ``--interval`` seconds, the peak
resident set size (``VmHWM`` in /proc/PID/status: the kernel's high-water mark, so a peak between
two samples is still seen) of each process that runs a workflow script (``.snakemake/scripts/
tmpXXXX.<script>.py``) or a Snakemake job. Prints the largest peak per script and overall.

    python benchmarks/job_memory.py -- --cores 2 --configfile config/config.yaml --directory /tmp/run

Linux only (reads /proc). The numbers are per process: a job's children (none here: every job is one
Python process) would be listed under their own command line.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = re.compile(r"\.snakemake/scripts/tmp[^/ ]*?\.([A-Za-z0-9_]+)\.py")


def _status_kb(pid: int, key: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    m = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
    return int(m.group(1)) if m else None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, stack = [], [root]
    while stack:
        for c in children.get(stack.pop(), []):
            out.append(c)
            stack.append(c)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--interval", type=float, default=0.2, help="seconds between samples (default 0.2)")
    ap.add_argument("snakemake_args", nargs=argparse.REMAINDER, help="arguments after -- go to snakemake")
    args = ap.parse_args(argv)
    sm_args = [a for a in args.snakemake_args if a != "--"]
    snakemake = str(Path(sys.executable).parent / "snakemake")
    cmd = [snakemake, "--snakefile", str(REPO / "workflow" / "Snakefile"), *sm_args]
    start = time.monotonic()
    # snakemake's output goes to a file, not a pipe: a pipe nobody reads fills (64 kB) and blocks snakemake and its jobs
    log_file = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, text=True)
    peaks: dict[int, tuple[str, int]] = {}  # pid -> (script, peak kB)
    while proc.poll() is None:
        for pid in _descendants(proc.pid):
            m = SCRIPT.search(_cmdline(pid))
            if not m:
                continue
            hwm = _status_kb(pid, "VmHWM")
            if hwm is not None and hwm > peaks.get(pid, ("", 0))[1]:
                peaks[pid] = (m.group(1), hwm)
        time.sleep(args.interval)
    log_file.seek(0)
    err = log_file.read()
    log_file.close()
    wall = time.monotonic() - start
    if proc.returncode != 0:
        print(err[-4000:], file=sys.stderr)
        return proc.returncode
    by_script: dict[str, list[int]] = {}
    for script, kb in peaks.values():
        by_script.setdefault(script, []).append(kb)
    print(f"{'script (rule family)':32s} {'jobs':>5s} {'peak RSS MB':>12s} {'median MB':>10s}")
    for script, kbs in sorted(by_script.items(), key=lambda kv: -max(kv[1])):
        kbs.sort()
        print(f"{script:32s} {len(kbs):5d} {max(kbs) / 1024:12.0f} {kbs[len(kbs) // 2] / 1024:10.0f}")
    largest = max(((s, max(k)) for s, k in by_script.items()), key=lambda t: t[1], default=("none", 0))
    print(f"largest job peak: {largest[1] / 1024:.0f} MB ({largest[0]}); {sum(map(len, by_script.values()))} "
          f"script jobs sampled; wall {wall:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
