"""Parsers for the real input formats: one function per format.

Every parser checks its input and raises :class:`files.InputError` naming the
file, the row (1-based line number in the file, or the patient) and the column
of the first problem and what was expected. Nothing is dropped silently: every
dropped sample, gene, line or gene set is counted in a log line.

Formats
-------
``read_expression_matrix``
    UCSC Xena genes x samples matrix (tab-separated, header ``sample`` then
    TCGA sample barcodes, first column gene symbols).
``read_vasari``
    VASARI MR imaging annotations (CSV, first column the patient barcode).
``read_clinical_biotab``
    TCGA Biotab clinical patient table (tab-separated, three header rows).
``read_clanc``
    Verhaak et al. 2010 ``TCGA_unified_CORE_ClaNC840.txt`` (subtype labels,
    subtype gene sets and expression in one table).
``read_gmt`` / ``read_gene_set_table`` / ``read_gene_sets``
    MSigDB GMT files and column-wise gene-set tables (Puchalski 2018 Table S15).

Generic plain tables (any cohort; separator from the suffix, patient IDs by a
configurable rule of :mod:`radiogenomics.ids`):

``read_matrix``
    an expression matrix, genes x samples or samples x genes.
``read_target_table``
    one row per patient, one column per target (strings; typed later by
    :mod:`radiogenomics.targets`).
``read_survival_table``
    one row per patient with a time and an event column.
``read_feature_table``
    an imaging-feature table (TCIA radiomic features): one row per patient,
    numeric features; non-feature columns (a scan date) named and skipped,
    columns missing for most patients dropped (logged).

Sample barcodes (``TCGA-02-0003-01A``) and patient IDs (``TCGA-02-0003``,
the first 12 characters) differ. When a patient has several samples, one is
chosen by :func:`select_samples` (the rule is in its docstring).
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from .files import InputError, log_dropped
from .ids import IdRule, IdRuleError, IdRuleSpec, make_id_rule

log = logging.getLogger(__name__)

PathLike = str | os.PathLike

#: Verhaak 2010 subtypes in their usual order, and the ClaNC gene-set codes.
SUBTYPES = ("Proneural", "Neural", "Classical", "Mesenchymal")
SUBTYPE_CODES = {"PN": "Proneural", "NL": "Neural", "CL": "Classical", "MES": "Mesenchymal"}

#: Cells read as missing in numeric matrices.
NUMERIC_MISSING = frozenset({"", "NA", "NaN", "nan", "NAN", "null", "NULL", "N/A"})

SAMPLE_COLUMNS = ["barcode", "patient", "sample_type", "kept", "reason"]
GENE_SET_REPORT_COLUMNS = ["set", "n_genes_in_file", "n_genes_matched", "kept"]

# TCGA-TSS-PPPP-TTV...: tissue source site (2), participant (4), sample type (2 digits), vial letter.
_PATIENT_RE = re.compile(r"^TCGA-[A-Z0-9]{2}-[A-Z0-9]{4}$")
_PATIENT_PREFIX_RE = re.compile(r"^TCGA-[A-Z0-9]{2}-[A-Z0-9]{4}(?:-[A-Z0-9-]+)?$")
_SAMPLE_RE = re.compile(r"^TCGA-[A-Z0-9]{2}-[A-Z0-9]{4}-(\d{2})[A-Z]?(?:-[A-Z0-9-]+)?$")
_BRACKETED_RE = re.compile(r"^\[.*\]$")


# --------------------------------------------------------------------------- helpers


class _TextLines:
    """Lines of an opened text file; a truncated or corrupt gzip stream, or bytes that are not UTF-8, become an
    InputError naming the file and the line reached (instead of a bare EOFError / zlib / decode error)."""

    def __init__(self, fh: io.TextIOBase, path: Path):
        self._fh = fh
        self._path = path
        self._line = 0

    def __iter__(self) -> "_TextLines":
        return self

    def __next__(self) -> str:
        try:
            line = next(self._fh)
        except StopIteration:
            raise
        except UnicodeDecodeError as exc:
            raise InputError(self._path, f"not UTF-8 text ({exc.reason}); save the table as UTF-8 text",
                             row=self._line + 1) from None
        except (EOFError, OSError, zlib.error) as exc:
            raise InputError(self._path, f"cannot decompress the gzip file after line {self._line} ({exc}); the "
                                         "file is truncated or corrupt: download or compress it again",
                             row=self._line + 1) from None
        self._line += 1
        return line

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> "_TextLines":
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()


def _open_text(path: Path) -> _TextLines:
    """Open a text file (gzip when the name ends in .gz); universal newlines turn CRLF into LF."""
    if path.suffix == ".gz":
        return _TextLines(gzip.open(path, "rt", newline=None), path)
    return _TextLines(open(path, "r", newline=None), path)


_GZIP_MAGIC = b"\x1f\x8b"


def _check_file(path: PathLike) -> Path:
    """The path of an input file that exists and is not empty (InputError naming it otherwise); a ``.gz``
    name must hold gzip data."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    if not path.is_file():
        raise InputError(path, "not a regular file (a directory?); expected a table")
    size = path.stat().st_size
    if size == 0:
        raise InputError(path, "empty file (0 bytes)" + ("; a .gz file needs at least a gzip header: it was not "
                                                         "written completely" if path.suffix == ".gz" else ""))
    if path.suffix == ".gz":
        with open(path, "rb") as fh:
            magic = fh.read(2)
        if magic != _GZIP_MAGIC:
            raise InputError(path, f"the name ends in .gz but the file is not gzip-compressed (first bytes "
                                   f"{magic!r}); compress it with gzip or drop the .gz suffix")
    return path


