"""config/tcga_gbm_radiomics.yaml: the real TCGA-GBM radiomic feature table (Bakas et al. 2017) through the workflow.

The imaging-feature parser (synthetic tables, and the real table: shape, IDs, dropped columns), the fixed-cut-off
binarisation of a numeric column, the joins by patient ID (52 patients with features and expression, 91 with
features and a usable overall-survival record), the null-label calibration, and a small end-to-end run on the
real tables. Tests reading ../shared/data/tcga-gbm skip without it.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, snakemake

from radiogenomics import inputs, survival
from radiogenomics.cohorts import splits, targets
from radiogenomics.errors import InputError
from radiogenomics.evaluation import null_calibration
from radiogenomics.plots import figures

CONFIG = REPO / "config" / "tcga_gbm_radiomics.yaml"
FEATURES = "TCGA_GBM_radiomicFeatures.csv"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
SHARES = ["VOLUME_ET_over_TC", "VOLUME_NET_over_TC", "VOLUME_ED_OVER_WT"]
BINARY = {"ET_share_over_2_3": (35, 17), "NET_share_over_1_3": (17, 35), "ED_share_over_2_3": (21, 31)}


def _config() -> dict:
    return yaml.safe_load(CONFIG.read_text())


def _specs(cfg: dict) -> list[targets.TargetSpec]:
    t = cfg["targets"]
    return targets.resolve_specs(t["presets"], t["definitions"], t["continuous_columns"])


def _features(real_data_dir: Path, **kwargs):
    f = _config()["inputs"]["features"]
    return inputs.read_feature_table(real_data_dir / FEATURES, id_rule="tcga", ignore_columns=f["ignore_columns"],
                                      max_missing=f["max_missing"], **kwargs)


# --------------------------------------------------------------------------- the feature-table parser (synthetic)

def _write(tmp_path: Path, text: str, name: str = "features.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_feature_table_reads_numbers_skips_ignored_and_drops_sparse_columns(tmp_path, caplog):
    path = _write(tmp_path, "ID,Date,A,B,SPARSE,CONST\n"
                            "TCGA-02-0001,2001.01.01,1.5,10,,3\n"
                            "TCGA-02-0002,2001.01.02,2.5,,,3\n"
                            "TCGA-02-0003,2001.01.03,NA,30,7,3\n")
    with caplog.at_level(logging.INFO, logger="radiogenomics"):
        table, dropped = inputs.read_feature_table(path, id_rule="tcga", ignore_columns=["Date"], max_missing=0.5,
                                                    return_dropped=True)
    assert list(table.columns) == ["A", "B"] and list(table.index) == ["TCGA-02-0001", "TCGA-02-0002",
                                                                       "TCGA-02-0003"]
    assert table.dtypes.eq(np.float64).all() and table.index.name == "patient"
    assert table.loc["TCGA-02-0001", "A"] == 1.5 and np.isnan(table.loc["TCGA-02-0003", "A"])
    assert set(dropped) == {"Date", "SPARSE", "CONST"}
    assert "2 of 3 patients" in dropped["SPARSE"] and "constant" in dropped["CONST"]
    line = next(r.getMessage() for r in caplog.records if "missing for more than" in r.getMessage())
    assert "SPARSE (2 missing)" in line and "0.5" in line  # the column, its count and the threshold


def test_feature_table_a_text_cell_names_row_patient_and_column(tmp_path):
    path = _write(tmp_path, "ID,Date,A\nTCGA-02-0001,2001.01.01,1\nTCGA-02-0002,2001.01.02,high\n")
    with pytest.raises(InputError) as err:
        inputs.read_feature_table(path, id_rule="tcga", ignore_columns=["Date"])
    msg = str(err.value)
    assert "features.csv" in msg and "row 3 (patient TCGA-02-0002)" in msg and "column 'A'" in msg and "'high'" in msg
    # a date column not declared as such is reported with the hint to ignore it
    with pytest.raises(InputError, match=r"column 'Date'.*ignore_columns"):
        inputs.read_feature_table(path, id_rule="tcga")


def test_feature_table_checks_ignored_columns_ids_and_what_is_left(tmp_path):
    path = _write(tmp_path, "ID,Date,A\nTCGA-02-0001,2001.01.01,1\nTCGA-02-0002,2001.01.02,2\n")
    with pytest.raises(InputError, match=r"\['date'\] listed as not features"):
        inputs.read_feature_table(path, id_rule="tcga", ignore_columns=["date"])
    dup = _write(tmp_path, "ID,A\nTCGA-02-0001,1\nTCGA-02-0001-01A,2\n", "dup.csv")
    with pytest.raises(InputError, match="duplicated patient 'TCGA-02-0001'"):
        inputs.read_feature_table(dup, id_rule="tcga")
    empty = _write(tmp_path, "ID,A\nTCGA-02-0001,\nTCGA-02-0002,\n", "empty.csv")
    with pytest.raises(InputError, match="no feature column left"):
        inputs.read_feature_table(empty, id_rule="tcga")
    inf = _write(tmp_path, "ID,A\nTCGA-02-0001,inf\nTCGA-02-0002,1\n", "inf.csv")
    with pytest.raises(InputError, match="not a finite number"):
        inputs.read_feature_table(inf, id_rule="tcga")
    with pytest.raises(ValueError, match="unknown target table format"):
        inputs.read_targets_input(path, fmt="excel")


# --------------------------------------------------------------------------- binarisation at a fixed cut-off

def _threshold_spec(**changes) -> targets.TargetSpec:
    d = {"name": "share_high", "type": "binary", "source": "targets", "column": "share",
         "threshold": {"value": 2 / 3, "below": "<2/3", "above": ">=2/3"}, "positive": ">=2/3", **changes}
    return targets.spec_from_dict(d)


def test_threshold_binarises_at_the_cut_off_on_numbers_and_text():
    spec = _threshold_spec()
    assert spec.class_names == ["<2/3", ">=2/3"]
    assert targets.spec_from_dict(spec.to_dict()).to_dict() == spec.to_dict()  # round trip (the rules pass dicts)
    values = [0.1, 2 / 3, 0.9, np.nan, 0.66, 0.7]
    numeric = pd.DataFrame({"share": values}, index=[f"P{i}" for i in range(6)])
    text = numeric.astype(object).where(numeric.notna(), np.nan)
    text["share"] = [None if np.isnan(v) else repr(v) for v in values]
    for table in (numeric, text):
        col = targets.encode_target(spec, table, min_class_size=1)
        assert col.values.to_dict() == {"P0": 0, "P1": 1, "P2": 1, "P4": 0, "P5": 1}  # >= cut-off -> positive
        assert col.meta["classes"] == ["<2/3", ">=2/3"] and col.meta["threshold"]["value"] == 2 / 3
        assert col.dropped == {"missing (NA/empty)": 1}


def test_threshold_rejects_text_and_bad_definitions():
    table = pd.DataFrame({"share": ["0.2", "big", "0.9"]}, index=["P0", "P1", "P2"])
    with pytest.raises(InputError, match=r"row P1.*'big' is not a number"):
        targets.encode_target(_threshold_spec(), table, min_class_size=1)
    with pytest.raises(ValueError, match="type must be binary"):
        _threshold_spec(type="continuous", positive=None)
    with pytest.raises(ValueError, match="either classes or threshold"):
        _threshold_spec(classes={"a": ["x"], "b": ["y"]})
    with pytest.raises(ValueError, match="exactly the keys"):
        _threshold_spec(threshold={"value": 0.5, "below": "lo"})
    with pytest.raises(ValueError, match="finite number"):
        _threshold_spec(threshold={"value": "half", "below": "lo", "above": "hi"})
    with pytest.raises(ValueError, match="positive class"):
        _threshold_spec(positive="high")


def test_numeric_feature_columns_are_not_rounded_through_text():
    rng = np.random.default_rng(3)
    values = rng.normal(size=500)
    spec = targets.TargetSpec(name="x", type="continuous", source="targets", column="x")
    col = targets.encode_target(spec, pd.DataFrame({"x": values}, index=[f"P{i}" for i in range(500)]))
    assert np.array_equal(col.values.to_numpy(), values)


# --------------------------------------------------------------------------- null-label calibration

def test_permutation_within_folds_keeps_each_fold_and_is_seeded():
    y = pd.Series(np.arange(30, dtype=float), index=[f"P{i:02d}" for i in range(30)], name="t")
    folds = splits.make_folds(y, "continuous", 5, seed=1)
    a = null_calibration.permute_within_folds(y, folds, seed=11)
    b = null_calibration.permute_within_folds(y, folds, seed=11)
    c = null_calibration.permute_within_folds(y, folds, seed=12)
    assert a.equals(b) and not a.equals(c) and not a.equals(y.sort_index())
    fold_of = folds.set_index("patient")["fold"]
    for k in range(5):
        members = fold_of.index[fold_of == k]
        assert sorted(a[members]) == sorted(y[members])  # each fold keeps its own values
    seeds = {null_calibration.permutation_seed(1, t, p) for t in ("a", "b") for p in range(3)}
    assert len(seeds) == 6


def test_null_scores_rerun_the_nested_cv_on_permuted_labels():
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(40, 30)), index=[f"P{i:02d}" for i in range(40)],
                     columns=[f"G{j}" for j in range(30)])
    y = pd.Series((x["G0"] + 0.3 * rng.normal(size=40) > 0).astype(int), name="t")
    folds = splits.make_folds(y, "binary", 4, seed=1)
    settings = {"inner_folds": 2, "baselines": {"classifier": {"logreg_l2": {"C": [0.1, 1.0]}}}}
    kwargs = dict(settings=settings, seed=1, n_perm=3, target="t")
    null = null_calibration.null_scores("logreg_l2", x, y, folds, "binary", ["neg", "pos"], **kwargs)
    assert list(null.columns) == null_calibration.NULL_COLUMNS and len(null) == 3 * 4
    assert null.equals(null_calibration.null_scores("logreg_l2", x, y, folds, "binary", ["neg", "pos"], **kwargs))
    per_perm = null.groupby("permutation")["value"].mean()
    assert per_perm.between(0.1, 0.9).all()  # a shuffled target: no longer the planted AUC near 1
    summary = pd.DataFrame([{"target": "t", "model": "logreg_l2", "metric": "auc", "mean_score": 0.95,
                             "ci_low": 0.9, "ci_high": 1.0}])
    table = null_calibration.calibrate(summary, null)
    row = table.iloc[0]
    assert row["n_perm"] == 3 and row["null_mean"] == pytest.approx(per_perm.mean())
    assert row["p_perm"] == pytest.approx(1 / 4) and row["interval_above_null_mean"]
    assert row["verdict"] == null_calibration.NOT_SHOWN  # 3 permutations cannot give p <= 0.05


def test_calibration_never_calls_a_score_whose_interval_includes_the_null():
    rows = []
    for p in range(39):
        rows += [{"target": t, "model": "m", "permutation": p, "fold": 0, "n": 10, "metric": "auc",
                  "value": 0.45 + 0.1 * p / 38} for t in ("clear", "overlap", "mean_only")]
    null = pd.DataFrame(rows)
    summary = pd.DataFrame([
        {"target": "clear", "model": "m", "metric": "auc", "mean_score": 0.8, "ci_low": 0.7, "ci_high": 0.9},
        {"target": "overlap", "model": "m", "metric": "auc", "mean_score": 0.8, "ci_low": 0.45, "ci_high": 0.95},
        # above every null score but the interval still reaches below the null mean
        {"target": "mean_only", "model": "m", "metric": "auc", "mean_score": 0.6, "ci_low": 0.49, "ci_high": 0.7}])
    table = null_calibration.calibrate(summary, null).set_index("target")
    assert table.loc["clear", "verdict"] == null_calibration.ABOVE and table.loc["clear", "p_perm"] == 1 / 40
    assert table.loc["overlap", "verdict"] == null_calibration.NOT_SHOWN
    assert table.loc["mean_only", "verdict"] == null_calibration.NOT_SHOWN
    assert table.loc["mean_only", "p_perm"] == 1 / 40 and not table.loc["mean_only", "interval_above_null_mean"]
    assert table["null_mean"].eq(0.5).all() and table["null_low"].lt(table["null_high"]).all()


def test_calibration_figure_draws_a_mean_outside_its_interval(tmp_path):
    """The fold-averaged bootstrap interval need not contain the mean of the fold scores (real run: R² mean below
    its interval); the figure draws it anyway, one panel per metric."""
    table = pd.DataFrame([
        {"target": "a", "model": "network", "metric": "r2", "mean_score": -0.30, "ci_low": -0.25, "ci_high": 0.05,
         "n_perm": 20, "null_mean": -0.2, "null_sd": 0.1, "null_low": -0.4, "null_high": 0.0, "p_perm": 0.6,
         "interval_above_null_mean": False, "verdict": null_calibration.NOT_SHOWN},
        {"target": "b", "model": "svm", "metric": "auc", "mean_score": 0.8, "ci_low": 0.7, "ci_high": 0.9,
         "n_perm": 20, "null_mean": 0.5, "null_sd": 0.1, "null_low": 0.3, "null_high": 0.7, "p_perm": 0.048,
         "interval_above_null_mean": True, "verdict": null_calibration.ABOVE}])
    fig = figures.calibration_figure(table)
    assert len(fig.axes) == 2
    figures.draw(figures.calibration_figure, tmp_path / "null.png", table)
    assert (tmp_path / "null.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- the real tables

@pytest.mark.realdata
def test_real_feature_table_shape_ids_and_dropped_columns(real_data_dir, caplog):
    with caplog.at_level(logging.INFO, logger="radiogenomics"):
        table, dropped = _features(real_data_dir, return_dropped=True)
    raw = pd.read_csv(real_data_dir / FEATURES)
    assert raw.shape == (102, 726)
    assert table.shape == (102, 704)
    assert all(re.fullmatch(r"TCGA-[A-Z0-9]{2}-[A-Z0-9]{4}", p) for p in table.index)
    assert list(table.index) == raw["ID"].tolist()  # file order, one row per patient
    assert "Date" not in table.columns and dropped["Date"] == "not a feature (ignore_columns)"
    tgm = [c for c in raw.columns if c.startswith("TGM_")]
    sparse = [c for c in tgm if raw[c].isna().mean() > 0.5]
    assert len(tgm) == 26 and len(sparse) == 20
    assert set(dropped) == {"Date", *sparse}  # only the mostly-empty TGM_* columns are dropped
    assert set(tgm) - set(sparse) <= set(table.columns)
    line = next(r.getMessage() for r in caplog.records if "missing for more than" in r.getMessage())
    assert "dropped 20 feature column(s) missing for more than 0.5 of the 102 patients" in line
    assert all(c in line for c in sparse)
    assert table.notna().all().all()
    for column in SHARES + ["VOLUME_WT"]:
        assert np.array_equal(table[column].to_numpy(), raw[column].to_numpy())  # exact values


@pytest.mark.realdata
def test_real_joins_by_patient_52_with_expression_91_with_survival(real_data_dir, tmp_path):
    expression, _ = inputs.read_expression_input(real_data_dir / "TCGA_unified_CORE_ClaNC840.txt", fmt="clanc")
    features = _features(real_data_dir)
    clinical = inputs.read_clinical_biotab(real_data_dir / "nationwidechildrens.org_clinical_patient_gbm.txt")
    endpoint, _ = survival.overall_survival(clinical)
    assert len(features.index.intersection(expression.index)) == 52
    assert len(features.index.intersection(endpoint.index)) == 91
    specs = _specs(_config())
    table, meta, _ = targets.build_targets(specs, {"targets": features}, patients=expression.index, min_class_size=5)
    assert sorted(table.columns) == sorted(SHARES + ["VOLUME_WT", *BINARY])
    assert table.notna().sum().eq(52).all()
    for name, (above, below) in BINARY.items():
        assert meta[name]["counts"] == {meta[name]["classes"][1]: above, meta[name]["classes"][0]: below}
    every = targets.encode_all_patients(specs, {"targets": features})
    assert len(every) == 102 and every.notna().all().all()
    assert len(every.index.intersection(endpoint.index)) == 91  # survival by trait: every imaged patient
    # NET share = 1 - ET share in this table (TC = ET + NET): the two binary traits are one split, classes swapped
    assert (every["ET_share_over_2_3"] + every["NET_share_over_1_3"]).eq(1).all()
    # joined by patient ID, not by row position: a shuffled copy of the table gives the same targets
    raw = pd.read_csv(real_data_dir / FEATURES)
    shuffled = tmp_path / FEATURES
    raw.sample(frac=1.0, random_state=5).to_csv(shuffled, index=False)
    again = inputs.read_feature_table(shuffled, id_rule="tcga", ignore_columns=["Date"])
    assert list(again.index) != list(features.index)
    table2, _, _ = targets.build_targets(specs, {"targets": again}, patients=expression.index, min_class_size=5)
    pd.testing.assert_frame_equal(table, table2)


def _local_config(real_data_dir: Path, work: Path, **changes) -> Path:
    """The shipped config with the real-table paths resolved (a test runs in its own directory)."""
    cfg = _config()
    for key, value in cfg["inputs"].items():
        if isinstance(value, str) and not key.endswith("_format") and key != "id_rule":
            cfg["inputs"][key] = str(real_data_dir / Path(value).name)
    cfg["inputs"]["gene_sets"] = {k: str(real_data_dir / Path(v).name) for k, v in cfg["inputs"]["gene_sets"].items()}
    cfg["results"] = "results"
    for section, values in changes.items():
        if isinstance(values, dict) and isinstance(cfg.get(section), dict):
            cfg[section].update(values)
        else:
            cfg[section] = values
    path = work / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


@pytest.mark.workflow
@pytest.mark.realdata
def test_config_plans_the_whole_study(real_data_dir, tmp_path):
    """The shipped config: every stage planned (networks, comparison models, null calibration, interpretation,
    survival, predicted traits, paper figures) for the 7 targets."""
    cfg = _local_config(real_data_dir, tmp_path)
    res = snakemake("--directory", str(tmp_path), "--configfile", str(cfg), "--dry-run", "--quiet", "rules",
                    timeout=600)
    assert res.returncode == 0, res.stderr[-4000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", res.stdout + res.stderr, flags=re.M))
    assert int(counts["evaluate_network_folds"]) == 7 and int(counts["evaluate_baseline_folds"]) == 35
    assert int(counts["null_calibration_network"]) == 7 and int(counts["null_calibration_baseline"]) == 35
    assert int(counts["train_autoencoder"]) == 1 and "train_fold_autoencoder" not in counts
    assert int(counts["km_figure"]) == 3 and int(counts["predict_traits"]) == 1
    for rule in ("null_summary", "survival_cox", "survival_stepwise", "survival_figures", "gene_saliency"):
        assert rule in counts, rule


@pytest.mark.workflow
@pytest.mark.realdata
def test_every_feature_as_a_target(real_data_dir, tmp_path):
    """`continuous_columns: all`: every kept feature (704) becomes a target, encoded on the 52 patients."""
    cfg = _local_config(real_data_dir, tmp_path, targets={"continuous_columns": "all"})
    res = snakemake("--directory", str(tmp_path), "--configfile", str(cfg), "--cores", "1",
                    "results/cohorts/targets.json", timeout=600)
    assert res.returncode == 0, res.stderr[-4000:]
    meta = yaml.safe_load((tmp_path / "results" / "cohorts" / "targets.json").read_text())
    assert len(meta) == 704 + 3
    assert {m["type"] for m in meta.values()} == {"continuous", "binary"}
    assert all(m["n"] == 52 for m in meta.values())
    log = (tmp_path / "results" / "logs" / "ingest_targets.log").read_text()
    assert "dropped 20 feature column(s) missing for more than 0.5 of the 102 patients" in log


# --------------------------------------------------------------------------- a small end-to-end run

SMALL = {
    "targets": {"presets": [], "continuous_columns": ["VOLUME_ET_over_TC"],
                "definitions": [d for d in _config()["targets"]["definitions"] if d["name"] == "ED_share_over_2_3"]},
    "cv": {"folds": 3},
    "autoencoder": {"enabled": True, "max_epochs": 10, "patience": 3},
    "evaluation": {"models": ["network", "logreg_l2"], "inner_folds": 2, "n_bootstrap": 20, "null_permutations": 2,
                   "network_grid": {"hidden": [[32, 16, 8]], "dropout": [0.3], "lr": [0.002], "max_epochs": [15],
                                    "patience": [5], "transfer": [True]},
                   "baseline_grids": {"classifier": {"logreg_l2": {"C": [0.1]}},
                                      "regressor": {"logreg_l2": {"alpha": [1000.0]}}}},
    "masking": {"n_random": 20},
    "enrichment": {"n_perm": 100, "max_perm": 100},
    "paper": {"n_resamples": 200},
}


@pytest.fixture(scope="module")
def small_run(real_data_dir, tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("radiomics_small")
    cfg = _local_config(real_data_dir, work, **SMALL)
    res = snakemake("--directory", str(work), "--configfile", str(cfg), "--cores", "2", timeout=1500)
    if res.returncode != 0:
        logs = "\n".join(f"== {p}\n{p.read_text()[-2000:]}" for p in (work / "results" / "logs").rglob("*.log"))
        pytest.fail(f"workflow failed:\n{res.stderr[-5000:]}\n{logs[-6000:]}")
    return work


@pytest.mark.workflow
@pytest.mark.realdata
def test_small_run_on_the_real_tables(small_run: Path):
    r = small_run / "results"
    groups = yaml.safe_load((r / "cohorts" / "cohorts.json").read_text())
    assert len(groups["expression"]) == 173 and len(groups["imaged"]) == 52
    assert all(len(v) == 52 for v in groups["targets"].values())
    # the shared autoencoder: the 121 ClaNC patients without features, none of the 102 imaged patients
    features = pd.read_parquet(r / "ingest" / "targets.parquet")
    assert len(features) == 102 and features.shape[1] == 704
    for name in ("VOLUME_ET_over_TC", "ED_share_over_2_3"):
        encoder = groups["encoder_patients"][name]
        assert len(encoder) == 121 and not set(encoder) & set(features.index)
    # outer folds written before fitting, every model scored with an interval, the null beside it
    assert sorted(p.name for p in (r / "splits").glob("*.tsv")) == ["ED_share_over_2_3.tsv", "VOLUME_ET_over_TC.tsv"]
    summary = pd.read_csv(r / "evaluation" / "summary.tsv", sep="\t")
    assert len(summary) == 4 and summary[["mean_score", "ci_low", "ci_high"]].notna().all().all()
    calib = pd.read_csv(r / "evaluation" / "null_calibration.tsv", sep="\t")
    assert len(calib) == 4 and calib["n_perm"].eq(2).all()
    assert set(calib["metric"]) == {"auc", "r2"}
    assert calib["verdict"].eq(null_calibration.NOT_SHOWN).all()  # 2 permutations never support a claim
    null = pd.read_csv(r / "evaluation" / "null_scores.tsv", sep="\t")
    assert len(null) == 2 * 2 * 3 * 2  # targets x models x folds x permutations
    # interpretation on the real gene sets (the 840 ClaNC genes)
    for collection in ("hallmark", "puchalski", "verhaak"):
        corr = pd.read_csv(r / "enrichment" / "ED_share_over_2_3" / f"{collection}_correlation.tsv", sep="\t")
        assert set(corr["null"]) == {"phenotype"}
        assert (r / "masking" / "VOLUME_ET_over_TC" / f"{collection}.tsv").stat().st_size > 0
    # survival by the binarised trait on every patient with features and an endpoint (91, not only the 52)
    logrank = pd.read_csv(r / "survival" / "logrank.tsv", sep="\t").set_index("trait")
    assert logrank.loc["ED_share_over_2_3", "n"] == 91
    cox = pd.read_csv(r / "survival" / "os" / "cox.tsv", sep="\t")
    term = cox[cox["term"] != ""].dropna(subset=["term"])
    assert len(term) == 1 and 80 <= int(term["n"].iloc[0]) <= 91  # complete cases of the covariates
    # the trait predicted for the 121 ClaNC patients without features
    predicted = pd.read_csv(r / "survival" / "predicted_traits.tsv", sep="\t")
    assert predicted["patient"].nunique() == 121 and not set(predicted["patient"]) & set(features.index)
    assert (r / "figures" / "null_calibration.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.workflow
@pytest.mark.realdata
def test_small_run_report(small_run: Path, tmp_path: Path):
    """The report of the small real-data run: every figure with a caption, the null calibration in it; rendered in
    headless chromium where it is installed."""
    out = tmp_path / "report.html"
    res = snakemake("--directory", str(small_run), "--configfile", str(small_run / "config.yaml"), "--report",
                    str(out), timeout=900)
    assert res.returncode == 0, res.stderr[-4000:]
    page = out.read_text()
    for name in ("null_calibration.png", "null_calibration.tsv", "performance.png", "km_overview.png"):
        assert name in page, name
    assert "not distinguishable from the null" in page  # the caption's rule, rendered
    if CHROMIUM is None:
        return
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--virtual-time-budget=20000", "--window-size=1400,1000", "--dump-dom", out.as_uri()]
    dom = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert dom.returncode == 0, dom.stderr[-3000:]
    assert "2 Models" in dom.stdout and 'id="app"' in dom.stdout
