"""Generic plain tables of any cohort: matrices, targets, features, patient lists and survival, with a configurable
patient-ID rule.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from radiogenomics.errors import InputError, log_dropped
from radiogenomics.inputs.checks import (
    SAMPLE_RE,
    PathLike,
    check_duplicated_labels,
    check_file,
    check_unique_header,
    open_text,
    parse_numeric,
    separator_hint,
)
from radiogenomics.inputs.clanc import read_clanc
from radiogenomics.inputs.expression import EXPRESSION_FORMATS, read_expression_matrix, select_samples
from radiogenomics.inputs.ids import IdRule, IdRuleError, IdRuleSpec, make_id_rule

log = logging.getLogger(__name__)


def read_expression_input(path: PathLike, *, fmt: str = "xena", orientation: str = "genes_x_samples",
                          id_rule: IdRuleSpec = "identity") -> tuple[pd.DataFrame, pd.DataFrame]:
    """An expression input of any configured format (``inputs.expression_format``): ``xena``
    (:func:`read_expression_matrix`), ``clanc`` (the expression block of :func:`read_clanc`) or ``matrix``
    (:func:`read_matrix` in ``orientation`` with ``id_rule``). Returns (patients x genes, samples table)."""
    if fmt == "clanc":
        table = read_clanc(path)
        return table.expression, table.samples
    if fmt == "matrix":
        return read_matrix(path, orientation=orientation, id_rule=id_rule, return_samples=True)
    if fmt == "xena":
        return read_expression_matrix(path)
    raise ValueError(f"unknown expression format {fmt!r}; expected one of {EXPRESSION_FORMATS}")


#: Layouts :func:`read_matrix` reads.
MATRIX_ORIENTATIONS = ("genes_x_samples", "samples_x_genes")


#: Cells read as missing in plain target and survival tables (every other value stays a string).
TARGET_MISSING = frozenset({"", "NA"})


#: Columns of the per-sample report of :func:`read_matrix` (``return_samples=True``).
MATRIX_SAMPLE_COLUMNS = ["sample", "patient", "kept", "reason"]


#: Columns of the problems table of :func:`read_survival_table` (as ``survival.overall_survival``).
SURVIVAL_PROBLEM_COLUMNS = ["patient", "problem"]


#: Event words of :func:`read_survival_table` (compared in lower case); 0/1 are accepted too.
EVENT_WORDS = {
    **{w: 1 for w in ("1", "dead", "deceased", "died", "death", "event", "true")},
    **{w: 0 for w in ("0", "alive", "living", "censored", "false")},
}


_SEPARATOR_NAMES = {"\t": "tab", ",": "comma", ";": "semicolon", " ": "space", "|": "pipe"}


def infer_separator(path: PathLike, sep: str | None = None) -> str:
    """The column separator of a plain table: ``sep`` when given, else from the suffix
    (``.tsv`` / ``.txt`` / ``.tab`` -> tab, ``.csv`` -> comma; a trailing ``.gz`` is ignored)."""
    path = Path(path)
    if sep is not None:
        if not isinstance(sep, str) or len(sep) != 1:
            raise ValueError(f"sep must be a single character such as '\\t' or ',', got {sep!r}")
        return sep
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in (".tsv", ".txt", ".tab"):
        return "\t"
    if suffix == ".csv":
        return ","
    raise InputError(path, f"cannot tell the column separator from the file name suffix {suffix or '(none)'!r}; "
                           "expected .tsv / .txt / .tab (tab-separated) or .csv (comma-separated), or give sep")


class _Delimited:
    """A plain delimited table opened for reading: ``header`` (stripped cells) and ``rows()``.

    ``rows()`` yields ``(line number, fields)`` for each non-blank data row; a
    row with a different number of fields than the header is an InputError
    naming the line. One trailing separator on every line (header included)
    is tolerated. Blank lines are skipped and counted in the log.
    """

    def __init__(self, path: Path, sep: str):
        self.path = path
        self.sep = sep
        self._fh = open_text(path)
        self._reader = csv.reader(self._fh, delimiter=sep)
        try:
            header = next(self._reader)
        except StopIteration:
            self._fh.close()
            raise InputError(path, "empty file; expected a header row", row=1) from None
        except UnicodeDecodeError as exc:
            self._fh.close()
            raise InputError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start}); save the table as UTF-8",
                             row=1) from None
        header = [c.strip() for c in header]
        if header:
            header[0] = header[0].lstrip("\ufeff").strip()  # a byte-order mark (spreadsheet exports)
        if len(header) == 1 and separator_hint(header[0], sep):
            self._fh.close()
            raise InputError(path, "the header row has a single column" + separator_hint(header[0], sep)
                             + " (the separator comes from the file name: .tsv/.txt/.tab tab, .csv comma)", row=1)
        self._unnamed_last = len(header) > 2 and header[-1] == ""
        if self._unnamed_last:
            header = header[:-1]  # a trailing separator, or a last column without a name (checked per row)
        self.header = header

    def __enter__(self) -> "_Delimited":
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        n = len(self.header)
        name = _SEPARATOR_NAMES.get(self.sep, repr(self.sep))
        blank: list[int] = []
        while True:
            try:
                record = next(self._reader)
            except StopIteration:
                break
            except UnicodeDecodeError as exc:
                raise InputError(self.path, f"not UTF-8 text ({exc.reason}) after line {self._reader.line_num}; "
                                            "save the table as UTF-8", row=self._reader.line_num + 1) from None
            line = self._reader.line_num
            if not record or all(not c.strip() for c in record):
                blank.append(line)
                continue
            if len(record) == n + 1 and self._unnamed_last:
                if record[-1].strip():
                    raise InputError(self.path, f"column {n + 1} has values (e.g. {record[-1].strip()!r}) but no "
                                                "name in the header row; every column needs a name",
                                     row=line, column=f"column {n + 1}")
                record = record[:-1]
            elif len(record) == n + 1 and not record[-1].strip():
                record = record[:-1]
            if len(record) != n:
                raise InputError(self.path, f"expected {n} {name}-separated fields as in the header row, found "
                                            f"{len(record)}", row=line)
            yield line, record
        if blank:
            log.info("%s: skipped %d blank line(s) (lines %s)", self.path, len(blank),
                     ", ".join(map(str, blank[:10])) + (" ..." if len(blank) > 10 else ""))


def _map_ids(rule: IdRule, value: str, path: Path, row: object, column: object) -> tuple[str, str]:
    """(normalised sample ID, patient ID) of one raw ID; InputError naming file, row and column."""
    try:
        return rule.normalise(value), rule(value)
    except IdRuleError as exc:
        raise InputError(path, f"{exc} (ID rule: {rule.describe()})", row=row, column=column) from None


def read_matrix(path: PathLike, *, orientation: str, id_rule: IdRuleSpec = "identity", sep: str | None = None,
                return_samples: bool = False) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Read a plain expression matrix (any cohort) into patients x genes.

    Format: a delimited text table (separator from the suffix, see
    :func:`infer_separator`; ``.gz`` read directly; quoted cells allowed).
    ``orientation="genes_x_samples"``: the header row is a label cell then the
    sample IDs, each further row a gene symbol then one value per sample (the
    Xena layout). ``orientation="samples_x_genes"``: the header row is a label
    cell then gene symbols, each further row a sample ID then one value per
    gene. Missing values are ``NA``, ``NaN``, ``null``, ``N/A`` or empty.

    Sample IDs become patient IDs by ``id_rule`` (:func:`ids.make_id_rule`:
    ``"identity"``, ``"tcga"`` or ``{"regex": ..., "group": ...}``). Several
    samples of one patient are an error, except with the ``"tcga"`` rule and
    full sample barcodes, where :func:`select_samples` keeps one tumour sample
    per patient (normals and controls dropped). Genes with a missing value in
    a kept sample are dropped (counted and logged, with examples).

    Returns patients x genes (float64, index ``patient``, genes in file
    order); with ``return_samples`` also a table with one row per sample:
    ``sample`` (the ID as read), ``patient``, ``kept``, ``reason``.

    Raises
    ------
    InputError
        An unknown suffix without ``sep``, an empty file, a header without
        sample / gene names, an empty or duplicated gene symbol or sample ID
        (rows or columns named), a row with the wrong number of fields, a
        non-numeric cell (row and column named), an ID the rule cannot map,
        two samples mapping to one patient (both named), no sample left, or
        every gene with a missing value.
    """
    if orientation not in MATRIX_ORIENTATIONS:
        raise ValueError(f"orientation must be one of {MATRIX_ORIENTATIONS}, got {orientation!r}")
    path = check_file(path)
    rule = make_id_rule(id_rule)
    delimiter = infer_separator(path, sep)
    genes_in_rows = orientation == "genes_x_samples"
    row_what, col_what = ("gene", "sample") if genes_in_rows else ("sample", "gene")
    name_of = {"gene": "gene symbol", "sample": "sample ID"}
    labels: list[str] = []
    lines: list[int] = []
    rows: list[np.ndarray] = []
    with _Delimited(path, delimiter) as table:
        header = table.header
        names = header[1:]
        if not names:
            raise InputError(path, f"no {col_what}s: the header row has only the label cell {header[0]!r}; expected "
                                   f"a label cell then one {name_of[col_what]} per column ({orientation})", row=1)
        for pos, name in enumerate(names, start=2):
            if not name:
                raise InputError(path, f"empty {name_of[col_what]} in the header row; every column after the first "
                                       f"needs a {name_of[col_what]} ({orientation})", row=1, column=f"column {pos}")
        check_unique_header(names, path, row=1, what=name_of[col_what], first_column=2)
        for line, record in table.rows():
            label = record[0].strip()
            if not label:
                raise InputError(path, f"empty {name_of[row_what]} in the first column ({orientation})", row=line,
                                 column=header[0] or "column 1")
            rows.append(parse_numeric(record[1:], path, line, label, names, label_what=row_what, name_what=col_what,
                                       value_what="value"))
            labels.append(label)
            lines.append(line)
    if not labels:
        raise InputError(path, f"no {row_what} rows after the header row ({orientation})")
    check_duplicated_labels(labels, lines, path, name_of[row_what])
    values = np.vstack(rows)
    id_column = header[0] or "column 1"
    if genes_in_rows:
        genes, sample_ids = labels, list(names)
        values = values.T
        where = [(1, s) for s in sample_ids]
        gene_where = [f"row {ln}" for ln in lines]
    else:
        genes, sample_ids = list(names), labels
        where = [(ln, id_column) for ln in lines]
        gene_where = [f"column {j}" for j in range(2, len(genes) + 2)]

    normalised, patients = [], []
    for sid, (row, column) in zip(sample_ids, where):
        norm, patient = _map_ids(rule, sid, path, row, column)
        normalised.append(norm)
        patients.append(patient)
    keep = np.ones(len(sample_ids), dtype=bool)
    reasons = ["kept"] * len(sample_ids)
    if rule.kind == "tcga":
        barcode_pos = [i for i, s in enumerate(normalised) if SAMPLE_RE.match(s)]
        if barcode_pos:
            chosen = select_samples([normalised[i] for i in barcode_pos], source=path)
            for i, kept, reason in zip(barcode_pos, chosen["kept"], chosen["reason"]):
                keep[i] = bool(kept)
                reasons[i] = reason
    first_of: dict[str, int] = {}
    for i in np.flatnonzero(keep):
        patient = patients[i]
        if patient in first_of:
            j = first_of[patient]
            if rule.kind == "tcga":
                hint = ("a bare patient barcode cannot be ranked against another sample of the patient; give full "
                        "sample barcodes (e.g. 'TCGA-02-0003-01A') so one tumour sample per patient is chosen")
            else:
                hint = ("expected one sample per patient: remove the extra samples, or use the 'tcga' ID rule for "
                        "TCGA sample barcodes (one tumour sample per patient is then chosen)")
            row_j, col_j = where[j]
            row_i, col_i = where[i]
            place_j = f"row {row_j}" if not genes_in_rows else f"column {col_j!r}"
            place_i = f"row {row_i}" if not genes_in_rows else f"column {col_i!r}"
            raise InputError(path, f"samples {sample_ids[j]!r} ({place_j}) and {sample_ids[i]!r} ({place_i}) both map "
                                   f"to patient {patient!r} under the ID rule {rule.describe()}; {hint}",
                             row=row_i, column=col_i)
        first_of[patient] = i
    if not keep.any():
        raise InputError(path, "no sample left after the one-tumour-sample-per-patient rule (all samples are normal "
                               "or control samples)")
    kept_idx = np.flatnonzero(keep)
    sub = values[kept_idx]
    missing = np.isnan(sub).any(axis=0)
    n_missing = int(missing.sum())
    log_dropped(log, f"matrix ({path}): genes", {"missing values (NA/empty) in a kept sample": n_missing},
                total=len(genes))
    if n_missing:
        first_nan = {j: sample_ids[kept_idx[int(np.argmax(np.isnan(sub[:, j])))]] for j in np.flatnonzero(missing)[:10]}
        examples = [f"{genes[j]} ({gene_where[j]}) at sample {sid!r}" for j, sid in first_nan.items()]
        log.warning("%s: dropped %d gene(s) with missing values, e.g. %s", path, n_missing,
                    ", ".join(examples))
    if n_missing == len(genes):
        raise InputError(path, "every gene has a missing value (NA/empty) in at least one kept sample; no gene left")
    frame = pd.DataFrame(np.ascontiguousarray(sub[:, ~missing]), columns=[g for g, m in zip(genes, missing) if not m],
                         index=pd.Index([patients[i] for i in kept_idx], name="patient"))
    log.info("%s: %s matrix, %d samples -> %d patients (ID rule %s) x %d genes", path, orientation, len(sample_ids),
             frame.shape[0], rule.describe(), frame.shape[1])
    if not return_samples:
        return frame
    samples = pd.DataFrame({"sample": sample_ids, "patient": patients, "kept": keep, "reason": reasons},
                           columns=MATRIX_SAMPLE_COLUMNS)
    return frame, samples


