"""Generic inputs: patient-ID rules and the plain-table parsers (matrix, target table, survival table)."""

from __future__ import annotations

import gzip
import logging

import numpy as np
import pandas as pd
import pytest

from radiogenomics import inputs
from radiogenomics.errors import InputError
from radiogenomics.inputs import ids

LOGGER = "radiogenomics.inputs"


def write(tmp_path, name: str, rows: list[list[str]], sep: str = "\t") -> object:
    path = tmp_path / name
    path.write_text("\n".join(sep.join(r) for r in rows) + "\n")
    return path


GENES_X_SAMPLES = [["gene", "P1", "P2", "P3"],
                   ["TP53", "1.5", "2.0", "3.25"],
                   ["EGFR", "4", "5", "6"]]
SAMPLES_X_GENES = [["sample", "TP53", "EGFR"],
                   ["P1", "1.5", "4"],
                   ["P2", "2.0", "5"],
                   ["P3", "3.25", "6"]]
EXPECTED = pd.DataFrame({"TP53": [1.5, 2.0, 3.25], "EGFR": [4.0, 5.0, 6.0]},
                        index=pd.Index(["P1", "P2", "P3"], name="patient"))


def expect_error(match: str, func, *args, **kwargs) -> str:
    with pytest.raises(InputError, match=match) as info:
        func(*args, **kwargs)
    return str(info.value)


# --------------------------------------------------------------------------- ID rules


def test_identity_rule_strips_and_rejects_empty():
    rule = ids.make_id_rule("identity")
    assert rule("  P-001 \t") == "P-001"
    with pytest.raises(ids.IdRuleError, match="missing ID"):
        rule("   ")
    assert ids.make_id_rule() == rule and rule.kind == "identity"


def test_tcga_rule_takes_patient_barcode_and_validates():
    rule = ids.make_id_rule("tcga")
    assert rule("TCGA-02-0003-01A") == "TCGA-02-0003"
    assert rule("TCGA-02-0003") == "TCGA-02-0003"
    assert rule("TCGA-06-0125-01A-01R-1849-01") == "TCGA-06-0125"
    assert rule("TCGA.02.0003.01A") == "TCGA-02-0003"  # R's make.names turns '-' into '.'
    assert rule.normalise("TCGA.02.0003.01A") == "TCGA-02-0003-01A"
    with pytest.raises(ids.IdRuleError, match="'LUNG1-001' is not a TCGA barcode"):
        rule("LUNG1-001")


def test_regex_rule_groups_and_errors():
    rule = ids.make_id_rule({"regex": r"^(LUNG1-\d{3})_(?:CT|RNA)$", "group": 1})
    assert rule("LUNG1-042_RNA") == "LUNG1-042"
    with pytest.raises(ids.IdRuleError, match=r"'R01-042' does not match the ID rule's regex"):
        rule("R01-042")
    named = ids.make_id_rule({"regex": r"(?P<pid>R\d+)-\w+", "group": "pid"})
    assert named("R01-tumour") == "R01"
    default_group = ids.make_id_rule({"regex": r"^([\w-]+)\."})
    assert default_group("AMC-001.bam") == "AMC-001"
    whole = ids.make_id_rule({"regex": r"\d+"})
    assert whole("case 17 left") == "17"
    assert rule.to_spec() == {"regex": r"^(LUNG1-\d{3})_(?:CT|RNA)$", "group": 1}
    assert ids.make_id_rule(rule) is rule


@pytest.mark.parametrize("spec, match", [
    ("patient", "unknown ID rule"),
    ({"regex": "(a"}, "invalid regex"),
    ({"regex": r"(\d+)", "group": 2}, "group 2 does not exist"),
    ({"regex": r"(?P<x>\d+)", "group": "y"}, "no group named 'y'"),
    ({"pattern": "x"}, "unknown keys"),
    ({"group": 1}, "needs a 'regex'"),
    (12, "must be 'identity', 'tcga'"),
])
def test_bad_rule_specs(spec, match):
    with pytest.raises(ValueError, match=match):
        ids.make_id_rule(spec)


