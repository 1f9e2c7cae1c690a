"""Shared checks of text inputs: opening plain or gzip files, separators, barcodes, numeric cells and duplicates."""

from __future__ import annotations

import gzip
import io
import logging
import os
import re
import zlib
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from radiogenomics.errors import InputError

log = logging.getLogger(__name__)


PathLike = str | os.PathLike


#: Cells read as missing in numeric matrices.
NUMERIC_MISSING = frozenset({"", "NA", "NaN", "nan", "NAN", "null", "NULL", "N/A"})


# TCGA-TSS-PPPP-TTV...: tissue source site (2), participant (4), sample type (2 digits), vial letter.
PATIENT_RE = re.compile(r"^TCGA-[A-Z0-9]{2}-[A-Z0-9]{4}$")


_PATIENT_PREFIX_RE = re.compile(r"^TCGA-[A-Z0-9]{2}-[A-Z0-9]{4}(?:-[A-Z0-9-]+)?$")


SAMPLE_RE = re.compile(r"^TCGA-[A-Z0-9]{2}-[A-Z0-9]{4}-(\d{2})[A-Z]?(?:-[A-Z0-9-]+)?$")


BRACKETED_RE = re.compile(r"^\[.*\]$")


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


def open_text(path: Path) -> _TextLines:
    """Open a text file (gzip when the name ends in .gz); universal newlines turn CRLF into LF."""
    if path.suffix == ".gz":
        return _TextLines(gzip.open(path, "rt", newline=None), path)
    return _TextLines(open(path, "r", newline=None), path)


_GZIP_MAGIC = b"\x1f\x8b"


def check_file(path: PathLike) -> Path:
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


def separator_hint(text: str, expected: str) -> str:
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


def tab_lines(fh: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its line ending)."""
    for number, line in enumerate(fh, start=1):
        yield number, line.rstrip("\r\n")


def sample_type_code(barcode: str, path: Path, row: int, column: str) -> int:
    m = SAMPLE_RE.match(barcode)
    if m is None:
        raise InputError(path, f"{barcode!r} is not a TCGA sample barcode; expected e.g. 'TCGA-02-0003-01A' "
                               "(project-TSS-participant-sample type and vial)", row=row, column=column)
    sample_type = int(m.group(1))
    if sample_type == 0:
        raise InputError(path, f"sample barcode {barcode!r} has sample type 00; TCGA sample types are 01-99",
                         row=row, column=column)
    return sample_type


def patient_from_id(value: object, path: Path, row: int, column: str | None = None) -> str:
    """Patient ID (12 characters) of a patient or sample barcode; InputError for anything else."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(path, "missing patient ID; expected a TCGA barcode such as 'TCGA-02-0003'",
                         row=row, column=column)
    text = value.strip()
    if _PATIENT_PREFIX_RE.match(text) is None:
        raise InputError(path, f"{text!r} is not a TCGA patient ID; expected e.g. 'TCGA-02-0003'",
                         row=row, column=column)
    return text[:12]


def check_unique_header(names: Sequence[str], path: Path, row: int, what: str, first_column: int = 1) -> None:
    """InputError for a name listed twice; ``first_column`` is the file column of ``names[0]`` (1-based)."""
    seen: dict[str, int] = {}
    for pos, name in enumerate(names, start=first_column):
        if name in seen:
            raise InputError(path, f"duplicated {what} {name!r} (columns {seen[name]} and {pos}); each must be unique",
                             row=row, column=name)
        seen[name] = pos


def parse_numeric(fields: Sequence[str], path: Path, line: int, label: str, names: Sequence[str], *,
                  label_what: str = "gene", name_what: str = "sample",
                  value_what: str = "expression value") -> np.ndarray:
    """Float values of one matrix row (``label``, the row's first cell; ``names``, the columns' names): missing
    cells -> NaN; text or inf -> InputError naming the row's label and the column, e.g. "non-numeric expression
    value 'high' for gene 'EGFR', sample 'P2'". Every matrix parser (Xena, ClaNC, plain tables) reads its rows
    here; ``label_what``/``name_what``/``value_what`` word the message for its orientation."""
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
            raise InputError(path, f"non-numeric {value_what} {cell!r} for {label_what} {label!r}, {name_what} "
                                   f"{names[j]!r}; expected a number or a missing value (NA or empty)",
                             row=f"{line} ({label_what} {label})", column=names[j]) from None
    return out


def check_duplicated_labels(labels: Sequence[str], lines: Sequence[int], path: Path,
                            what: str = "gene symbol") -> None:
    """InputError listing (the first ten of) the row labels (``what``: gene symbols, sample IDs) that occur on
    several rows, each with its rows; the error's row is the first duplicate's rows."""
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


def patient_rows(reader, path: Path, *, n_fields: int, separator: str,
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
