"""Survival endpoint, join-by-ID, KM, log-rank, BH and Cox checks (hand-made cohorts and the real Biotab table)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test

from radiogenomics import survival
from radiogenomics.files import InputError


def _clinical() -> pd.DataFrame:
    """Small Biotab-like table (strings, NaN for bracketed values) with every endpoint rule exercised."""
    rows = [
        # patient,      vital,  death,  last contact, age, gender, race
        ("TCGA-00-0001", "Dead", "100", "50", "60", "MALE", "WHITE"),
        ("TCGA-00-0002", "Alive", np.nan, "400", "45", "FEMALE", "ASIAN"),
        ("TCGA-00-0003", "Dead", np.nan, "300", "70", "MALE", "WHITE"),  # dead, death day missing
        ("TCGA-00-0004", np.nan, "200", "200", "55", "MALE", np.nan),  # no vital status
        ("TCGA-00-0005", "Alive", np.nan, "-5", "50", "FEMALE", "WHITE"),  # negative time
        ("TCGA-00-0006", "Dead", "abc", "10", "66", "FEMALE", "BLACK OR AFRICAN AMERICAN"),  # non-numeric
        ("TCGA-00-0007", "Dead", "250", "400", "61", "MALE", np.nan),  # last contact after death: fine
        ("TCGA-00-0008", "Alive", "[Not Available]", "0", "40", "FEMALE", "WHITE"),  # time 0 kept
        ("TCGA-00-0009", "Alive", np.nan, np.nan, "39", "MALE", "WHITE"),  # alive, no last contact
    ]
    df = pd.DataFrame(rows, columns=["patient", "vital_status", "death_days_to", "last_contact_days_to",
                                     "age_at_initial_pathologic_diagnosis", "gender", "race"])
    return df.set_index("patient")


def test_endpoint_rules_and_problems(caplog):
    with caplog.at_level(logging.INFO, logger="radiogenomics.survival"):
        endpoint, problems = survival.overall_survival(_clinical())
    assert endpoint.index.name == "patient"
    assert list(endpoint.columns) == ["time", "event", "age", "gender", "race"]
    assert sorted(endpoint.index) == ["TCGA-00-0001", "TCGA-00-0002", "TCGA-00-0007", "TCGA-00-0008"]
    # dead -> days to death (not last contact), alive -> last contact
    assert endpoint.loc["TCGA-00-0001", ["time", "event"]].tolist() == [100.0, 1]
    assert endpoint.loc["TCGA-00-0002", ["time", "event"]].tolist() == [400.0, 0]
    assert endpoint.loc["TCGA-00-0007", ["time", "event"]].tolist() == [250.0, 1]
    assert endpoint.loc["TCGA-00-0008", ["time", "event"]].tolist() == [0.0, 0]
    assert endpoint["time"].dtype == float and endpoint["event"].dtype.kind == "i"
    assert endpoint.loc["TCGA-00-0001", "age"] == 60.0
    assert endpoint.loc["TCGA-00-0002", "gender"] == "female"
    assert endpoint.loc["TCGA-00-0002", "race"] == "non-white"
    assert endpoint.loc["TCGA-00-0001", "race"] == "white"
    assert endpoint.loc["TCGA-00-0007", "race"] == "unknown"

    assert list(problems.columns) == ["patient", "problem"]
    reason = problems.set_index("patient")["problem"]
    assert sorted(reason.index) == ["TCGA-00-0003", "TCGA-00-0004", "TCGA-00-0005", "TCGA-00-0006", "TCGA-00-0009"]
    assert reason["TCGA-00-0003"].startswith("missing time")
    assert reason["TCGA-00-0004"] == "missing vital status"
    assert reason["TCGA-00-0005"].startswith("negative time")
    assert reason["TCGA-00-0006"].startswith("non-numeric time")
    assert reason["TCGA-00-0009"].startswith("missing time")
    # nothing silently lost: every input patient is either in the endpoint or in problems
    assert len(endpoint) + len(problems) == len(_clinical())
    assert "dropped 5 of 9" in caplog.text


def test_endpoint_unrecognised_status_and_duplicates_reported():
    clin = _clinical()
    clin.loc["TCGA-00-0002", "vital_status"] = "Lost"
    dup = clin.loc[["TCGA-00-0001"]]
    clin = pd.concat([clin, dup])
    endpoint, problems = survival.overall_survival(clin)
    reason = problems.set_index("patient")["problem"]
    assert reason["TCGA-00-0002"].startswith("unrecognised vital status")
    assert reason["TCGA-00-0001"].startswith("duplicated patient ID")
    assert "TCGA-00-0001" not in endpoint.index and "TCGA-00-0002" not in endpoint.index


def test_endpoint_missing_column_is_input_error():
    with pytest.raises(InputError, match="death_days_to"):
        survival.overall_survival(_clinical().drop(columns="death_days_to"))


def _cohort(n: int = 120, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    ids = [f"TCGA-XX-{i:04d}" for i in range(n)]
    group = rng.choice(["A", "B", "C"], size=n)
    scale = np.where(group == "A", 300.0, np.where(group == "B", 500.0, 800.0))
    time = np.round(rng.exponential(scale)) + 1
    event = (rng.uniform(size=n) < 0.75).astype(int)
    endpoint = pd.DataFrame({"time": time, "event": event, "age": rng.normal(60, 10, n).round(),
                             "gender": rng.choice(["male", "female"], n)}, index=pd.Index(ids, name="patient"))
    return endpoint, pd.Series(group, index=ids, name="trait")


def test_join_by_id_not_position(caplog):
    endpoint, groups = _cohort(10)
    groups = groups.iloc[::-1]  # reversed order
    extra = pd.Series(["A"], index=["TCGA-ZZ-9999"])
    groups = pd.concat([groups.iloc[1:], extra])  # one endpoint patient without group, one group without endpoint
    groups.iloc[0] = np.nan
    with caplog.at_level(logging.INFO, logger="radiogenomics.survival"):
        joined = survival.join_groups(endpoint, groups)
    assert list(joined.columns) == list(endpoint.columns) + ["group"]
    assert len(joined) == 8
    for pid in joined.index:
        assert joined.loc[pid, "group"] == groups[pid]
        assert joined.loc[pid, "time"] == endpoint.loc[pid, "time"]
    assert "1 of 10 endpoint patients have no group" in caplog.text
    assert "1 of 10 grouped patients have no endpoint" in caplog.text
    assert "dropped 1 of 9 joined patients with a missing group" in caplog.text


def test_join_duplicate_group_ids_rejected():
    endpoint, groups = _cohort(10)
    with pytest.raises(InputError, match="duplicated"):
        survival.join_groups(endpoint, pd.concat([groups, groups.iloc[:1]]))


def test_shuffled_rows_give_identical_results():
    endpoint, groups = _cohort(150)
    rng = np.random.default_rng(5)
    ep2 = endpoint.iloc[rng.permutation(len(endpoint))]
    gr2 = groups.iloc[rng.permutation(len(groups))]

    lr1, lr2 = survival.logrank(endpoint, groups), survival.logrank(ep2, gr2)
    assert lr1 == lr2
    pd.testing.assert_frame_equal(survival.km_summary(endpoint, groups), survival.km_summary(ep2, gr2))
    km1, km2 = survival.km_fit(endpoint, groups), survival.km_fit(ep2, gr2)
    assert list(km1) == list(km2) == ["A", "B", "C"]
    for g in km1:
        pd.testing.assert_frame_equal(km1[g].survival_function_, km2[g].survival_function_)
    cov1 = endpoint[["age", "gender"]].assign(trait=groups)
    cov2 = ep2[["age", "gender"]].assign(trait=gr2)  # assign aligns by index
    pd.testing.assert_frame_equal(survival.cox_fit(endpoint, cov1), survival.cox_fit(ep2, cov2))


def test_logrank_matches_lifelines_and_km_summary():
    endpoint, groups = _cohort(150)
    res = survival.logrank(endpoint, groups)
    assert set(res) == {"test_statistic", "p", "df", "n", "n_groups", "note"}
    direct = multivariate_logrank_test(endpoint["time"], groups.loc[endpoint.index], endpoint["event"])
    assert res["test_statistic"] == pytest.approx(direct.test_statistic, rel=1e-10)
    assert res["p"] == pytest.approx(direct.p_value, rel=1e-10)
    assert res["df"] == 2 and res["n"] == 150 and res["n_groups"] == 3 and res["note"] == ""

    summary = survival.km_summary(endpoint, groups)
    assert list(summary.columns) == ["group", "n", "events", "median_days", "median_ci_low", "median_ci_high"]
    assert summary["n"].sum() == 150
    sub = endpoint.loc[groups[groups == "A"].index]
    kmf = KaplanMeierFitter().fit(sub["time"], sub["event"])
    row = summary.set_index("group").loc["A"]
    assert row["median_days"] == pytest.approx(kmf.median_survival_time_)
    assert row["events"] == sub["event"].sum()
    assert row["median_ci_low"] <= row["median_days"] <= row["median_ci_high"]


def test_median_not_reached_is_nan():
    ids = [f"P{i}" for i in range(6)]
    endpoint = pd.DataFrame({"time": [10.0, 20, 30, 40, 50, 60], "event": [1, 0, 0, 0, 0, 0]}, index=ids)
    summary = survival.km_summary(endpoint, pd.Series("all", index=ids))
    assert np.isnan(summary.loc[0, "median_days"])


def test_degenerate_logrank_cases_give_nan_with_note():
    ids = [f"P{i}" for i in range(8)]
    ep = pd.DataFrame({"time": np.arange(1.0, 9.0), "event": [1, 0, 1, 1, 0, 1, 0, 1]}, index=ids)
    one = survival.logrank(ep, pd.Series("A", index=ids))
    assert np.isnan(one["p"]) and "group" in one["note"] and one["n_groups"] == 1

    no_events = survival.logrank(ep.assign(event=0), pd.Series(list("AABBAABB"), index=ids))
    assert np.isnan(no_events["p"]) and "no events" in no_events["note"]

    tiny = survival.logrank(ep, pd.Series(list("AAAAAAAB"), index=ids))
    assert np.isnan(tiny["p"]) and "fewer than 2" in tiny["note"]

    # one group without deaths is still a valid comparison, with a note
    partial = survival.logrank(ep.assign(event=[1, 1, 1, 1, 0, 0, 0, 0]), pd.Series(list("AAAABBBB"), index=ids))
    assert np.isfinite(partial["p"]) and "no events in group(s) ['B']" in partial["note"]

    empty = survival.logrank(ep, pd.Series(dtype=object))
    assert np.isnan(empty["p"]) and empty["n"] == 0


def test_benjamini_hochberg_hand_example():
    p = [0.01, 0.04, 0.03, 0.005, np.nan]
    # sorted: 0.005, 0.01, 0.03, 0.04 (m = 4) -> 0.02, 0.02, 0.04, 0.04
    expected = [0.02, 0.04, 0.04, 0.02, np.nan]
    np.testing.assert_allclose(survival.benjamini_hochberg(p), expected, equal_nan=True)
    np.testing.assert_allclose(survival.benjamini_hochberg([0.5, 0.9]), [0.9, 0.9])
    assert np.isnan(survival.benjamini_hochberg([np.nan])).all()


def test_logrank_table_rows_and_fdr():
    endpoint, groups = _cohort(150)
    targets = pd.DataFrame({"trait": groups, "constant": "x", "noise": np.random.default_rng(1).choice(["u", "v"], 150)},
                           index=groups.index).iloc[::-1]
    table = survival.logrank_table(endpoint, targets, ["trait", "constant", "noise"])
    assert list(table.columns) == ["trait", "n", "n_groups", "events", "statistic", "p", "note", "fdr"]
    assert table["trait"].tolist() == ["trait", "constant", "noise"]
    assert np.isnan(table.loc[1, "p"]) and np.isnan(table.loc[1, "fdr"]) and table.loc[1, "note"]
    ok = table["p"].notna()
    np.testing.assert_allclose(table.loc[ok, "fdr"], survival.benjamini_hochberg(table.loc[ok, "p"]))
    assert table.loc[0, "p"] == pytest.approx(survival.logrank(endpoint, groups)["p"])
    assert table.loc[0, "events"] == endpoint["event"].sum()
    with pytest.raises(InputError, match="missing_trait"):
        survival.logrank_table(endpoint, targets, ["missing_trait"])


def test_cox_recovers_planted_hazard_ratio():
    rng = np.random.default_rng(2020)
    n = 600
    group = rng.integers(0, 2, n)
    t = rng.exponential(1.0 / (0.002 * np.where(group == 1, 2.0, 1.0)))
    censor = rng.exponential(1500.0, n)
    ids = [f"P{i:04d}" for i in range(n)]
    endpoint = pd.DataFrame({"time": np.minimum(t, censor), "event": (t <= censor).astype(int)}, index=ids)
    covs = pd.DataFrame({"group": group, "sex": "male"}, index=ids)
    res = survival.cox_fit(endpoint, covs)
    assert list(res.columns) == ["covariate", "hr", "ci_low", "ci_high", "p", "note"]
    row = res.set_index("covariate").loc["group"]
    assert row["hr"] == pytest.approx(2.0, rel=0.25)
    assert row["p"] < 1e-3
    assert row["ci_low"] < row["hr"] < row["ci_high"]
    one = res.set_index("covariate").loc["sex"]
    assert np.isnan(one["hr"]) and "one level" in one["note"]
    # same numbers as lifelines directly (Efron ties, default)
    direct = CoxPHFitter().fit(endpoint.assign(group=group), duration_col="time", event_col="event").summary
    assert row["hr"] == pytest.approx(direct.loc["group", "exp(coef)"], rel=1e-8)
    assert row["p"] == pytest.approx(direct.loc["group", "p"], rel=1e-6)


def test_cox_categorical_reference_and_missing_covariates(caplog):
    endpoint, groups = _cohort(200, seed=3)
    covs = endpoint[["age"]].assign(race=["white"] * 150 + ["non-white"] * 30 + ["unknown"] * 20)
    covs.iloc[0, 0] = np.nan
    with caplog.at_level(logging.INFO, logger="radiogenomics.survival"):
        res = survival.cox_fit(endpoint, covs)
    assert "dropped 1 of 200" in caplog.text
    # reference = the most frequent level; the order follows the covariate columns
    assert res["covariate"].tolist() == ["age", "race=non-white", "race=unknown"]
    assert res.set_index("covariate").loc["race=unknown", "note"] == "vs race=white"
    cat = covs.assign(race=pd.Categorical(covs["race"], categories=["unknown", "white", "non-white"]))
    assert survival.cox_fit(endpoint, cat)["covariate"].tolist() == ["age", "race=white", "race=non-white"]
    assert (res["hr"] > 0).all()
    only_constant = survival.cox_fit(endpoint, pd.DataFrame({"c": 1.0}, index=endpoint.index))
    assert len(only_constant) == 1 and np.isnan(only_constant.loc[0, "hr"])


def _read_biotab(path) -> pd.DataFrame:
    df = pd.read_csv(path, sep="\t", skiprows=[1, 2], dtype=str, keep_default_na=False)
    df = df.set_index("bcr_patient_barcode")
    df.index.name = "patient"
    return df.mask(df.apply(lambda c: c.str.fullmatch(r"\[.*\]")) | (df == ""))


@pytest.mark.realdata
def test_real_clinical_table(real_data_dir):
    clinical = _read_biotab(real_data_dir / "nationwidechildrens.org_clinical_patient_gbm.txt")
    endpoint, problems = survival.overall_survival(clinical)
    assert 530 <= len(endpoint) <= 548
    assert 400 <= endpoint["event"].sum() <= 420
    assert len(endpoint) + len(problems) == len(clinical)
    assert set(problems["patient"]).isdisjoint(endpoint.index)
    assert problems["problem"].str.len().gt(0).all()
    assert (endpoint["time"] >= 0).all()
    assert set(endpoint["race"]) <= {"white", "non-white", "unknown"}
    assert endpoint["age"].between(10, 95).all()
    # survival by gender and a Cox fit on the real cohort run end to end
    lr = survival.logrank(endpoint, endpoint["gender"])
    assert np.isfinite(lr["p"]) and lr["n_groups"] == 2
    cox = survival.cox_fit(endpoint, endpoint[["age", "gender", "race"]])
    age = cox.set_index("covariate").loc["age"]
    assert age["hr"] > 1.0 and age["p"] < 1e-3  # older age is a known adverse factor in GBM