# --------------------------------------------------------------------------- read_matrix


def test_matrix_both_orientations_give_the_same_frame(tmp_path):
    gxs = inputs.read_matrix(write(tmp_path, "gxs.tsv", GENES_X_SAMPLES), orientation="genes_x_samples")
    sxg = inputs.read_matrix(write(tmp_path, "sxg.csv", SAMPLES_X_GENES, sep=","), orientation="samples_x_genes")
    pd.testing.assert_frame_equal(gxs, EXPECTED)
    pd.testing.assert_frame_equal(sxg, EXPECTED)
    assert gxs.dtypes.unique().tolist() == [np.dtype("float64")]


def test_matrix_separator_from_suffix_gzip_quotes_and_trailing_separator(tmp_path):
    txt = inputs.read_matrix(write(tmp_path, "m.txt", GENES_X_SAMPLES), orientation="genes_x_samples")
    pd.testing.assert_frame_equal(txt, EXPECTED)
    gz = tmp_path / "m.tsv.gz"
    with gzip.open(gz, "wt") as fh:
        fh.write("\n".join("\t".join(r) for r in GENES_X_SAMPLES) + "\n")
    pd.testing.assert_frame_equal(inputs.read_matrix(gz, orientation="genes_x_samples"), EXPECTED)
    # R's write.csv: every string quoted; a trailing separator on each line is tolerated too
    quoted = tmp_path / "q.csv"
    quoted.write_text('"","TP53","EGFR",\n"P1",1.5,4,\n"P2",2,5,\n"P3",3.25,6,\n')
    pd.testing.assert_frame_equal(inputs.read_matrix(quoted, orientation="samples_x_genes"), EXPECTED)
    dat = write(tmp_path, "m.dat", GENES_X_SAMPLES, sep=";")
    expect_error("cannot tell the column separator", inputs.read_matrix, dat, orientation="genes_x_samples")
    pd.testing.assert_frame_equal(inputs.read_matrix(dat, orientation="genes_x_samples", sep=";"), EXPECTED)
    with pytest.raises(ValueError, match="orientation"):
        inputs.read_matrix(dat, orientation="rows", sep=";")


def test_matrix_regex_rule_maps_sample_ids(tmp_path):
    rows = [["gene", "LUNG1-001_RNA", "LUNG1-002_RNA"], ["TP53", "1", "2"]]
    frame = inputs.read_matrix(write(tmp_path, "m.tsv", rows), orientation="genes_x_samples",
                                id_rule={"regex": r"^(LUNG1-\d+)_RNA$"})
    assert frame.index.tolist() == ["LUNG1-001", "LUNG1-002"]
    msg = expect_error("does not match", inputs.read_matrix, write(tmp_path, "b.tsv", [["gene", "X9"], ["TP53", "1"]]),
                       orientation="genes_x_samples", id_rule={"regex": r"^(LUNG1-\d+)_RNA$"})
    assert "b.tsv" in msg and "row 1" in msg and "'X9'" in msg


def test_matrix_duplicated_genes_and_samples(tmp_path):
    rows = GENES_X_SAMPLES + [["TP53", "7", "8", "9"]]
    msg = expect_error("duplicated gene symbol", inputs.read_matrix, write(tmp_path, "d.tsv", rows),
                       orientation="genes_x_samples")
    assert "TP53 (rows 2, 4)" in msg
    sxg = [["sample", "TP53", "EGFR", "TP53"], ["P1", "1", "2", "3"]]
    msg = expect_error("duplicated gene symbol", inputs.read_matrix, write(tmp_path, "d2.tsv", sxg),
                       orientation="samples_x_genes")
    assert "columns 2 and 4" in msg
    gxs = [["gene", "P1", "P1"], ["TP53", "1", "2"]]
    expect_error("duplicated sample ID 'P1'", inputs.read_matrix, write(tmp_path, "d3.tsv", gxs),
                 orientation="genes_x_samples")
    rows_dup = SAMPLES_X_GENES + [["P2", "9", "9"]]
    msg = expect_error("duplicated sample ID", inputs.read_matrix, write(tmp_path, "d4.tsv", rows_dup),
                       orientation="samples_x_genes")
    assert "P2 (rows 3, 5)" in msg


