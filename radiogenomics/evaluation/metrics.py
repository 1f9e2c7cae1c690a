"""Typed metrics: every stage scores network outputs through this module, for any target type.

Network outputs are raw: binary -> one logit per patient, multi-class -> one
logit per class, continuous -> the prediction on the target's own scale.

:func:`score` scores one prediction with every metric (scikit-learn). :func:`primary_rows` and
:func:`secondary_rows` score a stack of predictions at once, vectorised, with the same values to
rounding: gene masking scores one prediction per gene set against one truth, the paired bootstrap one
resample per row (each row its own truth). Their building blocks (:func:`auc_rows`,
:func:`average_precision_rows`, :func:`spearman_rows`, :func:`r2_rows`) are tested against scikit-learn
and scipy.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import stats
from sklearn.metrics import average_precision_score, mean_absolute_error, r2_score, roc_auc_score

TARGET_TYPES = ("binary", "multiclass", "continuous")

PRIMARY_METRIC = {"binary": "auc", "multiclass": "auc_macro", "continuous": "r2"}
SECONDARY_METRIC = {"binary": "ap", "multiclass": "ap_macro", "continuous": "spearman"}


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _as_2d(outputs: np.ndarray) -> np.ndarray:
    outputs = np.asarray(outputs, dtype=np.float64)
    return outputs[:, None] if outputs.ndim == 1 else outputs


def score(target_type: str, y_true: Sequence, outputs: np.ndarray,
          classes: Sequence[str] | None = None) -> dict[str, float]:
    """Score raw network outputs against the truth.

    binary: ``y_true`` in {0, 1}; returns ``auc`` and ``ap``.
    multiclass: ``y_true`` integer class codes 0..C-1; returns ``auc_macro``,
    ``ap_macro``, ``accuracy`` and one-vs-rest ``auc_<class>`` per class.
    continuous: returns ``r2``, ``mae`` and ``spearman``.
    A metric that is undefined on this sample (one class only) is NaN.
    """
    y = np.asarray(y_true)
    out = _as_2d(outputs)
    if target_type == "binary":
        p = sigmoid(out[:, -1])
        if len(np.unique(y)) < 2:
            return {"auc": float("nan"), "ap": float("nan")}
        return {"auc": float(roc_auc_score(y, p)), "ap": float(average_precision_score(y, p))}
    if target_type == "multiclass":
        n_classes = out.shape[1]
        names = list(classes) if classes is not None else [str(i) for i in range(n_classes)]
        prob = softmax(out)
        y = y.astype(int)
        res: dict[str, float] = {}
        aucs, aps = [], []
        for c in range(n_classes):
            yc = (y == c).astype(int)
            if 0 < yc.sum() < len(yc):
                a = float(roc_auc_score(yc, prob[:, c]))
                ap = float(average_precision_score(yc, prob[:, c]))
            else:
                a = ap = float("nan")
            res[f"auc_{names[c]}"] = a
            aucs.append(a)
            aps.append(ap)
        res["auc_macro"] = float(np.nanmean(aucs)) if np.isfinite(aucs).any() else float("nan")
        res["ap_macro"] = float(np.nanmean(aps)) if np.isfinite(aps).any() else float("nan")
        res["accuracy"] = float((prob.argmax(axis=1) == y).mean())
        return res
    if target_type == "continuous":
        pred = out[:, 0]
        y = y.astype(float)
        rho = stats.spearmanr(y, pred).statistic if np.std(pred) > 0 and np.std(y) > 0 else float("nan")
        return {"r2": float(r2_score(y, pred)), "mae": float(mean_absolute_error(y, pred)), "spearman": float(rho)}
    raise ValueError(f"unknown target type {target_type!r}; expected one of {TARGET_TYPES}")


def auc_rows(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ROC AUC of each row of ``scores`` (k x n) against 0/1 ``labels`` (n, shared by the rows, or k x n);
    equals sklearn's roc_auc_score: Mann-Whitney with mid-ranks for ties, the trapezoidal area under the ROC
    curve. NaN for a row whose labels have one class only."""
    scores = np.asarray(scores, dtype=np.float64)
    pos = np.broadcast_to(np.asarray(labels).astype(bool), scores.shape)
    ranks = stats.rankdata(scores, axis=1)
    n_pos = pos.sum(axis=1)
    n_neg = scores.shape[1] - n_pos
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = ((ranks * pos).sum(axis=1) - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)
    return np.where((n_pos > 0) & (n_neg > 0), auc, np.nan)


