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

from radiogenomics import parsers, simulate
from radiogenomics.simulate import SimulationParams

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
    expression, samples = parsers.read_expression_matrix(written["expression"])
    return {"expression": expression, "samples": samples, "vasari": parsers.read_vasari(written["vasari"]),
            "clinical": parsers.read_clinical_biotab(written["clinical"]), "clanc": parsers.read_clanc(written["clanc"])}


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
    death = parsers.numeric_column(clinical, "death_days_to", written["clinical"])
    contact = parsers.numeric_column(clinical, "last_contact_days_to", written["clinical"])
    assert death[dead].notna().all() and death[~dead].isna().all()
    assert contact[~dead].notna().all()
    assert (contact[dead].dropna() <= death[dead][contact[dead].notna()]).all()
    assert contact[dead].isna().any()  # some [Not Available] last contacts, as in the real table
    time_ = death.where(dead, contact)
    np.testing.assert_array_equal(time_.to_numpy(), cohort.patients.loc[clinical.index, "os_days"].to_numpy())
    assert parsers.numeric_column(clinical, "karnofsky_score", written["clinical"]).isna().any()
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
    gmt = parsers.read_gene_sets(written["hallmark_like"])
    programs = cohort.truth["programs"]
    assert list(gmt)[: len(programs)] == list(programs)
    for name, genes in programs.items():
        assert sorted(gmt[name]) == sorted(genes)
    randoms = [k for k in gmt if k.startswith("RANDOM_SET_")]
    assert len(randoms) == 8 and all(20 <= len(gmt[k]) <= 80 for k in randoms)
    table = parsers.read_gene_sets(written["celltypes"])
    assert table == cohort.table_sets and len(table) == 10
    truth = cohort.truth["gene_set_collections"]["table"]
    for name, info in truth.items():
        if info["program"] is not None:
            overlap = len(set(table[name]) & set(programs[info["program"]]))
            assert overlap == info["n_program_genes"] and 0.3 < overlap / len(programs[info["program"]]) < 0.7
    kept, report = parsers.filter_gene_sets(gmt, cohort.genes, min_size=10)
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
            assert cv_auc(expression.loc[y.index, cohort.programs[unrelated]].mean(axis=1).to_numpy()[:, None], y) < 0.65
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
    expression, _ = parsers.read_expression_matrix(paths["expression"])
    assert expression.shape == (528, 12042)
    assert len(parsers.read_vasari(paths["vasari"])) == 191
    assert len(parsers.read_clanc(paths["clanc"]).subtypes) == 173
