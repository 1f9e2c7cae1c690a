"""Survival stage of the workflow: the package helpers it uses, and its outputs on the tiny end-to-end run.

The workflow-level tests read the session's ``tiny_run`` (tests/data/tiny.yaml); the progression-free
survival test reruns only the survival jobs on a copy of it with a new-tumour-event table added.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, TINY, snakemake

from radiogenomics import errors, inputs, results, survival
from radiogenomics.evaluation.stats import benjamini_hochberg

IMAGING = ["f5", "f6", "f7", "f14", "f9", "f10"]  # the vasari preset of tests/data/tiny.yaml
GROUPINGS = IMAGING + ["subtype"]
COLLECTIONS = ["programs", "celltypes", "verhaak"]
# survival.radiogenomic_min_carriers / radiogenomic_min_non_carriers / radiogenomic_fdr defaults
MIN_CARRIERS, MIN_NON_CARRIERS, RG_FDR = 10, 10, 0.05


# --------------------------------------------------------------------------- package helpers of the stage


def _endpoint(n: int = 160, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    trait = rng.integers(0, 2, n)
    age = rng.normal(60, 10, n)
    t = rng.exponential(1.0 / (0.002 * np.exp(np.log(2.0) * trait + 0.03 * (age - 60))))
    c = rng.uniform(200, 2000, n)
    ids = [f"TCGA-SV-{i:04d}" for i in range(n)]
    ep = pd.DataFrame({"time": np.round(np.minimum(t, c)) + 1, "event": (t <= c).astype(int), "age": age,
                       "gender": rng.choice(["male", "female"], n), "race": rng.choice(["white", "non-white"], n),
                       "karnofsky": np.where(rng.random(n) < 0.5, np.nan, rng.choice([60.0, 80.0, 100.0], n))},
                      index=pd.Index(ids, name="patient"))
    ep["trait"] = np.where(trait == 1, "high", "low")
    return ep


def test_cox_covariates_keep_present_mostly_observed_columns(caplog):
    ep = _endpoint().drop(columns="trait")
    ep["site"] = "one"
    cov, decisions = survival.cox_covariates(ep, ["age", "gender", "karnofsky", "age_group", "site"], max_missing=0.3)
    assert list(cov.columns) == ["age", "gender"]
    assert list(decisions.columns) == survival.COVARIATE_DECISION_COLUMNS
    status = decisions.set_index("covariate")["status"].to_dict()
    assert status == {"age": "used", "gender": "used", "karnofsky": "too many missing", "age_group": "absent",
                      "site": "one level"}
    frac = decisions.set_index("covariate").loc["karnofsky", "fraction_missing"]
    assert frac == pytest.approx(ep["karnofsky"].isna().mean())
    cov, decisions = survival.cox_covariates(ep, ["karnofsky"], max_missing=0.9)
    assert list(cov.columns) == ["karnofsky"] and "complete case" in decisions.loc[0, "note"]
    with pytest.raises(ValueError, match="endpoint columns"):
        survival.cox_covariates(ep, ["time"])


def test_adjusted_cox_table_is_cox_fit_per_trait_joined_by_id():
    ep = _endpoint()
    traits = pd.DataFrame({"trait": pd.Categorical(ep["trait"], categories=["low", "high"]),
                           "noise": np.random.default_rng(1).integers(0, 2, len(ep)).astype(float)},
                          index=ep.index)
    traits.loc[traits.index[:7], "noise"] = np.nan
    traits["silent"] = 0.0  # one level: noted, no crash
    cov = ep[["age", "gender"]]
    table = survival.adjusted_cox_table(ep, cov, traits.iloc[::-1])  # row order must not matter
    assert list(table.columns) == survival.ADJUSTED_COX_COLUMNS
    assert list(dict.fromkeys(table["model"])) == ["covariates", "covariates + trait", "covariates + noise",
                                                   "covariates + silent"]
    row = table.loc[table["term"] == "trait"].iloc[0]
    assert row["covariate"] == "trait=high" and row["note"].startswith("vs trait=low")
    direct = survival.cox_fit(ep, cov.join(traits[["trait"]])).set_index("covariate").loc["trait=high"]
    assert row["hr"] == pytest.approx(direct["hr"], rel=1e-9) and row["p"] == pytest.approx(direct["p"], rel=1e-9)
    assert row["hr"] > 1.3 and row["ci_low"] < row["hr"] < row["ci_high"]
    noise = table.loc[table["term"] == "noise"].iloc[0]
    assert noise["n"] == len(ep) - 7
    silent = table.loc[table["model"] == "covariates + silent"]
    assert len(silent) == 1 and np.isnan(silent["hr"].iloc[0]) and "one level" in silent["note"].iloc[0]
    # covariate rows of a trait model have an empty term
    assert set(table.loc[table["model"] == "covariates + trait", "term"]) == {"", "trait"}


class _StubNetwork:
    """Duck-typed stand-in for nets.FittedModel: outputs = expression of a chosen gene (or genes)."""

    def __init__(self, target, target_type, classes, genes):
        self.target, self.target_type, self.classes, self.genes = target, target_type, classes, genes

    def scaled(self, expression):
        return expression.loc[:, self.genes].to_numpy(dtype=float)

    def outputs(self, x):
        return x


def test_predict_trait_classes_binary_and_multiclass(caplog):
    expr = pd.DataFrame({"g1": [2.0, -1.0, 0.5, -3.0], "g2": [0.0, 1.0, 3.0, -1.0], "g3": [1.0, 0.0, 0.0, 2.0]},
                        index=["P4", "P1", "P3", "P2"])
    binary = _StubNetwork("f7", "binary", ["<1/3", ">1/3"], ["g1"])
    table = survival.predict_trait_classes(binary, expr, ["P1", "P2", "P3", "P9"])
    assert list(table.columns) == survival.PREDICTED_COLUMNS
    assert table["patient"].tolist() == ["P1", "P2", "P3"]  # P9 has no expression: logged, skipped
    assert table["predicted"].tolist() == ["<1/3", "<1/3", ">1/3"]
    assert table["score"].tolist() == pytest.approx([1 / (1 + np.exp(-1)), 1 / (1 + np.exp(-3)),
                                                     1 / (1 + np.exp(-0.5))])
    assert "have no expression" in caplog.text
    multi = _StubNetwork("subtype", "multiclass", ["A", "B", "C"], ["g1", "g2", "g3"])
    table = survival.predict_trait_classes(multi, expr)
    assert table.set_index("patient")["predicted"].to_dict() == {"P1": "B", "P2": "C", "P3": "B", "P4": "A"}
    assert (table["score"] > 1 / 3).all() and (table["score"] <= 1).all()
    with pytest.raises(ValueError, match="binary or multi-class"):
        survival.predict_trait_classes(_StubNetwork("vol", "continuous", [], ["g1"]), expr)


class _SavedNetwork:
    """Stand-in for a loaded nets.FittedModel: its target and the configuration its final selection chose."""

    def __init__(self, target, info):
        self.target, self.info = target, info


def test_predicted_provenance_says_which_model_saw_each_patient(caplog):
    predicted = pd.DataFrame({"patient": ["U1", "U2", "U3", "U1", "U2", "U3"],
                              "trait": ["f7", "f7", "f7", "f5", "f5", "f5"],
                              "predicted": ["a", "b", "a", "x", "x", "y"], "score": [0.9, 0.6, 0.7, 0.8, 0.5, 0.9]})
    trained = {"f7": ["I1", "I2"], "f5": ["I1", "I3"]}
    cohorts = {"expression": ["I1", "I2", "I3", "U1", "U2", "U3"], "imaged": ["I1", "I2", "I3"],
               "autoencoder": ["U1", "U2"], "targets": trained}
    assert survival.encoder_patients(cohorts, "f7") == ["U1", "U2"]  # the shared autoencoder's cohort
    transferred = {"f7": survival.transferred_encoder(_SavedNetwork("f7", {"selection": {"transfer": True}})),
                   "f5": survival.transferred_encoder(_SavedNetwork("f5", {"selection": {"transfer": False}}))}
    assert transferred == {"f7": True, "f5": False}
    with caplog.at_level("INFO", logger="radiogenomics.survival"):
        table = survival.predicted_provenance(predicted, trait_patients=trained, transferred=transferred,
                                              encoder_patients={"f7": survival.encoder_patients(cohorts, "f7")})
    assert list(table.columns) == survival.PREDICTED_TABLE_COLUMNS
    # f7 transferred the encoder of the autoencoder pretrained on U1 and U2; f5 trained from scratch
    assert table["encoder_pretrained_on_patient"].tolist() == [True, True, False, False, False, False]
    assert "predicted f7: 3 patients, none among the network's 2 training patients" in caplog.text
    # a predicted patient that trained the trait network stops the job
    with pytest.raises(errors.InputError, match="1 predicted patient.*trained its network.*I2"):
        survival.predicted_provenance(predicted.replace({"U3": "I2"}), trait_patients=trained,
                                      transferred=transferred, encoder_patients={"f7": ["U1"]})
    with pytest.raises(errors.InputError, match="patients of its autoencoder are not given"):
        survival.predicted_provenance(predicted, trait_patients=trained, transferred=transferred,
                                      encoder_patients=None)
    with pytest.raises(ValueError, match="does not record whether"):
        survival.transferred_encoder(_SavedNetwork("f7", {}))
    # per-target encoder cohorts, when cohorts.json lists them: a list, or one list per outer fold
    scoped = {**cohorts, "encoder_patients": {"f7": ["U2"], "subtype": {"0": ["U1", "I1"], "1": ["U2", "I1"]}}}
    assert survival.encoder_patients(scoped, "f7") == ["U2"]
    assert survival.encoder_patients(scoped, "subtype") == ["I1", "U1", "U2"]
    assert survival.encoder_patients(scoped, "f5") == ["U1", "U2"]


def test_radiogenomic_minimums_from_the_config():
    from radiogenomics.config.survival import resolve_radiogenomic_minimums

    assert resolve_radiogenomic_minimums({}) == (10, 10, "")
    filled = {"radiogenomic_min_carriers": 10, "radiogenomic_min_non_carriers": 8}
    assert resolve_radiogenomic_minimums(filled) == (10, 8, "")
    # the older key still sets the minimum of carriers, with a deprecation message
    carriers, non_carriers, message = resolve_radiogenomic_minimums({**filled, "radiogenomic_min_patients": 5})
    assert (carriers, non_carriers) == (5, 8) and "radiogenomic_min_patients is deprecated" in message
    same = {**filled, "radiogenomic_min_carriers": 5, "radiogenomic_min_patients": 5}
    assert resolve_radiogenomic_minimums(same)[:2] == (5, 8)
    with pytest.raises(ValueError, match="set only radiogenomic_min_carriers"):
        resolve_radiogenomic_minimums({**filled, "radiogenomic_min_carriers": 12, "radiogenomic_min_patients": 5})
    with pytest.raises(ValueError, match="at least 1"):
        resolve_radiogenomic_minimums({"radiogenomic_min_non_carriers": 0})


def test_radiogenomic_trait_flags_follow_fdr_and_direction():
    enrichment = pd.DataFrame({
        "target": "f7", "patient": ["P1", "P2", "P3", "P4", "P5", "P6"], "set": "S",
        # enriched, negative ES without NES (p = FDR = 1), not significant, significant but negative,
        # significant without NES (direction unknown), no FDR
        "nes": [2.1, np.nan, 1.5, -2.0, np.nan, 1.0], "fdr": [0.01, 1.0, 0.3, 0.01, 0.02, np.nan]})
    enrichment = pd.concat([enrichment] + [enrichment.assign(patient=enrichment["patient"] + f"_{k}")
                                           for k in range(2)], ignore_index=True)
    observed = pd.DataFrame({"f7": "x"}, index=pd.Index(sorted(enrichment["patient"].unique())))
    traits = survival.radiogenomic_traits(enrichment, observed, fdr=0.05, min_carriers=3, min_non_carriers=3)["f7|S"]
    for suffix in ("", "_0", "_1"):
        got = [traits[f"P{i}{suffix}"] for i in range(1, 7)]
        assert got[:4] == [1.0, 0.0, 0.0, 0.0] and np.isnan(got[4]) and np.isnan(got[5])


def test_read_endpoint_restores_types(tmp_path):
    clinical = pd.DataFrame({"vital_status": ["Dead", "Alive", "Dead", "Alive"],
                             "death_days_to": ["100", np.nan, "30", np.nan],
                             "last_contact_days_to": ["50", "400", "10", "20"],
                             "age_at_initial_pathologic_diagnosis": ["70", "40", "55", "61"],
                             "gender": ["MALE", "FEMALE", "FEMALE", "MALE"],
                             "race": ["WHITE", "ASIAN", np.nan, "WHITE"]},
                            index=pd.Index(["TCGA-00-0001", "TCGA-00-0002", "TCGA-00-0003", "TCGA-00-0004"]))
    endpoint, _ = survival.overall_survival(clinical)
    results.write_table(endpoint, tmp_path / "endpoint.tsv", index=True)
    back = survival.read_endpoint(tmp_path / "endpoint.tsv")
    columns = ["time", "event", "gender", "race"]
    pd.testing.assert_frame_equal(back[columns], endpoint[columns])
    assert list(back["age_group"].cat.categories) == list(endpoint["age_group"].cat.categories)
    assert back["age_group"].cat.categories[0].startswith("<=")
    (tmp_path / "bad.tsv").write_text("patient\ttime\nTCGA-00-0001\t5\n")
    with pytest.raises(errors.InputError, match="bad.tsv.*event"):
        survival.read_endpoint(tmp_path / "bad.tsv")


# --------------------------------------------------------------------------- the tiny workflow run


def _tsv(path: Path, **kwargs) -> pd.DataFrame:
    assert path.is_file() and path.stat().st_size > 0, path
    return pd.read_csv(path, sep="\t", **kwargs)


@pytest.mark.workflow
def test_survival_outputs_and_figures_exist(tiny_run):
    s, f = tiny_run / "survival", tiny_run / "figures" / "survival"
    paths = [s / "endpoint.tsv", s / "endpoint_problems.tsv", s / "radiogenomic_traits.tsv",
             s / "radiogenomic_skipped.tsv", s / "predicted_traits.tsv"]
    paths += [s / "os" / n for n in ("km_logrank.tsv", "cox.tsv", "covariates.tsv", "radiogenomic_tests.tsv",
                                     "stepwise_path.tsv", "stepwise_final.tsv", "predicted_trait_survival.tsv",
                                     "predicted_trait_cox.tsv")]
    figs = [f / f"os_{n}.png" for n in ("forest_traits", "forest_stepwise", "radiogenomic_km", "predicted_km")]
    missing = [str(p) for p in paths + figs if not p.is_file() or p.stat().st_size == 0]
    assert not missing, missing
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in figs)
    assert not (s / "pfs").exists()  # no new-tumour-event table in the tiny config
    for log in ("survival_cox/os", "radiogenomic_traits", "survival_radiogenomic/os", "survival_stepwise/os",
                "predict_traits", "survival_predicted/os", "survival_figures/os"):
        assert (tiny_run / "logs" / f"{log}.log").stat().st_size > 0, log


@pytest.mark.workflow
def test_endpoint_accounts_for_every_clinical_patient(tiny_run):
    endpoint = survival.read_endpoint(tiny_run / "survival" / "endpoint.tsv")
    problems = _tsv(tiny_run / "survival" / "endpoint_problems.tsv", dtype=str)
    assert list(problems.columns) == survival.PROBLEM_COLUMNS
    clinical = inputs.read_clinical_biotab(tiny_run / "simulated" / "clinical_patient_gbm.txt")
    assert set(endpoint.index).isdisjoint(problems["patient"])
    assert set(endpoint.index) | set(problems["patient"]) == set(map(str, clinical.index))
    assert (endpoint["time"] >= 0).all() and set(endpoint["event"]) <= {0, 1}
    assert {"age", "age_group", "gender", "race", "karnofsky"} <= set(endpoint.columns)
    assert set(endpoint["race"]) <= {"white", "non-white", "unknown"}
    median = endpoint["age"].median()
    assert list(endpoint["age_group"].cat.categories) == [f"<={median:g}", f">{median:g}"]


@pytest.mark.workflow
def test_km_logrank_and_cox_tables(tiny_run):
    s = tiny_run / "survival"
    meta = results.read_json(tiny_run / "cohorts" / "targets.json")
    km = _tsv(s / "os" / "km_logrank.tsv")
    assert list(km.columns) == survival.KM_LOGRANK_COLUMNS
    assert list(dict.fromkeys(km["grouping"])) == GROUPINGS
    for name in GROUPINGS:
        assert km.loc[km["grouping"] == name, "group"].tolist() == [c for c in meta[name]["classes"]
                                                                   if c in set(km["group"])]
    # the same log-rank test as survival_by_trait's table (two rules, one statistic)
    lr = _tsv(s / "logrank.tsv").set_index("trait")
    per_grouping = km.drop_duplicates("grouping").set_index("grouping")
    for name in GROUPINGS:
        assert per_grouping.loc[name, "logrank_p"] == pytest.approx(lr.loc[name, "p"], rel=1e-9)
        assert km.loc[km["grouping"] == name, "n"].sum() == lr.loc[name, "n"]

    cov = _tsv(s / "os" / "covariates.tsv")
    assert list(cov.columns) == survival.COVARIATE_DECISION_COLUMNS
    assert cov["covariate"].tolist() == ["age", "gender", "race", "karnofsky"]
    used = cov.loc[cov["status"] == "used", "covariate"].tolist()
    assert "age" in used and "gender" in used
    assert (cov.loc[cov["status"] == "used", "fraction_missing"] <= 0.2).all()  # max_covariate_missing default
    assert (cov.loc[cov["status"] == "too many missing", "fraction_missing"] > 0.2).all()

    cox = _tsv(s / "os" / "cox.tsv").fillna({"term": "", "note": ""})
    assert list(cox.columns) == survival.ADJUSTED_COX_COLUMNS + ["fdr"]
    assert list(dict.fromkeys(cox["model"])) == ["covariates"] + [f"covariates + {g}" for g in GROUPINGS]
    terms = cox.loc[cox["term"] != ""]
    assert sorted(set(terms["term"])) == sorted(GROUPINGS)
    est = terms.dropna(subset=["hr"])
    assert ((est["ci_low"] <= est["hr"]) & (est["hr"] <= est["ci_high"])).all()
    assert (est["fdr"] >= est["p"] - 1e-12).all()
    np.testing.assert_allclose(terms["fdr"], benjamini_hochberg(terms["p"]), rtol=1e-12)
    assert cox.loc[cox["term"] == "", "fdr"].isna().all()
    # joined by patient ID: the f7 row is cox_fit on the endpoint and the decoded targets
    endpoint = survival.read_endpoint(s / "endpoint.tsv")
    targets = pd.read_parquet(tiny_run / "cohorts" / "targets.parquet")
    classes = meta["f7"]["classes"]
    f7 = pd.Categorical(targets["f7"].map(lambda v: classes[int(v)] if pd.notna(v) else np.nan), categories=classes)
    covariates = endpoint[used].join(pd.DataFrame({"f7": f7}, index=targets.index.map(str)).iloc[::-1])
    direct = survival.cox_fit(endpoint, covariates).set_index("covariate").loc[f"f7={classes[1]}"]
    row = terms.loc[terms["term"] == "f7"].iloc[0]
    assert row["covariate"] == f"f7={classes[1]}"
    assert row["hr"] == pytest.approx(direct["hr"], rel=1e-6) and row["p"] == pytest.approx(direct["p"], rel=1e-5)


@pytest.mark.workflow
def test_radiogenomic_outputs_agree_on_the_tiny_defaults(tiny_run):
    """Whatever the tiny defaults yield (few permutations: possibly no trait), traits, tests and figure agree."""
    traits = _tsv(tiny_run / "survival" / "radiogenomic_traits.tsv", dtype={"patient": str}).set_index("patient")
    tests = _tsv(tiny_run / "survival" / "os" / "radiogenomic_tests.tsv")
    assert tests["trait"].tolist() == list(traits.columns)
    for trait in traits.columns:
        col = traits[trait]
        assert (col == 1).sum() >= MIN_CARRIERS and (col == 0).sum() >= MIN_NON_CARRIERS
    # every network x set pair below a minimum is listed with its counts and the reason, not tested
    skipped = _tsv(tiny_run / "survival" / "radiogenomic_skipped.tsv").fillna({"set": ""})
    expected = survival.RADIOGENOMIC_SKIPPED_COLUMNS.copy()
    expected.insert(expected.index("set"), "collection")
    assert list(skipped.columns) == expected and len(skipped) > 0
    assert ((skipped["n_carriers"] < MIN_CARRIERS) | (skipped["n_non_carriers"] < MIN_NON_CARRIERS)).all()
    assert (skipped["n_carriers"] + skipped["n_non_carriers"] == skipped["n_assessed"]).all()
    assert skipped["reason"].str.contains("fewer than the minimum").all()
    assert set(skipped["trait"]).isdisjoint(traits.columns)
    log = (tiny_run / "logs" / "radiogenomic_traits.log").read_text()
    assert f"radiogenomic traits: {traits.shape[1]} traits" in log
    if traits.shape[1] == 0:  # reported, not a crash
        assert "no radiogenomic trait has at least" in log
        assert "no radiogenomic trait to test" in (tiny_run / "logs" / "survival_radiogenomic" / "os.log").read_text()


# Settings of the survival rerun: more permissive radiogenomic traits than the defaults, so that the tiny
# cohort (100 GSEA permutations) has some.
RERUN_SURVIVAL = {"radiogenomic_fdr": 0.25, "radiogenomic_min_carriers": 3, "radiogenomic_min_non_carriers": 5}
SURVIVAL_RULES = ["survival_endpoint", "survival_pfs_endpoint", "survival_by_trait", "km_figure", "survival_cox",
                  "radiogenomic_traits", "survival_radiogenomic", "survival_stepwise", "predict_traits",
                  "survival_predicted", "survival_figures"]
SURVIVAL_TABLES = ["km_logrank.tsv", "cox.tsv", "covariates.tsv", "radiogenomic_tests.tsv", "stepwise_path.tsv",
                   "stepwise_final.tsv", "predicted_trait_survival.tsv", "predicted_trait_cox.tsv"]
SURVIVAL_FIGURES = ["forest_traits", "forest_stepwise", "radiogenomic_km", "predicted_km"]


def _nte_table(path: Path, endpoint: pd.DataFrame) -> dict[str, str]:
    """A Biotab new-tumour-event table: progression at half the OS time for every third patient, plus problems."""
    header = ["bcr_patient_barcode", "new_tumor_event_dx_days_to", "new_tumor_event_type",
              "new_tumor_event_dx_indicator"]
    rows, expected = [], {}
    for i, (pid, r) in enumerate(endpoint.sort_index().iterrows()):
        if i == 1:
            rows.append([pid, "-20", "Progression of Disease", "YES"])
            expected[pid] = "progression before diagnosis"
        elif i == 4:
            rows.append([pid, "[Not Available]", "Recurrence", "YES"])
            expected[pid] = "progression reported"
        elif i % 3 == 0 and r["time"] >= 2:
            rows.append([pid, str(int(r["time"] // 2)), "Progression of Disease", "YES"])
            expected[pid] = "progression"
    lines = ["\t".join(header), "\t".join(["bcr_patient_barcode", "days", "type", "indicator"]),
             "\t".join(["CDE_ID:2003301", "CDE_ID:3392464", "CDE_ID:3119721", "CDE_ID:3121376"])]
    lines += ["\t".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return expected


@pytest.fixture(scope="module")
def survival_rerun(tiny_run, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A copy of the tiny run, rerun with a new-tumour-event table and RERUN_SURVIVAL (survival rules only)."""
    import yaml

    work = tmp_path_factory.mktemp("survival_rerun") / "run"
    shutil.copytree(tiny_run.parent, work, symlinks=True)
    endpoint = survival.read_endpoint(work / "results" / "survival" / "endpoint.tsv")
    expected = _nte_table(work / "nte.txt", endpoint)
    cfg = yaml.safe_load(TINY.read_text())
    cfg.setdefault("inputs", {})["new_tumor_event"] = ["nte.txt"]
    cfg["survival"] = dict(RERUN_SURVIVAL)
    (work / "config.yaml").write_text(yaml.safe_dump(cfg))
    wanted = [f"results/survival/{e}/{n}" for e in ("os", "pfs") for n in SURVIVAL_TABLES]
    wanted += [f"results/figures/survival/{e}_{n}.png" for e in ("os", "pfs") for n in SURVIVAL_FIGURES]
    # explicit targets and only the survival rules: nothing upstream (networks, GSEA) can run again
    res = snakemake(*wanted, "--directory", str(work), "--configfile", str(work / "config.yaml"), "--cores", "2",
                    "--allowed-rules", *SURVIVAL_RULES, timeout=900)
    if res.returncode != 0:
        logs = "\n".join(f"== {p}\n{p.read_text()[-3000:]}" for p in (work / "results" / "logs").rglob("surv*.log"))
        pytest.fail(f"survival rerun failed:\n{res.stderr[-5000:]}\n{logs[-6000:]}")
    return work / "results", expected


