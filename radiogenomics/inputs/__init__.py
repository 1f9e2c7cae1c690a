"""Readers of the real input formats: one function per format.

Every parser checks its input and raises :class:`radiogenomics.errors.InputError` naming the
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
configurable rule of :mod:`radiogenomics.inputs.ids`):

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

Modules: ``expression``, ``vasari``, ``clinical``, ``clanc``, ``gene_sets``, ``tables`` (generic
plain tables), ``ids`` (patient-ID rules), ``checks`` (the checks they share) and ``download``
(public tables by URL with a pinned sha256). The readers are re-exported here:
``from radiogenomics import inputs; inputs.read_vasari(path)``.
"""

from radiogenomics.inputs.checks import (
    BRACKETED_RE,
    NUMERIC_MISSING,
    PATIENT_RE,
    SAMPLE_RE,
    PathLike,
    check_duplicated_labels,
    check_file,
    check_unique_header,
    open_text,
    parse_numeric,
    patient_from_id,
    patient_rows,
    sample_type_code,
    separator_hint,
    tab_lines,
)
from radiogenomics.inputs.clanc import (
    SUBTYPE_CODES,
    SUBTYPES,
    ClancTable,
    read_clanc,
)
from radiogenomics.inputs.clinical import (
    VITAL_STATUS_COLUMN,
    VITAL_STATUS_WORDS,
    check_vital_status,
    numeric_column,
    read_clinical_biotab,
)
from radiogenomics.inputs.expression import (
    EXPRESSION_FORMATS,
    MIN_INFORMATIVE_GENES,
    SAMPLE_COLUMNS,
    drop_constant_genes,
    read_expression_matrix,
    samples_to_patients,
    select_samples,
)
from radiogenomics.inputs.gene_sets import (
    GENE_SET_REPORT_COLUMNS,
    filter_gene_sets,
    format_gmt,
    read_gene_set_table,
    read_gene_sets,
    read_gmt,
)
from radiogenomics.inputs.ids import (
    RULE_KINDS,
    TCGA_PATIENT_LENGTH,
    IdRule,
    IdRuleError,
    IdRuleSpec,
    make_id_rule,
    overlap_hint,
    patient_id,
)
from radiogenomics.inputs.tables import (
    EVENT_WORDS,
    FEATURE_MAX_MISSING,
    MATRIX_ORIENTATIONS,
    MATRIX_SAMPLE_COLUMNS,
    SURVIVAL_PROBLEM_COLUMNS,
    TARGET_FORMATS,
    TARGET_MISSING,
    infer_separator,
    read_expression_input,
    read_feature_table,
    read_matrix,
    read_patient_list,
    read_survival_table,
    read_table_columns,
    read_target_table,
    read_targets_input,
)
from radiogenomics.inputs.vasari import (
    read_vasari,
)

__all__ = [
    "PathLike",
    "NUMERIC_MISSING",
    "PATIENT_RE",
    "SAMPLE_RE",
    "BRACKETED_RE",
    "open_text",
    "check_file",
    "separator_hint",
    "tab_lines",
    "sample_type_code",
    "patient_from_id",
    "check_unique_header",
    "parse_numeric",
    "check_duplicated_labels",
    "patient_rows",
    "SAMPLE_COLUMNS",
    "select_samples",
    "samples_to_patients",
    "read_expression_matrix",
    "MIN_INFORMATIVE_GENES",
    "EXPRESSION_FORMATS",
    "drop_constant_genes",
    "read_vasari",
    "read_clinical_biotab",
    "VITAL_STATUS_COLUMN",
    "VITAL_STATUS_WORDS",
    "check_vital_status",
    "numeric_column",
    "SUBTYPES",
    "SUBTYPE_CODES",
    "ClancTable",
    "read_clanc",
    "GENE_SET_REPORT_COLUMNS",
    "read_gmt",
    "format_gmt",
    "read_gene_set_table",
    "read_gene_sets",
    "filter_gene_sets",
    "read_expression_input",
    "MATRIX_ORIENTATIONS",
    "TARGET_MISSING",
    "MATRIX_SAMPLE_COLUMNS",
    "SURVIVAL_PROBLEM_COLUMNS",
    "EVENT_WORDS",
    "infer_separator",
    "read_matrix",
    "read_target_table",
    "read_table_columns",
    "TARGET_FORMATS",
    "FEATURE_MAX_MISSING",
    "read_feature_table",
    "read_targets_input",
    "read_patient_list",
    "read_survival_table",
    "RULE_KINDS",
    "IdRuleSpec",
    "TCGA_PATIENT_LENGTH",
    "patient_id",
    "IdRuleError",
    "IdRule",
    "make_id_rule",
    "overlap_hint",
]
