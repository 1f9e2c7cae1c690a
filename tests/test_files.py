import pandas as pd
import pytest

from radiogenomics import files


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.tsv"
    with pytest.raises(RuntimeError):
        with files.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_tables_and_json_roundtrip(tmp_path):
    df = pd.DataFrame({"a": [1, 2]}, index=pd.Index(["x", "y"], name="patient"))
    for suffix in (".tsv", ".csv", ".parquet"):
        files.write_table(df, tmp_path / f"t{suffix}", index=True)
    assert files.read_table(tmp_path / "t.parquet").equals(df)
    files.write_json({"n": 1}, tmp_path / "j.json")
    assert files.read_json(tmp_path / "j.json") == {"n": 1}
    with pytest.raises(ValueError, match="unknown table format"):
        files.write_table(df, tmp_path / "t.xlsx")


def test_patient_id_and_input_error_message():
    assert files.patient_id("TCGA-02-0003-01A-01") == "TCGA-02-0003"
    with pytest.raises(ValueError):
        files.patient_id("TCGA-02")
    err = files.InputError("a.tsv", "expected a number", row="GENE1", column="TCGA-02-0003-01A")
    assert str(err) == "file a.tsv, row GENE1, column 'TCGA-02-0003-01A': expected a number"


def test_outputs_get_umask_permissions(tmp_path):
    import os

    files.write_text("x", tmp_path / "a.txt")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~mask