#: Separators a table may have been written with, and their names in messages.
_OTHER_SEPARATORS = {"\t": "tab", ",": "comma", ";": "semicolon"}


def _separator_hint(text: str, expected: str) -> str:
    """A hint for a line that has none of the ``expected`` separator but another one ('' when none applies)."""
    if expected in text:
        return ""
    counts = {sep: text.count(sep) for sep in _OTHER_SEPARATORS if sep != expected}
    sep, n = max(counts.items(), key=lambda kv: kv[1])
    if n == 0:
        return ""
    return (f"; the file looks {_OTHER_SEPARATORS[sep]}-separated ({n} {_OTHER_SEPARATORS[sep]}s and no "
            f"{_OTHER_SEPARATORS.get(expected, repr(expected))}s in the header row), but "
            f"{_OTHER_SEPARATORS.get(expected, repr(expected))}-separated fields are expected here")


def _tab_lines(fh: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its line ending)."""
    for number, line in enumerate(fh, start=1):
        yield number, line.rstrip("\r\n")


def _sample_type(barcode: str, path: Path, row: int, column: str) -> int:
    m = _SAMPLE_RE.match(barcode)
    if m is None:
        raise InputError(path, f"{barcode!r} is not a TCGA sample barcode; expected e.g. 'TCGA-02-0003-01A' "
                               "(project-TSS-participant-sample type and vial)", row=row, column=column)
    sample_type = int(m.group(1))
    if sample_type == 0:
        raise InputError(path, f"sample barcode {barcode!r} has sample type 00; TCGA sample types are 01-99",
                         row=row, column=column)
    return sample_type


def _patient_from_id(value: object, path: Path, row: int, column: str | None = None) -> str:
    """Patient ID (12 characters) of a patient or sample barcode; InputError for anything else."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(path, "missing patient ID; expected a TCGA barcode such as 'TCGA-02-0003'",
                         row=row, column=column)
    text = value.strip()
    if _PATIENT_PREFIX_RE.match(text) is None:
        raise InputError(path, f"{text!r} is not a TCGA patient ID; expected e.g. 'TCGA-02-0003'",
                         row=row, column=column)
    return text[:12]


def _check_unique_header(names: Sequence[str], path: Path, row: int, what: str, first_column: int = 1) -> None:
    """InputError for a name listed twice; ``first_column`` is the file column of ``names[0]`` (1-based)."""
    seen: dict[str, int] = {}
    for pos, name in enumerate(names, start=first_column):
        if name in seen:
            raise InputError(path, f"duplicated {what} {name!r} (columns {seen[name]} and {pos}); each must be unique",
                             row=row, column=name)
        seen[name] = pos


def _parse_numeric(fields: Sequence[str], path: Path, line: int, gene: str, labels: Sequence[str]) -> np.ndarray:
    """Float values of one matrix row; missing cells -> NaN; InputError naming gene and sample for text."""
    try:
        values = np.array(fields, dtype=np.float64)
    except ValueError:
        values = None
    if values is not None and not np.isinf(values).any():
        return values
    out = np.empty(len(fields), dtype=np.float64)
    for j, cell in enumerate(fields):
        text = cell.strip()
        if text in NUMERIC_MISSING:
            out[j] = np.nan
            continue
        try:
            out[j] = float(text)
            if np.isinf(out[j]):
                raise ValueError(text)
        except ValueError:
            raise InputError(path, f"non-numeric expression value {cell!r} for gene {gene!r}, sample {labels[j]!r}; "
                                   "expected a number or a missing value (NA or empty)",
                             row=f"{line} (gene {gene})", column=labels[j]) from None
    return out


def _check_duplicated_genes(genes: Sequence[str], lines: Sequence[int], path: Path) -> None:
    where: dict[str, list[int]] = {}
    for gene, line in zip(genes, lines):
        where.setdefault(gene, []).append(line)
    dups = {g: ls for g, ls in where.items() if len(ls) > 1}
    if dups:
        listed = "; ".join(f"{g} (rows {', '.join(map(str, ls))})" for g, ls in list(dups.items())[:10])
        more = f" and {len(dups) - 10} more" if len(dups) > 10 else ""
        first = next(iter(dups.values()))
        raise InputError(path, f"{len(dups)} duplicated gene symbol(s): {listed}{more}; each gene must appear once",
                         row=", ".join(map(str, first)))


