"""Parsers: the real public tables (../shared, skipped when absent) and every bad-input case on small files."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from radiogenomics import inputs
from radiogenomics.errors import InputError

CLANC = "TCGA_unified_CORE_ClaNC840.txt"
CLINICAL = "nationwidechildrens.org_clinical_patient_gbm.txt"
VASARI = "vasari_annotations.csv"
HALLMARK = "h.all.v6.2.symbols.gmt"
S15 = "aaf2666_Table-S15.csv"

LOGGER = "radiogenomics.inputs"


def write(tmp_path, name: str, text: str, newline: str = "\n"):
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode())
    return path


def matrix_text(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join("\t".join(r) for r in [header, *rows]) + "\n"


# --------------------------------------------------------------------------- real tables


@pytest.mark.realdata
def test_real_clanc(real_data_dir, caplog):
    with caplog.at_level(logging.INFO, logger=LOGGER):
        table = inputs.read_clanc(real_data_dir / CLANC)
    assert table.expression.shape == (173, 840)
    assert table.expression.dtypes.unique().tolist() == [np.dtype("float64")]
    assert table.expression.index.name == "patient"
    assert table.expression.index.str.len().unique().tolist() == [12]
    assert table.expression.index.is_unique
    assert list(table.gene_sets) == ["Proneural", "Neural", "Classical", "Mesenchymal"]
    assert {k: len(v) for k, v in table.gene_sets.items()} == {
        "Proneural": 178, "Neural": 129, "Classical": 162, "Mesenchymal": 216}
    assert table.subtypes.value_counts().to_dict() == {
        "Mesenchymal": 56, "Proneural": 53, "Classical": 38, "Neural": 26}
    assert table.subtypes.index.equals(table.expression.index)
    assert table.subtypes["TCGA-02-0003"] == "Proneural"
    assert table.expression.loc["TCGA-02-0003", "CDKN1B"] == pytest.approx(1.251)
    # sample barcodes keep their vial / portion: -01B-01 and -01A-02 exist
    assert "TCGA-02-0011-01B-01" in set(table.samples["barcode"])
    assert table.samples["kept"].all()
    # the real file has one blank line (line 251) inside the NL genes: skipped and logged
    assert "skipped 1 blank line(s) (lines 251)" in caplog.text


@pytest.mark.realdata
def test_real_clinical(real_data_dir):
    clinical = inputs.read_clinical_biotab(real_data_dir / CLINICAL)
    assert clinical.shape[0] == 548
    assert clinical.index.name == "patient"
    assert clinical.index.str.len().unique().tolist() == [12]
    assert clinical.index.is_unique
    assert "bcr_patient_barcode" not in clinical.columns
    for column in ("gender", "birth_days_to", "race", "ethnicity", "vital_status", "last_contact_days_to",
                   "death_days_to", "karnofsky_score", "age_at_initial_pathologic_diagnosis"):
        assert column in clinical.columns
    assert clinical.loc["TCGA-02-0001", "vital_status"] == "Dead"
    assert clinical.loc["TCGA-02-0001", "death_days_to"] == "358"
    values = clinical.stack().astype(str)
    assert not values.str.match(r"^\[.*\]$").any(), "bracketed values must be NaN"
    assert clinical["vital_status"].value_counts(dropna=False).to_dict() == {"Dead": 411, "Alive": 135, np.nan: 2}
    death = inputs.numeric_column(clinical, "death_days_to", real_data_dir / CLINICAL)
    assert death.dtype == np.float64
    assert death.notna().sum() == 411
    assert death.max() == 3881
    karnofsky = inputs.numeric_column(clinical, "karnofsky_score", real_data_dir / CLINICAL)
    assert karnofsky.isna().sum() == 142  # 141 [Not Available] + 1 [Unknown]
    with pytest.raises(InputError, match=r"row TCGA-02-0001, column 'race'.*'WHITE'"):
        inputs.numeric_column(clinical, "race", real_data_dir / CLINICAL)


@pytest.mark.realdata
def test_real_vasari(real_data_dir):
    vasari = inputs.read_vasari(real_data_dir / VASARI)
    assert vasari.shape == (20, 10)
    assert vasari.index.name == "patient"
    assert vasari.index.str.len().unique().tolist() == [12]
    assert list(vasari.columns) == ["research.id", "scan.type", "f9.multifocal.or.multicentric",
                                    "f5.proportion.enhancing", "f6.proportion.ncet", "f7.proportion.necrosis",
                                    "f14.proportion.edema", "f10.t1.flair.ratio", "comments", "study.date"]
    assert vasari.loc["TCGA-14-1401", "f10.t1.flair.ratio"] == "n/a"
    assert vasari.loc["TCGA-08-0354", "research.id"] == "08-0354"
    assert pd.isna(vasari.loc["TCGA-02-0047", "comments"])  # literal NA
    assert pd.isna(vasari.loc["TCGA-08-0354", "comments"])  # empty ""
    proportions = {"Minimal", "Less than 1/3", "Between 1/3 and 2/3", "More than 2/3"}
    for column in ("f5.proportion.enhancing", "f6.proportion.ncet", "f7.proportion.necrosis", "f14.proportion.edema"):
        assert set(vasari[column].dropna()) <= proportions | {"n/a", "indeterminate"}


@pytest.mark.realdata
def test_real_gene_sets(real_data_dir, caplog):
    hallmark = inputs.read_gene_sets(real_data_dir / HALLMARK)
    assert len(hallmark) == 50
    assert len(hallmark["HALLMARK_HYPOXIA"]) == 200
    assert hallmark["HALLMARK_HYPOXIA"][:3] == ["PGK1", "PDK1", "GBE1"]
    with caplog.at_level(logging.INFO, logger=LOGGER):
        s15 = inputs.read_gene_sets(real_data_dir / S15)
    assert len(s15) == 21
    assert len(s15["Barres_endothelial"]) == 50
    assert len(s15["Patel_cellcycle"]) == 11
    assert s15["Barres_endothelial"][:2] == ["CD34", "ABCB1"]
    assert not any(g.lower() == "na" for genes in s15.values() for g in genes)
    assert "skipped the row of 'na'" in caplog.text
    clanc = inputs.read_clanc(real_data_dir / CLANC)
    kept, report = inputs.filter_gene_sets(hallmark, clanc.expression.columns, min_size=5, source=HALLMARK)
    assert list(report.columns) == ["set", "n_genes_in_file", "n_genes_matched", "kept"]
    assert len(report) == 50
    assert report["kept"].sum() == len(kept)
    assert 0 < len(kept) < 50
    for name, genes in kept.items():
        assert set(genes) <= set(clanc.expression.columns)
        assert genes == [g for g in hallmark[name] if g in set(clanc.expression.columns)]


# --------------------------------------------------------------------------- expression matrix


def test_expression_several_samples_rule(tmp_path, caplog):
    header = ["sample", "TCGA-02-0003-02A", "TCGA-02-0003-01B", "TCGA-02-0003-11A", "TCGA-02-0003-01A",
              "TCGA-06-0010-11A", "TCGA-06-0010-02A", "TCGA-08-0020-10A", "TCGA-12-0030-01"]
    rows = [["G1", "2", "3", "4", "1", "5", "6", "7", "8"],
            ["G2", "12", "13", "14", "11", "15", "16", "17", "18"]]
    path = write(tmp_path, "expr.tsv", matrix_text(header, rows))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        expression, samples = inputs.read_expression_matrix(path)
    assert list(expression.index) == ["TCGA-02-0003", "TCGA-06-0010", "TCGA-12-0030"]
    assert expression.index.name == "patient"
    assert list(expression.columns) == ["G1", "G2"]
    assert expression.loc["TCGA-02-0003"].tolist() == [1.0, 11.0]   # primary 01A over 01B, 02A, 11A
    assert expression.loc["TCGA-06-0010"].tolist() == [6.0, 16.0]   # recurrent over normal when no primary
    assert expression.loc["TCGA-12-0030"].tolist() == [8.0, 18.0]   # barcode without vial letter
    assert list(samples.columns) == ["barcode", "patient", "sample_type", "kept", "reason"]
    by_barcode = samples.set_index("barcode")
    assert by_barcode["kept"].to_dict() == {
        "TCGA-02-0003-02A": False, "TCGA-02-0003-01B": False, "TCGA-02-0003-11A": False, "TCGA-02-0003-01A": True,
        "TCGA-06-0010-11A": False, "TCGA-06-0010-02A": True, "TCGA-08-0020-10A": False, "TCGA-12-0030-01": True}
    assert by_barcode.loc["TCGA-02-0003-02A", "sample_type"] == 2
    assert "lower type: TCGA-02-0003-01A" in by_barcode.loc["TCGA-02-0003-02A", "reason"]
    assert "smaller barcode: TCGA-02-0003-01A" in by_barcode.loc["TCGA-02-0003-01B", "reason"]
    assert "normal tissue sample (type 11)" in by_barcode.loc["TCGA-02-0003-11A", "reason"]
    assert "normal tissue sample (type 10)" in by_barcode.loc["TCGA-08-0020-10A", "reason"]
    assert "dropped 5 of 8" in caplog.text
    assert "normal tissue samples: 3" in caplog.text
    assert "dropped sample TCGA-02-0003-01B" in caplog.text
    assert "1 patient(s) have no tumour sample" in caplog.text and "TCGA-08-0020" in caplog.text


def test_expression_vial_order_is_lexicographic(tmp_path):
    header = ["sample", "TCGA-02-0003-01C", "TCGA-02-0003-01B"]
    path = write(tmp_path, "expr.tsv", matrix_text(header, [["G1", "3", "2"]]))
    expression, samples = inputs.read_expression_matrix(path)
    assert expression.loc["TCGA-02-0003", "G1"] == 2.0
    assert samples.loc[samples["kept"], "barcode"].tolist() == ["TCGA-02-0003-01B"]


def test_expression_missing_values_dropped_and_logged(tmp_path, caplog):
    header = ["sample", "TCGA-02-0003-01A", "TCGA-02-0010-01A", "TCGA-02-0010-11A"]
    rows = [["G1", "1.5", "2", "NA"],     # NA only in a dropped normal sample: kept
            ["G2", "NA", "2", "3"],
            ["G3", "1", "", "3"],
            ["G4", "1e-3", "-2.5", "0"]]
    path = write(tmp_path, "expr.tsv", matrix_text(header, rows), newline="\r\n")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        expression, _ = inputs.read_expression_matrix(path)
    assert list(expression.columns) == ["G1", "G4"]
    assert expression.loc["TCGA-02-0003", "G4"] == pytest.approx(0.001)
    assert "missing values (NA/empty) in a kept sample: 2" in caplog.text
    assert "G2 (row 3)" in caplog.text and "G3 (row 4)" in caplog.text


def test_expression_duplicated_genes(tmp_path):
    header = ["sample", "TCGA-02-0003-01A"]
    rows = [["G1", "1"], ["G2", "2"], ["G1", "3"], ["G3", "4"], ["G2", "5"]]
    path = write(tmp_path, "dups.tsv", matrix_text(header, rows))
    with pytest.raises(InputError) as err:
        inputs.read_expression_matrix(path)
    message = str(err.value)
    assert str(path) in message
    assert "G1 (rows 2, 4)" in message and "G2 (rows 3, 6)" in message
    assert err.value.row == "2, 4"


def test_expression_non_numeric_names_gene_and_sample(tmp_path):
    header = ["sample", "TCGA-02-0003-01A", "TCGA-02-0010-01A"]
    rows = [["G1", "1", "2"], ["TP53", "3", "high"]]
    path = write(tmp_path, "bad.tsv", matrix_text(header, rows))
    with pytest.raises(InputError) as err:
        inputs.read_expression_matrix(path)
    message = str(err.value)
    assert str(path) in message
    assert "TP53" in message and "TCGA-02-0010-01A" in message and "'high'" in message
    assert "row 3" in message
    assert err.value.column == "TCGA-02-0010-01A"


def test_expression_infinite_value_is_an_error(tmp_path):
    path = write(tmp_path, "inf.tsv", matrix_text(["sample", "TCGA-02-0003-01A"], [["G1", "inf"]]))
    with pytest.raises(InputError, match="non-numeric expression value 'inf'"):
        inputs.read_expression_matrix(path)


def test_expression_bad_barcode(tmp_path):
    header = ["sample", "TCGA-02-0003-01A", "PATIENT_7"]
    path = write(tmp_path, "bc.tsv", matrix_text(header, [["G1", "1", "2"]]))
    with pytest.raises(InputError) as err:
        inputs.read_expression_matrix(path)
    assert str(path) in str(err.value)
    assert err.value.column == "PATIENT_7" and err.value.row == 1
    assert "not a TCGA sample barcode" in str(err.value)
    # a patient barcode without a sample type is not a sample barcode either
    path = write(tmp_path, "bc2.tsv", matrix_text(["sample", "TCGA-02-0003"], [["G1", "1"]]))
    with pytest.raises(InputError, match="column 'TCGA-02-0003'"):
        inputs.read_expression_matrix(path)


def test_expression_structure_errors(tmp_path):
    path = write(tmp_path, "nosamples.tsv", "sample\nG1\n")
    with pytest.raises(InputError, match="no samples"):
        inputs.read_expression_matrix(path)
    path = write(tmp_path, "short.tsv", matrix_text(["sample", "TCGA-02-0003-01A", "TCGA-02-0010-01A"],
                                                    [["G1", "1", "2"], ["G2", "1"]]))
    with pytest.raises(InputError, match=r"row 3: expected 3 tab-separated fields"):
        inputs.read_expression_matrix(path)
    path = write(tmp_path, "dupsample.tsv", matrix_text(["sample", "TCGA-02-0003-01A", "TCGA-02-0003-01A"],
                                                        [["G1", "1", "2"]]))
    with pytest.raises(InputError, match="duplicated sample barcode"):
        inputs.read_expression_matrix(path)
    path = write(tmp_path, "normals.tsv", matrix_text(["sample", "TCGA-02-0003-11A"], [["G1", "1"]]))
    with pytest.raises(InputError, match="no tumour sample"):
        inputs.read_expression_matrix(path)
    with pytest.raises(InputError, match="file not found"):
        inputs.read_expression_matrix(tmp_path / "absent.tsv")


# --------------------------------------------------------------------------- VASARI


VASARI_HEADER = '"","research.id","scan.type","f5.proportion.enhancing","comments"\n'


def test_vasari_small(tmp_path):
    text = VASARI_HEADER + ('"TCGA-02-0003","02-0003","pre-operative","Minimal",""\n'
                            '"TCGA-02-0010-01A","02-0010","pre-operative","n/a",NA\n'
                            '"TCGA-02-0011","02-0011","pre-operative","indeterminate","says ""hi"", twice"\n')
    vasari = inputs.read_vasari(write(tmp_path, "v.csv", text))
    assert list(vasari.index) == ["TCGA-02-0003", "TCGA-02-0010", "TCGA-02-0011"]
    assert vasari["f5.proportion.enhancing"].tolist() == ["Minimal", "n/a", "indeterminate"]
    assert vasari["comments"].isna().tolist() == [True, True, False]
    assert vasari.loc["TCGA-02-0011", "comments"] == 'says "hi", twice'


def test_vasari_bad_id(tmp_path):
    text = VASARI_HEADER + '"TCGA-02-0003","a","b","Minimal",""\n"patient 2","a","b","Minimal",""\n'
    path = write(tmp_path, "v.csv", text)
    with pytest.raises(InputError) as err:
        inputs.read_vasari(path)
    assert str(path) in str(err.value) and err.value.row == 3
    assert "'patient 2' is not a TCGA patient ID" in str(err.value)


def test_vasari_duplicated_patient(tmp_path):
    text = VASARI_HEADER + ('"TCGA-02-0003","a","b","Minimal",""\n"TCGA-02-0010","a","b","Minimal",""\n'
                            '"TCGA-02-0003-01A","a","b","Minimal",""\n')
    path = write(tmp_path, "v.csv", text)
    with pytest.raises(InputError) as err:
        inputs.read_vasari(path)
    assert str(path) in str(err.value)
    assert "duplicated patient TCGA-02-0003 in rows 2 and 4" in str(err.value)


def test_vasari_ragged_row(tmp_path):
    path = write(tmp_path, "v.csv", VASARI_HEADER + '"TCGA-02-0003","a","b"\n')
    with pytest.raises(InputError, match="row 2: expected 5 comma-separated fields"):
        inputs.read_vasari(path)


# --------------------------------------------------------------------------- clinical


CLINICAL_HEADER = ("bcr_patient_uuid\tbcr_patient_barcode\tvital_status\tdeath_days_to\n"
                   "bcr_patient_uuid\tbcr_patient_barcode\tvital_status\tdays_to_death\n"
                   "CDE_ID:\tCDE_ID:2673794\tCDE_ID:5\tCDE_ID:3165475\n")


def test_clinical_small(tmp_path):
    text = CLINICAL_HEADER + ("u1\tTCGA-02-0003\tDead\t100\n"
                              "u2\tTCGA-02-0010\tAlive\t[Not Applicable]\n"
                              "u3\tTCGA-02-0011\t[Discrepancy]\t[Not Evaluated]\n"
                              "u4\tTCGA-02-0012\tDead\t\n")
    path = write(tmp_path, "c.txt", text)
    clinical = inputs.read_clinical_biotab(path)
    assert list(clinical.index) == ["TCGA-02-0003", "TCGA-02-0010", "TCGA-02-0011", "TCGA-02-0012"]
    assert clinical["vital_status"].tolist()[:2] == ["Dead", "Alive"]
    assert pd.isna(clinical.loc["TCGA-02-0011", "vital_status"])
    death = inputs.numeric_column(clinical, "death_days_to", path)
    assert death.tolist()[0] == 100.0 and death.isna().tolist() == [False, True, True, True]


def test_clinical_needs_three_header_rows(tmp_path):
    text = "bcr_patient_uuid\tbcr_patient_barcode\nbcr_patient_uuid\tbcr_patient_barcode\nu1\tTCGA-02-0003\n"
    path = write(tmp_path, "c.txt", text)
    with pytest.raises(InputError) as err:
        inputs.read_clinical_biotab(path)
    assert "expected three header rows" in str(err.value) and str(path) in str(err.value)
    assert err.value.row == 3


def test_clinical_missing_barcode_column(tmp_path):
    text = "bcr_patient_uuid\tgender\nbcr_patient_uuid\tgender\nCDE_ID:\tCDE_ID:2200604\nu1\tMALE\n"
    path = write(tmp_path, "c.txt", text)
    with pytest.raises(InputError) as err:
        inputs.read_clinical_biotab(path)
    assert err.value.column == "bcr_patient_barcode" and str(path) in str(err.value)


def test_clinical_duplicate_and_bad_patient(tmp_path):
    text = CLINICAL_HEADER + "u1\tTCGA-02-0003\tDead\t1\nu2\tTCGA-02-0010\tDead\t2\nu3\tTCGA-02-0003\tDead\t3\n"
    path = write(tmp_path, "c.txt", text)
    with pytest.raises(InputError) as err:
        inputs.read_clinical_biotab(path)
    assert "duplicated patient TCGA-02-0003 in rows 4 and 6" in str(err.value)
    path = write(tmp_path, "c2.txt", CLINICAL_HEADER + "u1\tXX-02-0003\tDead\t1\n")
    with pytest.raises(InputError, match=r"row 4, column 'bcr_patient_barcode'.*not a TCGA patient barcode"):
        inputs.read_clinical_biotab(path)
    path = write(tmp_path, "c3.txt", CLINICAL_HEADER + "u1\tTCGA-02-0003\tDead\n")
    with pytest.raises(InputError, match="row 4: expected 4 tab-separated fields"):
        inputs.read_clinical_biotab(path)


def test_numeric_column_errors(tmp_path):
    path = write(tmp_path, "c.txt", CLINICAL_HEADER + "u1\tTCGA-02-0003\tDead\t12\nu2\tTCGA-02-0010\tDead\tsoon\n")
    clinical = inputs.read_clinical_biotab(path)
    with pytest.raises(InputError) as err:
        inputs.numeric_column(clinical, "death_days_to", path)
    assert err.value.row == "TCGA-02-0010" and err.value.column == "death_days_to"
    assert "'soon'" in str(err.value) and str(path) in str(err.value)
    with pytest.raises(InputError) as err:
        inputs.numeric_column(clinical, "karnofsky_score", path)
    assert err.value.column == "karnofsky_score" and "missing column" in str(err.value)


# --------------------------------------------------------------------------- ClaNC


def clanc_text(subtypes=("Proneural", "Mesenchymal", "Neural"), codes=("PN", "MES", ""), value="1.5",
               barcodes=("TCGA-02-0003-01A-01", "TCGA-02-0010-01A-01", "TCGA-02-0011-01B-01")) -> str:
    lines = ["\t".join(["CLID", "description", *barcodes]), "\t".join(["Subtype", "GO genes", *subtypes])]
    for i, code in enumerate(codes):
        lines.append("\t".join([f"G{i + 1}", code, "0.5", value if i == 1 else "-1.2E-05", "2"]))
    return "\r\n".join(lines) + "\r\n"


def test_clanc_small(tmp_path):
    table = inputs.read_clanc(write(tmp_path, "clanc.txt", clanc_text()))
    assert table.subtypes.to_dict() == {"TCGA-02-0003": "Proneural", "TCGA-02-0010": "Mesenchymal",
                                        "TCGA-02-0011": "Neural"}
    assert table.subtypes.name == "subtype"
    assert table.gene_sets == {"Proneural": ["G1"], "Neural": [], "Classical": [], "Mesenchymal": ["G2"]}
    assert table.expression.loc["TCGA-02-0010"].tolist() == [pytest.approx(-1.2e-05), 1.5, pytest.approx(-1.2e-05)]


def test_clanc_several_samples_of_a_patient(tmp_path, caplog):
    text = clanc_text(barcodes=("TCGA-02-0003-01B-01", "TCGA-02-0003-01A-01", "TCGA-02-0011-11A-01"))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        table = inputs.read_clanc(write(tmp_path, "clanc.txt", text))
    assert table.subtypes.to_dict() == {"TCGA-02-0003": "Mesenchymal"}
    assert table.expression.loc["TCGA-02-0003", "G2"] == 1.5
    assert "dropped sample TCGA-02-0003-01B-01" in caplog.text


def test_clanc_unknown_set_code(tmp_path):
    path = write(tmp_path, "clanc.txt", clanc_text(codes=("PN", "MESX", "")))
    with pytest.raises(InputError) as err:
        inputs.read_clanc(path)
    assert str(path) in str(err.value) and err.value.row == 4 and err.value.column == "GO genes"
    assert "'MESX'" in str(err.value) and "G2" in str(err.value)


def test_clanc_unknown_subtype_and_bad_rows(tmp_path):
    path = write(tmp_path, "clanc.txt", clanc_text(subtypes=("Proneural", "G-CIMP", "Neural")))
    with pytest.raises(InputError) as err:
        inputs.read_clanc(path)
    assert err.value.row == 2 and err.value.column == "TCGA-02-0010-01A-01" and "'G-CIMP'" in str(err.value)
    path = write(tmp_path, "clanc2.txt", clanc_text().replace("Subtype\t", "Class\t"))
    with pytest.raises(InputError, match=r"row 2: expected row 2 to start with 'Subtype'"):
        inputs.read_clanc(path)
    path = write(tmp_path, "clanc3.txt", clanc_text(value="x"))
    with pytest.raises(InputError) as err:
        inputs.read_clanc(path)
    assert "G2" in str(err.value) and err.value.column == "TCGA-02-0010-01A-01"
    path = write(tmp_path, "clanc4.txt", clanc_text().replace("CLID", "ID", 1))
    with pytest.raises(InputError, match="row 1: expected row 1 to start with 'CLID'"):
        inputs.read_clanc(path)


# --------------------------------------------------------------------------- gene sets


def test_gmt_small(tmp_path, caplog):
    text = "SET_A\turl\tG1\tG2\t\tG1\tG3\n\nSET_B\tdesc\tG4\n"
    with caplog.at_level(logging.INFO, logger=LOGGER):
        sets = inputs.read_gmt(write(tmp_path, "s.gmt", text))
    assert sets == {"SET_A": ["G1", "G2", "G3"], "SET_B": ["G4"]}
    assert "SET_A lists 1 gene(s) more than once" in caplog.text
    assert "skipped 1 blank line(s)" in caplog.text


def test_gmt_short_line_and_duplicate(tmp_path):
    path = write(tmp_path, "s.gmt", "SET_A\turl\tG1\nSET_B\turl\n")
    with pytest.raises(InputError) as err:
        inputs.read_gmt(path)
    assert str(path) in str(err.value) and err.value.row == 2 and "at least 3" in str(err.value)
    path = write(tmp_path, "d.gmt", "SET_A\turl\tG1\nSET_B\turl\tG2\nSET_A\turl\tG3\n")
    with pytest.raises(InputError, match="duplicated gene-set name 'SET_A' on lines 1 and 3"):
        inputs.read_gmt(path)


def test_gene_set_table_small(tmp_path):
    sets = inputs.read_gene_set_table(write(tmp_path, "t.csv", "A,B,C\nG1,G2,G3\n,G4,\nG5,,\n"))
    assert sets == {"A": ["G1", "G5"], "B": ["G2", "G4"], "C": ["G3"]}
    sets = inputs.read_gene_set_table(write(tmp_path, "t2.csv", "A,B\nna,na\nG1,G2\nG1,\n"))
    assert sets == {"A": ["G1"], "B": ["G2"]}
    sets = inputs.read_gene_sets(write(tmp_path, "t3.tsv", "A\tB\nG1\tG2\n"))
    assert sets == {"A": ["G1"], "B": ["G2"]}
    path = write(tmp_path, "t4.csv", "A,A\nG1,G2\n")
    with pytest.raises(InputError, match="duplicated gene-set name 'A'"):
        inputs.read_gene_set_table(path)
    path = write(tmp_path, "t5.csv", "A,B\nG1,G2,G3\n")
    with pytest.raises(InputError, match="row 2: row has 3 fields"):
        inputs.read_gene_set_table(path)


def test_read_gene_sets_unknown_suffix(tmp_path):
    path = write(tmp_path, "sets.txt", "A\turl\tG1\n")
    with pytest.raises(InputError) as err:
        inputs.read_gene_sets(path)
    assert str(path) in str(err.value) and ".gmt" in str(err.value)


def test_filter_gene_sets(caplog):
    sets = {"A": ["G3", "G1", "X"], "B": ["X", "Y"], "C": ["G2"]}
    with caplog.at_level(logging.INFO, logger=LOGGER):
        kept, report = inputs.filter_gene_sets(sets, ["G1", "G2", "G3"], min_size=2, source="sets.gmt")
    assert kept == {"A": ["G3", "G1"]}
    assert report.to_dict("list") == {"set": ["A", "B", "C"], "n_genes_in_file": [3, 2, 1],
                                      "n_genes_matched": [2, 0, 1], "kept": [True, False, False]}
    assert "dropped 2 of 3" in caplog.text


def test_filter_gene_sets_no_overlap():
    with pytest.raises(InputError) as err:
        inputs.filter_gene_sets({"A": ["X"], "B": ["Y", "Z"]}, ["G1", "G2"], min_size=1, source="hallmark.gmt")
    assert "hallmark.gmt" in str(err.value)
    assert "no gene set has at least 1 gene(s) among the 2 expression genes" in str(err.value)


def test_format_gmt_roundtrip(tmp_path):
    sets = {"A": ["G1", "G2"], "B": ["G3"]}
    path = tmp_path / "s.gmt"
    path.write_text(inputs.format_gmt(sets, description="test"))
    assert inputs.read_gmt(path) == sets
    with pytest.raises(ValueError, match="empty"):
        inputs.format_gmt({"C": []})
