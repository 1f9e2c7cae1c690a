"""A held-out test cohort: never seen by selection or training, scored once by the final models.

The test cohort is either a second cohort (its own expression matrix and target table, patient
IDs disjoint from the training cohort's) or a declared split of the training tables (a list of
patients removed from every training cohort before the split files are written). The selected
final models - the network of each target (``models/{target}/final.pt``) and one final refit per
comparison model - predict its patients once; :func:`score_predictions` gives every metric of the
target type with a percentile bootstrap interval of the primary metric (the same resamples for
every model, stratified by class for classification targets), beside the cross-validated scores.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from radiogenomics.errors import InputError
from radiogenomics.evaluation import bootstrap, metrics

log = logging.getLogger(__name__)

#: Columns of the held-out score table (then one column per metric of the target type).
SCORE_COLUMNS = ["target", "type", "model", "n_test", "metric", "value", "ci_low", "ci_high", "n_boot",
                 "cv_mean", "cv_sd", "cv_folds"]
LEVEL = bootstrap.LEVEL


def check_disjoint(train_patients: Sequence[str], test_patients: Sequence[str], *, train_source: str | None,
                   test_source: str | None) -> None:
    """Raise InputError when a patient is in both the training and the test cohort (both files named)."""
    both = sorted(set(map(str, train_patients)) & set(map(str, test_patients)))
    if both:
        raise InputError(test_source, f"{len(both)} patient(s) of the held-out test cohort are also in the training "
                                      f"cohort ({train_source}), e.g. {both[:5]}; a test cohort must not overlap the "
                                      "training patients (remove them from one of the tables, or declare the split "
                                      "with inputs.test.patients instead of a second cohort)")


def align_genes(expression: pd.DataFrame, genes: Sequence[str], *, source: str | None,
                reference: str | None = None) -> pd.DataFrame:
    """The test expression with exactly the training ``genes`` in their order.

    A training gene absent from the test matrix is an InputError naming the file and examples
    (the networks cannot be applied without it); extra test genes are dropped and logged.
    """
    genes = list(genes)
    missing = [g for g in genes if g not in expression.columns]
    if missing:
        raise InputError(source, f"the test expression lacks {len(missing)} of the {len(genes)} genes of the training "
                                 f"expression{f' ({reference})' if reference else ''}, e.g. {missing[:10]}; the "
                                 "trained models need every training gene (use the same platform and gene symbols)")
    extra = expression.columns.difference(pd.Index(genes))
    if len(extra):
        log.info("test expression (%s): %d gene(s) not in the training expression dropped, e.g. %s", source,
                 len(extra), list(extra[:5]))
    return expression.loc[:, genes]


def predictions(models: Mapping[str, Any], expression: pd.DataFrame, y: pd.Series, target_type: str,
                classes: Sequence[str]) -> pd.DataFrame:
    """Raw outputs of every final model for the test patients of ``y`` (joined to ``expression`` by ID).

    ``models``: model name -> a fitted network (:class:`nets.FittedModel`) or comparison model
    (anything with ``outputs(expression)``). Returns one row per (model, patient): ``patient``,
    ``model``, ``y`` and the output columns of :func:`evaluation.output_columns`. Test patients
    without expression are an error (the target table and the expression matrix disagree).
    """
    from radiogenomics.models.selection import model_outputs

    y = y.dropna().sort_index()
    lacking = y.index.difference(expression.index)
    if len(lacking):
        raise ValueError(f"{len(lacking)} test patients with a target value lack expression (e.g. "
                         f"{list(lacking[:5])})")
    cols = metrics.output_columns(target_type, list(classes))
    frames = []
    for name, model in models.items():
        out = np.asarray(model_outputs(model, expression.loc[y.index]), dtype=np.float64)
        out = out[:, None] if out.ndim == 1 else out
        frame = pd.DataFrame(out, columns=cols)
        frame.insert(0, "y", y.to_numpy())
        frame.insert(0, "model", name)
        frame.insert(0, "patient", y.index.astype(str))
        frames.append(frame)
    if not frames:
        raise ValueError("no model to score")
    return pd.concat(frames, ignore_index=True)


def score_predictions(pred: pd.DataFrame, target: str, target_type: str, classes: Sequence[str], *,
                      n_boot: int, seed: int, cv_scores: pd.DataFrame | None = None,
                      level: float = LEVEL) -> pd.DataFrame:
    """Held-out scores of every model of one target: all metrics of :func:`evaluation.score`, the
    primary metric's percentile bootstrap interval (``n_boot`` resamples shared by the models) and,
    from ``cv_scores`` (the cross-validated ``cv_scores.tsv`` rows: ``target``, ``model``, ``value``),
    the mean and SD over the outer folds of the same metric."""
    classes = list(classes)
    cols = metrics.output_columns(target_type, classes)
    metric = metrics.PRIMARY_METRIC[target_type]
    boot = bootstrap.bootstrap_scores(pred, target_type, classes, n_boot=n_boot, seed=seed, target=target)
    a = (1.0 - level) / 2.0
    rows = []
    for model, part in pred.groupby("model", sort=False):
        s = metrics.score(target_type, part["y"].to_numpy(), part[cols].to_numpy(dtype=np.float64), classes)
        values = boot.loc[boot["model"] == model, "value"].to_numpy(dtype=np.float64)
        values = values[np.isfinite(values)]
        lo, hi = (np.quantile(values, [a, 1.0 - a]) if len(values) else (np.nan, np.nan))
        cv = pd.DataFrame()
        if cv_scores is not None and len(cv_scores):
            cv = cv_scores[(cv_scores["target"] == target) & (cv_scores["model"] == model)]
        rows.append({"target": target, "type": target_type, "model": model, "n_test": int(len(part)),
                     "metric": metric, "value": s[metric], "ci_low": float(lo), "ci_high": float(hi),
                     "n_boot": int(n_boot),
                     "cv_mean": float(cv["value"].mean()) if len(cv) else np.nan,
                     "cv_sd": float(cv["value"].std(ddof=1)) if len(cv) > 1 else np.nan,
                     "cv_folds": int(len(cv)), **s})
        log.info("held-out %s %s: n %d, %s %.3f [%.3f, %.3f] (cross-validated %.3f)", target, model, len(part),
                 metric, s[metric], lo, hi, rows[-1]["cv_mean"])
    return pd.DataFrame(rows)