@pytest.mark.workflow
def test_progression_free_survival_beside_overall_survival(survival_rerun, tiny_run):
    r, expected = survival_rerun
    s = r / "survival"
    endpoint = survival.read_endpoint(s / "endpoint.tsv")
    pfs = survival.read_endpoint(s / "pfs_endpoint.tsv")
    problems = _tsv(s / "pfs_endpoint_problems.tsv", dtype=str).set_index("patient")["problem"]
    assert set(pfs.index).isdisjoint(problems.index)
    for pid, what in expected.items():
        if what == "progression":
            assert pfs.loc[pid, "event_type"] == "progression"
            assert pfs.loc[pid, "time"] == endpoint.loc[pid, "time"] // 2
        else:  # a negative progression day, a progression without its day: reported per patient
            assert problems[pid].startswith(what), (pid, problems[pid])
    common = pfs.index.intersection(endpoint.index)
    assert (pfs.loc[common, "time"] <= endpoint.loc[common, "time"]).all()
    others = [p for p in common if p not in expected]
    assert (pfs.loc[others, "event"] == endpoint.loc[others, "event"]).all()  # no progression: the OS event
    assert set(pfs.loc[others, "event_type"]) <= {"death", "censored"}
    for name in SURVIVAL_TABLES:
        assert (s / "pfs" / name).stat().st_size > 0, name
    for name in SURVIVAL_FIGURES:
        assert (r / "figures" / "survival" / f"pfs_{name}.png").read_bytes().startswith(b"\x89PNG")
    # the OS Cox models do not depend on the PFS addition nor on the radiogenomic settings
    pd.testing.assert_frame_equal(_tsv(s / "os" / "cox.tsv"), _tsv(tiny_run / "survival" / "os" / "cox.tsv"))