@pytest.mark.parametrize("orientation, rows, row, column", [
    ("genes_x_samples", [["gene", "P1", "P2"], ["TP53", "1", "high"]], "row 2 (gene TP53)", "'P2'"),
    ("samples_x_genes", [["sample", "TP53", "EGFR"], ["P1", "1", "2"], ["P2", "x", "2"]], "row 3 (sample P2)",
     "'TP53'"),
])
def test_matrix_non_numeric_cell_names_row_and_column(tmp_path, orientation, rows, row, column):
    msg = expect_error("non-numeric value", inputs.read_matrix, write(tmp_path, "n.tsv", rows),
                       orientation=orientation)
    assert row in msg and f"column {column}" in msg and "n.tsv" in msg


def test_matrix_infinite_value_is_an_error(tmp_path):
    expect_error("non-numeric value 'inf'", inputs.read_matrix,
                 write(tmp_path, "i.tsv", [["gene", "P1"], ["TP53", "inf"]]), orientation="genes_x_samples")


def test_matrix_two_samples_of_one_patient(tmp_path):
    rows = [["gene", "P1_a", "P2_a", "P1_b"], ["TP53", "1", "2", "3"]]
    msg = expect_error("both map to patient 'P1'", inputs.read_matrix, write(tmp_path, "s.tsv", rows),
                       orientation="genes_x_samples", id_rule={"regex": r"^(P\d)_"})
    assert "'P1_a'" in msg and "'P1_b'" in msg and "one sample per patient" in msg
    sxg = [["sample", "TP53"], ["P1_a", "1"], ["P1_b", "2"]]
    msg = expect_error("both map", inputs.read_matrix, write(tmp_path, "s2.tsv", sxg), orientation="samples_x_genes",
                       id_rule={"regex": r"^(P\d)_"})
    assert "(row 2)" in msg and "(row 3)" in msg


def test_matrix_tcga_rule_applies_select_samples(tmp_path):
    rows = [["gene", "TCGA-02-0003-02A", "TCGA-02-0003-01A", "TCGA-02-0004-11A", "TCGA-02-0005-01A"],
            ["TP53", "1", "2", "3", "4"]]
    frame, samples = inputs.read_matrix(write(tmp_path, "t.tsv", rows), orientation="genes_x_samples",
                                         id_rule="tcga", return_samples=True)
    assert frame["TP53"].to_dict() == {"TCGA-02-0003": 2.0, "TCGA-02-0005": 4.0}
    assert samples.columns.tolist() == inputs.MATRIX_SAMPLE_COLUMNS
    assert samples["kept"].tolist() == [False, True, False, True]
    assert "normal tissue" in samples.loc[2, "reason"]
    # R-mangled barcodes in a samples x genes table
    sxg = [["id", "TP53"], ["TCGA.02.0003.01A", "1"], ["TCGA.02.0003.01B", "5"]]
    frame = inputs.read_matrix(write(tmp_path, "t2.csv", sxg, sep=","), orientation="samples_x_genes", id_rule="tcga")
    assert frame["TP53"].to_dict() == {"TCGA-02-0003": 1.0}
    # a bare patient barcode next to a sample of the same patient cannot be ranked
    bare = [["gene", "TCGA-02-0003", "TCGA-02-0003-01A"], ["TP53", "1", "2"]]
    expect_error("give full sample barcodes", inputs.read_matrix, write(tmp_path, "t3.tsv", bare),
                 orientation="genes_x_samples", id_rule="tcga")
    only_normal = [["gene", "TCGA-02-0003-11A"], ["TP53", "1"]]
    expect_error("no sample left", inputs.read_matrix, write(tmp_path, "t4.tsv", only_normal),
                 orientation="genes_x_samples", id_rule="tcga")
    msg = expect_error("not a TCGA barcode", inputs.read_matrix,
                       write(tmp_path, "t5.tsv", [["gene", "P1"], ["A", "1"]]),
                       orientation="genes_x_samples", id_rule="tcga")
    assert "column 'P1'" in msg


