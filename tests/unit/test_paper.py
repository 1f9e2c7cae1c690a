"""Paper tables and figures: demographics, association tests with Bonferroni, PNG + SVG figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

from radiogenomics.errors import InputError
from radiogenomics.plots import figures, paper


def _clinical():
    return pd.DataFrame(
        {
            "gender": ["MALE", "FEMALE", "MALE", "[Not Available]", "FEMALE"],
            "race": ["WHITE", "ASIAN", "[Not Reported]", "WHITE", "BLACK OR AFRICAN AMERICAN"],
            "karnofsky_score": ["80", "[Not Available]", "60", "100", "90"],
            "age_at_initial_pathologic_diagnosis": ["50", "70", "x", "62", "45"],
        },
        index=pd.Index(["TCGA-AA-0001", "TCGA-AA-0002", "TCGA-AA-0003", "TCGA-AA-0004", "TCGA-AA-0005"],
                       name="patient"),
    )


def test_clinical_covariates_clean_and_group():
    cov = paper.clinical_covariates(_clinical())
    assert list(cov.columns) == ["age", "gender", "race", "karnofsky"]
    assert cov.loc["TCGA-AA-0002", "age"] == 70.0 and np.isnan(cov.loc["TCGA-AA-0003", "age"])
    assert cov.loc["TCGA-AA-0001", "gender"] == "male" and pd.isna(cov.loc["TCGA-AA-0004", "gender"])
    assert cov["race"].tolist() == ["white", "non-white", "unknown", "white", "non-white"]
    assert np.isnan(cov.loc["TCGA-AA-0002", "karnofsky"]) and cov.loc["TCGA-AA-0004", "karnofsky"] == 100.0


def test_clinical_covariates_keep_first_of_repeated_patients():
    c = _clinical()
    c = pd.concat([c, c.iloc[[0]].assign(gender="FEMALE")])
    cov = paper.clinical_covariates(c)
    assert len(cov) == 5 and cov.loc["TCGA-AA-0001", "gender"] == "male"


def test_demographics_counts_per_cohort_by_patient_id():
    cov = paper.clinical_covariates(_clinical())
    endpoint = pd.DataFrame({"time": [100.0, 200.0, 50.0], "event": [1, 0, 1]},
                            index=pd.Index(["TCGA-AA-0005", "TCGA-AA-0001", "TCGA-AA-0002"], name="patient"))
    # cohort order and the endpoint's row order differ: the join is by patient ID
    cohorts = {"all": list(cov.index) + ["TCGA-AA-0099"], "imaged": ["TCGA-AA-0002", "TCGA-AA-0001"]}
    long = paper.demographics(cov, cohorts, endpoint)
    indexed = long.set_index(["cohort", "variable", "level"])

    def get(c, v, lvl, col="count"):
        return indexed.loc[(c, v, lvl), col]

    assert get("all", "patients", "n") == 6
    assert get("all", "gender", "male") == 2 and get("all", "gender", "female") == 2
    assert get("all", "gender", "missing") == 2  # one [Not Available], one patient without a clinical row
    assert get("all", "race", "white") == 2 and get("all", "race", "non-white") == 2
    assert get("all", "race", "missing") == 2
    assert get("all", "age", "median [IQR] (years)", "median") == pytest.approx(np.median([50, 70, 62, 45]))
    assert get("all", "age", "missing") == 2
    assert get("all", "survival status", "dead (event)") == 2
    assert get("all", "survival status", "alive (censored)") == 1
    assert get("all", "survival status", "no endpoint") == 3
    assert get("imaged", "patients", "n") == 2
    assert get("imaged", "gender", "missing") == 0  # the missing row is always there, here with 0
    assert "missing" not in set(long.loc[long["variable"] == "survival status", "level"])  # "no endpoint" is
    assert get("imaged", "survival status", "dead (event)") == 1
    assert get("imaged", "karnofsky", "median [IQR] (score 0-100)", "median") == 80.0
    assert get("imaged", "gender", "female", "percent") == pytest.approx(50.0)
    wide = paper.demographics_wide(long)
    assert list(wide.columns) == ["variable", "level", "all", "imaged"]
    row = wide[(wide["variable"] == "gender") & (wide["level"] == "male")].iloc[0]
    assert row["all"] == "2 (33%)" and row["imaged"] == "1 (50%)"
    age = wide[(wide["variable"] == "age") & wide["level"].str.startswith("median")].iloc[0]
    assert age["imaged"] == "60 [55–65]"  # ages 50 and 70
    html = paper.table_html(wide, title="Demographics", note="n = patients")
    assert "<table" in html and "Demographics" in html and "2 (33%)" in html


def test_fisher_2x2_matches_scipy_and_joins_by_id():
    ids = [f"TCGA-AA-{i:04d}" for i in range(40)]
    rng = np.random.default_rng(0)
    a = pd.Series(rng.choice(["x", "y"], 40), index=ids)
    b = pd.Series(np.where(rng.random(40) < 0.8, a.map({"x": "p", "y": "q"}), "p"), index=ids)
    b.iloc[3] = np.nan
    shuffled = b.sample(frac=1.0, random_state=1)
    res = paper.association_test(a, shuffled)
    table = pd.crosstab(a[b.notna()], b.dropna())
    expected = stats.fisher_exact(table.to_numpy())
    assert res["test"] == paper.FISHER_2X2 and res["n"] == 39
    assert res["p"] == pytest.approx(expected.pvalue) and res["odds_ratio"] == pytest.approx(expected.statistic)
    chi2 = stats.chi2_contingency(table.to_numpy(), correction=False).statistic
    assert res["cramers_v"] == pytest.approx(np.sqrt(chi2 / 39))


def test_larger_tables_use_monte_carlo_ffh_seeded():
    ids = [f"P{i}" for i in range(60)]
    a = pd.Series(np.repeat(["A", "B", "C"], 20), index=ids)
    b = pd.Series(np.where(np.arange(60) < 20, "u", np.where(np.arange(60) % 2 == 0, "v", "w")), index=ids)
    r1 = paper.association_test(a, b, n_resamples=2000, seed=3)
    r2 = paper.association_test(a, b, n_resamples=2000, seed=3)
    assert r1 == r2 and r1["test"] == paper.FFH_MONTE_CARLO
    assert r1["p"] == pytest.approx(1 / 2001)  # perfectly separated first level: no resample as extreme
    # independent variables: a large p
    ids63 = [f"P{i}" for i in range(63)]
    a63 = pd.Series(np.repeat(["A", "B", "C"], 21), index=ids63)
    c = pd.Series(np.tile(["u", "v", "w"], 21), index=ids63)  # 7 patients in every cell
    r3 = paper.association_test(a63, c, n_resamples=2000, seed=3)
    assert r3["p"] > 0.5 and r3["cramers_v"] == pytest.approx(0.0)


def test_small_sparse_table_gives_one_p():
    # a sparse 2 x 4 table of 8 patients (scipy returns the p-value with shape (1,) here)
    a = pd.Series(["x", "x", "x", "x", "y", "y", "y", "y"], index=list("abcdefgh"))
    b = pd.Series(["p", "q", "r", "s", "s", "s", "q", "r"], index=list("abcdefgh"))
    res = paper.association_test(a, b, n_resamples=1000, seed=0)
    assert res["test"] == paper.FFH_MONTE_CARLO and 0 < res["p"] <= 1 and res["n"] == 8


def test_single_level_and_no_overlap_are_not_tested():
    a = pd.Series(["x", "x", "x"], index=["1", "2", "3"])
    b = pd.Series(["p", "q", "p"], index=["1", "2", "3"])
    res = paper.association_test(a, b)
    assert res["test"] == paper.NOT_TESTED and np.isnan(res["p"]) and "one level" in res["note"]
    res = paper.association_test(a, b.set_axis(["7", "8", "9"]))
    assert res["n"] == 0 and "no patient" in res["note"]


def test_association_table_bonferroni_over_tested_pairs():
    ids = [f"P{i}" for i in range(30)]
    data = pd.DataFrame({"t1": np.repeat(["a", "b"], 15), "t2": np.repeat(["c", "d"], 15),
                         "t3": np.tile(["e", "f"], 15), "const": ["z"] * 30}, index=ids)
    pairs = paper.trait_pairs(list(data.columns))
    assert len(pairs) == 6 and pairs[0] == ("t1", "t2")
    table = paper.association_table(data, pairs, n_resamples=500, seed=1, alpha=0.05)
    assert list(table.columns) == paper.ASSOCIATION_COLUMNS
    tested = table[table["p"].notna()]
    assert len(tested) == 3  # every pair with `const` is not tested
    assert np.allclose(tested["p_bonferroni"], np.minimum(1.0, tested["p"] * 3))
    row = table[(table["variable_a"] == "t1") & (table["variable_b"] == "t2")].iloc[0]
    assert row["significant"] and row["cramers_v"] == pytest.approx(1.0)
    assert not table.loc[table["variable_b"] == "const", "significant"].any()
    with pytest.raises(InputError, match="nope"):
        paper.association_table(data, [("t1", "nope")])


def test_clinical_categories_cuts():
    cov = paper.clinical_covariates(_clinical())
    endpoint = pd.DataFrame({"time": [1.0], "event": [1]}, index=pd.Index(["TCGA-AA-0001"], name="patient"))
    cat = paper.clinical_categories(cov, endpoint, age_cut=60, karnofsky_cut=80)
    assert cat.loc["TCGA-AA-0001", "age"] == "<60 y" and cat.loc["TCGA-AA-0004", "age"] == ">=60 y"
    assert pd.isna(cat.loc["TCGA-AA-0003", "age"]) and pd.isna(cat.loc["TCGA-AA-0003", "race"])
    assert cat.loc["TCGA-AA-0003", "karnofsky"] == "<80" and cat.loc["TCGA-AA-0001", "karnofsky"] == ">=80"
    assert cat.loc["TCGA-AA-0001", "vital status"] == "dead" and pd.isna(cat.loc["TCGA-AA-0002", "vital status"])


def test_figures_written_as_png_and_svg(tmp_path):
    ids = [f"P{i}" for i in range(30)]
    data = pd.DataFrame({"t1": np.repeat(["a", "b"], 15), "t2": np.tile(["c", "d", "e"], 10)}, index=ids)
    table = paper.association_table(data, [("t1", "t2")], n_resamples=200)
    fig = paper.association_heatmap_figure(table, ["t1"], ["t2"], title="T", row_label="trait",
                                           col_label="clinical")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "clinical" and ax.get_ylabel() == "trait"
    assert min(t.get_fontsize() for t in ax.get_xticklabels() + ax.get_yticklabels()) >= 9
    paths = figures.draw(paper.association_heatmap_figure, tmp_path / "assoc", table, ["t1", "t2"], ["t1", "t2"],
                         title="T", row_label="trait", col_label="trait", symmetric=True)
    assert [p[-3:] for p in paths] == ["png", "svg"]
    assert (tmp_path / "assoc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (tmp_path / "assoc.svg").read_text()[:2000]
    summaries = {"f5": pd.DataFrame({"set": ["s1", "s2", "s3"], "n_rankings": [20, 20, 20], "n_enriched": [7, 0, 3]}),
                 "f6": pd.DataFrame({"set": ["s1"], "n_rankings": [20], "n_enriched": [0]})}
    fig = paper.enriched_counts_figure(summaries, top=5)
    first = fig.axes[0]
    labels = {t.get_text(): t.get_position()[1] for t in first.get_yticklabels()}
    assert set(labels) == {"s1", "s3"} and labels["s1"] > labels["s3"]  # s2 (no patient) left out; s1 on top
    assert [p.get_width() for p in first.patches] == [7.0, 3.0]
    assert "of 20" in first.get_xlabel()
    assert len([a for a in fig.axes if a.get_visible()]) == 1  # f6 has no enriched set: no panel, a footnote
    assert "No set enriched in any patient: f6" in fig.get_supxlabel()
    empty = paper.enriched_counts_figure({"f6": summaries["f6"]})
    assert "f6" in empty.axes[0].texts[0].get_text()
    figures.draw(paper.enriched_counts_figure, tmp_path / "counts.png", summaries, top=5)
    assert (tmp_path / "counts.png").exists() and (tmp_path / "counts.svg").exists()
