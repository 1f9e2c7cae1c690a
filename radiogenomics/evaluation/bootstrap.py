"""Paired bootstrap of out-of-fold predictions: confidence intervals and model differences.

For one target, every model's out-of-fold predictions cover the same
patients. :func:`bootstrap_scores` draws ``n_boot`` resamples of those
patients once and scores every model on the *same* resamples, so the
difference between two models is paired: a model compared with itself
differs by exactly 0 in every resample.

When the predictions carry the outer ``fold``, patients are resampled within
their fold (and within their class, so every resample of a fold holds every
class), each fold is scored on its own resample and the fold scores are
averaged: the bootstrap distribution is that of the *mean outer-fold score*,
the statistic that :func:`summarise` reports. Scoring pooled out-of-fold
predictions instead would mix outputs of different fold models whose scales
need not agree (an SVM's decision values, say), which biases a pooled AUC.
Without a ``fold`` column (e.g. a held-out test cohort) all patients form one
group. :func:`summarise` reports, per target and model, the mean outer-fold
score, its 95% percentile interval and the paired difference reference - model.

The metric is the target's primary metric (:data:`evaluation.PRIMARY_METRIC`:
binary ``auc``, multiclass ``auc_macro``, continuous ``r2``), computed here
in vectorised form with exactly the conventions of
:func:`evaluation.score` (binary: AUC of ``sigmoid(logit)``; multiclass:
one-vs-rest AUC of ``softmax(logits)`` averaged over classes; continuous: R²).
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
import pandas as pd

from radiogenomics.evaluation.metrics import PRIMARY_METRIC, TARGET_TYPES, output_columns, primary_rows

log = logging.getLogger(__name__)

LEVEL = 0.95
SUMMARY_COLUMNS = ["target", "model", "metric", "n_folds", "mean_score", "ci_low", "ci_high", "n_boot",
                   "diff_mean", "diff_ci_low", "diff_ci_high"]


def _check_type(target_type: str) -> None:
    if target_type not in TARGET_TYPES:
        raise ValueError(f"unknown target type {target_type!r}; expected one of {TARGET_TYPES}")


def bootstrap_indices(y: np.ndarray, target_type: str, n_boot: int, seed: int) -> np.ndarray:
    """Resample positions (n_boot x n) drawn with replacement; classification targets are resampled
    within each class (each resample keeps the class counts, so every class is present)."""
    _check_type(target_type)
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    y = np.asarray(y)
    n = len(y)
    rng = np.random.default_rng(seed)
    if target_type == "continuous":
        return rng.integers(0, n, size=(n_boot, n))
    codes = y.astype(int)
    parts = []
    for c in np.unique(codes):
        members = np.flatnonzero(codes == c)
        parts.append(members[rng.integers(0, len(members), size=(n_boot, len(members)))])
    return np.concatenate(parts, axis=1)


def _aligned(predictions: pd.DataFrame, target_type: str, classes: Sequence[str]
             ) -> tuple[pd.Index, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Patients (sorted), their truth, their outer fold (all 0 without a ``fold`` column) and each model's
    output matrix in that patient order."""
    cols = output_columns(target_type, list(classes))
    missing = [c for c in ["patient", "model", "y", *cols] if c not in predictions.columns]
    if missing:
        raise ValueError(f"predictions lack column(s) {missing}; they have {list(predictions.columns)}")
    if predictions.duplicated(["model", "patient"]).any():
        dup = predictions.loc[predictions.duplicated(["model", "patient"]), ["model", "patient"]].iloc[0].tolist()
        raise ValueError(f"predictions list model/patient {dup} more than once")
    models = list(pd.unique(predictions["model"]))
    if not models:
        raise ValueError("predictions are empty")
    patients = pd.Index(sorted(predictions["patient"].unique()))
    truth = folds = None
    outs: dict[str, np.ndarray] = {}
    for m in models:
        sub = predictions.loc[predictions["model"] == m].set_index("patient")
        if len(sub) != len(patients) or not sub.index.isin(patients).all():
            lacking = patients.difference(sub.index)
            raise ValueError(f"model {m!r} has predictions for {len(sub)} of the {len(patients)} patients "
                             f"(e.g. lacks {list(lacking[:5])}); paired comparison needs the same patients")
        sub = sub.loc[patients]
        y_m = sub["y"].to_numpy()
        f_m = sub["fold"].to_numpy(dtype=int) if "fold" in sub.columns else np.zeros(len(sub), dtype=int)
        if truth is None:
            truth, folds = y_m, f_m
        elif not np.array_equal(np.asarray(truth, dtype=float), np.asarray(y_m, dtype=float)):
            raise ValueError(f"model {m!r} has different true values than model {models[0]!r} for the same patients")
        elif not np.array_equal(folds, f_m):
            raise ValueError(f"model {m!r} puts patients in other outer folds than model {models[0]!r}; "
                             "every model must be scored on the same split files")
        outs[m] = sub[cols].to_numpy(dtype=np.float64)
    return patients, np.asarray(truth), folds, outs


