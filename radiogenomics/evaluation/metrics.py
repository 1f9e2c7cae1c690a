"""Typed metrics: one entry point scores network outputs for any target type.

Network outputs are raw: binary -> one logit per patient, multi-class -> one
logit per class, continuous -> the prediction on the target's own scale.
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


def primary_scores(target_type: str, y_true: Sequence, outputs_stack: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Primary and secondary metric for a stack of output matrices (n_sets x n_patients [x C]).

    Used by gene masking, which scores one prediction per gene set.
    """
    prim, sec = [], []
    for out in outputs_stack:
        s = score(target_type, y_true, out)
        prim.append(s[PRIMARY_METRIC[target_type]])
        sec.append(s[SECONDARY_METRIC[target_type]])
    return np.asarray(prim), np.asarray(sec)


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
