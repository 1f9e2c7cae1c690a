"""The simulated cohort: deterministic files in the real formats, readable by the parsers, with the planted truth."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from radiogenomics import inputs
from radiogenomics.cohorts import simulate
from radiogenomics.cohorts.simulate import SimulationParams

FILE_NAMES = {"expression": "expression.tsv", "vasari": "vasari.csv", "clinical": "clinical.txt",
              "clanc": "clanc.txt", "truth": "truth.json"}
SET_FILES = {"hallmark_like": "programs.gmt", "celltypes": "celltypes.csv"}


def write_cohort(cohort: simulate.SimulatedCohort, folder: Path) -> dict[str, Path]:
    paths = {k: folder / v for k, v in FILE_NAMES.items()}
    sets = {k: folder / v for k, v in SET_FILES.items()}
    cohort.write(gene_sets=sets, **paths)
    return {**paths, **sets}


@pytest.fixture(scope="module")
def cohort() -> simulate.SimulatedCohort:
    return simulate.simulate_cohort(SimulationParams())


@pytest.fixture(scope="module")
def written(cohort, tmp_path_factory) -> dict[str, Path]:
    return write_cohort(cohort, tmp_path_factory.mktemp("sim"))


@pytest.fixture(scope="module")
def parsed(written):
    expression, samples = inputs.read_expression_matrix(written["expression"])
    return {"expression": expression, "samples": samples, "vasari": inputs.read_vasari(written["vasari"]),
            "clinical": inputs.read_clinical_biotab(written["clinical"]),
            "clanc": inputs.read_clanc(written["clanc"])}


def binarised(cohort, parsed, code: str) -> pd.Series:
    spec = simulate.TRAITS[code]
    values = parsed["vasari"][spec["column"]]
    known = values[values.isin(spec["categories"])]
    return known.isin(spec["positive"]).astype(int)


def cv_auc(x: np.ndarray, y: pd.Series) -> float:
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    prob = cross_val_predict(LogisticRegression(), x, y.to_numpy(), cv=folds, method="predict_proba")[:, 1]
    return float(roc_auc_score(y, prob))


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_files(written, tmp_path):
    again = write_cohort(simulate.simulate_cohort(SimulationParams()), tmp_path / "again")
    for key, path in written.items():
        assert path.read_bytes() == again[key].read_bytes(), f"{path.name} differs between runs with the same seed"
    other = write_cohort(simulate.simulate_cohort(SimulationParams(seed=2)), tmp_path / "other")
    for key, path in written.items():
        assert path.read_bytes() != other[key].read_bytes(), f"{path.name} is the same for seeds 1 and 2"
    assert not list((tmp_path / "again").glob("*.part")), "atomic writes leave no temporary files"


def test_bad_params_are_rejected():
    with pytest.raises(ValueError, match="n_imaged"):
        SimulationParams(n_patients=50, n_imaged=60)
    with pytest.raises(ValueError, match="n_genes"):
        SimulationParams(n_genes=500)
    with pytest.raises(ValueError, match="n_programs"):
        SimulationParams(n_programs=5)


def test_unknown_gene_set_suffix(cohort, tmp_path):
    paths = {k: tmp_path / v for k, v in FILE_NAMES.items()}
    with pytest.raises(ValueError, match="unknown suffix"):
        cohort.write(gene_sets={"x": tmp_path / "sets.txt"}, **paths)


# --------------------------------------------------------------------------- round trip through the parsers


def test_expression_round_trip(cohort, parsed):
    p = cohort.params
    expression, samples = parsed["expression"], parsed["samples"]
    assert expression.shape == (p.n_patients, p.n_genes)
    assert list(expression.columns) == cohort.genes
    assert expression.index.str.len().unique().tolist() == [12]
    np.testing.assert_allclose(expression.loc[cohort.expression.index].to_numpy(), cohort.expression.to_numpy(),
                               rtol=0, atol=1e-9)
    assert 2.0 < np.percentile(expression.to_numpy(), 0.5) and np.percentile(expression.to_numpy(), 99.5) < 15.0
    # the extra samples (-01B vial B, -02A recurrent, -11A normal) are dropped by the parser's rule
    extra = {s["barcode"] for s in cohort.truth["extra_samples"]}
    assert len(extra) == round(p.duplicate_sample_fraction * p.n_patients)
    assert {b[13:] for b in extra} == {"01B", "02A", "11A"}
    assert set(samples.loc[~samples["kept"], "barcode"]) == extra
    assert samples.loc[samples["kept"], "barcode"].str.endswith("-01A").all()
    assert set(samples["barcode"]) == set(cohort.expression_file.columns)


def test_vasari_round_trip(cohort, parsed, written):
    vasari = parsed["vasari"]
    expected = cohort.vasari.replace("", np.nan)
    pd.testing.assert_frame_equal(vasari, expected, check_dtype=False)
    assert sorted(vasari.index) == cohort.truth["patients"]["imaged"]
    header = written["vasari"].read_text().splitlines()[0]
    assert header == ('"","research.id","scan.type","f9.multifocal.or.multicentric","f5.proportion.enhancing",'
                      '"f6.proportion.ncet","f7.proportion.necrosis","f14.proportion.edema","f10.t1.flair.ratio",'
                      '"comments","study.date"')
    text = written["vasari"].read_text()
    assert ",NA," in text or ",NA\n" in text  # literal NA unquoted
    assert (vasari["research.id"] == vasari.index.str[5:]).all()
    assert (vasari["scan.type"] == "pre-operative").all()


def test_clinical_round_trip(cohort, parsed, written):
    clinical = parsed["clinical"]
    expected = cohort.clinical.drop(columns="bcr_patient_barcode")
    expected = expected.where(~expected.apply(lambda c: c.str.match(r"^\[.*\]$")), np.nan)
    pd.testing.assert_frame_equal(clinical, expected, check_dtype=False)
    p = cohort.params
    assert len(clinical) == p.n_patients + p.extra_clinical_patients
    assert set(cohort.truth["patients"]["clinical_only"]).isdisjoint(parsed["expression"].index)
    assert set(parsed["expression"].index) <= set(clinical.index)
    dead = clinical["vital_status"] == "Dead"
    death = inputs.numeric_column(clinical, "death_days_to", written["clinical"])
    contact = inputs.numeric_column(clinical, "last_contact_days_to", written["clinical"])
    assert death[dead].notna().all() and death[~dead].isna().all()
    assert contact[~dead].notna().all()
    assert (contact[dead].dropna() <= death[dead][contact[dead].notna()]).all()
    assert contact[dead].isna().any()  # some [Not Available] last contacts, as in the real table
    time_ = death.where(dead, contact)
    np.testing.assert_array_equal(time_.to_numpy(), cohort.patients.loc[clinical.index, "os_days"].to_numpy())
    assert inputs.numeric_column(clinical, "karnofsky_score", written["clinical"]).isna().any()
    assert set(clinical["race"].dropna()) <= {"WHITE", "BLACK OR AFRICAN AMERICAN", "ASIAN"}
    lines = written["clinical"].read_text().splitlines()
    assert lines[2].startswith("CDE_ID:\tCDE_ID:2673794")


def test_clanc_round_trip(cohort, parsed, written):
    clanc = parsed["clanc"]
    p = cohort.params
    assert len(clanc.subtypes) == p.n_subtyped
    assert sorted(clanc.subtypes.index) == cohort.truth["patients"]["subtyped"]
    assert clanc.subtypes.to_dict() == {pid: cohort.truth["patient_subtypes"][pid] for pid in clanc.subtypes.index}
    assert clanc.gene_sets == cohort.truth["subtype_sets"]
    n_set_genes = sum(len(v) for v in clanc.gene_sets.values())
    assert clanc.expression.shape[1] == n_set_genes + round(0.2 * n_set_genes)
    np.testing.assert_allclose(clanc.expression.mean(axis=0), 0.0, atol=1e-3)  # gene-centred
    assert b"\r\n" in written["clanc"].read_bytes()


def test_gene_set_round_trip(cohort, written):
    gmt = inputs.read_gene_sets(written["hallmark_like"])
    programs = cohort.truth["programs"]
    assert list(gmt)[: len(programs)] == list(programs)
    for name, genes in programs.items():
        assert sorted(gmt[name]) == sorted(genes)
    randoms = [k for k in gmt if k.startswith("RANDOM_SET_")]
    assert len(randoms) == 8 and all(20 <= len(gmt[k]) <= 80 for k in randoms)
    table = inputs.read_gene_sets(written["celltypes"])
    assert table == cohort.table_sets and len(table) == 10
    truth = cohort.truth["gene_set_collections"]["table"]
    for name, info in truth.items():
        if info["program"] is not None:
            overlap = len(set(table[name]) & set(programs[info["program"]]))
            assert overlap == info["n_program_genes"] and 0.3 < overlap / len(programs[info["program"]]) < 0.7
    kept, report = inputs.filter_gene_sets(gmt, cohort.genes, min_size=10)
    assert report["kept"].all()


def test_truth_json(cohort, written):
    truth = json.loads(written["truth"].read_text())
    for key in ("seed", "params", "programs", "subtype_sets", "traits", "survival", "subtype_program_shifts"):
        assert key in truth
    assert truth["seed"] == 1 and truth["params"]["n_patients"] == 300
    assert list(truth["programs"]) == list(simulate.PROGRAM_NAMES)
    assert truth["traits"]["f5"]["column"] == "f5.proportion.enhancing"
    assert truth["traits"]["f5"]["drivers"] == ["PROGRAM_ANGIOGENESIS"] and truth["traits"]["f5"]["rule"] == "linear"
    assert truth["traits"]["f14"]["drivers"] == ["PROGRAM_INFLAMMATION", "PROGRAM_EMT"]
    assert truth["traits"]["f14"]["rule"] == "interaction"
    assert truth["survival"]["driver_trait"] == "f7"
    assert truth["survival"]["driver_program"] == "PROGRAM_PROLIFERATION"
    assert truth["survival"]["log_hazard_ratios"]["f7"] == pytest.approx(np.log(1.8))
    assert truth["gene_set_files"] == {"hallmark_like": "programs.gmt", "celltypes": "celltypes.csv"}
    genes = [g for s in truth["programs"].values() for g in s] + [g for s in truth["subtype_sets"].values() for g in s]
    assert len(genes) == len(set(genes)), "programs and subtype sets are disjoint"
    assert all(30 <= len(s) <= 80 for s in truth["programs"].values())


# --------------------------------------------------------------------------- planted structure


def test_programs_are_coexpressed(cohort, parsed):
    expression = parsed["expression"]
    corr = np.corrcoef(expression.to_numpy().T)
    index = {g: i for i, g in enumerate(expression.columns)}
    within, across = [], []
    programs = list(cohort.programs.values())
    for k, genes in enumerate(programs):
        idx = [index[g] for g in genes]
        block = corr[np.ix_(idx, idx)]
        within.append(block[np.triu_indices(len(idx), 1)].mean())
        other = [index[g] for g in programs[(k + 1) % len(programs)]]
        across.append(corr[np.ix_(idx, other)].mean())
    assert min(within) > 0.3
    assert max(np.abs(across)) < 0.1
    assert min(within) > 3 * max(np.abs(across))


def test_subtype_signatures_separate_subtypes(cohort, parsed):
    expression = parsed["expression"]
    subtype = pd.Series(cohort.truth["patient_subtypes"]).loc[expression.index]
    z = (expression - expression.mean()) / expression.std()
    counts = subtype.value_counts(normalize=True)
    for s, share in simulate.SUBTYPE_PROBABILITIES.items():
        assert abs(counts[s] - share) < 0.08
        score = z[cohort.subtype_sets[s]].mean(axis=1)
        assert roc_auc_score(subtype == s, score) > 0.95, s
    # the ClaNC labels agree with the planted subtypes too
    clanc = parsed["clanc"]
    for s in simulate.SUBTYPES:
        score = clanc.expression[clanc.gene_sets[s]].mean(axis=1)
        assert roc_auc_score(clanc.subtypes == s, score) > 0.95, s


def test_trait_categories_and_balance(cohort, parsed):
    vasari = parsed["vasari"]
    n_missing = 0
    for code, spec in simulate.TRAITS.items():
        values = vasari[spec["column"]]
        allowed = set(spec["categories"]) | {"n/a", "indeterminate"}
        assert set(values.dropna()) <= allowed, code
        assert set(spec["categories"]) <= set(values.dropna()), code
        y = binarised(cohort, parsed, code)
        assert 0.3 <= y.mean() <= 0.7, (code, y.mean())
        n_missing += int((~values.isin(spec["categories"])).sum())
    share = n_missing / (len(vasari) * len(simulate.TRAITS))
    assert 0.02 < share < 0.1
    assert set(vasari["f9.multifocal.or.multicentric"].dropna()) - {"n/a", "indeterminate"} == {
        "Focal", "Multifocal or Multicentric"}
    assert set(simulate.TRAITS["f5"]["categories"]) == {"Minimal", "Less than 1/3", "Between 1/3 and 2/3",
                                                        "More than 2/3"}


def test_censoring_and_median_survival(cohort, parsed):
    clinical = parsed["clinical"]
    alive = (clinical["vital_status"] == "Alive").mean()
    assert 0.15 <= alive <= 0.4
    assert cohort.truth["survival"]["censored_fraction"] == pytest.approx(alive)


def test_driver_programs_predict_traits(cohort, parsed):
    expression = parsed["expression"]
    for code, spec in simulate.TRAITS.items():
        y = binarised(cohort, parsed, code)
        means = np.column_stack([expression.loc[y.index, cohort.programs[d]].mean(axis=1) for d in spec["drivers"]])
        if spec["rule"] == "linear":
            assert cv_auc(means, y) > 0.7, code
            # an unrelated program does not predict it
            unrelated = "PROGRAM_P53"
            unrelated_mean = expression.loc[y.index, cohort.programs[unrelated]].mean(axis=1).to_numpy()
            assert cv_auc(unrelated_mean[:, None], y) < 0.65
        else:
            linear = cv_auc(means, y)
            z = (means - means.mean(axis=0)) / means.std(axis=0)
            interaction = cv_auc(np.column_stack([z, z[:, 0] * z[:, 1]]), y)
            assert linear < 0.65, linear
            assert interaction > 0.7, interaction
            assert interaction > linear + 0.1


def test_study_size_runs(tmp_path):
    params = SimulationParams(n_patients=528, n_genes=12042, n_imaged=191, n_subtyped=173, seed=7)
    start = time.perf_counter()
    cohort = simulate.simulate_cohort(params)
    paths = write_cohort(cohort, tmp_path)
    elapsed = time.perf_counter() - start
    assert elapsed < 30, elapsed
    expression, _ = inputs.read_expression_matrix(paths["expression"])
    assert expression.shape == (528, 12042)
    assert len(inputs.read_vasari(paths["vasari"])) == 191
    assert len(inputs.read_clanc(paths["clanc"]).subtypes) == 173


# ------------------------------------------------------------ optional: radiomic / histology targets, test cohort

OPTIONAL_PARAMS = dict(n_patients=400, n_imaged=300, n_radiomic=24, histology=True, n_test_patients=120)
OPTIONAL_FILES = {"plain_targets": "radiomics.tsv", "test_expression": "test_expression.tsv",
                  "test_plain_targets": "test_radiomics.tsv", "survival_table": "survival.tsv"}


def write_optional(cohort: simulate.SimulatedCohort, folder: Path) -> dict[str, Path]:
    paths = {k: folder / v for k, v in FILE_NAMES.items()}
    sets = {k: folder / v for k, v in SET_FILES.items()}
    extra = {k: folder / v for k, v in OPTIONAL_FILES.items()}
    cohort.write(gene_sets=sets, **paths, **extra)
    return {**paths, **sets, **extra}


@pytest.fixture(scope="module")
def optional_cohort() -> simulate.SimulatedCohort:
    return simulate.simulate_cohort(SimulationParams(**OPTIONAL_PARAMS))


@pytest.fixture(scope="module")
def optional_written(optional_cohort, tmp_path_factory) -> dict[str, Path]:
    return write_optional(optional_cohort, tmp_path_factory.mktemp("sim_optional"))


@pytest.fixture(scope="module")
def optional_parsed(optional_written):
    """The optional files read by the generic parsers (plain IDs: TCGA patient barcodes)."""
    return {"expression": inputs.read_matrix(optional_written["expression"], orientation="genes_x_samples",
                                              id_rule="tcga"),
            "targets": inputs.read_target_table(optional_written["plain_targets"]),
            "test_expression": inputs.read_matrix(optional_written["test_expression"],
                                                   orientation="genes_x_samples", id_rule="tcga"),
            "test_targets": inputs.read_target_table(optional_written["test_plain_targets"])}


def program_means(expression: pd.DataFrame, cohort, programs) -> np.ndarray:
    return np.column_stack([expression[cohort.programs[p]].mean(axis=1).to_numpy() for p in programs])


def r_squared(x: np.ndarray, y: np.ndarray) -> float:
    design = np.column_stack([x, np.ones(len(y))])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ beta
    return float(1.0 - resid @ resid / ((y - y.mean()) @ (y - y.mean())))


def test_default_params_add_no_optional_output(cohort):
    assert set(cohort.params.to_dict()) == {f for f in SimulationParams.__dataclass_fields__} - {
        "n_radiomic", "radiomic_noise_fraction", "radiomic_r2_min", "radiomic_r2_max", "radiomic_missing_fraction",
        "histology", "n_test_patients"}
    for key in ("radiomic", "multiclass_targets", "plain_targets", "test_patients", "test_program_activity"):
        assert key not in cohort.truth
    assert cohort.plain_targets is None and cohort.test_expression is None and cohort.test_plain_targets is None


def test_optional_parts_leave_the_existing_files_unchanged(written, optional_written, tmp_path):
    """The optional parts use their own generators: switching them on changes no existing file but truth.json."""
    base = write_cohort(simulate.simulate_cohort(SimulationParams(n_patients=400, n_imaged=300)), tmp_path / "base")
    for key, path in base.items():
        if key != "truth":
            assert path.read_bytes() == optional_written[key].read_bytes(), f"{path.name} changed"
    truth = json.loads(optional_written["truth"].read_text())
    base_truth = json.loads(base["truth"].read_text())
    assert {k: v for k, v in truth.items() if k in base_truth and k != "params"} == \
        {k: v for k, v in base_truth.items() if k != "params"}
    assert truth["params"]["n_radiomic"] == 24 and "n_radiomic" not in base_truth["params"]
    assert SimulationParams(**truth["params"]) == SimulationParams(**OPTIONAL_PARAMS)
    assert truth["optional_files"] == OPTIONAL_FILES


def test_optional_files_are_deterministic(optional_written, tmp_path):
    again = write_optional(simulate.simulate_cohort(SimulationParams(**OPTIONAL_PARAMS)), tmp_path / "again")
    other = write_optional(simulate.simulate_cohort(SimulationParams(**OPTIONAL_PARAMS, seed=3)), tmp_path / "other")
    for key in OPTIONAL_FILES:
        assert optional_written[key].read_bytes() == again[key].read_bytes(), key
        assert optional_written[key].read_bytes() != other[key].read_bytes(), key


def test_optional_params_and_write_requests_are_checked(cohort, tmp_path):
    for bad, match in [({"n_radiomic": -1}, "n_radiomic"), ({"radiomic_r2_min": 0.9, "radiomic_r2_max": 0.5}, "r2"),
                       ({"radiomic_noise_fraction": 1.5}, "noise_fraction"), ({"n_test_patients": -3}, "n_test"),
                       ({"radiomic_missing_fraction": 0.7}, "missing_fraction")]:
        with pytest.raises(ValueError, match=match):
            SimulationParams(**bad)
    paths = {k: tmp_path / v for k, v in FILE_NAMES.items()}
    with pytest.raises(ValueError, match="n_radiomic > 0 or histology"):
        cohort.write(gene_sets={}, plain_targets=tmp_path / "r.tsv", **paths)
    with pytest.raises(ValueError, match="n_test_patients > 0"):
        cohort.write(gene_sets={}, test_expression=tmp_path / "t.tsv", **paths)
    assert not (tmp_path / "expression.tsv").exists(), "nothing is written when a request is refused"


def test_plain_target_table_layout(optional_cohort, optional_written, optional_parsed):
    targets_ = optional_parsed["targets"]
    truth = optional_cohort.truth
    header = optional_written["plain_targets"].read_text().splitlines()[0].split("\t")
    assert header == ["patient", *simulate.radiomic_feature_names(24), "histology"]
    assert sorted(targets_.index) == truth["patients"]["imaged"] == truth["plain_targets"]["patients"]
    assert list(targets_.index) != sorted(targets_.index), "rows are shuffled (joins must go by patient ID)"
    assert set(targets_["histology"].dropna()) == set(simulate.HISTOLOGY_CLASSES)
    missing = targets_.isna().to_numpy().mean()
    assert 0.002 < missing < 0.03
    radiomic = targets_.drop(columns="histology").astype(float)
    pd.testing.assert_frame_equal(radiomic, optional_cohort.plain_targets.drop(columns="histology").astype(float),
                                  check_exact=False, rtol=1e-5)
    scales = radiomic.std()
    assert scales.max() / scales.min() > 100, "features live on very different scales"
    assert truth["multiclass_targets"] == {"histology": {"Adenocarcinoma": "PROGRAM_EMT",
                                                         "Squamous cell carcinoma": "PROGRAM_PROLIFERATION",
                                                         "NOS": None}}


def test_radiomic_features_follow_their_programs(optional_cohort, optional_parsed):
    truth = optional_cohort.truth["radiomic"]
    assert list(truth) == simulate.radiomic_feature_names(24)
    noise = [f for f, m in truth.items() if m.get("noise")]
    driven = [f for f in truth if f not in noise]
    assert len(noise) == round(0.3 * 24) and all(truth[f]["drivers"] == [] for f in noise)
    targets_ = optional_parsed["targets"]
    expression = optional_parsed["expression"]
    for feature in driven:
        spec = truth[feature]
        assert 0.5 <= spec["r2_ceiling"] <= 0.85 and 1 <= len(spec["drivers"]) <= 2
        y = targets_[feature].astype(float).dropna()
        x = program_means(expression.loc[y.index], optional_cohort, spec["drivers"])
        r2 = r_squared(x, y.to_numpy())
        assert r2 > 0.3, (feature, r2)
        assert r2 < spec["r2_ceiling"] + 0.1, (feature, r2, spec["r2_ceiling"])
    for feature in noise:
        y = targets_[feature].astype(float).dropna()
        worst = max(r_squared(program_means(expression.loc[y.index], optional_cohort, [p]), y.to_numpy())
                    for p in optional_cohort.programs)
        assert worst < 0.05, (feature, worst)


def test_histology_classes_are_separable_by_their_drivers(optional_cohort, optional_parsed):
    y = optional_parsed["targets"]["histology"].dropna()
    expression = optional_parsed["expression"].loc[y.index]
    counts = y.value_counts(normalize=True)
    assert all(0.25 < counts[c] < 0.42 for c in simulate.HISTOLOGY_CLASSES), counts.to_dict()
    drivers = [d for d in simulate.HISTOLOGY_CLASSES.values() if d is not None]
    x = program_means(expression, optional_cohort, drivers)
    for j, (cls, driver) in enumerate((c, d) for c, d in simulate.HISTOLOGY_CLASSES.items() if d is not None):
        assert roc_auc_score(y == cls, x[:, j]) > 0.8, cls
    nos = (y == "NOS").to_numpy()
    assert (x[nos].mean(axis=0) < x[~nos].mean(axis=0)).all(), "NOS is raised by neither driver"

    def cv_accuracy(features: np.ndarray) -> float:
        z = (features - features.mean(axis=0)) / features.std(axis=0)
        folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
        pred = cross_val_predict(LogisticRegression(max_iter=1000), z, y.to_numpy(), cv=folds)
        return float((pred == y.to_numpy()).mean())

    accuracy = cv_accuracy(x)
    unrelated = cv_accuracy(program_means(expression, optional_cohort, ["PROGRAM_P53", "PROGRAM_NEURONAL"]))
    assert accuracy > 0.6, accuracy
    assert unrelated < 0.45, unrelated


def test_test_cohort_is_disjoint_and_follows_the_same_model(optional_cohort, optional_parsed, optional_written):
    truth = optional_cohort.truth
    test_patients = truth["test_patients"]
    assert len(test_patients) == 120 and test_patients == sorted(set(test_patients))
    train_ids = set(optional_parsed["expression"].index) | set(optional_cohort.clinical.index)
    assert train_ids.isdisjoint(test_patients)
    test_expression = optional_parsed["test_expression"]
    assert list(test_expression.index) == test_patients
    assert list(test_expression.columns) == optional_cohort.genes
    np.testing.assert_allclose(test_expression.to_numpy(), optional_cohort.test_expression.to_numpy(), atol=1e-9)
    xena, samples = inputs.read_expression_matrix(optional_written["test_expression"])
    assert samples["kept"].all() and samples["barcode"].str.endswith("-01A").all()
    test_targets = optional_parsed["test_targets"]
    assert sorted(test_targets.index) == test_patients
    assert list(test_targets.columns) == list(optional_parsed["targets"].columns)
    assert list(truth["test_program_activity"]["patients"]) == test_patients
    assert set(truth["test_patient_subtypes"]) == set(test_patients)
    # a fit on the training cohort carries over to the held-out one
    feature = next(f for f, m in truth["radiomic"].items() if not m.get("noise"))
    drivers = truth["radiomic"][feature]["drivers"]
    y_train = optional_parsed["targets"][feature].astype(float).dropna()
    y_test = test_targets[feature].astype(float).dropna()
    train_means = program_means(optional_parsed["expression"].loc[y_train.index], optional_cohort, drivers)
    x_train = np.column_stack([train_means, np.ones(len(y_train))])
    beta, *_ = np.linalg.lstsq(x_train, y_train.to_numpy(), rcond=None)
    x_test = np.column_stack([program_means(test_expression.loc[y_test.index], optional_cohort, drivers),
                              np.ones(len(y_test))])
    resid = y_test.to_numpy() - x_test @ beta
    assert 1.0 - resid @ resid / ((y_test - y_test.mean()) ** 2).sum() > 0.2


def test_plain_survival_table_matches_the_clinical_endpoint(optional_cohort, optional_written):
    endpoint, problems = inputs.read_survival_table(optional_written["survival_table"])
    assert problems.empty
    truth = optional_cohort.patients[optional_cohort.patients["has_expression"]]
    assert sorted(endpoint.index) == sorted(truth.index)
    np.testing.assert_array_equal(endpoint.loc[truth.index, "time"].to_numpy(), truth["os_days"].to_numpy())
    np.testing.assert_array_equal(endpoint.loc[truth.index, "event"].to_numpy(), truth["dead"].astype(int).to_numpy())