def _read_id_table(path: Path, rule: IdRule, delimiter: str, what: str
                   ) -> tuple[pd.DataFrame, dict[str, int], str]:
    """A one-row-per-patient plain table: strings, NA/empty -> NaN; also patient -> line and the ID column name."""
    patients: list[str] = []
    records: list[list[object]] = []
    row_of: dict[str, tuple[int, str]] = {}
    with _Delimited(path, delimiter) as table:
        header = table.header
        if len(header) < 2:
            raise InputError(path, f"expected a header row with an ID column and at least one {what} column, found "
                                   f"{len(header)} field(s) {header!r}", row=1)
        columns = header[1:]
        for pos, name in enumerate(columns, start=2):
            if not name:
                raise InputError(path, f"empty column name in the header row; every {what} column needs a name",
                                 row=1, column=f"column {pos}")
        check_unique_header(columns, path, row=1, what="column name", first_column=2)
        id_column = header[0] or "patient ID (first column)"
        for line, record in table.rows():
            _, patient = _map_ids(rule, record[0], path, line, id_column)
            if patient in row_of:
                first_line, first_raw = row_of[patient]
                ids = "" if first_raw == record[0].strip() else \
                    f" (IDs {first_raw!r} and {record[0].strip()!r} under the ID rule {rule.describe()})"
                raise InputError(path, f"duplicated patient {patient!r} in rows {first_line} and {line}{ids}; "
                                       "expected one row per patient", row=f"{first_line} and {line}",
                                 column=id_column)
            row_of[patient] = (line, record[0].strip())
            patients.append(patient)
            records.append([np.nan if c.strip() in TARGET_MISSING else c.strip() for c in record[1:]])
    if not records:
        raise InputError(path, "no data rows after the header row")
    frame = pd.DataFrame(records, columns=columns, index=pd.Index(patients, name="patient"), dtype=object)
    return frame, {p: ln for p, (ln, _) in row_of.items()}, id_column