@pytest.mark.workflow
def test_radiogenomic_traits_follow_the_per_patient_enrichment(survival_rerun):
    r, _ = survival_rerun
    traits = _tsv(r / "survival" / "radiogenomic_traits.tsv", dtype={"patient": str}).set_index("patient")
    assert traits.shape[1] > 0, "the permissive rerun settings should yield radiogenomic traits"
    values = traits.to_numpy()
    assert set(np.unique(values[np.isfinite(values)])) <= {0.0, 1.0}
    targets = pd.read_parquet(r / "cohorts" / "targets.parquet")
    for trait in traits.columns:
        network, _, rest = trait.partition("|")
        collection, _, gene_set = rest.partition(":")
        assert network in IMAGING and collection in COLLECTIONS and gene_set
        col = traits[trait]
        assert (col == 1).sum() >= RERUN_SURVIVAL["radiogenomic_min_carriers"]
        assert (col == 0).sum() >= RERUN_SURVIVAL["radiogenomic_min_non_carriers"]
        # the assessed patients are those with the network's trait observed
        assert set(col.dropna().index) <= set(targets[network].dropna().index.map(str))
        # carriers: the set is enriched (FDR below the threshold, NES > 0) in the patient's ranking
        enr = _tsv(r / "enrichment" / network / f"{collection}.tsv", dtype={"patient": str})
        enr = enr.loc[enr["set"] == gene_set].set_index("patient")
        carriers = set(enr.index[(enr["fdr"] < RERUN_SURVIVAL["radiogenomic_fdr"]) & (enr["nes"] > 0)])
        assessed = col.dropna()
        assert set(assessed.index[assessed == 1]) == carriers & set(assessed.index), trait


