"""TCGA clinical Biotab tables: patients, vital status and numeric columns."""

from __future__ import annotations

import csv
import logging
from typing import Sequence

import numpy as np
import pandas as pd

from radiogenomics.errors import InputError
from radiogenomics.inputs.checks import (
    BRACKETED_RE,
    PATIENT_RE,
    PathLike,
    check_file,
    check_unique_header,
    open_text,
    patient_rows,
    separator_hint,
)

log = logging.getLogger(__name__)


def read_clinical_biotab(path: PathLike) -> pd.DataFrame:
    """Read a TCGA Biotab clinical patient table.

    Format: tab-separated with three header rows: the column names, short
    (legacy) names, and a row of ``CDE_ID:`` codes (its first cell starts
    with ``CDE_ID:``); then one patient per row. The index is
    ``bcr_patient_barcode`` (named ``patient``). Bracketed values
    (``[Not Available]``, ``[Not Applicable]``, ``[Unknown]``,
    ``[Discrepancy]``, ``[Not Evaluated]``, any ``[...]``) and empty cells
    become NaN; every other value stays a string (see :func:`numeric_column`).

    Raises
    ------
    InputError
        Fewer than three header rows / no ``CDE_ID:`` row, a missing
        ``bcr_patient_barcode`` column, a row with the wrong number of fields,
        a non-TCGA or duplicated patient barcode (rows named).
    """
    path = check_file(path)
    with open_text(path) as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header_rows: list[list[str]] = []
        for record in reader:
            header_rows.append(record)
            if len(header_rows) == 3:
                break
        if len(header_rows) < 3 or not header_rows[2] or not header_rows[2][0].startswith("CDE_ID:"):
            found = header_rows[2][0] if len(header_rows) == 3 and header_rows[2] else "nothing"
            raise InputError(path, "expected three header rows (column names, short names, and a row of 'CDE_ID:' "
                                   f"codes); row 3 starts with {found!r}", row=3)
        names = [c.strip() for c in header_rows[0]]
        if len(names) == 1 and separator_hint(names[0], "\t"):
            raise InputError(path, "the header row has a single column" + separator_hint(names[0], "\t"), row=1)
        for i, hrow in enumerate(header_rows[1:], start=2):
            if len(hrow) != len(names):
                raise InputError(path, f"header row {i} has {len(hrow)} fields but the names row has {len(names)}",
                                 row=i)
        check_unique_header(names, path, row=1, what="column name")
        if "bcr_patient_barcode" not in names:
            raise InputError(path, "missing required column 'bcr_patient_barcode' (the patient barcode)",
                             column="bcr_patient_barcode")
        id_pos = names.index("bcr_patient_barcode")
        records: list[list[object]] = []
        patients: list[str] = []

        def biotab_patient(record: list[str], line: int) -> str:
            raw_id = record[id_pos].strip()
            if PATIENT_RE.match(raw_id) is None:
                raise InputError(path, f"{raw_id!r} is not a TCGA patient barcode; expected e.g. 'TCGA-02-0003'",
                                 row=line, column="bcr_patient_barcode")
            return raw_id

        rows = patient_rows(reader, path, n_fields=len(names), separator="tab", patient_of=biotab_patient,
                             id_column="bcr_patient_barcode", what="row")
        lines: list[int] = []
        for patient, record in rows:
            patients.append(patient)
            lines.append(reader.line_num)
            values: list[object] = []
            for j, cell in enumerate(record):
                if j == id_pos:
                    continue
                text = cell.strip()
                values.append(np.nan if text == "" or BRACKETED_RE.match(text) else text)
            records.append(values)
    columns = [c for j, c in enumerate(names) if j != id_pos]
    df = pd.DataFrame(records, columns=columns, index=pd.Index(patients, name="patient"), dtype=object)
    if VITAL_STATUS_COLUMN in df.columns:
        check_vital_status(df[VITAL_STATUS_COLUMN].to_numpy(), lines, path)
    log.info("%s: clinical table for %d patients, %d columns", path, len(df), df.shape[1])
    return df


#: Biotab vital status column and the values it may hold (any case; bracketed markers and empty = missing).
VITAL_STATUS_COLUMN = "vital_status"


VITAL_STATUS_WORDS = {"dead": 1, "deceased": 1, "alive": 0, "living": 0}


def check_vital_status(values: Sequence[object], lines: Sequence[object], path: PathLike | None,
                       column: str = VITAL_STATUS_COLUMN) -> None:
    """InputError naming the rows of every vital status that is neither missing nor Dead / Alive (also
    Deceased / Living, any case): the same rule as the event codes of a plain survival table, which stop the
    run rather than drop the patients."""
    bad = [(line, v) for line, v in zip(lines, values)
           if isinstance(v, str) and v.strip() and not BRACKETED_RE.match(v.strip())
           and v.strip().lower() not in VITAL_STATUS_WORDS]
    if bad:
        shown = ", ".join(f"row {line}: {v!r}" for line, v in bad[:10]) + (" ..." if len(bad) > 10 else "")
        raise InputError(path, f"{len(bad)} unrecognised vital status value(s) ({shown}); expected Dead or Alive "
                               "(or Deceased / Living; empty or [Not Available] = missing)",
                         row=bad[0][0], column=column)


def numeric_column(df: pd.DataFrame, column: str, path: PathLike | None) -> pd.Series:
    """One column of a string table as floats; NaN stays NaN.

    Raises InputError naming the column when it is missing, and the row
    (patient) and column for a value that is neither missing nor a number.
    """
    if column not in df.columns:
        raise InputError(path, f"missing column {column!r}; the table has {list(df.columns)[:30]}", column=column)
    raw = df[column]
    out = pd.to_numeric(raw, errors="coerce").astype(np.float64)
    bad = out.isna() & raw.notna()
    if bad.any():
        patient = bad[bad].index[0]
        raise InputError(path, f"expected a number in column {column!r}, found {raw[patient]!r} "
                               f"({int(bad.sum())} non-numeric value(s) in this column)", row=patient, column=column)
    return out.rename(column)
