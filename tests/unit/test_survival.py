"""Survival endpoint, join-by-ID, KM, log-rank, BH and Cox checks (hand-made cohorts and the real Biotab table)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test

from radiogenomics import survival
from radiogenomics.errors import InputError
from radiogenomics.evaluation.stats import benjamini_hochberg


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
    # age_group (split at the median age) joined the covariates; the table has no Karnofsky column
    assert list(endpoint.columns) == ["time", "event", "age", "age_group", "gender", "race"]
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


def test_endpoint_unrecognised_status_stops_and_duplicates_reported():
    clin = _clinical()
    dup = clin.loc[["TCGA-00-0001"]]
    clin = pd.concat([clin, dup])
    endpoint, problems = survival.overall_survival(clin)
    reason = problems.set_index("patient")["problem"]
    assert reason["TCGA-00-0001"].startswith("duplicated patient ID")
    assert "TCGA-00-0001" not in endpoint.index
    # an unrecognised vital status stops the run, as an unknown event code of a plain survival table does
    clin.loc["TCGA-00-0002", "vital_status"] = "Lost"
    with pytest.raises(InputError, match=r"row TCGA-00-0002, column 'vital_status'.*'Lost'.*expected Dead or Alive"):
        survival.overall_survival(clin)


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
    np.testing.assert_allclose(benjamini_hochberg(p), expected, equal_nan=True)
    np.testing.assert_allclose(benjamini_hochberg([0.5, 0.9]), [0.9, 0.9])
    assert np.isnan(benjamini_hochberg([np.nan])).all()


def test_logrank_table_rows_and_fdr():
    endpoint, groups = _cohort(150)
    noise = np.random.default_rng(1).choice(["u", "v"], 150)
    targets = pd.DataFrame({"trait": groups, "constant": "x", "noise": noise}, index=groups.index).iloc[::-1]
    table = survival.logrank_table(endpoint, targets, ["trait", "constant", "noise"])
    assert list(table.columns) == ["trait", "n", "n_groups", "events", "statistic", "p", "note", "fdr"]
    assert table["trait"].tolist() == ["trait", "constant", "noise"]
    assert np.isnan(table.loc[1, "p"]) and np.isnan(table.loc[1, "fdr"]) and table.loc[1, "note"]
    ok = table["p"].notna()
    np.testing.assert_allclose(table.loc[ok, "fdr"], benjamini_hochberg(table.loc[ok, "p"]))
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


# --------------------------------------------------------------------------- follow-up tables, PFS, covariates


def _extra_clinical() -> pd.DataFrame:
    rows = [
        # patient,      vital,  death,  last contact, age, gender, race, karnofsky, nte flag
        ("TCGA-01-0001", "Alive", np.nan, "100", "50", "MALE", "WHITE", "80", np.nan),  # follow-ups extend to 400
        ("TCGA-01-0002", "Alive", np.nan, "300", "62", "FEMALE", "ASIAN", "60", np.nan),  # follow-up: dead at 350
        ("TCGA-01-0003", "Dead", "200", "150", "70", "MALE", "WHITE", np.nan, np.nan),  # progression at 120
        ("TCGA-01-0004", "Dead", "90", "90", "45", "FEMALE", np.nan, "100", np.nan),  # death, no progression
        ("TCGA-01-0005", "Alive", np.nan, "500", "55", "MALE", "WHITE", "90", "YES"),  # flag YES, day missing
        ("TCGA-01-0006", "Dead", "-3", "10", "66", "MALE", "WHITE", "80", np.nan),  # death before diagnosis
        ("TCGA-01-0007", "Alive", np.nan, "250", "58", "FEMALE", "WHITE", "70", np.nan),  # neg. follow-up contact
        ("TCGA-01-0008", "Dead", "400", "380", "49", "MALE", "WHITE", "80", np.nan),  # conflicting death days
        ("TCGA-01-0009", "Alive", np.nan, "600", "40", "FEMALE", "WHITE", "100", np.nan),  # progression at 200
        ("TCGA-01-0010", "Alive", np.nan, "700", "61", "MALE", "WHITE", "80", np.nan),  # new primary only: censored
        ("TCGA-01-0011", "Dead", "150", "150", "52", "MALE", "WHITE", "60", np.nan),  # progression -5
    ]
    df = pd.DataFrame(rows, columns=["patient", "vital_status", "death_days_to", "last_contact_days_to",
                                     "age_at_initial_pathologic_diagnosis", "gender", "race", "karnofsky_score",
                                     "new_tumor_event_dx_indicator"])
    return df.set_index("patient")


def _follow_up_tables() -> list[pd.DataFrame]:
    follow_up = pd.DataFrame({
        "bcr_patient_barcode": ["TCGA-01-0001", "TCGA-01-0001", "TCGA-01-0002", "TCGA-01-0007", "TCGA-01-0008",
                                "TCGA-01-0099", "TCGA-01-0009"],
        "vital_status": ["Alive", "Alive", "Dead", "Alive", "Dead", "Alive", "Alive"],
        "last_contact_days_to": ["250", "[Not Available]", "320", "-20", np.nan, "100", "650"],
        "death_days_to": [np.nan, np.nan, "350", np.nan, "410", np.nan, np.nan],
        "new_tumor_event_dx_days_to": [np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, "200"],
    })
    drug = pd.DataFrame({
        "bcr_patient_barcode": ["TCGA-01-0001", "TCGA-01-0001", "TCGA-01-0003"],
        "pharmaceutical_tx_started_days_to": ["-10", "300", "20"],  # -10: neoadjuvant, ignored
        "pharmaceutical_tx_ended_days_to": ["60", "400", "260"],  # 260 > death day 200: logged only
    })
    radiation = pd.DataFrame({"bcr_patient_barcode": ["TCGA-01-0001"], "radiation_therapy_ended_days_to": ["380"],
                              "radiation_type": ["EXTERNAL BEAM"]})
    return [follow_up, drug, radiation]


def _nte_table() -> pd.DataFrame:
    return pd.DataFrame({
        "bcr_patient_barcode": ["TCGA-01-0003", "TCGA-01-0003", "TCGA-01-0010", "TCGA-01-0011", "TCGA-01-0098"],
        "new_tumor_event_dx_days_to": ["180", "120", "300", "-5", "50"],
        "new_tumor_event_type": ["Recurrence", "Progression of Disease", "New Primary Tumor", "Recurrence",
                                 "Recurrence"],
    })


def test_overall_survival_with_follow_up_tables(caplog):
    with caplog.at_level(logging.INFO, logger="radiogenomics.survival"):
        endpoint, problems = survival.overall_survival(_extra_clinical(), follow_up=_follow_up_tables())
    reason = problems.set_index("patient")["problem"]
    # latest of last contact 100, follow-up 250, drug 300/400, radiation 380 (the -10 drug day is ignored)
    assert endpoint.loc["TCGA-01-0001", ["time", "event"]].tolist() == [400.0, 0]
    # dead according to a follow-up record: death day from the follow-up
    assert endpoint.loc["TCGA-01-0002", ["time", "event"]].tolist() == [350.0, 1]
    assert endpoint.loc["TCGA-01-0003", ["time", "event"]].tolist() == [200.0, 1]
    assert endpoint.loc["TCGA-01-0009", ["time", "event"]].tolist() == [650.0, 0]
    assert reason["TCGA-01-0006"].startswith("death before diagnosis")
    assert reason["TCGA-01-0007"].startswith("negative time")
    assert reason["TCGA-01-0008"].startswith("conflicting death days")
    assert "not in the clinical patient table" in reason["TCGA-01-0099"]
    assert list(problems["patient"]) == sorted(problems["patient"])
    assert set(endpoint.index).isdisjoint(problems["patient"])
    assert len(endpoint) + len(problems) == len(_extra_clinical()) + 1  # + the follow-up-only patient
    assert "columns read" in caplog.text and "pharmaceutical_tx_started_days_to" in caplog.text
    assert "followed beyond the clinical table's last contact" in caplog.text
    # without the extra tables: the clinical last contact, and 0002 is alive
    plain, _ = survival.overall_survival(_extra_clinical())
    assert plain.loc["TCGA-01-0001", "time"] == 100.0 and plain.loc["TCGA-01-0002", "event"] == 0


def test_progression_free_survival_rules():
    endpoint, problems = survival.progression_free_survival(_extra_clinical(), _nte_table(),
                                                            follow_up=_follow_up_tables())
    assert list(endpoint.columns[:3]) == ["time", "event", "event_type"]
    row = endpoint.loc
    # first of two progression records
    assert (row["TCGA-01-0003", "time"], row["TCGA-01-0003", "event"], row["TCGA-01-0003", "event_type"]) == \
        (120.0, 1, "progression")
    # death without progression is an event (the study censored it)
    assert (row["TCGA-01-0004", "time"], row["TCGA-01-0004", "event"], row["TCGA-01-0004", "event_type"]) == \
        (90.0, 1, "death")
    assert row["TCGA-01-0002", "event_type"] == "death" and row["TCGA-01-0002", "time"] == 350.0
    # progression from a follow-up record
    assert (row["TCGA-01-0009", "time"], row["TCGA-01-0009", "event_type"]) == (200.0, "progression")
    # a new primary tumour is not progression: censored at the last follow-up
    assert (row["TCGA-01-0010", "time"], row["TCGA-01-0010", "event"], row["TCGA-01-0010", "event_type"]) == \
        (700.0, 0, "censored")
    assert row["TCGA-01-0001", "time"] == 400.0 and row["TCGA-01-0001", "event"] == 0
    reason = problems.set_index("patient")["problem"]
    assert reason["TCGA-01-0005"].startswith("progression reported")
    assert reason["TCGA-01-0011"].startswith("progression before diagnosis")
    assert reason["TCGA-01-0006"].startswith("death before diagnosis")
    assert "not in the clinical patient table" in reason["TCGA-01-0098"]
    assert set(endpoint.index).isdisjoint(problems["patient"])
    assert len(endpoint) + len(problems) == len(_extra_clinical()) + 2
    assert (endpoint["time"] >= 0).all()


def test_shuffled_rows_of_every_input_give_identical_endpoints():
    rng = np.random.default_rng(11)

    def shuffle(df: pd.DataFrame) -> pd.DataFrame:
        return df.iloc[rng.permutation(len(df))]

    clinical, follow_up, nte = _extra_clinical(), _follow_up_tables(), _nte_table()
    os1 = survival.overall_survival(clinical, follow_up=follow_up)
    os2 = survival.overall_survival(shuffle(clinical), follow_up=[shuffle(t) for t in follow_up])
    pfs1 = survival.progression_free_survival(clinical, nte, follow_up=follow_up)
    pfs2 = survival.progression_free_survival(shuffle(clinical), shuffle(nte),
                                              follow_up=[shuffle(t) for t in follow_up])
    for a, b in ((os1, os2), (pfs1, pfs2)):
        pd.testing.assert_frame_equal(a[0], b[0])
        pd.testing.assert_frame_equal(a[1], b[1])


def test_covariates_age_group_race_karnofsky():
    endpoint, _ = survival.overall_survival(_extra_clinical(), follow_up=_follow_up_tables())
    assert list(endpoint.columns) == ["time", "event", "age", "age_group", "gender", "race", "karnofsky"]
    median = endpoint["age"].median()
    low = endpoint["age"] <= median
    assert list(endpoint["age_group"].cat.categories) == [f"<={median:g}", f">{median:g}"]
    assert (endpoint.loc[low, "age_group"] == f"<={median:g}").all()
    assert (endpoint.loc[~low, "age_group"] == f">{median:g}").all()
    assert endpoint.loc["TCGA-01-0002", "race"] == "non-white" and endpoint.loc["TCGA-01-0004", "race"] == "unknown"
    assert endpoint.loc["TCGA-01-0001", "karnofsky"] == 80.0 and np.isnan(endpoint.loc["TCGA-01-0003", "karnofsky"])
    # the Categorical age group enters Cox against its first category
    cox = survival.cox_fit(endpoint, endpoint[["age_group"]])
    assert cox["covariate"].tolist() == [f"age_group=>{median:g}"]


def test_read_biotab_records(tmp_path):
    path = tmp_path / "nationwidechildrens.org_clinical_follow_up_v1.0_gbm.txt"
    lines = ["bcr_patient_uuid\tbcr_patient_barcode\tvital_status\tlast_contact_days_to\tdeath_days_to",
             "bcr_patient_uuid\tbcr_patient_barcode\tvital_status\tdays_to_last_followup\tdays_to_death",
             "CDE_ID:\tCDE_ID:2673794\tCDE_ID:5\tCDE_ID:3008273\tCDE_ID:3165475",
             "u1\tTCGA-01-0001\tAlive\t250\t[Not Applicable]",
             "u1\tTCGA-01-0001 \tAlive\t[Not Available]\t",
             "u2\tTCGA-01-0002\tDead\t320\t350"]
    path.write_text("\n".join(lines) + "\n")
    table = survival.read_biotab_records(path)
    assert table.columns[0] == "patient" and len(table) == 3
    assert table["patient"].tolist() == ["TCGA-01-0001", "TCGA-01-0001", "TCGA-01-0002"]
    assert table["death_days_to"].isna().tolist() == [True, True, False]
    endpoint, _ = survival.overall_survival(_extra_clinical(), follow_up=[table])
    assert endpoint.loc["TCGA-01-0001", "time"] == 250.0 and endpoint.loc["TCGA-01-0002", "event"] == 1
    bad = tmp_path / "bad.txt"
    bad.write_text("a\tb\nc\td\n")
    with pytest.raises(InputError, match="three header rows"):
        survival.read_biotab_records(bad)


# --------------------------------------------------------------------------- KM / log-rank tables


def test_km_logrank_table_multigroup_and_group_without_events():
    endpoint, groups = _cohort(150)
    table = survival.km_logrank_table(endpoint, groups.iloc[::-1].rename("subtype"))
    assert list(table.columns) == ["label", "grouping", "group", "n", "events", "median_days", "median_ci_low",
                                   "median_ci_high", "logrank_statistic", "logrank_df", "logrank_p", "note"]
    assert table["group"].tolist() == ["A", "B", "C"] and (table["grouping"] == "subtype").all()
    assert (table["label"] == "observed").all()
    summary = survival.km_summary(endpoint, groups)
    pd.testing.assert_frame_equal(table[survival.KM_SUMMARY_COLUMNS], summary)
    lr = survival.logrank(endpoint, groups)
    assert (table["logrank_p"] == lr["p"]).all() and (table["logrank_df"] == 2).all()
    # a group with no events: still a row, the test is computed and the note says so
    ep = endpoint.copy()
    ep.loc[groups[groups == "C"].index, "event"] = 0
    t2 = survival.km_logrank_table(ep, groups)
    assert t2.set_index("group").loc["C", "events"] == 0 and np.isnan(t2.set_index("group").loc["C", "median_days"])
    assert np.isfinite(t2["logrank_p"]).all() and "no events in group(s) ['C']" in t2.loc[0, "note"]
    # no patient in common: an empty table, no crash
    empty = survival.km_logrank_table(endpoint, pd.Series(["A"], index=["nobody"], name="x"))
    assert empty.empty and list(empty.columns) == survival.KM_LOGRANK_COLUMNS


def test_predicted_trait_survival_labels_and_excludes_observed(caplog):
    endpoint, groups = _cohort(150, seed=4)
    observed = groups.iloc[:60].rename("f7")
    predicted = groups.iloc[40:].rename("f7")  # 20 patients overlap the observed ones
    with caplog.at_level(logging.INFO, logger="radiogenomics.survival"):
        table = survival.predicted_trait_survival(endpoint, predicted, observed=observed)
    assert set(table["label"]) == {"predicted", "observed"}
    pred = table.loc[table["label"] == "predicted"]
    assert pred["n"].sum() == 90  # 110 predicted minus 20 with an observed value
    assert "20 of 110 patients with a prediction also have an observed value" in caplog.text
    direct = survival.logrank(endpoint, groups.iloc[60:])
    assert pred["logrank_p"].iloc[0] == pytest.approx(direct["p"])
    only = survival.predicted_trait_survival(endpoint, predicted)
    assert set(only["label"]) == {"predicted"} and only["n"].sum() == 110


# --------------------------------------------------------------------------- radiogenomic traits


def _enrichment(n: int = 40, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"TCGA-RG-{i:04d}" for i in range(n)]
    rows = []
    for i, pid in enumerate(ids):
        for s in ("SET_A", "SET_B", "SET_RARE", "SET_ALL"):
            nes = {"SET_A": 2.0 if i % 2 == 0 else -1.5, "SET_B": 1.8 if i % 3 == 0 else 0.2,
                   "SET_RARE": 2.0 if i < 3 else 0.1, "SET_ALL": 2.5}[s]
            q = 0.01 if nes > 1 else 0.5
            if s == "SET_A" and i % 2 == 1:
                q = 0.01  # enriched but with a negative NES: not carried
            rows.append({"target": "f5", "patient": pid, "set": s, "size": 30, "es": 0.5, "nes": nes,
                         "p": q / 2, "fdr": q})
        for cls in ("Proneural", "Mesenchymal", "Classical"):
            enriched = (cls == "Mesenchymal") and i % 4 == 0 or (cls == "Proneural" and i % 5 == 0)
            rows.append({"target": "subtype", "patient": pid, "class": cls, "set": "SET_M", "size": 20,
                         "es": 0.4, "nes": 2.0 if enriched else 0.3, "p": 0.001, "fdr": 0.01 if enriched else 0.7})
    enrichment = pd.DataFrame(rows)
    subtype = np.where(np.arange(n) % 2 == 0, "Mesenchymal", "Proneural").astype(object)
    subtype[1] = None  # no observed class: not assessed by the subtype network
    targets = pd.DataFrame({"f5": rng.integers(0, 2, n).astype(float), "subtype": subtype}, index=ids)
    targets.iloc[5, 0] = np.nan  # f5 not observed: not assessed
    return enrichment.iloc[rng.permutation(len(enrichment))], targets


def test_radiogenomic_traits_definition():
    enrichment, targets = _enrichment()
    rg, skipped = survival.radiogenomic_traits_with_skipped(enrichment, targets, fdr=0.05)  # defaults 10 and 10
    assert rg.index.name == "patient" and list(rg.index) == sorted(rg.index)
    # SET_RARE (3 carriers) and SET_ALL (every patient: no non-carrier) are not tested; names are network|set
    assert list(rg.columns) == ["f5|SET_A", "f5|SET_B", "subtype|SET_M"]
    # ... and listed as skipped with their counts among the 39 assessed patients and the reason
    assert list(skipped.columns) == survival.RADIOGENOMIC_SKIPPED_COLUMNS
    assert skipped["trait"].tolist() == ["f5|SET_ALL", "f5|SET_RARE"]
    counts = skipped.set_index("trait")[["n_assessed", "n_carriers", "n_non_carriers"]]
    assert counts.loc["f5|SET_ALL"].tolist() == [39, 39, 0] and counts.loc["f5|SET_RARE"].tolist() == [39, 3, 36]
    reasons = skipped.set_index("trait")["reason"]
    assert "0 non-carrier(s), fewer than the minimum 10" in reasons["f5|SET_ALL"]
    assert "3 carrier(s), fewer than the minimum 10" in reasons["f5|SET_RARE"]
    pd.testing.assert_frame_equal(survival.radiogenomic_traits(enrichment, targets), rg)
    a = rg["f5|SET_A"]
    assert a["TCGA-RG-0000"] == 1.0 and a["TCGA-RG-0001"] == 0.0  # negative NES is not enriched
    assert np.isnan(a["TCGA-RG-0005"])  # f5 missing in targets
    assert a.notna().sum() == 39
    m = rg["subtype|SET_M"]
    # own class: patient 0 Mesenchymal (i % 4 == 0) carries; patient 10 is Mesenchymal, 10 % 4 != 0: not;
    # patient 5 is Proneural and 5 % 5 == 0: carries; patient 1 has no class: NaN
    assert m["TCGA-RG-0000"] == 1.0 and m["TCGA-RG-0010"] == 0.0 and m["TCGA-RG-0005"] == 1.0
    assert np.isnan(m["TCGA-RG-0001"])
    # order of the rows does not matter; a dict of per-network tables gives the same
    by_net = {net: t.drop(columns="target") for net, t in enrichment.groupby("target")}
    pd.testing.assert_frame_equal(survival.radiogenomic_traits(by_net, targets.iloc[::-1]), rg)
    loose = survival.radiogenomic_traits(enrichment, targets, min_carriers=2, min_non_carriers=1)
    assert "f5|SET_RARE" in loose.columns and "f5|SET_ALL" not in loose.columns
    # SET_B: 14 carriers and 25 non-carriers of 39; each minimum applies on its own
    assert "f5|SET_B" in survival.radiogenomic_traits(enrichment, targets, min_carriers=14, min_non_carriers=25)
    assert "f5|SET_B" not in survival.radiogenomic_traits(enrichment, targets, min_carriers=15, min_non_carriers=1)
    assert "f5|SET_B" not in survival.radiogenomic_traits(enrichment, targets, min_carriers=1, min_non_carriers=26)
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="at least 1"):
            survival.radiogenomic_traits(enrichment, targets, min_carriers=bad)


def test_radiogenomic_traits_bad_input():
    enrichment, targets = _enrichment()
    with pytest.raises(InputError, match="class names"):
        survival.radiogenomic_traits(enrichment, targets.assign(subtype=targets["subtype"].notna().astype(int)))
    with pytest.raises(InputError, match="network column"):
        survival.radiogenomic_traits(enrichment.drop(columns="target"), targets)
    with pytest.raises(InputError, match="one row per patient and set"):
        survival.radiogenomic_traits(pd.concat([enrichment, enrichment.iloc[:1]]), targets)


def _rg_cohort(n: int = 240, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"TCGA-RG-{i:04d}" for i in range(n)]
    strong = rng.integers(0, 2, n)
    noise = rng.integers(0, 2, n)
    age = rng.normal(60, 10, n)
    t = rng.exponential(1.0 / (0.002 * np.exp(np.log(2.5) * strong + 0.03 * (age - 60))))
    c = rng.uniform(200, 2000, n)
    endpoint = pd.DataFrame({"time": np.round(np.minimum(t, c)) + 1, "event": (t <= c).astype(int), "age": age,
                             "gender": rng.choice(["male", "female"], n)}, index=pd.Index(ids, name="patient"))
    rg = pd.DataFrame({"f7|SET_STRONG": strong.astype(float), "f5|SET_NOISE": noise.astype(float)}, index=ids)
    rg.iloc[:20, 1] = np.nan
    return endpoint, rg


def test_radiogenomic_tests_columns_effect_and_fdr():
    endpoint, rg = _rg_cohort()
    # a trait whose carriers never die and one carried by nobody among the patients with covariates
    rg["f6|SET_NO_EVENTS"] = 0.0
    alive = endpoint.index[endpoint["event"] == 0][:12]
    rg.loc[alive, "f6|SET_NO_EVENTS"] = 1.0
    rg["f9|SET_ONE_LEVEL"] = np.nan
    rg.iloc[:30, rg.columns.get_loc("f9|SET_ONE_LEVEL")] = 0.0
    covs = endpoint[["age", "gender"]].copy()
    covs["site"] = "same"  # a covariate with one level: noted, not fatal
    table = survival.radiogenomic_tests(endpoint, rg.iloc[::-1], covs)
    assert list(table.columns) == survival.RADIOGENOMIC_TEST_COLUMNS
    assert table["trait"].tolist() == list(rg.columns)
    row = table.set_index("trait").loc["f7|SET_STRONG"]
    assert row["network"] == "f7" and row["set"] == "SET_STRONG"
    assert row["hr"] == pytest.approx(2.5, rel=0.3) and row["cox_p"] < 1e-4 and row["logrank_p"] < 1e-4
    assert row["ci_low"] < row["hr"] < row["ci_high"] and row["n_carriers"] == rg["f7|SET_STRONG"].sum()
    assert "one level" in row["note"]
    # the adjusted HR is cox_fit's
    direct = survival.cox_fit(endpoint, endpoint[["age", "gender"]].join(rg["f7|SET_STRONG"]))
    assert row["hr"] == pytest.approx(direct.set_index("covariate").loc["f7|SET_STRONG", "hr"], rel=1e-9)
    noise = table.set_index("trait").loc["f5|SET_NOISE"]
    assert noise["n"] == 220 and np.isfinite(noise["cox_p"])
    no_ev = table.set_index("trait").loc["f6|SET_NO_EVENTS"]
    assert np.isnan(no_ev["hr"]) and "no events among carriers" in no_ev["note"] and no_ev["carrier_events"] == 0
    assert np.isfinite(no_ev["logrank_p"])
    one = table.set_index("trait").loc["f9|SET_ONE_LEVEL"]  # no carrier: not tested (default minimums 10 and 10)
    assert one["status"] == "skipped" and (one["n"], one["n_carriers"], one["n_non_carriers"]) == (30, 0, 30)
    assert np.isnan(one["hr"]) and np.isnan(one["logrank_p"]) and pd.isna(one["n_cox"])
    assert one["note"] == ("not tested: 0 carrier(s), fewer than the minimum 10 among the 30 patients with the "
                           "endpoint")
    assert (table.loc[table["trait"] != "f9|SET_ONE_LEVEL", "status"] == "tested").all()
    assert (table["n_carriers"] + table["n_non_carriers"] == table["n"]).all()
    ok = table["cox_p"].notna()
    np.testing.assert_allclose(table.loc[ok, "cox_fdr"], benjamini_hochberg(table.loc[ok, "cox_p"]))
    okl = table["logrank_p"].notna()
    np.testing.assert_allclose(table.loc[okl, "logrank_fdr"], benjamini_hochberg(table.loc[okl, "logrank_p"]))
    assert (table["cox_fdr"].dropna() >= table.loc[ok, "cox_p"]).all()


def test_radiogenomic_tests_minimum_carriers_and_non_carriers_bh_over_tested_only(caplog):
    endpoint, rg = _rg_cohort()
    ids = endpoint.index
    rg = rg[["f7|SET_STRONG"]].copy()
    rg["f5|SET_FEW"] = 0.0
    rg.loc[ids[:9], "f5|SET_FEW"] = 1.0  # 9 carriers: below 10
    rg["f6|SET_EXACT"] = 0.0
    rg.loc[ids[:10], "f6|SET_EXACT"] = 1.0  # exactly 10 carriers: tested
    rg["f9|SET_MOST"] = 1.0
    rg.loc[ids[:9], "f9|SET_MOST"] = 0.0  # 9 non-carriers: below 10
    rg["f10|SET_NA"] = np.nan
    rg.loc[ids[:40], "f10|SET_NA"] = (np.arange(40) % 2).astype(float)  # 20 / 20 of the 40 assessed
    with caplog.at_level(logging.INFO, logger="radiogenomics.survival"):
        table = survival.radiogenomic_tests(endpoint, rg, endpoint[["age"]]).set_index("trait")
    assert table["status"].to_dict() == {"f7|SET_STRONG": "tested", "f5|SET_FEW": "skipped",
                                         "f6|SET_EXACT": "tested", "f9|SET_MOST": "skipped", "f10|SET_NA": "tested"}
    few, most = table.loc["f5|SET_FEW"], table.loc["f9|SET_MOST"]
    assert (few["n_carriers"], few["n_non_carriers"]) == (9, 231) and "9 carrier(s)" in few["note"]
    assert (most["n_carriers"], most["n_non_carriers"]) == (231, 9) and "9 non-carrier(s)" in most["note"]
    for row in (few, most):
        assert row[["logrank_statistic", "logrank_p", "logrank_fdr", "hr", "cox_p", "cox_fdr"]].isna().all()
    assert table.loc["f10|SET_NA", "n"] == 40 and table.loc["f10|SET_NA", "n_carriers"] == 20
    # BH over the three tested traits only: the same FDRs as testing those three alone
    tested = ["f7|SET_STRONG", "f6|SET_EXACT", "f10|SET_NA"]
    alone = survival.radiogenomic_tests(endpoint, rg[tested], endpoint[["age"]]).set_index("trait")
    for col in ("logrank_fdr", "cox_fdr"):
        np.testing.assert_allclose(table.loc[tested, col], alone.loc[tested, col], rtol=1e-12)
        np.testing.assert_allclose(table.loc[tested, col],
                                   benjamini_hochberg(table.loc[tested, col.replace("fdr", "p")]),
                                   rtol=1e-12)
    assert "2 skipped" in caplog.text
    # the minimums are arguments: 9 is enough with min 9; the Cox complete cases must meet them too
    loose = survival.radiogenomic_tests(endpoint, rg, endpoint[["age"]], min_carriers=9,
                                        min_non_carriers=9).set_index("trait")
    assert (loose["status"] == "tested").all() and np.isfinite(loose.loc["f5|SET_FEW", "logrank_p"])
    age = endpoint[["age"]].copy()
    age.loc[ids[:5], "age"] = np.nan  # 5 of the 10 carriers of f6|SET_EXACT lose their covariate
    cc = survival.radiogenomic_tests(endpoint, rg[["f6|SET_EXACT"]], age).set_index("trait").loc["f6|SET_EXACT"]
    assert cc["status"] == "tested" and np.isfinite(cc["logrank_p"]) and np.isnan(cc["cox_p"]) and cc["n_cox"] == 235
    assert "cox: 5 carrier(s), fewer than the minimum 10 among the 235 patients with complete covariates" in cc["note"]


# --------------------------------------------------------------------------- stepwise Cox


def test_stepwise_forward_selects_informative_terms_with_aic_path():
    endpoint, rg = _rg_cohort(300, seed=8)
    rng = np.random.default_rng(1)
    cands = pd.DataFrame({"noise1": rng.integers(0, 2, 300).astype(float),
                          "strong": rg["f7|SET_STRONG"],
                          "noise2": rng.normal(size=300),
                          "constant": 1.0}, index=rg.index)
    final, path = survival.stepwise_cox(endpoint, endpoint[["age"]], cands, direction="forward")
    assert list(path.columns) == ["step", "action", "term", "aic_before", "aic_after", "loglik", "n_params", "note"]
    assert path.loc[path["action"] == "skipped", "term"].tolist() == ["constant"]
    adds = path.loc[path["action"] == "add", "term"].tolist()
    assert adds[0] == "strong"
    assert final["covariate"].tolist()[:2] == ["age", "strong"]
    moves = path.loc[path["action"].isin(["start", "add"])]
    assert (np.diff(moves["aic_after"]) < 0).all()
    # each step's AIC before is the previous model's AIC after; a stop row closes the path
    np.testing.assert_array_equal(moves["aic_before"].iloc[1:], moves["aic_after"].iloc[:-1])
    stop = path.iloc[-1]
    assert stop["action"] == "stop" and stop["aic_before"] == stop["aic_after"] == moves["aic_after"].iloc[-1]
    assert "no single addition lowers the AIC; best rejected: add" in stop["note"]
    # the final model: covariates, then the selected terms, each row flagged post-selection
    assert list(final.columns) == survival.STEPWISE_FINAL_COLUMNS
    assert final["role"].tolist() == ["covariate"] + ["selected"] * len(adds)
    assert (final["inference"] == survival.POST_SELECTION_NOTE).all() and "not valid inference" in final["inference"][0]
    # AIC = 2k - 2 logL, logL as lifelines reports for the same model
    step1 = path.loc[path["action"] == "add"].iloc[0]
    data = endpoint[["time", "event", "age"]].join(cands[["strong"]])
    cph = CoxPHFitter().fit(data, "time", "event", fit_options=survival.COX_FIT_OPTIONS)
    assert step1["loglik"] == pytest.approx(cph.log_likelihood_, rel=1e-9)
    assert step1["aic_after"] == pytest.approx(2 * 2 - 2 * cph.log_likelihood_, rel=1e-9)
    start = path.loc[path["action"] == "start"].iloc[0]
    assert start["n_params"] == 1 and "n = 300" in start["note"] and np.isnan(start["aic_before"])
    assert "direction forward" in start["note"] and "lower scope (never removed): covariates ['age']" in start["note"]


def test_stepwise_null_start_ties_and_directions():
    endpoint, rg = _rg_cohort(300, seed=8)
    strong = rg["f7|SET_STRONG"]
    # two identical candidates: the tie goes to the earlier column, whatever the row order
    cands = pd.DataFrame({"copy_b": strong, "copy_a": strong}, index=rg.index)
    final, path = survival.stepwise_cox(endpoint, None, cands.iloc[::-1])
    assert path.loc[path["action"] == "add", "term"].tolist() == ["copy_b"]
    start = path.loc[path["action"] == "start"].iloc[0]
    cph = CoxPHFitter().fit(endpoint[["time", "event"]].join(strong.rename("s")), "time", "event")
    assert start["n_params"] == 0
    ll_null = cph.log_likelihood_ - cph.log_likelihood_ratio_test().test_statistic / 2  # lifelines' null model
    assert start["loglik"] == pytest.approx(ll_null, rel=1e-10)
    assert start["aic_after"] == pytest.approx(-2 * ll_null, rel=1e-10)
    # backward from all candidates and 'both' reach the same model here
    rng = np.random.default_rng(2)
    cands = pd.DataFrame({"strong": strong, "noise": rng.normal(size=300)}, index=rg.index)
    fwd, _ = survival.stepwise_cox(endpoint, endpoint[["age"]], cands, direction="forward")
    bwd, bpath = survival.stepwise_cox(endpoint, endpoint[["age"]], cands, direction="backward")
    both, _ = survival.stepwise_cox(endpoint, endpoint[["age"]], cands, direction="both")
    assert bpath.iloc[0]["action"] == "start" and bpath.iloc[0]["n_params"] == 3
    assert set(fwd["covariate"]) == set(bwd["covariate"]) == set(both["covariate"])
    pd.testing.assert_frame_equal(both, survival.stepwise_cox(endpoint, endpoint[["age"]], cands)[0])  # default
    with pytest.raises(ValueError, match="direction"):
        survival.stepwise_cox(endpoint, None, cands, direction="sideways")


def test_stepwise_both_adds_and_removes_and_never_drops_covariates():
    """z ~ x1 + x2 enters first and leaves once x1 and x2 are in (the cohort of tests/unit/test_survival_r.py, whose
    paths match R's step()); forward keeps it; backward starts from every candidate; age is never removed."""
    from test_survival_r import _step_data

    data = _step_data()
    cands = data[["z", "x1", "x2", "g", "noise"]].assign(g=pd.Categorical(data["g"], categories=["a", "b", "c"]))
    ep, age = data[["time", "event"]], data[["age"]]
    both, path = survival.stepwise_cox(ep, age, cands)
    moves = path.loc[path["action"].isin(["add", "remove"])]
    assert list(zip(moves["action"], moves["term"])) == [("add", "z"), ("add", "g"), ("add", "x1"), ("add", "x2"),
                                                         ("remove", "g"), ("remove", "z")]
    assert (moves["aic_after"] < moves["aic_before"]).all() and moves["step"].tolist() == list(range(1, 7))
    assert both["covariate"].tolist() == ["age", "x1", "x2"]
    assert both["role"].tolist() == ["covariate", "selected", "selected"]
    # the g step moved two coefficients (3 levels) at once
    assert moves["n_params"].tolist() == [2, 4, 5, 6, 4, 3]
    assert "no single addition or removal lowers the AIC" in path["note"].iloc[-1]
    fwd, _ = survival.stepwise_cox(ep, age, cands, direction="forward")
    assert fwd["covariate"].tolist() == ["age", "z", "g=b", "g=c", "x1", "x2"]
    bwd, bpath = survival.stepwise_cox(ep, age, cands, direction="backward")
    assert bpath["term"][bpath["action"] == "remove"].tolist() == ["noise", "g", "z"]
    assert set(bwd["covariate"]) == set(both["covariate"])
    # a covariate that only hurts the AIC stays: the lower scope is never removed
    useless = age.assign(junk=np.random.default_rng(0).normal(size=len(age)))
    final, path = survival.stepwise_cox(ep, useless, cands)
    assert final["covariate"].tolist()[:2] == ["age", "junk"] and "junk" not in set(path["term"])


def test_stepwise_skips_levels_without_events():
    endpoint, rg = _rg_cohort(200, seed=5)
    cands = pd.DataFrame({"strong": rg["f7|SET_STRONG"], "never_dies": 0.0}, index=rg.index)
    alive = endpoint.index[endpoint["event"] == 0][:10]
    cands.loc[alive, "never_dies"] = 1.0
    final, path = survival.stepwise_cox(endpoint, endpoint[["age", "gender"]], cands)
    skipped = path.loc[path["action"] == "skipped"]
    assert skipped["term"].tolist() == ["never_dies"] and "without events" in skipped["note"].iloc[0]
    assert "never_dies" not in final["covariate"].tolist()


# --------------------------------------------------------------------------- simulated cohort: planted hazards


def test_simulated_cohort_cox_recovers_planted_necrosis_hazard():
    from radiogenomics.cohorts import targets as tg
    from radiogenomics.cohorts.simulate import SimulationParams, simulate_cohort

    cohort = simulate_cohort(SimulationParams())
    planted = cohort.truth["survival"]["hazard_ratios"]
    endpoint, problems = survival.overall_survival(cohort.clinical)
    assert problems.empty
    built, meta, _ = tg.build_targets(tg.resolve_specs(["vasari"]), {"vasari": cohort.vasari},
                                      patients=cohort.expression.index)
    assert meta["f7"]["classes"] == ["<1/3", ">1/3"]  # code 1 = necrosis above 1/3, the planted risk factor
    covs = pd.DataFrame({"age_per_10_years": (endpoint["age"] - 60) / 10}).join(built["f7"])
    cox = survival.cox_fit(endpoint, covs).set_index("covariate")
    f7 = cox.loc["f7"]
    print(f"planted HR f7 {planted['f7']}, age/10y {planted['age_per_10_years']}; recovered f7 HR {f7['hr']:.3f} "
          f"({f7['ci_low']:.3f}-{f7['ci_high']:.3f}), p = {f7['p']:.2g}; age/10y HR "
          f"{cox.loc['age_per_10_years', 'hr']:.3f}, p = {cox.loc['age_per_10_years', 'p']:.2g}")
    assert f7["hr"] > 1 and f7["p"] < 0.05
    assert f7["ci_low"] < planted["f7"] < f7["ci_high"]
    assert cox.loc["age_per_10_years", "hr"] > 1 and cox.loc["age_per_10_years", "p"] < 0.05
    # the planted proliferation-activity effect too (activity in SD units)
    prolif = survival.cox_fit(endpoint, covs.join(cohort.activity["PROGRAM_PROLIFERATION"])).set_index("covariate")
    assert prolif.loc["PROGRAM_PROLIFERATION", "hr"] > 1 and prolif.loc["PROGRAM_PROLIFERATION", "p"] < 0.05


# --------------------------------------------------------------------------- real data: PFS and subtypes


@pytest.mark.realdata
def test_real_pfs_and_subtype_table(real_data_dir):
    from radiogenomics import inputs

    clinical = inputs.read_clinical_biotab(real_data_dir / "nationwidechildrens.org_clinical_patient_gbm.txt")
    os_ep, os_problems = survival.overall_survival(clinical)
    pfs, pfs_problems = survival.progression_free_survival(clinical, None)
    # no new-tumour-event table: every death is a PFS event and the rest are censored as in OS
    common = os_ep.index.intersection(pfs.index)
    assert len(common) == len(os_ep) == len(pfs)
    assert (pfs.loc[common, "event"] == os_ep.loc[common, "event"]).all()
    assert set(pfs["event_type"]) <= {"death", "censored"}
    kps = os_ep["karnofsky"].dropna()
    assert 350 <= len(kps) <= 410 and kps.between(0, 100).all()
    subtypes = inputs.read_clanc(real_data_dir / "TCGA_unified_CORE_ClaNC840.txt").subtypes
    table = survival.km_logrank_table(os_ep, subtypes)
    assert sorted(table["group"]) == ["Classical", "Mesenchymal", "Neural", "Proneural"]
    assert 150 <= table["n"].sum() <= 173 and (table["logrank_df"] == 3).all()
    assert (table["median_days"] > 0).all()


# --------------------------------------------------------------------------- figures


def test_forest_plot_log_axis_reference_line_and_labels(tmp_path):
    from radiogenomics.plots import figures

    endpoint, rg = _rg_cohort()
    cox = survival.cox_fit(endpoint, endpoint[["age", "gender"]].join(rg))
    cox = pd.concat([cox, pd.DataFrame([{"covariate": "site", "hr": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                                         "p": np.nan, "note": "one level only"}])], ignore_index=True)
    fig = figures.forest_figure(cox, title="Overall survival: Cox model")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert any(np.allclose(line.get_xdata(), [1.0, 1.0]) for line in ax.get_lines())
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == cox["covariate"].tolist()
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("not estimable") for t in texts)
    assert "Hazard ratio" in ax.get_xlabel() and "Overall survival" in ax.get_title()
    path = tmp_path / "forest.png"
    figures.draw(figures.forest_figure, path, cox, title="Cox")
    assert path.read_bytes().startswith(b"\x89PNG") and path.stat().st_size > 1000
    tests = survival.radiogenomic_tests(endpoint, rg, endpoint[["age"]])
    figures.draw(figures.forest_figure, tmp_path / "forest_rg.svg", tests, title="Radiogenomic traits")
    assert (tmp_path / "forest_rg.svg").stat().st_size > 1000