def bootstrap_scores(predictions: pd.DataFrame, target_type: str, classes: Sequence[str], *, n_boot: int = 1000,
                     seed: int = 0, target: str | None = None, chunk: int = 250) -> pd.DataFrame:
    """Primary metric of every model on the same bootstrap resamples of the out-of-fold predictions.

    ``predictions``: one row per (model, patient) with columns ``patient``,
    ``model``, ``y``, the output columns of :func:`training.output_columns`
    and, for cross-validated predictions, ``fold``. Every model must cover
    the same patients (in the same folds). With ``fold``, each resample
    draws patients within each fold (:func:`bootstrap_indices` per fold) and
    its value is the mean of the fold scores; without it, the value is the
    score of the one resampled group.
    Returns columns ``target`` (when given), ``resample`` (0..n_boot-1),
    ``model``, ``metric``, ``value``. The resamples depend only on the
    patients, their classes and folds, ``n_boot`` and ``seed``, not on the models.
    """
    _check_type(target_type)
    patients, y, folds, outs = _aligned(predictions, target_type, classes)
    fold_ids = np.unique(folds)
    # one index matrix per fold, in positions of the whole patient list; a distinct stream per fold
    seeds = np.random.SeedSequence(seed).spawn(len(fold_ids))
    groups = []
    for k, ss in zip(fold_ids, seeds):
        members = np.flatnonzero(folds == k)
        sub_seed = int(ss.generate_state(1)[0])
        groups.append(members[bootstrap_indices(y[members], target_type, n_boot, sub_seed)])
    metric = PRIMARY_METRIC[target_type]
    frames = []
    for m, out in outs.items():
        per_fold = []
        for idx in groups:
            per_fold.append(np.concatenate([primary_rows(target_type, y[idx[i:i + chunk]], out[idx[i:i + chunk]])
                                            for i in range(0, n_boot, chunk)]))
        values = np.mean(np.vstack(per_fold), axis=0)
        frames.append(pd.DataFrame({"resample": np.arange(n_boot), "model": m, "metric": metric, "value": values}))
    boot = pd.concat(frames, ignore_index=True)
    if target is not None:
        boot.insert(0, "target", target)
    log.info("bootstrap %s: %d resamples of %d patients in %d fold(s), models %s", target or "", n_boot,
             len(patients), len(fold_ids), list(outs))
    return boot


def fold_scores(predictions: pd.DataFrame, target_type: str, classes: Sequence[str], *,
                target: str | None = None) -> pd.DataFrame:
    """Primary metric per model and outer fold from out-of-fold predictions (columns as
    :func:`bootstrap_scores` plus ``fold``): ``target``, ``model``, ``fold``, ``n``, ``metric``, ``value``."""
    _check_type(target_type)
    cols = output_columns(target_type, list(classes))
    missing = [c for c in ["model", "fold", "y", *cols] if c not in predictions.columns]
    if missing:
        raise ValueError(f"predictions lack column(s) {missing}; they have {list(predictions.columns)}")
    rows = []
    for (m, k), sub in predictions.groupby(["model", "fold"], sort=True):
        value = primary_rows(target_type, sub["y"].to_numpy()[None, :], sub[cols].to_numpy(dtype=np.float64)[None])[0]
        rows.append({"target": target, "model": m, "fold": int(k), "n": len(sub), "metric": PRIMARY_METRIC[target_type],
                     "value": float(value)})
    out = pd.DataFrame(rows)
    return out if target is not None else out.drop(columns="target")


def _percentile(values: np.ndarray, level: float) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return float("nan"), float("nan")
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(values, [a, 1.0 - a])
    return float(lo), float(hi)