def read_target_table(path: PathLike, *, id_rule: IdRuleSpec = "identity", sep: str | None = None) -> pd.DataFrame:
    """Read a plain target table: one row per patient, one column per target.

    Format: a delimited text table (separator from the suffix, see
    :func:`infer_separator`); the first column holds the patient (or sample)
    ID, mapped by ``id_rule`` (:func:`ids.make_id_rule`); the header names the
    targets. Values stay strings (stripped): the target definitions decide
    whether a column is continuous or categorical
    (:func:`targets.encode_target`). ``NA`` and empty cells become NaN.

    Returns patients x targets (dtype object, index ``patient``, rows and
    columns in file order).

    Raises
    ------
    InputError
        An unknown suffix without ``sep``, an empty file, a header without
        target columns, an empty or duplicated column name, a row with the
        wrong number of fields, an ID the rule cannot map (row named), or two
        rows of one patient (both rows named).
    """
    path = check_file(path)
    rule = make_id_rule(id_rule)
    frame, _, _ = _read_id_table(path, rule, infer_separator(path, sep), "target")
    n_missing = frame.isna().sum()
    log.info("%s: target table for %d patients x %d columns (ID rule %s); missing cells per column: %s", path,
             len(frame), frame.shape[1], rule.describe(),
             {c: int(n) for c, n in n_missing.items() if n} or "none")
    return frame


