"""Cohorts and split files.

* autoencoder cohort: patients with expression but no imaging annotation (nor a held-out test
  patient): the shared autoencoder's training set;
* encoder cohorts (:func:`encoder_cohorts`): the patients each target's transferred encoder is trained
  on. A target whose cohort lies outside the shared autoencoder's (imaging traits, plain target
  tables) uses the shared one; any other (the subtype network, whose patients have expression and
  may have no imaging) gets one autoencoder per outer fold, trained on every training patient
  outside that fold's test patients. No encoder ever saw a patient that a network built on it is
  scored on;
* one cohort per target: patients with expression and a non-missing value;
* split files: per target, stratified K folds (patient, fold), seeded,
  written before any model is fitted. Patients are sorted by ID before
  splitting, so the folds do not depend on input row order.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, train_test_split

from radiogenomics.cohorts.targets import stratification_labels, target_vector
from radiogenomics.errors import InputError

log = logging.getLogger(__name__)


def build_cohorts(expression_patients: pd.Index, imaged_patients: pd.Index, targets: pd.DataFrame) -> dict[str, Any]:
    """Patient lists per cohort (sorted IDs)."""
    expr = pd.Index(sorted(set(expression_patients)))
    imaged = set(imaged_patients)
    ae = [p for p in expr if p not in imaged]
    log.info("autoencoder cohort: %d patients with expression and no imaging (%d imaged patients excluded)",
             len(ae), len(expr) - len(ae))
    per_target = {}
    for name in targets.columns:
        pts = sorted(targets[name].dropna().index.intersection(expr))
        per_target[name] = pts
        log.info("cohort %s: %d patients", name, len(pts))
    return {"expression": list(expr), "autoencoder": ae, "imaged": sorted(imaged & set(expr)), "targets": per_target}


#: Target sources whose patients are all excluded from the shared autoencoder's cohort (the imaging tables).
SHARED_ENCODER_SOURCES = ("vasari", "targets")


def encoder_scope(source: str) -> str:
    """``"shared"`` for a target read from an imaging table (its patients are never in the shared
    autoencoder's cohort), ``"fold"`` for any other (one autoencoder per outer fold)."""
    return "shared" if source in SHARED_ENCODER_SOURCES else "fold"


def encoder_cohorts(groups: dict[str, Any], table: pd.DataFrame, meta: dict[str, dict], scopes: dict[str, str],
                    n_folds: int, seed: int) -> dict[str, Any]:
    """Target -> the patients its networks' encoder is trained on: the shared autoencoder's cohort
    (a sorted list) or, for ``"fold"`` scope, fold number (a string, as JSON keys are) -> sorted list of the
    training patients (``groups["expression"]``, held-out patients already removed) outside that fold's
    test patients. The folds are :func:`make_folds` with the split files' settings. Raises if a shared
    encoder's cohort meets the target's."""
    shared = list(groups["autoencoder"])
    pool = set(groups["expression"])
    out: dict[str, Any] = {}
    for name, scope in scopes.items():
        patients = set(groups["targets"][name])
        if scope == "shared":
            overlap = sorted(patients.intersection(shared))
            if overlap:
                raise ValueError(f"target {name!r}: {len(overlap)} of its patients are in the shared autoencoder's "
                                 f"cohort (e.g. {overlap[:5]})")
            out[name] = shared
            continue
        if scope != "fold":
            raise ValueError(f"target {name!r}: unknown encoder scope {scope!r} (shared or fold)")
        folds = make_folds(target_vector(table, name, meta[name]["type"]), meta[name]["type"], n_folds, seed)
        out[name] = {str(k): sorted(pool.difference(folds.loc[folds["fold"] == k, "patient"]))
                     for k in range(n_folds)}
        log.info("target %s: one autoencoder per outer fold, trained on %s patients", name,
                 [len(v) for v in out[name].values()])
    return out


def make_folds(y: pd.Series, target_type: str, n_folds: int, seed: int) -> pd.DataFrame:
    """Stratified K-fold assignment: a table (patient, fold) with folds 0..K-1."""
    y = y.sort_index()
    strata = stratification_labels(y, target_type)
    counts = np.bincount(strata)
    if counts[counts > 0].min() < n_folds:
        raise InputError(None, f"target {y.name!r}: a class/stratum has {counts[counts > 0].min()} patients, "
                         f"fewer than the {n_folds} folds; counts {counts.tolist()}")
    skf = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    fold = np.empty(len(y), dtype=int)
    for k, (_, test) in enumerate(skf.split(np.zeros(len(y)), strata)):
        fold[test] = k
    return pd.DataFrame({"patient": y.index.astype(str), "fold": fold})


def inner_fold_indices(y: pd.Series, target_type: str, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified inner folds of ``y`` (sorted by patient) as positional (train, validation) index pairs.

    The folds of :func:`make_folds` with this seed: the network selection and every comparison model's search
    see identical inner splits.
    """
    y = y.sort_index()
    fold = make_folds(y, target_type, n_folds, seed)["fold"].to_numpy()
    return [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(n_folds)]


def read_folds(path: str) -> pd.DataFrame:
    folds = pd.read_csv(path, sep="\t", dtype={"patient": str, "fold": int})
    for col in ("patient", "fold"):
        if col not in folds.columns:
            raise InputError(path, "split file needs columns patient and fold", column=col)
    if folds["patient"].duplicated().any():
        raise InputError(path, f"patient {folds['patient'][folds['patient'].duplicated()].iloc[0]!r} appears twice")
    return folds


def inner_split(y: pd.Series, target_type: str, fraction: float, seed: int) -> tuple[pd.Index, pd.Index]:
    """Stratified (train, validation) split of a training part, for early stopping."""
    y = y.sort_index()
    strata = stratification_labels(y, target_type)
    n_val = max(int(round(fraction * len(y))), len(np.unique(strata)))
    try:
        tr, va = train_test_split(y.index, test_size=n_val, stratify=strata, random_state=seed)
    except ValueError:
        log.warning("inner split of %s could not be stratified (smallest stratum too small); using a random split",
                    y.name)
        tr, va = train_test_split(y.index, test_size=n_val, random_state=seed)
    return pd.Index(sorted(tr)), pd.Index(sorted(va))