@pytest.mark.workflow
@pytest.mark.parametrize("endpoint_name", ["os", "pfs"])
def test_radiogenomic_tests_have_bh_beside_raw_p(survival_rerun, endpoint_name):
    r, _ = survival_rerun
    traits = _tsv(r / "survival" / "radiogenomic_traits.tsv", dtype={"patient": str}).set_index("patient")
    tests = _tsv(r / "survival" / endpoint_name / "radiogenomic_tests.tsv")
    expected = survival.RADIOGENOMIC_TEST_COLUMNS.copy()
    expected.insert(expected.index("set"), "collection")
    assert list(tests.columns) == expected
    assert tests["trait"].tolist() == list(traits.columns) and len(tests) > 0
    assert (tests["trait"] == tests["network"] + "|" + tests["collection"] + ":" + tests["set"]).all()
    # fewer carriers or non-carriers among the patients with this endpoint: skipped, no test, not in BH
    few = ((tests["n_carriers"] < RERUN_SURVIVAL["radiogenomic_min_carriers"])
           | (tests["n_non_carriers"] < RERUN_SURVIVAL["radiogenomic_min_non_carriers"]))
    assert (tests["status"] == np.where(few, "skipped", "tested")).all()
    assert tests.loc[few, ["logrank_p", "cox_p", "logrank_fdr", "cox_fdr"]].isna().all().all()
    assert tests.loc[few, "note"].astype(str).str.startswith("not tested").all()
    tested = tests.loc[~few]
    for p, q in (("logrank_p", "logrank_fdr"), ("cox_p", "cox_fdr")):
        ok = tests[p].notna()
        assert ok.any()
        assert (tests.loc[ok, q] >= tests.loc[ok, p] - 1e-12).all() and (tests.loc[ok, q] <= 1).all()
        np.testing.assert_allclose(tested[q], benjamini_hochberg(tested[p]), rtol=1e-12)  # across the tested traits
    endpoint = survival.read_endpoint(r / "survival" / ("endpoint.tsv" if endpoint_name == "os" else
                                                        "pfs_endpoint.tsv"))
    for _, row in tests.iterrows():  # joined by patient ID
        col = traits[row["trait"]].dropna()
        col = col.loc[col.index.intersection(endpoint.index)]
        assert row["n"] == len(col) and row["n_carriers"] == int(col.sum())
        assert row["n_non_carriers"] == int((col == 0).sum())
        assert row["events"] == int(endpoint.loc[col.index, "event"].sum())
    est = tests.dropna(subset=["hr"])
    assert ((est["ci_low"] <= est["hr"]) & (est["hr"] <= est["ci_high"])).all()