def read_table_columns(path: PathLike, *, sep: str | None = None) -> list[str]:
    """The column names of a plain one-row-per-patient table after its ID column (the header row only),
    e.g. to declare one target per column of a target table before the workflow runs."""
    path = check_file(path)
    with _Delimited(path, infer_separator(path, sep)) as table:
        header = table.header
    if len(header) < 2:
        raise InputError(path, f"expected a header row with an ID column and at least one more column, found "
                               f"{len(header)} field(s) {header!r}", row=1)
    columns = header[1:]
    for pos, name in enumerate(columns, start=2):
        if not name:
            raise InputError(path, "empty column name in the header row", row=1, column=f"column {pos}")
    check_unique_header(columns, path, row=1, what="column name", first_column=2)
    return list(columns)


#: Layouts of the target table (inputs.targets_format): plain strings, or an imaging-feature table.
TARGET_FORMATS = ("plain", "features")


#: Default largest share of patients a feature may be missing for before the column is dropped.
FEATURE_MAX_MISSING = 0.5


def read_feature_table(path: PathLike, *, id_rule: IdRuleSpec = "identity", ignore_columns: Sequence[str] = (),
                       max_missing: float = FEATURE_MAX_MISSING, sep: str | None = None,
                       return_dropped: bool = False) -> pd.DataFrame | tuple[pd.DataFrame, dict[str, str]]:
    """Read an imaging-feature table: one row per patient, one numeric column per feature.

    The layout of the TCIA radiomic tables (e.g. Bakas et al. 2017, ``TCGA_GBM_radiomicFeatures.csv``):
    a delimited text table (separator from the suffix, see :func:`infer_separator`), first column the
    patient ID (mapped by ``id_rule``), the columns in ``ignore_columns`` (e.g. the scan ``Date``) read
    and discarded (they must exist), every other column a number per patient; ``NA`` and empty cells are
    missing. A column missing for more than ``max_missing`` of the patients (e.g. the tumour-growth-model
    ``TGM_*`` columns, empty for most TCGA-GBM patients), or constant across the patients that have it,
    is dropped, and the log names every dropped column with its missing count and the threshold.

    Returns patients x features (float64, index ``patient``, rows and columns in file order); with
    ``return_dropped`` also ``{column: reason}`` of the dropped columns (ignored columns included).

    Raises
    ------
    InputError
        The errors of :func:`read_target_table`; an ``ignore_columns`` entry the table lacks (its
        columns listed); a value that is not a number or is infinite (row, patient and column named,
        with a hint to list a non-feature column under ``ignore_columns``); no feature left.
    """
    if not 0.0 <= float(max_missing) <= 1.0:
        raise ValueError(f"max_missing must be a share between 0 and 1, got {max_missing!r}")
    path = check_file(path)
    rule = make_id_rule(id_rule)
    table, line_of, id_column = _read_id_table(path, rule, infer_separator(path, sep), "feature")
    ignore = list(dict.fromkeys(str(c) for c in ignore_columns))
    absent = [c for c in ignore if c not in table.columns]
    if absent:
        raise InputError(path, f"column(s) {absent} listed as not features (ignore_columns) are not in the table; "
                               f"its columns are {list(table.columns[:8])}{' ...' if table.shape[1] > 8 else ''}",
                         row=1, column=absent[0])
    dropped: dict[str, str] = {c: "not a feature (ignore_columns)" for c in ignore}
    features = table.drop(columns=ignore)
    values = np.empty(features.shape, dtype=np.float64)
    for j, column in enumerate(features.columns):
        cells = features[column]
        numeric = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64)
        bad = (np.isnan(numeric) & cells.notna().to_numpy()) | np.isinf(numeric)
        if bad.any():
            patient = features.index[np.flatnonzero(bad)[0]]
            raise InputError(path, f"feature {column!r} of patient {patient!r} is {cells[patient]!r}, not a finite "
                                   f"number ({int(bad.sum())} such cell(s) in the column); expected a number or a "
                                   "missing value (NA or empty). If the column is not a feature (an ID, a date, a "
                                   "label), list it under ignore_columns (inputs.features.ignore_columns)",
                             row=f"{line_of[patient]} (patient {patient})", column=column)
        values[:, j] = numeric
    frame = pd.DataFrame(values, index=features.index, columns=features.columns)
    n = len(frame)
    n_missing = frame.isna().sum()
    too_sparse = [c for c in frame.columns if n_missing[c] > max_missing * n]
    for c in too_sparse:
        dropped[c] = f"missing for {int(n_missing[c])} of {n} patients (more than max_missing {max_missing:g})"
    if too_sparse:
        log.warning("%s: dropped %d feature column(s) missing for more than %g of the %d patients (max_missing): %s",
                    path, len(too_sparse), max_missing, n,
                    ", ".join(f"{c} ({int(n_missing[c])} missing)" for c in too_sparse))
    frame = frame.drop(columns=too_sparse)
    constant = [c for c in frame.columns if frame[c].nunique(dropna=True) < 2]
    for c in constant:
        dropped[c] = "constant across the patients that have it"
    if constant:
        log.warning("%s: dropped %d constant feature column(s): %s", path, len(constant), ", ".join(constant))
    frame = frame.drop(columns=constant)
    if frame.shape[1] == 0:
        raise InputError(path, f"no feature column left: {len(ignore)} ignored, {len(too_sparse)} missing for more "
                               f"than {max_missing:g} of the patients, {len(constant)} constant")
    log.info("%s: imaging-feature table for %d patients x %d features (ID rule %s; ignored column(s) %s; %d "
             "dropped as missing for more than %g of the patients, %d constant); missing cells in the kept "
             "features: %d", path, n, frame.shape[1], rule.describe(), ignore or "none", len(too_sparse),
             max_missing, len(constant), int(frame.isna().sum().sum()))
    frame.index.name = "patient"
    return (frame, dropped) if return_dropped else frame