def average_precision_rows(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Average precision of each row of ``scores`` (k x n) against 0/1 ``labels`` (n); equals sklearn's
    ``average_precision_score`` (precision at each distinct threshold, tied scores one threshold)."""
    pos = np.asarray(labels) == 1
    n1 = int(pos.sum())
    n = pos.size
    if n1 == 0 or n1 == n:
        return np.full(scores.shape[0], np.nan)
    order = np.argsort(-scores, axis=1, kind="stable")
    ranked = np.take_along_axis(scores, order, axis=1)
    hit = pos[order]
    precision = np.cumsum(hit, axis=1) / np.arange(1, n + 1)
    # Precision is read at the last position of each run of tied scores.
    last = np.ones(ranked.shape, dtype=bool)
    last[:, :-1] = ranked[:, :-1] != ranked[:, 1:]
    end = np.where(last, np.arange(n), n)
    end = np.minimum.accumulate(end[:, ::-1], axis=1)[:, ::-1]
    return (hit * np.take_along_axis(precision, end, axis=1)).sum(axis=1) / n1


def spearman_rows(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Spearman correlation of each row of ``pred`` (k x n) with ``y`` (n); NaN for a constant row or truth."""
    ry = stats.rankdata(y)
    ry = ry - ry.mean()
    rp = stats.rankdata(pred, axis=1)
    rp = rp - rp.mean(axis=1, keepdims=True)
    den = np.sqrt((rp ** 2).sum(axis=1) * (ry ** 2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (rp @ ry) / den
    constant = (pred.max(axis=1) == pred.min(axis=1)) | (np.ptp(y) == 0)
    return np.where(constant, np.nan, rho)


def r2_rows(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """R² of each row of ``pred`` (k x n) against ``y`` (n, shared, or k x n); sklearn's r2_score, with its
    convention for a constant truth (1 for a perfect prediction, else 0)."""
    y = np.asarray(y, dtype=np.float64)
    ss_res = ((y - pred) ** 2).sum(axis=1) if y.ndim == 2 else ((y[None, :] - pred) ** 2).sum(axis=1)
    if y.ndim == 1:
        ss_tot = float(((y - y.mean()) ** 2).sum())
        if ss_tot == 0.0:
            return np.where(ss_res == 0.0, 1.0, 0.0)
        return 1.0 - ss_res / ss_tot
    ss_tot = ((y - y.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = 1.0 - ss_res / ss_tot
    return np.where(ss_tot > 0, r2, np.where(ss_res == 0, 1.0, 0.0))


def _class_mean(values: np.ndarray) -> np.ndarray:
    """Mean over the classes (axis 1) whose value is defined, as :func:`score`'s nanmean; NaN when none is."""
    defined = np.isfinite(values)
    n_defined = defined.sum(axis=1)
    total = np.where(defined, values, 0.0).sum(axis=1)
    return np.divide(total, n_defined, out=np.full(len(total), np.nan), where=n_defined > 0)


def _stack(target_type: str, outputs: np.ndarray) -> np.ndarray:
    if target_type not in TARGET_TYPES:
        raise ValueError(f"unknown target type {target_type!r}; expected one of {TARGET_TYPES}")
    out = np.asarray(outputs, dtype=np.float64)
    return out if out.ndim == 3 else out[..., None]


def primary_rows(target_type: str, y: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """The primary metric (``PRIMARY_METRIC``) of each prediction in a stack, vectorised: ``outputs`` is
    k x n [x C] raw outputs, ``y`` the encoded truth (n, shared by the rows, or k x n, one per row). Binary:
    ROC AUC of the sigmoid; multi-class: macro one-vs-rest ROC AUC of the softmax; continuous: R²."""
    out = _stack(target_type, outputs)
    y = np.asarray(y)
    if target_type == "binary":
        return auc_rows(y.astype(int), sigmoid(out[..., -1]))
    if target_type == "multiclass":
        k, n, c = out.shape
        prob = softmax(out.reshape(k * n, c)).reshape(k, n, c)
        yi = y.astype(int)
        return _class_mean(np.stack([auc_rows((yi == j).astype(int), prob[..., j]) for j in range(c)], axis=1))
    return r2_rows(y.astype(float), out[..., 0])


def secondary_rows(target_type: str, y: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """The secondary metric (``SECONDARY_METRIC``) of each prediction in a stack (k x n [x C]) against one
    truth ``y`` (n): binary average precision of the sigmoid, multi-class macro average precision of the
    softmax, continuous Spearman."""
    out = _stack(target_type, outputs)
    y = np.asarray(y)
    if target_type == "binary":
        return average_precision_rows(y.astype(int), sigmoid(out[..., -1]))
    if target_type == "multiclass":
        k, n, c = out.shape
        prob = softmax(out.reshape(k * n, c)).reshape(k, n, c)
        yi = y.astype(int)
        return _class_mean(np.stack([average_precision_rows((yi == j).astype(int), prob[..., j])
                                     for j in range(c)], axis=1))
    return spearman_rows(y.astype(float), out[..., 0])


def output_columns(target_type: str, classes: Sequence[str]) -> list[str]:
    """Column names of raw outputs in prediction tables (binary logit, one logit per class, or the value)."""
    if target_type == "binary":
        return ["logit"]
    if target_type == "multiclass":
        return [f"logit_{c}" for c in classes]
    return ["prediction"]


def outer_fold_scores(predictions, target: str, target_type: str, classes: Sequence[str]):
    """Every metric per model and outer fold from out-of-fold predictions.

    ``predictions``: columns ``model``, ``fold``, ``y`` and the output columns.
    Returns one row per (model, fold): ``target``, ``type``, ``model``,
    ``fold``, ``n_test``, ``metric`` (the primary metric's name), ``value``
    (its value) and every metric of :func:`score`.
    """
    import pandas as pd

    cols = output_columns(target_type, classes)
    rows = []
    for (model, fold), part in predictions.groupby(["model", "fold"], sort=True):
        s = score(target_type, part["y"].to_numpy(), part[cols].to_numpy(dtype=np.float64), classes)
        rows.append({"target": target, "type": target_type, "model": model, "fold": int(fold), "n_test": len(part),
                     "metric": PRIMARY_METRIC[target_type], "value": s[PRIMARY_METRIC[target_type]], **s})
    return pd.DataFrame(rows)
