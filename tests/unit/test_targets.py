import numpy as np
import pandas as pd
import pytest

from radiogenomics.cohorts import targets
from radiogenomics.errors import InputError


def vasari_table(values, column="f5.proportion.enhancing"):
    idx = [f"TCGA-02-{i:04d}" for i in range(len(values))]
    return pd.DataFrame({column: values}, index=pd.Index(idx, name="patient"))


def f5():
    return next(s for s in targets.resolve_specs(["vasari"]) if s.name == "f5")


def test_vasari_preset_binarises_like_the_study():
    vals = ["Minimal", "Less than 1/3", "Between 1/3 and 2/3", "More than 2/3", "n/a", "indeterminate", np.nan, "NA"]
    col = targets.encode_target(f5(), vasari_table(vals), min_class_size=1)
    assert col.values.tolist() == [0, 0, 1, 1]
    assert col.meta["classes"] == ["<1/3", ">1/3"]
    assert col.dropped == {"missing (NA/empty)": 2, "value 'indeterminate'": 1, "value 'n/a'": 1}


def test_preset_covers_six_traits_and_f9_f10_rules():
    specs = {s.name: s for s in targets.resolve_specs(["vasari"])}
    assert set(specs) == {"f5", "f6", "f7", "f14", "f9", "f10"}
    f10 = targets.encode_target(specs["f10"], vasari_table(
        ["expansive (T1~FLAIR)", "mixed (T1 less than FLAIR)", "infiltrative (T1 much smaller than FLAIR)"],
        "f10.t1.flair.ratio"), min_class_size=1)
    assert f10.values.tolist() == [0, 1, 1]
    f9 = targets.encode_target(specs["f9"], vasari_table(["Focal", "Multifocal or Multicentric"],
                                                        "f9.multifocal.or.multicentric"), min_class_size=1)
    assert f9.values.tolist() == [0, 1]


def test_unknown_category_names_file_row_and_column():
    with pytest.raises(InputError) as e:
        targets.encode_target(f5(), vasari_table(["Minimal", "Lots"]), source_path="v.csv", min_class_size=1)
    msg = str(e.value)
    assert "v.csv" in msg and "TCGA-02-0001" in msg and "f5.proportion.enhancing" in msg and "'Lots'" in msg


def test_one_class_left_and_small_class_are_errors():
    with pytest.raises(InputError, match="one class"):
        targets.encode_target(f5(), vasari_table(["Minimal", "Less than 1/3", "n/a"]), source_path="v.csv")
    with pytest.raises(InputError, match="fewer than 5"):
        targets.encode_target(f5(), vasari_table(["Minimal"] * 10 + ["More than 2/3"] * 2), min_class_size=5)


def test_missing_column_is_an_error():
    with pytest.raises(InputError, match="needs column"):
        targets.encode_target(f5(), vasari_table(["Minimal"], column="other"), source_path="v.csv")


def test_continuous_and_multiclass_types():
    spec = targets.spec_from_dict({"name": "vol", "type": "continuous", "source": "vasari", "column": "vol"})
    col = targets.encode_target(spec, vasari_table(["1.5", "2", "NA", "3.25"], "vol"))
    assert col.values.tolist() == [1.5, 2.0, 3.25]
    with pytest.raises(InputError, match="not a number"):
        targets.encode_target(spec, vasari_table(["1.5", "big"], "vol"))
    sub = targets.resolve_specs(["subtype"])[0]
    assert sub.type == "multiclass" and sub.class_names == ["Proneural", "Neural", "Classical", "Mesenchymal"]


def test_spec_validation():
    with pytest.raises(ValueError, match="positive class"):
        targets.spec_from_dict({"name": "x", "type": "binary", "source": "vasari", "classes": {"a": ["1"], "b": ["2"]},
                                "positive": "c"})
    with pytest.raises(ValueError, match="type"):
        targets.spec_from_dict({"name": "x", "type": "ordinal", "source": "vasari"})
    with pytest.raises(ValueError, match="unknown target preset"):
        targets.resolve_specs(["nope"])
    with pytest.raises(ValueError, match="mapped to both"):
        targets.spec_from_dict({"name": "x", "type": "binary", "source": "vasari",
                                "classes": {"a": ["1"], "b": ["1"]}, "positive": "a"})