def read_targets_input(path: PathLike, *, fmt: str = "plain", id_rule: IdRuleSpec = "identity",
                       features: Mapping[str, object] | None = None) -> pd.DataFrame:
    """The target table in its configured layout (``inputs.targets_format``): ``plain``
    (:func:`read_target_table`, strings) or ``features`` (:func:`read_feature_table` with the
    ``inputs.features`` options ``ignore_columns`` and ``max_missing``)."""
    if fmt == "plain":
        return read_target_table(path, id_rule=id_rule)
    if fmt == "features":
        options = dict(features or {})
        unknown = set(options) - {"ignore_columns", "max_missing"}
        if unknown:
            raise ValueError(f"feature-table options: unknown key(s) {sorted(unknown)} (ignore_columns, max_missing)")
        return read_feature_table(path, id_rule=id_rule, ignore_columns=options.get("ignore_columns") or (),
                                  max_missing=options.get("max_missing", FEATURE_MAX_MISSING))
    raise ValueError(f"unknown target table format {fmt!r}; expected one of {TARGET_FORMATS}")


def read_patient_list(path: PathLike, *, id_rule: IdRuleSpec = "identity", sep: str | None = None) -> list[str]:
    """Read a list of patients (e.g. a declared held-out test split): a header row, then one patient (or
    sample) ID per row in the first column, mapped by ``id_rule``; further columns are ignored.
    A one-column file needs no separator (any suffix). Raises InputError for an ID the rule cannot map
    or a patient listed twice (both rows named), or no ID at all."""
    path = check_file(path)
    try:
        delimiter = infer_separator(path, sep)
    except InputError:
        delimiter = "\t"
    rule = make_id_rule(id_rule)
    seen: dict[str, int] = {}
    with _Delimited(path, delimiter) as table:
        id_column = table.header[0] or "column 1"
        for line, record in table.rows():
            _, patient = _map_ids(rule, record[0], path, line, id_column)
            if patient in seen:
                raise InputError(path, f"patient {patient!r} is listed twice (rows {seen[patient]} and {line})",
                                 row=line, column=id_column)
            seen[patient] = line
    if not seen:
        raise InputError(path, "no patient ID after the header row")
    log.info("%s: %d patients (ID rule %s)", path, len(seen), rule.describe())
    return list(seen)


