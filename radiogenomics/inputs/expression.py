"""Expression matrices (UCSC Xena genes x samples): one sample per patient, constant genes dropped with a log line."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

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
    sample_type_code,
    separator_hint,
    tab_lines,
)

log = logging.getLogger(__name__)


SAMPLE_COLUMNS = ["barcode", "patient", "sample_type", "kept", "reason"]


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
        m = SAMPLE_RE.match(barcode)
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


def samples_to_patients(values: np.ndarray, genes: list[str], lines: list[int], samples: pd.DataFrame,
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
    path = check_file(path)
    genes: list[str] = []
    lines: list[int] = []
    rows: list[np.ndarray] = []
    blank: list[int] = []
    with open_text(path) as fh:
        numbered = tab_lines(fh)
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
                             + separator_hint(header_line, "\t"), row=1)
        for pos, barcode in enumerate(barcodes, start=2):
            sample_type_code(barcode, path, row=1, column=barcode or f"column {pos}")
        check_unique_header(barcodes, path, row=1, what="sample barcode", first_column=2)
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
            rows.append(parse_numeric(fields[1:], path, number, gene, barcodes))
            genes.append(gene)
            lines.append(number)
    if blank:
        log.info("%s: skipped %d blank line(s) (lines %s)", path, len(blank), ", ".join(map(str, blank[:10])))
    if not genes:
        raise InputError(path, "no gene rows after the header row")
    check_duplicated_labels(genes, lines, path)
    values = np.vstack(rows)
    samples = select_samples(barcodes, source=path)
    expression = samples_to_patients(values, genes, lines, samples, path, "expression matrix")
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