def select_samples(barcodes: Sequence[str], *, source: PathLike | None = None) -> pd.DataFrame:
    """Choose one sample per patient, deterministically.

    Rule (applied to every matrix with TCGA sample barcodes):

    1. Keep tumour samples only: sample types 01-09. Normal tissue (10-19)
       and control / cell-line / other samples (20 and above) are dropped.
    2. Among one patient's tumour samples keep the lowest sample type
       (01 primary before 02 recurrent, ...).
    3. Ties are broken by the lexicographically smallest barcode (vial A
       before vial B, then portion / analyte / plate).

    Returns one row per barcode (file order): ``barcode``, ``patient``,
    ``sample_type``, ``kept`` and ``reason`` (``kept`` for a chosen sample,
    otherwise why it was dropped). Every drop is logged with its reason.
    """
    rows = []
    for barcode in barcodes:
        m = _SAMPLE_RE.match(barcode)
        if m is None:
            raise InputError(source, f"{barcode!r} is not a TCGA sample barcode", column=barcode)
        rows.append({"barcode": barcode, "patient": barcode[:12], "sample_type": int(m.group(1))})
    samples = pd.DataFrame(rows, columns=["barcode", "patient", "sample_type"])
    samples["sample_type"] = samples["sample_type"].astype(int)
    samples["kept"] = False
    samples["reason"] = ""
    normal = samples["sample_type"].between(10, 19)
    control = samples["sample_type"] >= 20
    samples.loc[normal, "reason"] = samples.loc[normal, "sample_type"].map(
        lambda t: f"normal tissue sample (type {t:02d}); only tumour samples (01-09) are used")
    samples.loc[control, "reason"] = samples.loc[control, "sample_type"].map(
        lambda t: f"control or non-tumour sample (type {t:02d}); only tumour samples (01-09) are used")
    tumour = samples[~normal & ~control]
    ordered = tumour.sort_values(["patient", "sample_type", "barcode"], kind="mergesort")
    chosen = ordered.groupby("patient", sort=False).head(1)
    chosen_by_patient = dict(zip(chosen["patient"], zip(chosen["barcode"], chosen["sample_type"])))
    samples.loc[chosen.index, "kept"] = True
    samples.loc[chosen.index, "reason"] = "kept"
    for idx in tumour.index.difference(chosen.index):
        kept_barcode, kept_type = chosen_by_patient[samples.at[idx, "patient"]]
        if samples.at[idx, "sample_type"] > kept_type:
            samples.at[idx, "reason"] = (f"patient has a tumour sample of lower type: {kept_barcode} "
                                         f"(type {kept_type:02d}) kept")
        else:
            samples.at[idx, "reason"] = ("patient has another sample of the same type with a smaller barcode: "
                                         f"{kept_barcode} kept")

    dropped = samples[~samples["kept"]]
    counts = {
        "normal tissue samples": int(normal.sum()),
        "control / non-tumour samples": int(control.sum()),
        "other tumour samples of a patient with a lower sample type":
            int(dropped["reason"].str.startswith("patient has a tumour sample of lower type").sum()),
        "other samples of the same type with a larger barcode (e.g. vial B)":
            int(dropped["reason"].str.startswith("patient has another sample of the same type").sum()),
    }
    src = f" ({source})" if source is not None else ""
    log_dropped(log, f"samples{src}: one tumour sample per patient", counts, total=len(samples))
    for _, r in dropped.iterrows():
        log.info("dropped sample %s: %s", r["barcode"], r["reason"])
    no_tumour = sorted(set(samples["patient"]) - set(chosen["patient"]))
    if no_tumour:
        log.warning("%d patient(s) have no tumour sample and are left out%s: %s", len(no_tumour), src,
                    ", ".join(no_tumour[:20]) + (" ..." if len(no_tumour) > 20 else ""))
    return samples[SAMPLE_COLUMNS]


def _samples_to_patients(values: np.ndarray, genes: list[str], lines: list[int], samples: pd.DataFrame,
                         path: Path, what: str) -> pd.DataFrame:
    """Patients x genes frame from a genes x samples array: keep chosen samples, drop genes with missing values."""
    keep_cols = np.flatnonzero(samples["kept"].to_numpy())
    if len(keep_cols) == 0:
        raise InputError(path, f"no tumour sample left in the {what} after the one-sample-per-patient rule "
                               "(all samples are normal or control samples)", row=1)
    sub = values[:, keep_cols]
    missing = np.isnan(sub).any(axis=1)
    n_missing = int(missing.sum())
    log_dropped(log, f"{what} ({path}): genes", {"missing values (NA/empty) in a kept sample": n_missing},
                total=len(genes))
    if n_missing:
        kept_barcodes = samples["barcode"].to_numpy()[keep_cols]
        examples = [f"{genes[i]} (row {lines[i]}) at sample {kept_barcodes[int(np.argmax(np.isnan(sub[i])))]!r}"
                    for i in np.flatnonzero(missing)[:10]]
        log.warning("%s: dropped %d gene(s) with missing values, e.g. %s", path, n_missing,
                    ", ".join(examples))
    if n_missing == len(genes):
        raise InputError(path, f"every gene of the {what} has a missing value in at least one kept sample; "
                               "no gene left")
    kept_genes = [g for g, m in zip(genes, missing) if not m]
    frame = pd.DataFrame(np.ascontiguousarray(sub[~missing].T), columns=kept_genes,
                         index=pd.Index(samples["patient"].to_numpy()[keep_cols], name="patient"))
    return frame


# --------------------------------------------------------------------------- expression