def _event_code(raw: str) -> int | None:
    """1 / 0 for an event word or number, None for anything else."""
    text = raw.strip().lower()
    if text in EVENT_WORDS:
        return EVENT_WORDS[text]
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value in (0.0, 1.0) else None


def read_survival_table(path: PathLike, *, id_rule: IdRuleSpec = "identity", time_column: str = "time",
                        event_column: str = "event", sep: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a plain survival table: patient ID, a time column and an event column.

    Format: a delimited text table (separator from the suffix, see
    :func:`infer_separator`), first column the patient (or sample) ID mapped
    by ``id_rule``; ``time_column`` holds the follow-up time (a number, any
    unit, the same for every patient) and ``event_column`` 1 / 0 or a word:
    1 = ``dead``, ``deceased``, ``died``, ``death``, ``event``, ``true``;
    0 = ``alive``, ``living``, ``censored``, ``false`` (any case). Other
    columns are ignored (logged).

    Returns
    -------
    endpoint
        Index ``patient``; ``time`` (float) and ``event`` (int, 1 = event).
    problems
        Columns ``patient``, ``problem``: one row per patient left out and why
        (missing time, negative time, missing event; the file row is in the
        text). Such patients never raise.

    Raises
    ------
    InputError
        A missing time or event column (the columns present listed), a time
        that is text or infinite, an event value that is neither 0/1 nor an
        event word (row and column named), the errors of
        :func:`read_target_table`, or no patient with a usable endpoint.
    """
    if time_column == event_column:
        raise ValueError(f"time_column and event_column are both {time_column!r}; they must be different columns")
    path = check_file(path)
    rule = make_id_rule(id_rule)
    table, line_of, _ = _read_id_table(path, rule, infer_separator(path, sep), "survival")
    for column, what in ((time_column, "time"), (event_column, "event")):
        if column not in table.columns:
            raise InputError(path, f"missing {what} column {column!r}; the table has columns {list(table.columns)} "
                                   f"(set the {what} column name)", row=1, column=column)
    records: dict[str, dict[str, float | int]] = {}
    problems: list[tuple[str, str]] = []
    for patient, raw_time, raw_event in zip(table.index, table[time_column], table[event_column]):
        line = line_of[patient]
        if not isinstance(raw_event, str):
            problems.append((patient, f"missing event: {event_column} is NA or empty (row {line})"))
            continue
        event = _event_code(raw_event)
        if event is None:
            raise InputError(path, f"event value {raw_event!r} for patient {patient!r} is not an event code; expected "
                                   "1 / 0 or a word: 1 = dead, deceased, died, death, event, true; 0 = alive, living, "
                                   "censored, false", row=line, column=event_column)
        if not isinstance(raw_time, str):
            problems.append((patient, f"missing time: {time_column} is NA or empty (row {line})"))
            continue
        try:
            time = float(raw_time)
        except ValueError:
            raise InputError(path, f"time value {raw_time!r} for patient {patient!r} is not a number; expected a "
                                   "follow-up time such as 365 (one unit for the whole column)",
                             row=line, column=time_column) from None
        if not np.isfinite(time):
            raise InputError(path, f"time value {raw_time!r} for patient {patient!r} is not finite", row=line,
                             column=time_column)
        if time < 0:
            problems.append((patient, f"negative time: {time_column} = {raw_time!r} (row {line})"))
            continue
        records[patient] = {"time": time, "event": event}
    problem_table = pd.DataFrame(problems, columns=SURVIVAL_PROBLEM_COLUMNS)
    reasons = problem_table["problem"].str.split(":").str[0].value_counts().to_dict() if problems else {}
    log_dropped(log, f"survival table ({path})", reasons, total=len(table))
    if problems:
        log.warning("%s: %d patient(s) left out of the survival analyses (columns %r, %r): %s", path, len(problems),
                    time_column, event_column,
                    "; ".join(f"{p}: {m}" for p, m in problems[:10]) + (" ..." if len(problems) > 10 else ""))
    if not records:
        raise InputError(path, f"no patient has a usable survival time and event ({len(problems)} problem row(s), "
                               f"e.g. {problems[0][0]}: {problems[0][1]})" if problems else
                         "no patient has a usable survival time and event")
    endpoint = pd.DataFrame.from_dict(records, orient="index", columns=["time", "event"])
    endpoint.index.name = "patient"
    endpoint["time"] = endpoint["time"].astype(float)
    endpoint["event"] = endpoint["event"].astype(int)
    ignored = [c for c in table.columns if c not in (time_column, event_column)]
    if ignored:
        log.info("%s: ignored column(s) %s (only %r and %r are read)", path, ignored, time_column, event_column)
    log.info("%s: survival for %d patients, %d events, %d censored (ID rule %s)", path, len(endpoint),
             int(endpoint["event"].sum()), int((endpoint["event"] == 0).sum()), rule.describe())
    return endpoint, problem_table