def test_radiogenomic_km_figures(tmp_path):
    from radiogenomics.plots import figures

    endpoint, rg = _rg_cohort()
    tests = survival.radiogenomic_tests(endpoint, rg, endpoint[["age"]])
    fig = figures.radiogenomic_grid_figure(endpoint, rg, tests=tests, columns=None, max_panels=12,
                                            ylabel="Overall survival probability")
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert len(titles) == 2 and titles[0].startswith("f7: SET_STRONG")  # smallest Cox p first
    assert "log-rank p" in titles[0] and "adj. HR" in titles[0]
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[0].startswith("not enriched") and legend[1].startswith("set enriched")
    figures.draw(figures.radiogenomic_grid_figure, tmp_path / "rg_grid.png", endpoint, rg, tests=tests)
    figures.draw(figures.radiogenomic_km_figure, tmp_path / "rg_km.png", endpoint, rg, "f7|SET_STRONG",
                 time_unit="months")
    for name in ("rg_grid.png", "rg_km.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")
    with pytest.raises(InputError, match="not a column"):
        figures.draw(figures.radiogenomic_km_figure, tmp_path / "x.png", endpoint, rg, "f1|NOPE")


def test_shuffled_rows_radiogenomic_tests_stepwise_and_tables():
    endpoint, rg = _rg_cohort(200, seed=9)
    rng = np.random.default_rng(3)
    covs = endpoint[["age", "gender"]]
    rg["f10|SET_X"] = rng.integers(0, 2, 200).astype(float)

    def shuffle(df):
        return df.iloc[rng.permutation(len(df))]

    pd.testing.assert_frame_equal(survival.radiogenomic_tests(endpoint, rg, covs),
                                  survival.radiogenomic_tests(shuffle(endpoint), shuffle(rg), shuffle(covs)))
    a = survival.stepwise_cox(endpoint, covs, rg, direction="both")
    b = survival.stepwise_cox(shuffle(endpoint), shuffle(covs), shuffle(rg), direction="both")
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])
    groups = rg["f10|SET_X"].map({0.0: "no", 1.0: "yes"})
    pd.testing.assert_frame_equal(survival.km_logrank_table(endpoint, groups),
                                  survival.km_logrank_table(shuffle(endpoint), shuffle(groups.to_frame()).iloc[:, 0]))