@pytest.mark.workflow
@pytest.mark.parametrize("endpoint_name", ["os", "pfs"])
def test_stepwise_path_and_final_model(survival_rerun, endpoint_name):
    r, _ = survival_rerun
    s = r / "survival" / endpoint_name
    path = _tsv(s / "stepwise_path.tsv").fillna({"term": "", "note": ""})
    final = _tsv(s / "stepwise_final.tsv").fillna({"note": ""})
    assert list(path.columns) == survival.STEPWISE_PATH_COLUMNS
    assert list(final.columns) == survival.STEPWISE_FINAL_COLUMNS
    start = path.loc[path["action"] == "start"]
    assert len(start) == 1 and start["step"].iloc[0] == 0
    assert "direction both" in start["note"].iloc[0]  # the default, as R's step()
    assert set(path["action"]) <= {"skipped", "start", "add", "remove", "stop"} and path["action"].iloc[-1] == "stop"
    steps = path.loc[path["action"].isin(["add", "remove"])]
    assert steps["step"].tolist() == list(range(1, len(steps) + 1))
    aic = [start["aic_after"].iloc[0], *steps["aic_after"]]
    assert all(b < a for a, b in zip(aic, aic[1:]))  # each step lowers the AIC
    np.testing.assert_allclose(steps["aic_before"], aic[:-1], rtol=1e-12)
    # candidates: the imaging traits and the radiogenomic traits with adjusted Cox FDR < 0.1 (the default)
    tests = _tsv(s / "radiogenomic_tests.tsv")
    candidates = set(IMAGING) | set(tests.loc[tests["cox_fdr"] < 0.1, "trait"])
    assert set(path.loc[~path["action"].isin(["start", "stop"]), "term"]) <= candidates
    # every row of the final model says its p-values are post-selection
    assert (final["inference"] == survival.POST_SELECTION_NOTE).all()
    assert set(final["role"]) <= {"covariate", "selected"}
    # the final model: the used covariates first, then the selected terms
    used = _tsv(s / "covariates.tsv").query("status == 'used'")["covariate"].tolist()
    names = final["covariate"].tolist()
    is_covariate = [n.split("=")[0] in used for n in names]
    assert is_covariate == sorted(is_covariate, reverse=True)
    assert {n.split("=")[0] for n, c in zip(names, is_covariate) if c} == set(used)
    selected = [t for t in dict.fromkeys(steps["term"])
                if (steps.loc[steps["term"] == t, "action"].iloc[-1] == "add")]  # last move of each term: in
    for term in selected:
        assert any(n == term or n.startswith(f"{term}=") for n in names), term
    for term in set(steps["term"]) - set(selected):  # removed again
        assert not any(n == term or n.startswith(f"{term}=") for n in names), term
    assert (final["role"] == np.where(is_covariate, "covariate", "selected")).all()


