import numpy as np
import pandas as pd
import pytest

from radiogenomics import targets
from radiogenomics.files import InputError


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