def test_definition_replaces_preset_target():
    specs = targets.resolve_specs(["vasari"], [{"name": "f5", "type": "binary", "source": "vasari",
                                                "column": "f5.proportion.enhancing", "positive": "high",
                                                "classes": {"low": ["Minimal"], "high": ["More than 2/3"]},
                                                "missing": ["Less than 1/3", "Between 1/3 and 2/3"]}])
    assert len(specs) == 6
    assert next(s for s in specs if s.name == "f5").positive == "high"


def test_build_targets_joins_by_patient_and_reports_drops():
    vasari = vasari_table(["Minimal", "More than 2/3"] * 6 + ["n/a"])
    expr_patients = pd.Index(vasari.index[:-3].tolist() + ["TCGA-99-0001"])
    table, meta, drops = targets.build_targets([f5()], {"vasari": vasari}, patients=expr_patients, min_class_size=2)
    assert list(table.index) == sorted(vasari.index[:-3])
    assert meta["f5"]["counts"] == {"<1/3": 5, ">1/3": 5}
    assert dict(zip(drops["reason"], drops["n"])) == {"value 'n/a'": 1, "no expression data": 2}
    # shuffling the source rows changes nothing
    t2, _, _ = targets.build_targets([f5()], {"vasari": vasari.sample(frac=1, random_state=3)}, patients=expr_patients)
    pd.testing.assert_frame_equal(table, t2)


def test_no_overlap_is_an_error():
    with pytest.raises(InputError, match="no patient overlap"):
        targets.build_targets([f5()], {"vasari": vasari_table(["Minimal", "More than 2/3"])},
                              patients=pd.Index(["TCGA-99-0001"]), source_paths={"vasari": "v.csv"})


def test_class_labels_decode():
    table = pd.DataFrame({"f5": [0, 1, np.nan]}, index=["a", "b", "c"])
    out = targets.class_labels(table, {"f5": {"type": "binary", "classes": ["<1/3", ">1/3"]}}, ["f5"])
    assert out["f5"].tolist()[:2] == ["<1/3", ">1/3"] and pd.isna(out["f5"].iloc[2])


# --------------------------------------------------------------------------- generic sources and pre-training checks


def plain_table(**columns):
    n = len(next(iter(columns.values())))
    return pd.DataFrame(columns, index=pd.Index([f"LUNG1-{i:03d}" for i in range(n)], name="patient"), dtype=object)


def histology_spec():
    return targets.spec_from_dict({"name": "histology", "type": "multiclass", "source": "targets",
                                   "classes": {"adeno": ["Adenocarcinoma"], "squamous": ["Squamous cell carcinoma"],
                                               "nos": ["NOS"]}})


def test_any_source_name_builds_from_a_plain_table():
    table = plain_table(volume=["1.5", "2", "NA", "3.25", "8"],
                        histology=["Adenocarcinoma", "NOS", "Squamous cell carcinoma", "NOS", "Adenocarcinoma"])
    specs = [targets.spec_from_dict({"name": "volume", "type": "continuous", "source": "targets"}), histology_spec()]
    assert specs[0].column == "volume"  # the column defaults to the name
    out, meta, drops = targets.build_targets(specs, {"targets": table}, patients=table.index, min_class_size=1)
    assert out["volume"].dropna().tolist() == [1.5, 2.0, 3.25, 8.0]
    assert out["histology"].tolist() == [0, 2, 1, 2, 0]
    assert meta["histology"]["source"] == "targets" and meta["histology"]["classes"] == ["adeno", "squamous", "nos"]
    with pytest.raises(ValueError, match="reads source 'radiomics'"):
        targets.build_targets([targets.spec_from_dict({"name": "v", "type": "continuous", "source": "radiomics"})],
                              {"targets": table}, patients=table.index)
    with pytest.raises(ValueError, match="source must be a non-empty string"):
        targets.spec_from_dict({"name": "v", "type": "continuous", "source": " "})


