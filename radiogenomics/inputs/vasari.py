"""VASARI feature tables (TCIA annotations): one row per patient."""

from __future__ import annotations

import csv
import logging

import numpy as np
import pandas as pd

from radiogenomics.errors import InputError
from radiogenomics.inputs.checks import (
    PathLike,
    check_file,
    check_unique_header,
    open_text,
    patient_from_id,
    patient_rows,
    separator_hint,
)

log = logging.getLogger(__name__)


def read_vasari(path: PathLike) -> pd.DataFrame:
    """Read the VASARI annotation CSV.

    Format: comma-separated with quoted strings; the first column (header
    cell empty) is the patient barcode; the other columns (``research.id``,
    ``scan.type``, ``f5.proportion.enhancing``, ..., ``comments``,
    ``study.date``) are kept as strings. Literal ``NA`` and empty cells
    become NaN; ``n/a`` and ``indeterminate`` stay strings (the target
    definitions decide what they mean).

    Returns a DataFrame indexed by ``patient`` (first 12 characters of the ID).

    Raises
    ------
    InputError
        A non-TCGA ID (row named), a duplicated patient (both rows named), a
        row with the wrong number of fields, duplicated column names, or no
        data rows.
    """
    path = check_file(path)
    with open_text(path) as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise InputError(path, "empty file; expected a header row", row=1) from None
        if len(header) < 2:
            raise InputError(path, f"expected a comma-separated header with an ID column and trait columns, found "
                                   f"{len(header)} field(s)" + separator_hint(",".join(header), ","), row=1)
        columns = [c.strip() for c in header[1:]]
        check_unique_header(columns, path, row=1, what="column name", first_column=2)
        id_column = header[0] or "patient ID (first column)"
        records: list[list[object]] = []
        patients: list[str] = []
        rows = patient_rows(reader, path, n_fields=len(header), separator="comma",
                             patient_of=lambda rec, line: patient_from_id(rec[0], path, row=line, column=id_column),
                             id_column=None, what="annotation")
        for patient, record in rows:
            patients.append(patient)
            records.append([np.nan if c.strip() in ("", "NA") else c for c in record[1:]])
    if not records:
        raise InputError(path, "no data rows after the header row")
    df = pd.DataFrame(records, columns=columns, index=pd.Index(patients, name="patient"), dtype=object)
    log.info("%s: VASARI annotations for %d patients, %d columns", path, len(df), df.shape[1])
    return df