def test_matrix_missing_values_drop_genes(tmp_path, caplog):
    rows = GENES_X_SAMPLES + [["KRAS", "1", "NA", ""]]
    with caplog.at_level(logging.INFO, logger=LOGGER):
        frame = inputs.read_matrix(write(tmp_path, "m.tsv", rows), orientation="genes_x_samples")
    pd.testing.assert_frame_equal(frame, EXPECTED)
    assert "dropped 1 gene(s) with missing values, e.g. KRAS (row 4)" in caplog.text
    all_missing = [["sample", "TP53"], ["P1", "NA"]]
    expect_error("every gene has a missing value", inputs.read_matrix, write(tmp_path, "a.tsv", all_missing),
                 orientation="samples_x_genes")


@pytest.mark.parametrize("rows, match, where", [
    ([["gene", "P1", "P2"], ["TP53", "1"]], "expected 3 tab-separated fields", "row 2"),
    ([["gene"], ["TP53"]], "no samples", "row 1"),
    ([["gene", "P1", ""], ["TP53", "1", "2"]], "no name in the header row", "column 'column 3'"),
    ([["gene", "", "P2"], ["TP53", "1", "2"]], "empty sample ID", "column 'column 2'"),
    ([["gene", "P1"], ["", "1"]], "empty gene symbol", "row 2"),
    ([["gene", "P1"]], "no gene rows", None),
])
def test_matrix_layout_errors(tmp_path, rows, match, where):
    msg = expect_error(match, inputs.read_matrix, write(tmp_path, "l.tsv", rows), orientation="genes_x_samples")
    if where:
        assert where in msg


def test_byte_order_mark_and_non_utf8_text(tmp_path):
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffpatient,histology\nP1,Adenocarcinoma\n".encode("utf-8"))
    table = inputs.read_target_table(bom)
    assert table.columns.tolist() == ["histology"] and table.index.tolist() == ["P1"]
    latin = tmp_path / "latin.csv"
    latin.write_bytes("patient,site\nP1,ok\nP2,K\xf6ln\n".encode("latin-1"))
    expect_error("not UTF-8 text", inputs.read_target_table, latin)


def test_matrix_empty_and_missing_file(tmp_path):
    empty = tmp_path / "e.tsv"
    empty.write_text("")
    expect_error("empty file", inputs.read_matrix, empty, orientation="genes_x_samples")
    expect_error("file not found", inputs.read_matrix, tmp_path / "nope.tsv", orientation="genes_x_samples")


# --------------------------------------------------------------------------- read_target_table


def test_target_table_strings_and_missing(tmp_path):
    rows = [["patient", "volume", "histology", "f5"],
            ["P2", "1.5e3", "Adenocarcinoma", "n/a"],
            ["P1", "NA", "", "Minimal"],
            ["P3", " 17 ", "NOS", "More than 2/3"]]
    table = inputs.read_target_table(write(tmp_path, "t.tsv", rows))
    assert table.index.tolist() == ["P2", "P1", "P3"] and table.index.name == "patient"
    assert table.columns.tolist() == ["volume", "histology", "f5"]
    assert table.loc["P2", "volume"] == "1.5e3" and table.loc["P3", "volume"] == "17"
    assert pd.isna(table.loc["P1", "volume"]) and pd.isna(table.loc["P1", "histology"])
    assert table.loc["P2", "f5"] == "n/a"  # only NA / empty are missing; target definitions decide the rest
    assert (table.dtypes == "object").all()


