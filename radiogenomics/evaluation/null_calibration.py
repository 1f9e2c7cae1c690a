"""Null-label calibration inside a run: what score does a shuffled target get on this cohort?

With few patients a cross-validated score needs its null beside it: an out-of-fold AUC of a shuffled
binary target scatters around 0.5, and an out-of-fold R² of a shuffled continuous target lies below 0
by an amount that depends on the model (a ridge shrunk to the mean loses little, a network more). So
the null is estimated, not assumed: for each target and model, the target's labels are permuted
**within each outer fold** of its split file (:func:`permute_within_folds`; every fold keeps its
patients and its labels' distribution, so a stratified split stays stratified and a per-fold encoder
stays valid) and the same nested cross-validation is run (:func:`null_scores`: the same folds, inner
selection, refits and seeds as the real evaluation, :func:`selection.evaluate_outer_fold`). The score
of a permutation is the mean outer-fold primary metric, as ``mean_score`` of the evaluation summary.

:func:`calibrate` puts each model's score and its bootstrap interval beside the null: the null mean,
its 2.5-97.5% range, the permutation p ``(1 + #{null >= observed}) / (P + 1)``, and a verdict.
A score is called **above the null** only when its whole interval lies above the null mean *and*
its permutation p is at most ``alpha``; otherwise the target is not shown to be predictable by that
model (an interval that includes the null never counts, whatever its point estimate).
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from radiogenomics.evaluation import bootstrap
from radiogenomics.evaluation.metrics import PRIMARY_METRIC
from radiogenomics.models import selection

log = logging.getLogger(__name__)

NULL_COLUMNS = ["target", "model", "permutation", "fold", "n", "metric", "value"]
CALIBRATION_COLUMNS = ["target", "model", "metric", "mean_score", "ci_low", "ci_high", "n_perm", "null_mean",
                       "null_sd", "null_low", "null_high", "p_perm", "interval_above_null_mean", "verdict"]
ABOVE = "above the null"
NOT_SHOWN = "not distinguishable from the null"
#: Permutation p at or below which (with the interval above the null mean) a score is called above the null.
ALPHA = 0.05


def permutation_seed(seed: int, target: str, permutation: int) -> int:
    """A seed for one permutation of one target, independent of the model (every model sees the same
    permuted labels) and of the order of the targets."""
    key = [int(b) for b in target.encode()]
    return int(np.random.SeedSequence([int(seed), int(permutation), *key]).generate_state(1)[0])


def permute_within_folds(y: pd.Series, folds: pd.DataFrame, seed: int) -> pd.Series:
    """``y`` with its values shuffled among the patients of each outer fold (index kept, patients of the
    split file only). Under the null (no relation between expression and target) this is a valid
    permutation; it keeps each fold's class counts (or value distribution) and so the split's
    stratification."""
    fold_of = folds.set_index("patient")["fold"].astype(int)
    missing = fold_of.index.difference(y.index)
    if len(missing):
        raise ValueError(f"{len(missing)} patients of the split file have no value of {y.name!r} "
                         f"(e.g. {list(missing[:5])})")
    y = y.loc[fold_of.index].sort_index()
    rng = np.random.default_rng(seed)
    out = y.copy()
    for k in sorted(set(fold_of)):
        members = y.index[fold_of.loc[y.index].to_numpy() == k]
        out.loc[members] = rng.permutation(y.loc[members].to_numpy())
    return out


def null_scores(model_name: str, expression: pd.DataFrame, y: pd.Series, folds: pd.DataFrame, target_type: str,
                classes: Sequence[str], *, settings: Mapping[str, Any] | None, seed: int, n_perm: int,
                encoders_for_fold: Callable[[int], Mapping[str, Any] | None] | None = None,
                target: str = "") -> pd.DataFrame:
    """Outer-fold scores of ``model_name`` on ``n_perm`` within-fold permutations of ``y``.

    Each permutation runs every outer fold with :func:`selection.evaluate_outer_fold` (inner selection on
    the permuted training labels, refit, prediction of the fold), with the real evaluation's ``seed``.
    ``encoders_for_fold(k)`` gives the transferred encoders of fold k (networks). Returns one row per
    permutation and fold (:data:`NULL_COLUMNS`; ``value`` is the primary metric of the fold).
    """
    if n_perm < 1:
        raise ValueError(f"n_perm must be at least 1, got {n_perm}")
    name = target or str(y.name)
    fold_ids = sorted(set(folds["fold"].astype(int)))
    rows = []
    for p in range(n_perm):
        y_null = permute_within_folds(y.rename(name), folds, permutation_seed(seed, name, p))
        parts = []
        for k in fold_ids:
            encoders = encoders_for_fold(k) if encoders_for_fold is not None else None
            result = selection.evaluate_outer_fold(model_name, expression, y_null, folds, k, target_type, classes,
                                                   settings=settings, seed=seed, encoders=encoders or None,
                                                   target=name)
            parts.append(result.predictions.assign(model=model_name))
        scores = bootstrap.fold_scores(pd.concat(parts, ignore_index=True), target_type, classes, target=name)
        log.info("%s %s null permutation %d/%d: mean outer-fold %s %.3f (folds %s)", name, model_name, p + 1, n_perm,
                 PRIMARY_METRIC[target_type], scores["value"].mean(), np.round(scores["value"].to_numpy(), 3).tolist())
        rows.append(scores.assign(permutation=p))
    table = pd.concat(rows, ignore_index=True)
    return table[NULL_COLUMNS]


def calibrate(summary: pd.DataFrame, null: pd.DataFrame, *, alpha: float = ALPHA, level: float = 0.95
              ) -> pd.DataFrame:
    """Each model's cross-validated score beside its null.

    ``summary``: the evaluation summary (:func:`bootstrap.summarise`: ``target``, ``model``, ``metric``,
    ``mean_score``, ``ci_low``, ``ci_high``); ``null``: :func:`null_scores` rows of every target and model.
    Returns :data:`CALIBRATION_COLUMNS`: ``null_mean`` / ``null_sd`` / ``null_low`` / ``null_high`` of the
    permutations' mean outer-fold scores (``level`` range), ``p_perm`` = (1 + #{null >= mean_score}) /
    (n_perm + 1), ``interval_above_null_mean`` (ci_low > null_mean) and ``verdict``: :data:`ABOVE` when
    the interval is above the null mean and p_perm <= ``alpha``, else :data:`NOT_SHOWN`.
    """
    missing = [c for c in NULL_COLUMNS if c not in null.columns]
    if missing:
        raise ValueError(f"null table lacks column(s) {missing}; it has {list(null.columns)}")
    per_perm = null.groupby(["target", "model", "permutation"], sort=False)["value"].mean().reset_index()
    a = (1.0 - level) / 2.0
    rows = []
    for r in summary.itertuples(index=False):
        values = per_perm.loc[(per_perm["target"] == r.target) & (per_perm["model"] == r.model), "value"]
        values = values.to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        row = {"target": r.target, "model": r.model, "metric": r.metric, "mean_score": r.mean_score,
               "ci_low": r.ci_low, "ci_high": r.ci_high, "n_perm": int(len(values))}
        if len(values) == 0:
            log.warning("null calibration: no null score for %s %s; verdict %r", r.target, r.model, NOT_SHOWN)
            row.update(null_mean=np.nan, null_sd=np.nan, null_low=np.nan, null_high=np.nan, p_perm=np.nan,
                       interval_above_null_mean=False, verdict=NOT_SHOWN)
            rows.append(row)
            continue
        null_mean = float(values.mean())
        low, high = np.quantile(values, [a, 1.0 - a])
        p = float((1 + np.sum(values >= r.mean_score)) / (len(values) + 1)) if np.isfinite(r.mean_score) else np.nan
        above = bool(np.isfinite(r.ci_low) and r.ci_low > null_mean)
        row.update(null_mean=null_mean, null_sd=float(values.std(ddof=1)) if len(values) > 1 else np.nan,
                   null_low=float(low), null_high=float(high), p_perm=p, interval_above_null_mean=above,
                   verdict=ABOVE if above and np.isfinite(p) and p <= alpha else NOT_SHOWN)
        rows.append(row)
    out = pd.DataFrame(rows, columns=CALIBRATION_COLUMNS)
    smallest = 1.0 / (out["n_perm"].max() + 1) if len(out) and out["n_perm"].max() > 0 else 1.0
    if smallest > alpha:
        log.warning("null calibration: with %d permutations the smallest permutation p is %.3g > %g, so no score "
                    "can be called above the null; raise evaluation.null_permutations", int(out["n_perm"].max()),
                    smallest, alpha)
    return out
