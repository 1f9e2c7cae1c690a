"""Bad input, as a user would give it: every case stops with a message naming the file and the field.

One parametrised table (``CASES``): each case writes a bad file (or config) and calls the package function
the workflow uses for it (parsers, targets, survival, the config check, the pre-flight input check); the
message must match a pattern that names the file and, where it applies, the row / column and what was
expected. A few cases are warnings (data dropped with a log line naming the file, row and column) rather
than errors; they are marked ``warn``. The Snakemake-level tests below check the short config messages and
that a run failing on bad input leaves the results of an earlier good run byte-identical.
"""

from __future__ import annotations

import gzip
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import matrix_rows, write
from radiogenomics import inputs as parsers
from radiogenomics import survival
from radiogenomics.cohorts import targets
from radiogenomics.config import preflight, schema
from radiogenomics.errors import InputError
from radiogenomics.evaluation import heldout

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
BARCODES = [f"TCGA-02-{i:04d}-01A" for i in range(1, 7)]


def xena(tmp: Path, name: str = "expr.tsv", **kw) -> Path:
    return write(tmp, name, matrix_rows(BARCODES, label="sample", **kw))


def plain(tmp: Path, name: str = "expr.tsv", ids=("P1", "P2", "P3", "P4", "P5", "P6"), **kw) -> Path:
    return write(tmp, name, matrix_rows(list(ids), **kw))


def read_plain(path: Path, **kw):
    return parsers.read_matrix(path, orientation="genes_x_samples", **kw)