@pytest.mark.workflow
def test_predicted_traits_cover_the_unimaged_patients(tiny_run):
    cohorts = json.loads((tiny_run / "cohorts" / "cohorts.json").read_text())
    meta = results.read_json(tiny_run / "cohorts" / "targets.json")
    predicted = _tsv(tiny_run / "survival" / "predicted_traits.tsv", dtype={"patient": str})
    assert list(predicted.columns) == survival.PREDICTED_TABLE_COLUMNS
    assert sorted(set(predicted["trait"])) == sorted(IMAGING)
    unimaged = sorted(set(cohorts["expression"]) - set(cohorts["imaged"]))  # every patient with expression, no imaging
    for trait, sub in predicted.groupby("trait"):
        assert sorted(sub["patient"]) == unimaged
        assert set(sub["predicted"]) <= set(meta[trait]["classes"])
        assert sub["score"].between(0.5 if meta[trait]["type"] == "binary" else 0, 1).all()
        # which model saw them: never the trait network; the autoencoder behind its encoder, when transferred
        assert set(sub["patient"]).isdisjoint(cohorts["targets"][trait])
        transfer = results.read_json(tiny_run / "models" / trait / "selected.json")["params"]["transfer"]
        seen = set(survival.encoder_patients(cohorts, trait)) if transfer else set()
        assert sub["encoder_pretrained_on_patient"].tolist() == [p in seen for p in sub["patient"]], trait
    assert set(predicted["patient"]).isdisjoint(cohorts["imaged"])
    # as the caption (workflow/report/survival_predicted_km.rst) says: the autoencoder was pretrained on these
    # very patients, and the tiny networks transfer its encoder
    assert sorted(cohorts["autoencoder"]) == unimaged and predicted["encoder_pretrained_on_patient"].all()
    table = _tsv(tiny_run / "survival" / "os" / "predicted_trait_survival.tsv")
    assert list(table.columns) == survival.KM_LOGRANK_COLUMNS
    assert set(table["label"]) == {"predicted", "observed"}
    endpoint = survival.read_endpoint(tiny_run / "survival" / "endpoint.tsv")
    n_unimaged = len(endpoint.index.intersection(unimaged))
    pred = table.loc[table["label"] == "predicted"]
    assert (pred.groupby("grouping")["n"].sum() == n_unimaged).all()
    obs = table.loc[table["label"] == "observed"].groupby("grouping")["n"].sum()
    targets = pd.read_parquet(tiny_run / "cohorts" / "targets.parquet")
    for trait in IMAGING:
        assert obs[trait] == len(endpoint.index.intersection(targets[trait].dropna().index.map(str)))
    # adjusted Cox per predicted trait, on the unimaged patients only, labelled predicted
    cox = _tsv(tiny_run / "survival" / "os" / "predicted_trait_cox.tsv").fillna({"term": "", "note": ""})
    assert list(cox.columns) == ["label"] + survival.ADJUSTED_COX_COLUMNS and set(cox["label"]) == {"predicted"}
    assert list(dict.fromkeys(cox["model"])) == [f"covariates + {t} (predicted)" for t in IMAGING]
    terms = cox.loc[cox["term"] != ""]
    assert terms["term"].tolist() == [f"{t} (predicted)" for t in IMAGING]
    assert (terms["n"] <= n_unimaged).all()
    cov = endpoint[_tsv(tiny_run / "survival" / "os" / "covariates.tsv").query("status == 'used'")["covariate"]]
    f7 = predicted.loc[predicted["trait"] == "f7"].set_index("patient")["predicted"]
    f7 = pd.DataFrame({"f7 (predicted)": pd.Categorical(f7, categories=meta["f7"]["classes"])}, index=f7.index)
    direct = survival.cox_fit(endpoint, cov.join(f7, how="inner")).set_index("covariate")
    row = terms.set_index("term").loc["f7 (predicted)"]
    assert row["hr"] == pytest.approx(direct.loc[row["covariate"], "hr"], rel=1e-6)