def summarise(cv_scores: pd.DataFrame, boot: pd.DataFrame, reference: str = "network", *,
              level: float = LEVEL) -> pd.DataFrame:
    """Per target and model: CV mean, its bootstrap interval, paired difference to ``reference``.

    ``cv_scores``: one row per target, model and outer fold, with columns
    ``target``, ``model``, ``fold`` and either ``value`` (long format, e.g.
    :func:`fold_scores`; a ``metric`` column, if present, must match the
    bootstrap's) or a column named by the target's primary metric.
    ``boot``: :func:`bootstrap_scores` output of every target (with ``target``).

    Columns: ``target``, ``model``, ``metric``, ``n_folds``, ``mean_score``
    (mean over outer folds of the primary metric; AUC for classification
    targets, R² for continuous ones, as ``metric`` says), ``ci_low`` /
    ``ci_high`` (percentile interval over resamples of the fold-averaged
    metric, :func:`bootstrap_scores`), ``n_boot``, ``diff_mean``, ``diff_ci_low``,
    ``diff_ci_high`` (reference - model per resample: its mean and
    percentile interval; exactly 0 for the reference itself; NaN when the
    target has no reference model). Rows: per target, the reference first,
    then the other models in their order in ``boot``.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    need_boot = ["target", "resample", "model", "metric", "value"]
    missing = [c for c in need_boot if c not in boot.columns]
    if missing:
        raise ValueError(f"bootstrap table lacks column(s) {missing}; it has {list(boot.columns)}")
    missing = [c for c in ["target", "model", "fold"] if c not in cv_scores.columns]
    if missing:
        raise ValueError(f"cv_scores lack column(s) {missing}; they have {list(cv_scores.columns)}")
    rows = []
    for target, tb in boot.groupby("target", sort=False):
        metric = str(tb["metric"].iloc[0])
        order = list(pd.unique(tb["model"]))
        order = ([reference] if reference in order else []) + [m for m in order if m != reference]
        wide = tb.pivot(index="resample", columns="model", values="value")[order]
        cv = cv_scores.loc[cv_scores["target"] == target]
        if "value" in cv.columns:
            if "metric" in cv.columns:
                cv = cv.loc[cv["metric"] == metric]
            cv_values = cv["value"]
        elif metric in cv.columns:
            cv_values = cv[metric]
        else:
            raise ValueError(f"cv_scores of target {target!r} have neither a 'value' nor a {metric!r} column")
        cv = cv.assign(_v=pd.to_numeric(cv_values, errors="coerce"))
        has_ref = reference in wide.columns
        if not has_ref:
            log.warning("summary: target %s has no %r model; differences are NaN", target, reference)
        for model in wide.columns:
            vals = wide[model].to_numpy()
            lo, hi = _percentile(vals, level)
            folds = cv.loc[cv["model"] == model, "_v"]
            if folds.empty:
                raise ValueError(f"cv_scores have no outer-fold score of model {model!r} for target {target!r}")
            row = {"target": target, "model": model, "metric": metric, "n_folds": int(folds.notna().sum()),
                   "mean_score": float(folds.mean()), "ci_low": lo, "ci_high": hi,
                   "n_boot": int(np.isfinite(vals).sum())}
            if has_ref:
                diff = wide[reference].to_numpy() - vals
                d_lo, d_hi = _percentile(diff, level)
                with np.errstate(all="ignore"):
                    d_mean = float(np.nanmean(diff)) if np.isfinite(diff).any() else float("nan")
                row.update(diff_mean=d_mean, diff_ci_low=d_lo, diff_ci_high=d_hi)
            else:
                row.update(diff_mean=float("nan"), diff_ci_low=float("nan"), diff_ci_high=float("nan"))
            rows.append(row)
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def differences(boot: pd.DataFrame, reference: str = "network") -> pd.DataFrame:
    """Long table of paired bootstrap differences reference - model: ``target``, ``resample``, ``model``, ``diff``
    (models other than the reference; targets without the reference are left out)."""
    missing = [c for c in ["target", "resample", "model", "value"] if c not in boot.columns]
    if missing:
        raise ValueError(f"bootstrap table lacks column(s) {missing}; it has {list(boot.columns)}")
    parts = []
    for target, tb in boot.groupby("target", sort=False):
        wide = tb.pivot(index="resample", columns="model", values="value")
        if reference not in wide.columns:
            continue
        for model in wide.columns:
            if model == reference:
                continue
            parts.append(pd.DataFrame({"target": target, "resample": wide.index, "model": model,
                                       "diff": (wide[reference] - wide[model]).to_numpy()}))
    if not parts:
        return pd.DataFrame(columns=["target", "resample", "model", "diff"])
    return pd.concat(parts, ignore_index=True)
