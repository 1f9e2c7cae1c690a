"""Gene-set files (GMT or a two-column table): read, deduplicated, matched to the expression's genes."""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import pandas as pd

from radiogenomics.errors import InputError, log_dropped
from radiogenomics.inputs.checks import PathLike, check_file, open_text, separator_hint, tab_lines

log = logging.getLogger(__name__)


GENE_SET_REPORT_COLUMNS = ["set", "n_genes_in_file", "n_genes_matched", "kept"]


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
    path = check_file(path)
    sets: dict[str, list[str]] = {}
    line_of: dict[str, int] = {}
    blank = 0
    with open_text(path) as fh:
        for number, line in tab_lines(fh):
            if not line.strip():
                blank += 1
                continue
            fields = line.split("\t")
            if len(fields) < 3:
                raise InputError(path, f"expected at least 3 tab-separated fields (set name, description or URL, "
                                       f"genes), found {len(fields)}"
                                 + separator_hint(line, "\t").replace("header row", "line"), row=number)
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
    path = check_file(path)
    delimiter = "\t" if path.suffix == ".tsv" or path.name.endswith(".tsv.gz") else ","
    with open_text(path) as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            header = [c.strip() for c in next(reader)]
        except StopIteration:
            raise InputError(path, "empty file; expected a header row of gene-set names", row=1) from None
        if len(header) == 1 and separator_hint(header[0], delimiter):
            raise InputError(path, "the header row names a single gene set" + separator_hint(header[0], delimiter)
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
