import numpy as np
import pandas as pd
import pytest

from radiogenomics.cohorts import splits
from radiogenomics.errors import InputError


def labels(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.Series(rng.integers(0, 2, n), index=[f"TCGA-02-{i:04d}" for i in range(n)], name="t")


def test_folds_are_stratified_seeded_and_order_free():
    y = labels()
    f1 = splits.make_folds(y, "binary", 5, seed=3)
    f2 = splits.make_folds(y.sample(frac=1, random_state=1), "binary", 5, seed=3)
    pd.testing.assert_frame_equal(f1, f2)
    assert set(f1["fold"]) == set(range(5)) and len(f1) == len(y)
    pos = y.loc[f1["patient"]].to_numpy()
    per_fold = pd.Series(pos).groupby(f1["fold"].to_numpy()).mean()
    assert per_fold.max() - per_fold.min() < 0.2
    assert not splits.make_folds(y, "binary", 5, seed=4).equals(f1)


def test_continuous_folds_and_too_small_class():
    y = pd.Series(np.linspace(0, 1, 40), index=[f"P{i:03d}" for i in range(40)], name="c")
    f = splits.make_folds(y, "continuous", 4, seed=0)
    assert f["fold"].value_counts().tolist() == [10, 10, 10, 10]
    small = pd.Series([0] * 10 + [1] * 2, index=[f"P{i}" for i in range(12)], name="t")
    with pytest.raises(InputError, match="fewer than the 3 folds"):
        splits.make_folds(small, "binary", 3, seed=0)


def test_cohorts_exclude_imaged_from_autoencoder():
    expr = pd.Index(["A", "B", "C", "D"])
    targets = pd.DataFrame({"t": [1.0, 0.0, np.nan]}, index=["A", "B", "E"])
    groups = splits.build_cohorts(expr, pd.Index(["A", "B", "E"]), targets)
    assert groups["autoencoder"] == ["C", "D"]
    assert groups["targets"]["t"] == ["A", "B"]


def test_read_folds_rejects_duplicates(tmp_path):
    p = tmp_path / "f.tsv"
    p.write_text("patient\tfold\nA\t0\nA\t1\n")
    with pytest.raises(InputError, match="appears twice"):
        splits.read_folds(str(p))


def test_inner_split_is_stratified():
    y = labels(100)
    tr, va = splits.inner_split(y, "binary", 0.2, seed=0)
    assert len(va) == 20 and not set(tr) & set(va)
    assert abs(y.loc[va].mean() - y.mean()) < 0.1