def read_expression_matrix(path: PathLike) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a UCSC Xena genes x samples expression matrix.

    Format: tab-separated; the header row is a label cell (``sample``) then
    TCGA sample barcodes (``TCGA-02-0003-01A`` or ``TCGA-02-0003-01``); each
    further row is a gene symbol then one value per sample. ``.gz`` files are
    read directly. Blank lines are skipped (logged).

    One sample per patient is kept by the rule of :func:`select_samples`:
    tumour samples only (sample type 01-09; normals 10-19 and controls 20+
    dropped), then the lowest sample type (01 primary before 02 recurrent),
    then the lexicographically smallest barcode (vial A before B). Genes with
    a missing value (NA or empty) in a kept sample are dropped. Every drop
    is logged with its count and reason.

    Returns
    -------
    expression
        Patients x genes, float64, index ``patient`` (first 12 characters of
        the barcode), columns the kept genes in file order.
    samples
        One row per sample column: ``barcode``, ``patient``, ``sample_type``
        (int), ``kept`` (bool), ``reason``.

    Raises
    ------
    InputError
        A barcode that is not a TCGA sample barcode (column named), a
        duplicated barcode, duplicated gene symbols (genes and rows named), a
        non-numeric value (gene / row and sample / column named), a row with
        the wrong number of fields, an empty gene symbol, or no samples.
    """
    path = _check_file(path)
    genes: list[str] = []
    lines: list[int] = []
    rows: list[np.ndarray] = []
    blank: list[int] = []
    with _open_text(path) as fh:
        numbered = _tab_lines(fh)
        try:
            _, header_line = next(numbered)
        except StopIteration:
            raise InputError(path, "empty file; expected a header row 'sample<TAB>barcode<TAB>...'", row=1) from None
        header = header_line.split("\t")
        if len(header) > 2 and not header[-1].strip():
            header = header[:-1]  # a trailing tab
        barcodes = [h.strip() for h in header[1:]]
        if not barcodes or all(b == "" for b in barcodes):
            raise InputError(path, "no samples: the header row has a label cell but no sample barcodes "
                                   "(expected 'sample<TAB>TCGA-..-....-01A<TAB>...')"
                             + _separator_hint(header_line, "\t"), row=1)
        for pos, barcode in enumerate(barcodes, start=2):
            _sample_type(barcode, path, row=1, column=barcode or f"column {pos}")
        _check_unique_header(barcodes, path, row=1, what="sample barcode", first_column=2)
        n = len(barcodes)
        for number, line in numbered:
            if not line.strip():
                blank.append(number)
                continue
            fields = line.split("\t")
            if len(fields) == n + 2 and fields[-1] == "":
                fields = fields[:-1]
            if len(fields) != n + 1:
                raise InputError(path, f"expected {n + 1} tab-separated fields (gene symbol and {n} values, one per "
                                       f"sample in the header), found {len(fields)}", row=number)
            gene = fields[0].strip()
            if not gene:
                raise InputError(path, "empty gene symbol in the first column", row=number)
            rows.append(_parse_numeric(fields[1:], path, number, gene, barcodes))
            genes.append(gene)
            lines.append(number)
    if blank:
        log.info("%s: skipped %d blank line(s) (lines %s)", path, len(blank), ", ".join(map(str, blank[:10])))
    if not genes:
        raise InputError(path, "no gene rows after the header row")
    _check_duplicated_genes(genes, lines, path)
    values = np.vstack(rows)
    samples = select_samples(barcodes, source=path)
    expression = _samples_to_patients(values, genes, lines, samples, path, "expression matrix")
    log.info("%s: expression for %d patients x %d genes (%d sample columns)", path, expression.shape[0],
             expression.shape[1], n)
    return expression, samples


#: Default smallest number of informative (non-constant) genes an expression matrix must keep
#: (config ``inputs.min_informative_genes``): fewer cannot carry a network, its masking or a GSEA ranking.
MIN_INFORMATIVE_GENES = 20
#: Expression formats of :func:`read_expression_input` (config ``inputs.expression_format``).
EXPRESSION_FORMATS = ("xena", "clanc", "matrix")


def drop_constant_genes(expression: pd.DataFrame, *, source: PathLike | None,
                        min_genes: int = MIN_INFORMATIVE_GENES) -> pd.DataFrame:
    """Drop the genes whose value is the same in every patient (they carry no information: a network sees
    a constant input, masking and saliency would rank them as if they meant something); logged with how
    many and the first names. Raises InputError naming ``source`` when fewer than ``min_genes`` genes vary."""
    if min_genes < 1:
        raise ValueError(f"min_genes must be at least 1, got {min_genes}")
    values = expression.to_numpy(dtype=np.float64)
    if len(values) < 2:
        raise InputError(source, f"the expression has {len(values)} patient(s); at least 2 are needed to tell "
                                 "informative genes from constant ones")
    constant = np.all(values == values[:1], axis=0)
    n_constant = int(constant.sum())
    n_left = expression.shape[1] - n_constant
    log_dropped(log, f"expression ({source}): genes", {"constant across all patients": n_constant},
                total=expression.shape[1])
    if n_constant:
        names = [str(g) for g in expression.columns[constant][:10]]
        log.warning("%s: dropped %d constant gene(s) (the same value in all %d patients), e.g. %s", source,
                    n_constant, len(values), ", ".join(names) + (" ..." if n_constant > 10 else ""))
    if n_left < min_genes:
        raise InputError(source, f"only {n_left} of {expression.shape[1]} genes vary across the {len(values)} "
                                 f"patients ({n_constant} are constant, e.g. "
                                 f"{[str(g) for g in expression.columns[constant][:5]]}); at least {min_genes} "
                                 "informative genes are needed (inputs.min_informative_genes). Check that the "
                                 "matrix holds expression values and is not transposed or a placeholder")
    return expression.loc[:, ~constant] if n_constant else expression


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


# --------------------------------------------------------------------------- VASARI


def _patient_rows(reader, path: Path, *, n_fields: int, separator: str,
                  patient_of: Callable[[list[str], int], str], id_column: str | None,
                  what: str) -> Iterator[tuple[str, list[str]]]:
    """Yield (patient, record) per data row of a one-row-per-patient table.

    Blank lines are skipped (and counted in the log); a row with the wrong number of fields or a
    patient seen before is an InputError naming the row(s).
    """
    row_of: dict[str, int] = {}
    blank = 0
    for record in reader:
        line = reader.line_num
        if not record or all(not c.strip() for c in record):
            blank += 1
            continue
        if len(record) != n_fields:
            raise InputError(path, f"expected {n_fields} {separator}-separated fields as in the header, "
                                   f"found {len(record)}", row=line)
        patient = patient_of(record, line)
        if patient in row_of:
            raise InputError(path, f"duplicated patient {patient} in rows {row_of[patient]} and {line}; "
                                   f"expected one {what} per patient", row=f"{row_of[patient]} and {line}",
                             column=id_column)
        row_of[patient] = line
        yield patient, record
    if blank:
        log.info("%s: skipped %d blank line(s)", path, blank)


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
    path = _check_file(path)
    with _open_text(path) as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise InputError(path, "empty file; expected a header row", row=1) from None
        if len(header) < 2:
            raise InputError(path, f"expected a comma-separated header with an ID column and trait columns, found "
                                   f"{len(header)} field(s)" + _separator_hint(",".join(header), ","), row=1)
        columns = [c.strip() for c in header[1:]]
        _check_unique_header(columns, path, row=1, what="column name", first_column=2)
        id_column = header[0] or "patient ID (first column)"
        records: list[list[object]] = []
        patients: list[str] = []
        rows = _patient_rows(reader, path, n_fields=len(header), separator="comma",
                             patient_of=lambda rec, line: _patient_from_id(rec[0], path, row=line, column=id_column),
                             id_column=None, what="annotation")
        for patient, record in rows:
            patients.append(patient)
            records.append([np.nan if c.strip() in ("", "NA") else c for c in record[1:]])
    if not records:
        raise InputError(path, "no data rows after the header row")
    df = pd.DataFrame(records, columns=columns, index=pd.Index(patients, name="patient"), dtype=object)
    log.info("%s: VASARI annotations for %d patients, %d columns", path, len(df), df.shape[1])
    return df


# --------------------------------------------------------------------------- clinical


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
    path = _check_file(path)
    with _open_text(path) as fh:
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
        if len(names) == 1 and _separator_hint(names[0], "\t"):
            raise InputError(path, "the header row has a single column" + _separator_hint(names[0], "\t"), row=1)
        for i, hrow in enumerate(header_rows[1:], start=2):
            if len(hrow) != len(names):
                raise InputError(path, f"header row {i} has {len(hrow)} fields but the names row has {len(names)}",
                                 row=i)
        _check_unique_header(names, path, row=1, what="column name")
        if "bcr_patient_barcode" not in names:
            raise InputError(path, "missing required column 'bcr_patient_barcode' (the patient barcode)",
                             column="bcr_patient_barcode")
        id_pos = names.index("bcr_patient_barcode")
        records: list[list[object]] = []
        patients: list[str] = []

        def biotab_patient(record: list[str], line: int) -> str:
            raw_id = record[id_pos].strip()
            if _PATIENT_RE.match(raw_id) is None:
                raise InputError(path, f"{raw_id!r} is not a TCGA patient barcode; expected e.g. 'TCGA-02-0003'",
                                 row=line, column="bcr_patient_barcode")
            return raw_id

        rows = _patient_rows(reader, path, n_fields=len(names), separator="tab", patient_of=biotab_patient,
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
                values.append(np.nan if text == "" or _BRACKETED_RE.match(text) else text)
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
           if isinstance(v, str) and v.strip() and not _BRACKETED_RE.match(v.strip())
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


# --------------------------------------------------------------------------- ClaNC


@dataclass
class ClancTable:
    """The Verhaak 2010 ClaNC840 table: subtype labels, subtype gene sets and expression."""

    subtypes: pd.Series
    gene_sets: dict[str, list[str]]
    expression: pd.DataFrame
    samples: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SAMPLE_COLUMNS))


def read_clanc(path: PathLike) -> ClancTable:
    """Read ``TCGA_unified_CORE_ClaNC840.txt`` (Verhaak et al. 2010).

    Format: tab-separated (the real file has CRLF line endings and one blank
    line, both handled). Row 1: ``CLID``, a description cell, then sample
    barcodes (``TCGA-02-0003-01A-01``). Row 2: ``Subtype``, ``GO genes``, then
    the subtype of each sample (Proneural, Neural, Classical, Mesenchymal).
    Rows 3+: gene symbol, the gene's set code (PN, NL, CL, MES or blank = no
    set), then one value per sample.

    Several samples of one patient are resolved by the rule of
    :func:`select_samples` (as for the expression matrix). Genes with a
    missing value in a kept sample are dropped from ``expression`` (logged)
    but keep their gene-set membership.

    Returns a :class:`ClancTable`: ``subtypes`` (index ``patient`` -> subtype
    name, series name ``subtype``), ``gene_sets`` (the four full subtype
    names -> genes in file order), ``expression`` (patients x genes, float)
    and ``samples`` (the sample-selection table).

    Raises
    ------
    InputError
        Row 1 not starting with ``CLID``, row 2 not starting with
        ``Subtype``, a bad barcode, an unknown subtype name or set code
        (row and column named), a non-numeric value, duplicated genes, or a
        row with the wrong number of fields.
    """
    path = _check_file(path)
    genes: list[str] = []
    lines: list[int] = []
    codes: list[str] = []
    rows: list[np.ndarray] = []
    blank: list[int] = []
    with _open_text(path) as fh:
        numbered = _tab_lines(fh)
        first = next(numbered, None)
        if first is None or first[1].split("\t")[0].strip() != "CLID":
            found = first[1].split("\t")[0] if first else "nothing"
            raise InputError(path, f"expected row 1 to start with 'CLID' (then a description and sample barcodes), "
                                   f"found {found[:60]!r}" + (_separator_hint(first[1], "\t") if first else ""),
                             row=1)
        header = [c.strip() for c in first[1].split("\t")]
        barcodes = header[2:]
        if not barcodes:
            raise InputError(path, "no samples: row 1 has no sample barcodes after 'CLID' and the description", row=1)
        for pos, barcode in enumerate(barcodes, start=3):
            _sample_type(barcode, path, row=1, column=barcode or f"column {pos}")
        _check_unique_header(barcodes, path, row=1, what="sample barcode", first_column=3)
        n = len(barcodes)
        second = next(numbered, None)
        fields2 = second[1].split("\t") if second else []
        if second is None or fields2[0].strip() != "Subtype":
            raise InputError(path, "expected row 2 to start with 'Subtype' (then 'GO genes' and the subtype of each "
                                   f"sample), found {fields2[0] if fields2 else 'nothing'!r}", row=2)
        if len(fields2) != n + 2:
            raise InputError(path, f"row 2 has {len(fields2)} fields; expected {n + 2} (as row 1)", row=2)
        code_column = fields2[1].strip() or "set code (column 2)"
        sample_subtypes = [c.strip() for c in fields2[2:]]
        for barcode, subtype in zip(barcodes, sample_subtypes):
            if subtype not in SUBTYPES:
                raise InputError(path, f"unknown subtype {subtype!r} for sample {barcode}; expected one of "
                                       f"{list(SUBTYPES)}", row=2, column=barcode)
        for number, line in numbered:
            if not line.strip():
                blank.append(number)
                continue
            fields = line.split("\t")
            if len(fields) != n + 2:
                raise InputError(path, f"expected {n + 2} tab-separated fields (gene, set code and {n} values), "
                                       f"found {len(fields)}", row=number)
            gene = fields[0].strip()
            if not gene:
                raise InputError(path, "empty gene symbol in the first column", row=number)
            code = fields[1].strip()
            if code and code not in SUBTYPE_CODES:
                raise InputError(path, f"unknown gene-set code {code!r} for gene {gene!r}; expected one of "
                                       f"{list(SUBTYPE_CODES)} or blank (no set)", row=number, column=code_column)
            rows.append(_parse_numeric(fields[2:], path, number, gene, barcodes))
            genes.append(gene)
            lines.append(number)
            codes.append(code)
    if blank:
        log.info("%s: skipped %d blank line(s) (lines %s)", path, len(blank), ", ".join(map(str, blank[:10])))
    if not genes:
        raise InputError(path, "no gene rows after the two header rows")
    _check_duplicated_genes(genes, lines, path)
    samples = select_samples(barcodes, source=path)
    expression = _samples_to_patients(np.vstack(rows), genes, lines, samples, path, "ClaNC table")
    kept = samples["kept"].to_numpy()
    subtypes = pd.Series(np.asarray(sample_subtypes, dtype=object)[kept], index=pd.Index(samples["patient"][kept],
                         name="patient"), name="subtype")
    gene_sets = {SUBTYPE_CODES[c]: [g for g, gc in zip(genes, codes) if gc == c] for c in SUBTYPE_CODES}
    n_none = sum(1 for c in codes if not c)
    log.info("%s: %d patients, %d genes; subtype counts %s; gene sets %s; %d genes in no set", path,
             len(subtypes), expression.shape[1], subtypes.value_counts().reindex(SUBTYPES, fill_value=0).to_dict(),
             {k: len(v) for k, v in gene_sets.items()}, n_none)
    return ClancTable(subtypes=subtypes, gene_sets=gene_sets, expression=expression, samples=samples)


# --------------------------------------------------------------------------- gene sets


def _dedupe(genes: Iterable[str], path: Path, set_name: str) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    dups = 0
    for g in genes:
        if g in seen:
            dups += 1
            continue
        seen.add(g)
        out.append(g)
    if dups:
        log.info("%s: gene set %s lists %d gene(s) more than once; duplicates removed", path, set_name, dups)
    return out


def read_gmt(path: PathLike) -> dict[str, list[str]]:
    """Read an MSigDB GMT file: one set per line, ``name<TAB>description/URL<TAB>gene<TAB>gene...``.

    Blank gene cells are ignored; genes listed twice in one set are kept once
    (logged); blank lines are skipped (logged). Returns set name -> genes in
    file order.

    Raises InputError for a line with fewer than 3 fields or an empty name
    (line named) and for a duplicated set name (both lines named).
    """
    path = _check_file(path)
    sets: dict[str, list[str]] = {}
    line_of: dict[str, int] = {}
    blank = 0
    with _open_text(path) as fh:
        for number, line in _tab_lines(fh):
            if not line.strip():
                blank += 1
                continue
            fields = line.split("\t")
            if len(fields) < 3:
                raise InputError(path, f"expected at least 3 tab-separated fields (set name, description or URL, "
                                       f"genes), found {len(fields)}"
                                 + _separator_hint(line, "\t").replace("header row", "line"), row=number)
            name = fields[0].strip()
            if not name:
                raise InputError(path, "empty gene-set name in the first field", row=number)
            if name in line_of:
                raise InputError(path, f"duplicated gene-set name {name!r} on lines {line_of[name]} and {number}",
                                 row=f"{line_of[name]} and {number}")
            line_of[name] = number
            genes = [g.strip() for g in fields[2:] if g.strip()]
            if not genes:
                log.warning("%s: gene set %s (line %d) lists no genes", path, name, number)
            sets[name] = _dedupe(genes, path, name)
    if blank:
        log.info("%s: skipped %d blank line(s)", path, blank)
    if not sets:
        raise InputError(path, "no gene sets in the file")
    log.info("%s: %d gene sets (%d-%d genes)", path, len(sets), min(map(len, sets.values())),
             max(map(len, sets.values())))
    return sets


def format_gmt(sets: Mapping[str, Sequence[str]], *, description: str = "") -> str:
    """GMT text for ``sets`` (name, description, genes; tab-separated), readable by :func:`read_gmt`."""
    lines = []
    for name, genes in sets.items():
        if not genes:
            raise ValueError(f"gene set {name!r} is empty; GMT lines need at least one gene")
        if "\t" in name or "\n" in name:
            raise ValueError(f"gene set name {name!r} contains a tab or newline")
        lines.append("\t".join([name, description or name, *genes]))
    return "\n".join(lines) + "\n"


def read_gene_set_table(path: PathLike) -> dict[str, list[str]]:
    """Read a column-wise gene-set table (Puchalski et al. 2018 Table S15 format).

    Format: CSV (tab-separated for ``.tsv``); a header row of set names; an
    optional row whose cells are all ``na``; then gene symbols column by
    column. Columns may have different lengths; blank cells are ignored and
    duplicate genes inside a set are kept once (logged).

    Raises InputError for a duplicated or empty set name with genes below it,
    a row longer than the header (row named), or no sets.
    """
    path = _check_file(path)
    delimiter = "\t" if path.suffix == ".tsv" or path.name.endswith(".tsv.gz") else ","
    with _open_text(path) as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            header = [c.strip() for c in next(reader)]
        except StopIteration:
            raise InputError(path, "empty file; expected a header row of gene-set names", row=1) from None
        if len(header) == 1 and _separator_hint(header[0], delimiter):
            raise InputError(path, "the header row names a single gene set" + _separator_hint(header[0], delimiter)
                             + " (.tsv names are read tab-separated, others comma-separated)", row=1)
        columns: list[list[str]] = [[] for _ in header]
        na_row_seen = False
        for record in reader:
            line = reader.line_num
            if len(record) > len(header):
                extra = record[len(header):]
                if any(c.strip() for c in extra):
                    raise InputError(path, f"row has {len(record)} fields but the header names {len(header)} sets",
                                     row=line)
            cells = [c.strip() for c in record[: len(header)]]
            if line == 2 and cells and all(c.lower() == "na" for c in cells if c) and any(cells):
                na_row_seen = True
                continue
            for j, cell in enumerate(cells):
                if cell:
                    columns[j].append(cell)
    sets: dict[str, list[str]] = {}
    empty_columns = 0
    for j, (name, genes) in enumerate(zip(header, columns), start=1):
        if not name:
            if genes:
                raise InputError(path, f"column {j} lists {len(genes)} gene(s) but has no set name in the header",
                                 row=1, column=f"column {j}")
            empty_columns += 1
            continue
        if name in sets:
            raise InputError(path, f"duplicated gene-set name {name!r} in the header", row=1, column=name)
        if not genes:
            log.warning("%s: gene set %s lists no genes", path, name)
        sets[name] = _dedupe(genes, path, name)
    if empty_columns:
        log.info("%s: ignored %d empty column(s) without a name", path, empty_columns)
    if not sets:
        raise InputError(path, "no gene sets: the header row names no sets", row=1)
    log.info("%s: %d gene sets (%d-%d genes)%s", path, len(sets), min(map(len, sets.values())),
             max(map(len, sets.values())), "; skipped the row of 'na'" if na_row_seen else "")
    return sets


def read_gene_sets(path: PathLike) -> dict[str, list[str]]:
    """Read a gene-set collection, choosing the format by suffix: ``.gmt`` or ``.csv`` / ``.tsv``."""
    p = Path(path)
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    if suffix == ".gmt":
        return read_gmt(p)
    if suffix in (".csv", ".tsv"):
        return read_gene_set_table(p)
    raise InputError(p, f"unknown gene-set file format {suffix or '(no suffix)'!r}; expected .gmt (MSigDB) or "
                        ".csv / .tsv (a column-wise table such as Puchalski 2018 Table S15)")


def filter_gene_sets(sets: Mapping[str, Sequence[str]], genes: Iterable[str], *, min_size: int = 1,
                     source: PathLike | str = "", expression_source: PathLike | str = ""
                     ) -> tuple[dict[str, list[str]], pd.DataFrame]:
    """Restrict each set to the genes present (set order and gene order kept); drop small sets.

    Returns the kept sets and a report with one row per set: ``set``,
    ``n_genes_in_file``, ``n_genes_matched`` and ``kept``. Raises InputError
    (naming ``source`` and, when given, the expression file ``expression_source``)
    when no set keeps at least ``min_size`` genes.
    """
    present = set(genes)
    kept: dict[str, list[str]] = {}
    report = []
    for name, members in sets.items():
        matched = [g for g in members if g in present]
        ok = len(matched) >= min_size
        if ok:
            kept[name] = matched
        report.append({"set": name, "n_genes_in_file": len(members), "n_genes_matched": len(matched), "kept": ok})
    table = pd.DataFrame(report, columns=GENE_SET_REPORT_COLUMNS)
    src = f" ({source})" if source else ""
    log_dropped(log, f"gene sets{src}",
                {f"fewer than {min_size} genes among the expression genes": len(sets) - len(kept)}, total=len(sets))
    if len(table):
        log.info("gene sets%s: %d of %d listed genes matched the expression genes", src,
                 int(table["n_genes_matched"].sum()), int(table["n_genes_in_file"].sum()))
    if not kept:
        listed = sorted({g for members in sets.values() for g in members})
        expr = f" of {expression_source}" if expression_source else ""
        raise InputError(source or None, f"no gene set has at least {min_size} gene(s) among the {len(present)} "
                                         f"expression genes{expr} ({len(sets)} sets checked; set genes e.g. "
                                         f"{listed[:3]}, expression genes e.g. {sorted(present)[:3]}); check the "
                                         "gene identifiers (symbols vs IDs) and the min_size setting")
    return kept, table


# --------------------------------------------------------------------------- generic plain tables

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
        self._fh = _open_text(path)
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
        if len(header) == 1 and _separator_hint(header[0], sep):
            self._fh.close()
            raise InputError(path, "the header row has a single column" + _separator_hint(header[0], sep)
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


def _parse_cells(fields: Sequence[str], path: Path, line: int, label: str, label_what: str,
                 names: Sequence[str], name_what: str) -> np.ndarray:
    """Float values of one row of a plain matrix; missing cells -> NaN; InputError naming row and column."""
    try:
        values = np.array(fields, dtype=np.float64)
    except ValueError:
        values = None
    if values is not None and not np.isinf(values).any():
        return values
    out = np.empty(len(fields), dtype=np.float64)
    for j, cell in enumerate(fields):
        text = cell.strip()
        if text in NUMERIC_MISSING:
            out[j] = np.nan
            continue
        try:
            out[j] = float(text)
            if np.isinf(out[j]):
                raise ValueError(text)
        except ValueError:
            raise InputError(path, f"non-numeric value {cell!r} for {label_what} {label!r}, {name_what} {names[j]!r}; "
                                   "expected a number or a missing value (NA or empty)",
                             row=f"{line} ({label_what} {label})", column=names[j]) from None
    return out


def _check_duplicated_labels(labels: Sequence[str], lines: Sequence[int], path: Path, what: str) -> None:
    """InputError listing every label of the first column that occurs on several rows."""
    where: dict[str, list[int]] = {}
    for label, line in zip(labels, lines):
        where.setdefault(label, []).append(line)
    dups = {k: ls for k, ls in where.items() if len(ls) > 1}
    if dups:
        listed = "; ".join(f"{k} (rows {', '.join(map(str, ls))})" for k, ls in list(dups.items())[:10])
        more = f" and {len(dups) - 10} more" if len(dups) > 10 else ""
        first = next(iter(dups.values()))
        raise InputError(path, f"{len(dups)} duplicated {what}(s): {listed}{more}; each must appear once",
                         row=", ".join(map(str, first)))


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
    path = _check_file(path)
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
        _check_unique_header(names, path, row=1, what=name_of[col_what], first_column=2)
        for line, record in table.rows():
            label = record[0].strip()
            if not label:
                raise InputError(path, f"empty {name_of[row_what]} in the first column ({orientation})", row=line,
                                 column=header[0] or "column 1")
            rows.append(_parse_cells(record[1:], path, line, label, row_what, names, col_what))
            labels.append(label)
            lines.append(line)
    if not labels:
        raise InputError(path, f"no {row_what} rows after the header row ({orientation})")
    _check_duplicated_labels(labels, lines, path, name_of[row_what])
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
        barcode_pos = [i for i, s in enumerate(normalised) if _SAMPLE_RE.match(s)]
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
        _check_unique_header(columns, path, row=1, what="column name", first_column=2)
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
    path = _check_file(path)
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
    path = _check_file(path)
    with _Delimited(path, infer_separator(path, sep)) as table:
        header = table.header
    if len(header) < 2:
        raise InputError(path, f"expected a header row with an ID column and at least one more column, found "
                               f"{len(header)} field(s) {header!r}", row=1)
    columns = header[1:]
    for pos, name in enumerate(columns, start=2):
        if not name:
            raise InputError(path, "empty column name in the header row", row=1, column=f"column {pos}")
    _check_unique_header(columns, path, row=1, what="column name", first_column=2)
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
    path = _check_file(path)
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
    path = _check_file(path)
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
    path = _check_file(path)
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