def test_target_table_id_rules_and_duplicates(tmp_path):
    rows = [["barcode", "y"], ["TCGA-02-0003-01A", "1"], ["TCGA-02-0004-01A", "2"]]
    table = inputs.read_target_table(write(tmp_path, "t.csv", rows, sep=","), id_rule="tcga")
    assert table.index.tolist() == ["TCGA-02-0003", "TCGA-02-0004"]
    dup = rows + [["TCGA-02-0003-02A", "3"]]
    msg = expect_error("duplicated patient 'TCGA-02-0003' in rows 2 and 4", inputs.read_target_table,
                       write(tmp_path, "d.csv", dup, sep=","), id_rule="tcga")
    assert "'TCGA-02-0003-01A' and 'TCGA-02-0003-02A'" in msg and "column 'barcode'" in msg
    msg = expect_error("not a TCGA barcode", inputs.read_target_table,
                       write(tmp_path, "b.csv", [["id", "y"], ["LUNG1-001", "1"]], sep=","), id_rule="tcga")
    assert "row 2" in msg and "column 'id'" in msg


@pytest.mark.parametrize("rows, match, where", [
    ([["patient", "y", "y"], ["P1", "1", "2"]], "duplicated column name 'y'", "row 1"),
    ([["patient", "y", ""], ["P1", "1", "2"]], "no name in the header row", "column 'column 3'"),
    ([["patient", "", "z"], ["P1", "1", "2"]], "empty column name", "column 'column 2'"),
    ([["patient"], ["P1"]], "at least one target column", "row 1"),
    ([["patient", "y"], ["P1", "1", "2", "3"]], "expected 2 tab-separated fields", "row 2"),
    ([["patient", "y"]], "no data rows", None),
    ([["patient", "y"], ["", "1"]], "missing ID", "row 2"),
    ([["patient", "y"], ["P1", "1"], ["P1", "2"]], "duplicated patient 'P1' in rows 2 and 3", None),
])
def test_target_table_errors(tmp_path, rows, match, where):
    msg = expect_error(match, inputs.read_target_table, write(tmp_path, "t.tsv", rows))
    if where:
        assert where in msg


# --------------------------------------------------------------------------- read_survival_table


def test_survival_table_codes_words_and_problems(tmp_path, caplog):
    rows = [["id", "os_days", "status", "age"],
            ["P1", "100", "1", "60"],
            ["P2", "250.5", "0", "55"],
            ["P3", "30", "Dead", "70"],
            ["P4", "400", "ALIVE", "50"],
            ["P5", "12", "deceased", ""],
            ["P6", "-5", "1", "61"],
            ["P7", "NA", "0", "62"],
            ["P8", "90", "", "63"],
            ["P9", "0", "censored", "64"]]
    with caplog.at_level(logging.INFO, logger=LOGGER):
        endpoint, problems = inputs.read_survival_table(write(tmp_path, "s.tsv", rows), time_column="os_days",
                                                         event_column="status")
    assert endpoint.index.name == "patient" and endpoint.columns.tolist() == ["time", "event"]
    assert endpoint["time"].dtype == np.float64 and endpoint["event"].dtype.kind == "i"
    assert endpoint["event"].to_dict() == {"P1": 1, "P2": 0, "P3": 1, "P4": 0, "P5": 1, "P9": 0}
    assert endpoint.loc["P2", "time"] == 250.5
    assert problems.columns.tolist() == ["patient", "problem"]
    reasons = dict(zip(problems["patient"], problems["problem"]))
    assert reasons["P6"].startswith("negative time") and "(row 7)" in reasons["P6"]
    assert reasons["P7"].startswith("missing time") and reasons["P8"].startswith("missing event")
    assert set(reasons) == {"P6", "P7", "P8"}
    assert "ignored column(s) ['age']" in caplog.text


def test_survival_table_defaults_and_tcga_rule(tmp_path):
    rows = [["barcode", "time", "event"], ["TCGA-02-0003-01A", "10", "1.0"], ["TCGA-02-0004-01A", "20", "0.0"]]
    endpoint, problems = inputs.read_survival_table(write(tmp_path, "s.csv", rows, sep=","), id_rule="tcga")
    assert endpoint["event"].to_dict() == {"TCGA-02-0003": 1, "TCGA-02-0004": 0}
    assert problems.empty