def test_continuous_specs_for_many_columns():
    specs = targets.continuous_specs(["original_shape_F001", "original_glcm_F002"], missing=["failed"])
    assert [s.name for s in specs] == ["original_shape_F001", "original_glcm_F002"]
    assert {s.type for s in specs} == {"continuous"} and {s.source for s in specs} == {"targets"}
    col = targets.encode_target(specs[0], plain_table(original_shape_F001=["1", "failed", "2"]))
    assert col.values.tolist() == [1.0, 2.0] and col.dropped == {"value 'failed'": 1}
    with pytest.raises(ValueError, match="more than once"):
        targets.continuous_specs(["a", "a"])


def test_continuous_target_given_as_text_is_an_error():
    spec = targets.spec_from_dict({"name": "histology", "type": "continuous", "source": "targets"})
    table = plain_table(histology=["Adenocarcinoma", "NOS", "NOS", "1.5"])
    with pytest.raises(InputError) as e:
        targets.encode_target(spec, table, source_path="targets.tsv")
    msg = str(e.value)
    assert "targets.tsv" in msg and "LUNG1-000" in msg and "'histology'" in msg
    assert "holds text in 3 of 4" in msg and "'NOS' (2)" in msg and "binary or multiclass" in msg


def test_multiclass_class_with_fewer_than_k_patients():
    table = plain_table(histology=["Adenocarcinoma"] * 6 + ["Squamous cell carcinoma"] * 6 + ["NOS"] * 2)
    with pytest.raises(InputError, match="fewer than 5 patients") as e:
        targets.encode_target(histology_spec(), table, source_path="t.tsv", min_class_size=5)
    assert "{'nos': 2}" in str(e.value) and "5-fold" in str(e.value)
    # build_targets counts the patients with expression (here only 1 NOS patient has expression)
    full = plain_table(histology=["Adenocarcinoma"] * 6 + ["Squamous cell carcinoma"] * 6 + ["NOS"] * 6)
    with pytest.raises(InputError, match="fewer than 5 patients among the patients with expression"):
        targets.build_targets([histology_spec()], {"targets": full}, patients=full.index[:13], min_class_size=5)
    out, _, _ = targets.build_targets([histology_spec()], {"targets": full}, patients=full.index, min_class_size=5)
    assert out["histology"].value_counts().to_dict() == {0: 6, 1: 6, 2: 6}


def test_multiclass_class_absent_is_an_error():
    table = plain_table(histology=["Adenocarcinoma", "Squamous cell carcinoma"] * 4)
    with pytest.raises(InputError, match=r"class\(es\) \['nos'\] have no patients") as e:
        targets.encode_target(histology_spec(), table, source_path="t.tsv", min_class_size=1)
    assert "'NOS'" in str(e.value) and "'Adenocarcinoma' (4)" in str(e.value)


def test_binary_positive_class_not_in_data():
    spec = targets.spec_from_dict({"name": "smoker", "type": "binary", "source": "targets",
                                   "classes": {"never": ["Never"], "current": ["Current smoker"]},
                                   "positive": "current"})
    table = plain_table(smoker=["Never", "Never", "Current", "Current", "Current"])
    with pytest.raises(InputError, match="unknown category 'Current'"):
        targets.encode_target(spec, table, min_class_size=1)
    table = plain_table(smoker=["Never", "Never", "n/a", "Never"])
    not_present = r"positive class 'current' \(values \['Current smoker'\]\) is not present"
    with pytest.raises(InputError, match=not_present) as e:
        targets.encode_target(spec, table, source_path="t.tsv", min_class_size=1)
    assert "one class" in str(e.value) and "'Never' (3)" in str(e.value)
