from pathlib import Path

import pandas as pd
import pytest

from radiogenomics import errors, results
from radiogenomics.inputs import ids


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.tsv"
    with pytest.raises(RuntimeError):
        with results.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_tables_and_json_roundtrip(tmp_path):
    df = pd.DataFrame({"a": [1, 2]}, index=pd.Index(["x", "y"], name="patient"))
    for suffix in (".tsv", ".csv", ".parquet"):
        results.write_table(df, tmp_path / f"t{suffix}", index=True)
    assert results.read_table(tmp_path / "t.parquet").equals(df)
    results.write_json({"n": 1}, tmp_path / "j.json")
    assert results.read_json(tmp_path / "j.json") == {"n": 1}
    with pytest.raises(ValueError, match="unknown table format"):
        results.write_table(df, tmp_path / "t.xlsx")


def test_patient_id_and_input_error_message():
    assert ids.patient_id("TCGA-02-0003-01A-01") == "TCGA-02-0003"
    with pytest.raises(ValueError):
        ids.patient_id("TCGA-02")
    err = errors.InputError("a.tsv", "expected a number", row="GENE1", column="TCGA-02-0003-01A")
    assert str(err) == "file a.tsv, row GENE1, column 'TCGA-02-0003-01A': expected a number"


def test_outputs_get_umask_permissions(tmp_path):
    import os

    results.write_text("x", tmp_path / "a.txt")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~mask


def test_a_writer_killed_mid_write_leaves_only_a_hidden_part_file_removed_by_the_next_write(tmp_path):
    """SIGKILL runs no clean-up: the half-written temporary file stays, hidden, and the output does not exist; the
    next write of the same output removes it (and nothing that belongs to another output)."""
    import signal
    import subprocess
    import sys

    target = tmp_path / "scores.tsv"
    other = tmp_path / ".scores.tsv.gz.abcdefgh.part"  # another output's temporary file: kept
    other.write_text("x")
    code = ("import sys, time\nfrom radiogenomics import results\n"
            f"with results.atomic_path({str(target)!r}) as tmp:\n"
            "    tmp.write_text('half a table')\n    print('writing', flush=True)\n    time.sleep(600)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            cwd=Path(results.__file__).parents[1])
    try:
        assert proc.stdout.readline().strip() == "writing"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    left = sorted(p.name for p in tmp_path.iterdir())
    assert not target.exists() and len(left) == 2 and other.name in left
    stale = next(n for n in left if n != other.name)
    assert stale.startswith(".scores.tsv.") and stale.endswith(".part")
    results.write_text("a\tb\n", target)
    assert target.read_text() == "a\tb\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([other.name, target.name])
