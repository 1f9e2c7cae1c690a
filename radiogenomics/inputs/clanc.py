"""ClaNC subtype centroid tables (Verhaak 2010) and the subtype gene sets they define."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from radiogenomics.errors import InputError
from radiogenomics.inputs.checks import (
    PathLike,
    check_duplicated_labels,
    check_file,
    check_unique_header,
    open_text,
    parse_numeric,
    sample_type_code,
    separator_hint,
    tab_lines,
)
from radiogenomics.inputs.expression import SAMPLE_COLUMNS, samples_to_patients, select_samples

log = logging.getLogger(__name__)


#: Verhaak 2010 subtypes in their usual order, and the ClaNC gene-set codes.
SUBTYPES = ("Proneural", "Neural", "Classical", "Mesenchymal")


SUBTYPE_CODES = {"PN": "Proneural", "NL": "Neural", "CL": "Classical", "MES": "Mesenchymal"}


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
    path = check_file(path)
    genes: list[str] = []
    lines: list[int] = []
    codes: list[str] = []
    rows: list[np.ndarray] = []
    blank: list[int] = []
    with open_text(path) as fh:
        numbered = tab_lines(fh)
        first = next(numbered, None)
        if first is None or first[1].split("\t")[0].strip() != "CLID":
            found = first[1].split("\t")[0] if first else "nothing"
            raise InputError(path, f"expected row 1 to start with 'CLID' (then a description and sample barcodes), "
                                   f"found {found[:60]!r}" + (separator_hint(first[1], "\t") if first else ""),
                             row=1)
        header = [c.strip() for c in first[1].split("\t")]
        barcodes = header[2:]
        if not barcodes:
            raise InputError(path, "no samples: row 1 has no sample barcodes after 'CLID' and the description", row=1)
        for pos, barcode in enumerate(barcodes, start=3):
            sample_type_code(barcode, path, row=1, column=barcode or f"column {pos}")
        check_unique_header(barcodes, path, row=1, what="sample barcode", first_column=3)
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
            rows.append(parse_numeric(fields[2:], path, number, gene, barcodes))
            genes.append(gene)
            lines.append(number)
            codes.append(code)
    if blank:
        log.info("%s: skipped %d blank line(s) (lines %s)", path, len(blank), ", ".join(map(str, blank[:10])))
    if not genes:
        raise InputError(path, "no gene rows after the two header rows")
    check_duplicated_labels(genes, lines, path)
    samples = select_samples(barcodes, source=path)
    expression = samples_to_patients(np.vstack(rows), genes, lines, samples, path, "ClaNC table")
    kept = samples["kept"].to_numpy()
    subtypes = pd.Series(np.asarray(sample_subtypes, dtype=object)[kept], index=pd.Index(samples["patient"][kept],
                         name="patient"), name="subtype")
    gene_sets = {SUBTYPE_CODES[c]: [g for g, gc in zip(genes, codes) if gc == c] for c in SUBTYPE_CODES}
    n_none = sum(1 for c in codes if not c)
    log.info("%s: %d patients, %d genes; subtype counts %s; gene sets %s; %d genes in no set", path,
             len(subtypes), expression.shape[1], subtypes.value_counts().reindex(SUBTYPES, fill_value=0).to_dict(),
             {k: len(v) for k, v in gene_sets.items()}, n_none)
    return ClancTable(subtypes=subtypes, gene_sets=gene_sets, expression=expression, samples=samples)