@pytest.mark.parametrize("rows, match, where", [
    ([["id", "time", "event"], ["P1", "10", "maybe"]], "event value 'maybe'", "row 2"),
    ([["id", "time", "event"], ["P1", "10", "2"]], "event value '2'", "column 'event'"),
    ([["id", "time", "event"], ["P1", "12 months", "1"]], "time value '12 months'", "column 'time'"),
    ([["id", "time", "event"], ["P1", "inf", "1"]], "not finite", "row 2"),
    ([["id", "days", "event"], ["P1", "10", "1"]], "missing time column 'time'", "['days', 'event']"),
    ([["id", "time", "vital"], ["P1", "10", "1"]], "missing event column 'event'", None),
    ([["id", "time", "event"], ["P1", "-1", "1"], ["P2", "NA", "0"]], "no patient has a usable", "P1: negative time"),
])
def test_survival_table_errors(tmp_path, rows, match, where):
    msg = expect_error(match, inputs.read_survival_table, write(tmp_path, "s.tsv", rows))
    assert "s.tsv" in msg
    if where:
        assert where in msg


def test_survival_table_same_columns_rejected(tmp_path):
    with pytest.raises(ValueError, match="must be different"):
        inputs.read_survival_table(tmp_path / "x.tsv", time_column="t", event_column="t")


# --------------------------------------------------------------------------- workflow helpers: header, patient list


def test_read_table_columns_and_patient_list(tmp_path):
    from radiogenomics import inputs as p

    path = write(tmp_path, "t.csv", [["patient", "vol", "histology"], ["P1", "1", "NOS"]], sep=",")
    assert p.read_table_columns(path) == ["vol", "histology"]
    expect_error("duplicated column name|appears twice|twice", p.read_table_columns,
                 write(tmp_path, "d.tsv", [["patient", "vol", "vol"], ["P1", "1", "2"]]))
    listed = write(tmp_path, "test_patients.txt", [["patient"], ["TCGA-02-0003-01A"], ["TCGA-02-0004"]])
    assert p.read_patient_list(listed, id_rule="tcga") == ["TCGA-02-0003", "TCGA-02-0004"]
    twice = write(tmp_path, "twice.txt", [["patient"], ["P1"], ["P2"], ["P1"]])
    msg = expect_error("listed twice", p.read_patient_list, twice)
    assert "twice.txt" in msg and "rows 2 and 4" in msg
    expect_error("no patient ID", p.read_patient_list, write(tmp_path, "empty.txt", [["patient"]]))


# --------------------------------------------------------------------------- targets from the plain table, test cohort