def expression_frame(ids, n_genes: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(rng.normal(size=(len(ids), n_genes)), index=pd.Index(ids, name="patient"),
                        columns=[f"G{g}" for g in range(n_genes)])


BINARY = {"name": "grade", "type": "binary", "source": "targets", "column": "grade",
          "classes": {"low": ["low"], "high": ["high"]}, "positive": "high"}


def target_case(tmp: Path, values: list[str], *, column: str = "grade", folds: int = 2):
    ids = [f"P{i}" for i in range(1, len(values) + 1)]
    path = write(tmp, "targets.tsv", [["patient", column]] + [[p, v] for p, v in zip(ids, values)])
    table = parsers.read_target_table(path)
    spec = targets.spec_from_dict(BINARY)
    return lambda: targets.build_targets([spec], {"targets": table}, patients=pd.Index(ids),
                                         source_paths={"targets": str(path), "expression": "expr.tsv"},
                                         min_class_size=folds)


def survival_case(tmp: Path, rows: list[list[str]]):
    path = write(tmp, "surv.tsv", [["patient", "os_days", "status"]] + rows)
    return lambda: parsers.read_survival_table(path, time_column="os_days", event_column="status")


def biotab(tmp: Path, status: list[str]) -> Path:
    names = ["bcr_patient_barcode", "vital_status", "death_days_to", "last_contact_days_to"]
    rows = [names, names, ["CDE_ID:", "CDE_ID:5", "CDE_ID:1", "CDE_ID:2"]]
    rows += [[b[:12], s, "100", "50"] for b, s in zip(BARCODES, status)]
    return write(tmp, "clinical.txt", rows)


def config_case(patch: dict):
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for key, value in patch.items():
        cfg[key] = {**cfg.get(key, {}), **value} if isinstance(value, dict) else value
    return lambda: schema.validate_config(cfg, SCHEMA)


def preflight_case(tmp: Path, expression: Path, **extra):
    plan = {"expression": {"path": str(expression), "format": "matrix", "orientation": "genes_x_samples"},
            "id_rule": "identity", "min_informative_genes": 5, "tables": {}, "folds": 2, "target_specs": [],
            "gene_sets": {}, "test": {}, **extra}
    return lambda: preflight.check_inputs(plan)


def gz(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


@dataclass
class Case:
    id: str
    make: Callable[[Path], Callable[[], object]]  # writes the bad input, returns the call that must fail
    message: str  # regex the message must match (file and field named)
    warn: bool = False  # a warning (data dropped and logged) rather than an error


CASES = [
    # --- file-level problems
    Case("empty_file", lambda t: lambda: read_plain(write(t, "empty.tsv", "")),
         r"file \S*empty\.tsv: empty file \(0 bytes\)"),
    Case("header_only", lambda t: lambda: read_plain(write(t, "head.tsv", [["gene", "P1", "P2"]])),
         r"file \S*head\.tsv: no gene rows after the header row"),
    Case("zero_byte_gz", lambda t: lambda: parsers.read_expression_matrix(gz(t, "expr.tsv.gz", b"")),
         r"file \S*expr\.tsv\.gz: empty file \(0 bytes\); a \.gz file needs at least a gzip header"),
    Case("gz_not_gzip", lambda t: lambda: parsers.read_expression_matrix(gz(t, "expr.tsv.gz", b"sample\tX\n")),
         r"file \S*expr\.tsv\.gz: the name ends in \.gz but the file is not gzip-compressed"),
    Case("truncated_gz", lambda t: lambda: parsers.read_expression_matrix(
        gz(t, "cut.tsv.gz", gzip.compress(xena(t).read_bytes())[:300])),
         r"file \S*cut\.tsv\.gz, row \d+: cannot decompress the gzip file after line \d+"),
    Case("missing_file", lambda t: lambda: parsers.read_vasari(t / "nope.csv"),
         r"file \S*nope\.csv: file not found"),
    # --- wrong delimiter
    Case("comma_where_tab_xena", lambda t: lambda: parsers.read_expression_matrix(
        write(t, "expr.tsv", matrix_rows(BARCODES, label="sample"), sep=",")),
         r"file \S*expr\.tsv, row 1: no samples: .*the file looks comma-separated \(6 commas"),
    Case("comma_where_tab_matrix",
         lambda t: lambda: read_plain(write(t, "m.tsv", matrix_rows(["P1", "P2"]), sep=",")),
         r"file \S*m\.tsv, row 1: the header row has a single column; the file looks comma-separated"),
    Case("tab_where_comma_vasari", lambda t: lambda: parsers.read_vasari(
        write(t, "vasari.csv", [["", "f5.proportion.enhancing"], [BARCODES[0][:12], "Minimal"]])),
         r"file \S*vasari\.csv, row 1: expected a comma-separated header .*looks tab-separated"),
    Case("comma_where_tab_gmt", lambda t: lambda: parsers.read_gmt(write(t, "h.gmt", "SET,url,G1,G2\n")),
         r"file \S*h\.gmt, row 1: expected at least 3 tab-separated fields .*looks comma-separated"),
    # --- duplicates
    Case("duplicate_patient_ids", lambda t: lambda: parsers.read_target_table(
        write(t, "targets.tsv", [["patient", "grade"], ["P1", "low"], ["P1", "high"]])),
         r"file \S*targets\.tsv, row 2 and 3, column 'patient': duplicated patient 'P1' in rows 2 and 3"),
    Case("duplicate_patient_samples", lambda t: lambda: read_plain(
        plain(t, ids=("P1_a", "P1_b", "P2_a")), id_rule={"regex": r"^(P\d+)_"}),
         r"file \S*expr\.tsv, row 1, column 'P1_b': samples 'P1_a' \(column 'P1_a'\) and 'P1_b' .* both map to "
         r"patient 'P1'"),
    Case("duplicate_genes", lambda t: lambda: read_plain(
        write(t, "m.tsv", [["gene", "P1", "P2"], ["TP53", "1", "2"], ["EGFR", "3", "4"], ["TP53", "5", "6"]])),
         r"file \S*m\.tsv, row 2, 4: 1 duplicated gene symbol\(s\): TP53 \(rows 2, 4\)"),
    # --- values
    Case("non_numeric_expression", lambda t: lambda: read_plain(
        write(t, "m.tsv", [["gene", "P1", "P2"], ["TP53", "1", "2"], ["EGFR", "3", "high"]])),
         r"file \S*m\.tsv, row 3 \(gene EGFR\), column 'P2': non-numeric value 'high' for gene 'EGFR', sample 'P2'"),
    Case("inf_expression", lambda t: lambda: parsers.read_expression_matrix(
        write(t, "x.tsv", [["sample", *BARCODES[:2]], ["TP53", "1", "inf"]])),
         r"file \S*x\.tsv, row 2 \(gene TP53\), column 'TCGA-02-0002-01A': non-numeric expression value 'inf'"),
    Case("nan_expression_gene_dropped", lambda t: lambda: read_plain(
        write(t, "m.tsv", matrix_rows(["P1", "P2", "P3"], n_genes=3) + [["KRAS", "1", "NaN", "2"]])),
         r"\S*m\.tsv: dropped 1 gene\(s\) with missing values, e.g. KRAS \(row 5\) at sample 'P2'", warn=True),
    Case("nan_in_every_gene", lambda t: lambda: read_plain(
        write(t, "m.tsv", [["gene", "P1", "P2"], ["TP53", "NaN", "1"], ["EGFR", "2", "NA"]])),
         r"file \S*m\.tsv: every gene has a missing value \(NA/empty\) in at least one kept sample"),
    Case("all_constant_genes", lambda t: lambda: parsers.drop_constant_genes(
        read_plain(write(t, "flat.tsv", [["gene", "P1", "P2", "P3"]] + [[f"G{g}", "5", "5", "5"] for g in range(30)])),
        source=str(t / "flat.tsv")),
         r"file \S*flat\.tsv: only 0 of 30 genes vary across the 3 patients \(30 are constant, e.g. \['G0'"),
    Case("constant_genes_dropped", lambda t: lambda: parsers.drop_constant_genes(
        read_plain(write(t, "m.tsv", matrix_rows(["P1", "P2", "P3"]) + [["FLAT", "2", "2", "2"]])),
        source=str(t / "m.tsv"), min_genes=5),
         r"\S*m\.tsv: dropped 1 constant gene\(s\) \(the same value in all 3 patients\), e.g. FLAT", warn=True),
    # --- IDs across tables
    Case("ids_match_nothing", lambda t: lambda: targets.build_targets(
        [targets.spec_from_dict(BINARY)],
        {"targets": parsers.read_target_table(write(t, "targets.tsv", [["id", "grade"], ["A1", "low"],
                                                                       ["A2", "high"]]))},
        patients=pd.Index(["P1", "P2"]), source_paths={"targets": str(t / "targets.tsv"), "expression": "expr.tsv"}),
         r"file \S*targets\.tsv: target 'grade': no patient overlap between the targets table and the expression "
         r"matrix \(expr\.tsv\): e.g. \['A1', 'A2'\] vs \['P1', 'P2'\]"),
    Case("ids_near_miss_15_vs_12", lambda t: preflight_case(
        t, plain(t, ids=BARCODES), tables={"clinical": str(biotab(t, ["Dead"] * 6))}),
         r"file \S*clinical\.txt: no patient overlap between the clinical table and the expression \(\S*expr\.tsv\)"
         r".*would match after trimming to the 12-character TCGA patient ID .*ID lengths \[12\] vs \[16\].*"
         r"inputs\.id_rule: tcga"),
    Case("test_cohort_overlaps_training", lambda t: lambda: heldout.check_disjoint(
        ["P1", "P2"], ["P2", "P9"], train_source="train.tsv", test_source=str(t / "test.tsv")),
         r"file \S*test\.tsv: 1 patient\(s\) of the held-out test cohort are also in the training cohort "
         r"\(train\.tsv\)"),
    # --- targets
    Case("missing_target_column", lambda t: target_case(t, ["low", "high"], column="grad"),
         r"file \S*targets\.tsv, column 'grade': target 'grade' needs column 'grade'; the table has \['grad'\]"),
    Case("target_one_class", lambda t: target_case(t, ["low", "low", "low", "NA"]),
         r"file \S*targets\.tsv, column 'grade': target 'grade': the positive class 'high' .* is not present"),
    Case("class_smaller_than_folds", lambda t: target_case(t, ["low"] * 6 + ["high"] * 2, folds=3),
         r"file \S*targets\.tsv, column 'grade': target 'grade': classes \{'high': 2\} have fewer than 3 patients"),
    Case("unknown_vasari_category", lambda t: lambda: targets.encode_target(
        targets.spec_from_dict(targets.PRESETS["vasari"][0]),
        parsers.read_vasari(write(t, "vasari.csv", [["", "f5.proportion.enhancing"], [BARCODES[0][:12], "Mostly"]],
                                  sep=",")), source_path=str(t / "vasari.csv")),
         r"file \S*vasari\.csv, row TCGA-02-0001, column 'f5.proportion.enhancing': target 'f5': unknown category "
         r"'Mostly'; expected one of"),
    # --- survival
    Case("negative_survival_time", lambda t: survival_case(t, [["P1", "-5", "1"], ["P2", "100", "0"]]),
         r"\S*surv\.tsv: 1 patient\(s\) left out of the survival analyses \(columns 'os_days', 'status'\): P1: "
         r"negative time: os_days = '-5' \(row 2\)", warn=True),
    Case("missing_survival_time_everywhere", lambda t: survival_case(t, [["P1", "NA", "1"], ["P2", "", "0"]]),
         r"file \S*surv\.tsv: no patient has a usable survival time and event \(2 problem row\(s\), e.g. P1: missing "
         r"time: os_days is NA or empty \(row 2\)\)"),
    Case("event_code_not_0_1", lambda t: survival_case(t, [["P1", "10", "1"], ["P2", "20", "2"]]),
         r"file \S*surv\.tsv, row 3, column 'status': event value '2' for patient 'P2' is not an event code"),
    Case("vital_status_not_dead_alive", lambda t: lambda: parsers.read_clinical_biotab(
        biotab(t, ["Dead", "Alive", "Lost", "Dead", "Alive", "Dead"])),
         r"file \S*clinical\.txt, row 6, column 'vital_status': 1 unrecognised vital status value\(s\) \(row 6: "
         r"'Lost'\); expected Dead or Alive"),
    Case("vital_status_follow_up_table", lambda t: lambda: survival.read_biotab_records(
        biotab(t, ["Dead", "Censored", "Alive", "Dead", "Alive", "Dead"])),
         r"file \S*clinical\.txt, row 5, column 'vital_status': 1 unrecognised vital status value\(s\)"),
    # --- gene sets
    Case("gene_sets_no_gene_in_expression", lambda t: lambda: parsers.filter_gene_sets(
        parsers.read_gmt(write(t, "h.gmt", "SET_A\turl\tENSG1\tENSG2\n")), ["TP53", "EGFR"], source=str(t / "h.gmt"),
        expression_source="expr.tsv"),
         r"file \S*h\.gmt: no gene set has at least 1 gene\(s\) among the 2 expression genes of expr\.tsv"),
    # --- config
    Case("config_misspelt_key", lambda t: config_case({"evaluation": {"inner_fold": 3}}),
         r"^config: unknown key `evaluation\.inner_fold`; did you mean `evaluation\.inner_folds`\?$"),
    Case("config_key_in_wrong_section", lambda t: config_case({"evaluation": {"folds": 3}}),
         r"^config: unknown key `evaluation\.folds`; did you mean `cv\.folds`\?$"),
    Case("config_wrong_type", lambda t: config_case({"cv": {"folds": "five"}}),
         r"^config: `cv\.folds` is 'five' \(a string\); expected an integer$"),
    Case("config_wrong_enum", lambda t: config_case({"evaluation": {"models": ["network", "lasso_svm"]}}),
         r"^config: `evaluation\.models\[1\]` is 'lasso_svm'; expected one of network, logreg_l1"),
    Case("config_path_does_not_exist", lambda t: lambda: schema.check_input_paths(
        {"inputs": {"expression": str(xena(t)), "gene_sets": {"hallmark": "gone/h.gmt"}}}, simulated=False, base=t),
         r"^config: an input file does not exist: inputs\.gene_sets\.hallmark = 'gone/h\.gmt': file not found"),
]


def test_case_table_is_wide_enough():
    assert len(CASES) >= 25 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path, caplog):
    call = case.make(tmp_path)
    if case.warn:
        with caplog.at_level(logging.INFO, logger="radiogenomics"):
            call()
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert any(re.search(case.message, w) for w in warnings), warnings
        return
    with pytest.raises((InputError, schema.ConfigError)) as info:
        call()
    message = str(info.value)
    assert re.search(case.message, message), message
    assert "\n" not in message  # one line


# --------------------------------------------------------------------------- through Snakemake