@pytest.mark.realdata
def test_tcga_gbm_config_plans_survival_from_the_subtype_network(real_data_dir, tmp_path):
    """config/tcga_gbm.yaml (subtype only): radiogenomic traits from the subtype network, no predicted traits."""
    import yaml

    cfg = yaml.safe_load((REPO / "config" / "tcga_gbm.yaml").read_text())
    for key, value in cfg["inputs"].items():
        if isinstance(value, str) and not key.endswith("_format") and key != "id_rule":
            cfg["inputs"][key] = str(real_data_dir / Path(value).name)
    cfg["inputs"]["gene_sets"] = {k: str(real_data_dir / Path(v).name) for k, v in cfg["inputs"]["gene_sets"].items()}
    cfg["results"] = "results"
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    res = snakemake("--directory", str(tmp_path), "--configfile", str(tmp_path / "config.yaml"), "--dry-run",
                    "--cores", "1", timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout + res.stderr
    counts = {line.split()[0]: line.split()[1] for line in out.splitlines()
              if len(line.split()) == 2 and line.split()[1].isdigit()}
    for rule in ("survival_endpoint", "survival_cox", "radiogenomic_traits", "survival_radiogenomic",
                 "survival_stepwise", "survival_figures"):
        assert counts.get(rule) == "1", (rule, counts)
    assert "predict_traits" not in counts and "survival_pfs_endpoint" not in counts
    for c in ("hallmark", "puchalski", "verhaak"):
        assert f"results/enrichment/subtype/{c}.tsv" in out