def _plain(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame(columns, index=pd.Index([f"P{i:02d}" for i in range(n)], name="patient"), dtype=object)


HISTOLOGY = {"name": "histology", "type": "multiclass", "source": "targets",
             "classes": {"adeno": ["Adenocarcinoma"], "squamous": ["Squamous cell carcinoma"], "nos": ["NOS"]}}


def test_resolve_specs_declares_continuous_columns_and_keeps_explicit_definitions():
    from radiogenomics.cohorts import targets

    specs = targets.resolve_specs([], [HISTOLOGY], ["original_shape_F001", "histology", "original_glcm_F002"],
                                  continuous_missing=["failed"])
    by_name = {s.name: s for s in specs}
    assert by_name["histology"].type == "multiclass"  # the explicit definition wins over 'all columns'
    assert by_name["original_shape_F001"].type == "continuous"
    assert by_name["original_shape_F001"].source == "targets" and "failed" in by_name["original_glcm_F002"].missing
    assert len(specs) == 3


def test_test_targets_use_the_training_codes_and_allow_absent_classes():
    from radiogenomics.cohorts import targets

    specs = [targets.spec_from_dict(HISTOLOGY), targets.spec_from_dict({"name": "vol", "type": "continuous",
                                                                        "source": "targets"}),
             targets.spec_from_dict({"name": "f7", "type": "binary", "source": "vasari",
                                     "classes": {"lo": ["Minimal"], "hi": ["More than 2/3"]}, "positive": "hi"})]
    train = _plain(histology=["Adenocarcinoma", "NOS", "Squamous cell carcinoma"] * 4,
                   vol=[str(v) for v in range(12)])
    train_vasari = pd.DataFrame({"f7": ["Minimal", "More than 2/3"] * 6}, index=train.index)
    _, meta, _ = targets.build_targets(specs, {"targets": train, "vasari": train_vasari}, patients=train.index,
                                       min_class_size=2)
    test = _plain(histology=["NOS", "NOS", "Adenocarcinoma", "NA"], vol=["1.5", "NA", "2", "3"])
    test.index = pd.Index(["T1", "T2", "T3", "T4"], name="patient")
    table, report = targets.build_test_targets(specs, {"targets": test}, patients=pd.Index(["T1", "T2", "T3"]),
                                               train_meta=meta, source_paths={"targets": "test.tsv"})
    # same codes as training (adeno 0, squamous 1, nos 2); the squamous class is absent: allowed
    assert table["histology"].tolist() == [2, 2, 0]
    assert table["vol"].tolist()[::2] == [1.5, 2.0] and np.isnan(table.loc["T2", "vol"])
    assert "f7" not in table.columns  # the test cohort has no VASARI table: reported, not scored
    reasons = {(r.target, r.reason): r.n for r in report.itertuples()}
    assert ("histology", "no expression data") not in reasons and reasons[("histology", "missing (NA/empty)")] == 1
    assert reasons[("vol", "no expression data")] == 1 and reasons[("histology", "kept")] == 3
    assert any(t == "f7" and "not scored" in r for t, r in reasons)
    # text in a continuous column and an unknown category are errors, as in training
    bad = _plain(histology=["NOS", "Large cell"], vol=["1", "big"])
    with pytest.raises(InputError, match="unknown category 'Large cell'"):
        targets.build_test_targets(specs[:1], {"targets": bad}, patients=bad.index, train_meta=meta)
    with pytest.raises(InputError, match="not a number"):
        targets.build_test_targets(specs[1:2], {"targets": bad}, patients=bad.index, train_meta=meta)


def test_overlapping_cohorts_and_missing_genes_are_errors():
    from radiogenomics.evaluation import heldout

    heldout.check_disjoint(["P1", "P2"], ["T1"], train_source="train.tsv", test_source="test.tsv")
    msg = expect_error("also in the training cohort", heldout.check_disjoint, ["P1", "P2", "P3"], ["P2", "P3", "T1"],
                       train_source="train.tsv", test_source="test.tsv")
    assert "test.tsv" in msg and "train.tsv" in msg and "2 patient(s)" in msg and "'P2'" in msg
    expr = pd.DataFrame(np.ones((2, 3)), columns=["B", "A", "EXTRA"], index=["T1", "T2"])
    assert list(heldout.align_genes(expr, ["A", "B"], source="t.tsv").columns) == ["A", "B"]
    msg = expect_error("lacks 1 of the 3 genes", heldout.align_genes, expr, ["A", "B", "C"], source="t.tsv")
    assert "'C'" in msg and "t.tsv" in msg


def test_held_out_scores_per_type_with_bootstrap_intervals():
    from radiogenomics.evaluation import heldout

    rng = np.random.default_rng(0)
    n = 80
    y = rng.normal(size=n)
    good = y + rng.normal(scale=0.5, size=n)
    pred = pd.concat([pd.DataFrame({"patient": [f"T{i}" for i in range(n)], "model": m, "y": y, "prediction": p})
                      for m, p in (("network", good), ("ridge", rng.normal(size=n)))], ignore_index=True)
    cv = pd.DataFrame({"target": "vol", "model": ["network"] * 3, "value": [0.5, 0.6, 0.7]})
    s = heldout.score_predictions(pred, "vol", "continuous", [], n_boot=200, seed=1, cv_scores=cv).set_index("model")
    assert s.loc["network", "metric"] == "r2" and s.loc["network", "r2"] == s.loc["network", "value"] > 0.5
    assert s.loc["network", "ci_low"] < s.loc["network", "value"] < s.loc["network", "ci_high"]
    assert s.loc["network", "cv_mean"] == pytest.approx(0.6) and s.loc["network", "cv_folds"] == 3
    assert s.loc["ridge", "value"] < 0.1 and np.isnan(s.loc["ridge", "cv_mean"])
    # multiclass: per-class AUCs, macro AUC and its interval
    codes = rng.integers(0, 3, size=n)
    logits = np.eye(3)[codes] * 2 + rng.normal(size=(n, 3))
    mc = pd.DataFrame(logits, columns=["logit_a", "logit_b", "logit_c"])
    mc.insert(0, "y", codes)
    mc.insert(0, "model", "network")
    mc.insert(0, "patient", [f"T{i}" for i in range(n)])
    s = heldout.score_predictions(mc, "hist", "multiclass", ["a", "b", "c"], n_boot=100, seed=1).iloc[0]
    assert s["metric"] == "auc_macro" and s["auc_macro"] > 0.8 and {"auc_a", "auc_b", "auc_c"} <= set(s.index)
    assert s["ci_low"] <= s["value"] <= s["ci_high"]


# --------------------------------------------------------------------------- multiclass masking per class


def test_multiclass_masking_recovers_each_class_program_on_held_out_patients():
    """A histology network trained on the simulated training cohort, masked on the held-out cohort: the
    program planted for a class is the set that best keeps that class's one-vs-rest AUC."""
    from radiogenomics.cohorts.simulate import HISTOLOGY_CLASSES, SimulationParams, simulate_cohort
    from radiogenomics.evaluation import metrics
    from radiogenomics.interpret import masking
    from radiogenomics.models import training

    cohort = simulate_cohort(SimulationParams(n_patients=300, n_imaged=260, n_genes=1000, n_subtyped=50,
                                              n_programs=8, histology=True, n_test_patients=200, seed=3))
    classes = list(HISTOLOGY_CLASSES)
    code = {c: i for i, c in enumerate(classes)}
    y = cohort.plain_targets["histology"].dropna().map(code).astype(int).sort_index()
    y_test = cohort.test_plain_targets["histology"].dropna().map(code).astype(int).sort_index()
    cfg = training.TrainingConfig.from_dict({"lr": 0.005, "max_epochs": 60, "patience": 10, "batch_size": 32})
    model = training.fit_network(cohort.expression, y, "multiclass", classes,
                                 {"hidden": [32, 16], "activation": "tanh", "dropout": 0.1}, cfg, seed=5,
                                 target="histology")
    x = model.scaled(cohort.test_expression.loc[y_test.index])
    full = metrics.score("multiclass", y_test.to_numpy(), model.outputs(x), classes)
    names = list(cohort.programs)
    position = {g: i for i, g in enumerate(model.genes)}
    sets = [np.array([position[g] for g in cohort.programs[p]]) for p in names]
    masked = model.unscale_outputs(masking.masked_outputs(model.network, x, sets).astype(np.float64))
    per_class = pd.DataFrame([metrics.score("multiclass", y_test.to_numpy(), out, classes) for out in masked],
                             index=names)
    print(f"\nheld-out macro AUC {full['auc_macro']:.3f}; masking AUC per class (program rows):\n"
          + per_class[[f"auc_{c}" for c in classes]].round(3).to_string())
    assert full["auc_macro"] > 0.75
    for cls, driver in HISTOLOGY_CLASSES.items():
        if driver is None:
            continue
        column = per_class[f"auc_{cls}"]
        assert column.idxmax() == driver, (cls, column.sort_values(ascending=False).head(3))
        assert column[driver] > 0.75
