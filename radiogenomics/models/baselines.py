"""Comparison models: penalised logistic regression, SVM, random forest and boosted trees.

Each baseline is a scikit-learn pipeline (a ``StandardScaler`` fitted inside
the pipeline, then the model) tuned by its own inner grid search on the
training patients it is given, nothing else. Inner folds are the same
stratified folds the network selection uses (:func:`radiogenomics.cohorts.splits.inner_fold_indices`), and
the inner score is the target's primary metric computed by
:func:`radiogenomics.evaluation.metrics.score` on the same raw outputs the outer
evaluation scores, so the baselines and the network are selected and scored
alike.

Names and models per target type (:data:`BASELINES`):

============== ============================================ =======================================
name           binary / multiclass                          continuous (standardised target)
============== ============================================ =======================================
logreg_l1      LogisticRegression, L1 (``l1_ratio=1``),     Lasso
               liblinear; one-vs-rest for multiclass
logreg_l2      LogisticRegression, L2 (``l1_ratio=0``),     Ridge
               liblinear; one-vs-rest for multiclass
svm            SVC (no probability estimates)               SVR
random_forest  RandomForestClassifier (serial prediction)     RandomForestRegressor (serial prediction)
xgboost        XGBClassifier (``tree_method="hist"``)       XGBRegressor
============== ============================================ =======================================

scikit-learn 1.9: ``LogisticRegression(penalty=...)`` is deprecated since
1.8 (removal in 1.10); the penalty is set by ``l1_ratio`` alone (1 = L1,
0 = L2) and ``penalty`` is never passed, so no FutureWarning is raised. The
liblinear solver does not fit multiclass problems in 1.9, so multiclass
targets wrap it in ``OneVsRestClassifier`` (one L1 / L2 model per class).
``SVC(probability=...)`` is deprecated in 1.9 (removal in 1.11; its default
already means no Platt scaling), so it is not passed: the SVM's output is its
``decision_function``.
The study's "L1" logistic regression never set an L1 penalty; here
``logreg_l1`` truly is L1 (exact zeros in its coefficients).

Classifiers weight classes as the network does ("balanced"; XGBoost through
balanced sample weights). Outputs follow the workflow's raw-output
convention (:func:`outputs`): binary, one logit-like score per patient
(``decision_function`` where the model has one, else the log-odds of
``predict_proba``); multiclass, log-probabilities per class in ``classes``
order (SVC: ``log_softmax`` of its one-vs-rest decision values);
continuous, the predictions on the target's own scale.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import Lasso, LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR
from sklearn.utils.class_weight import compute_sample_weight

from radiogenomics.cohorts.splits import inner_fold_indices
from radiogenomics.evaluation import metrics
from radiogenomics.evaluation.metrics import PRIMARY_METRIC, TARGET_TYPES

log = logging.getLogger(__name__)

BASELINES = ("logreg_l1", "logreg_l2", "svm", "random_forest", "xgboost")

#: Probabilities are clipped to [EPS, 1 - EPS] before taking logs (random forests give exact 0 and 1).
EPS = 1e-12

#: Small default grids (a few minutes per target on the simulated cohort). Keys are the model's own
#: parameter names; "classifier" grids serve binary and multiclass targets, "regressor" grids continuous ones.
DEFAULT_GRIDS: dict[str, dict[str, dict[str, list]]] = {
    "classifier": {
        "logreg_l1": {"C": [0.05, 0.2, 1.0]},
        "logreg_l2": {"C": [0.001, 0.01, 0.1]},
        "svm": {"C": [0.1, 1.0, 10.0], "kernel": ["linear", "rbf"]},
        "random_forest": {"n_estimators": [300], "max_features": ["sqrt", 0.05], "min_samples_leaf": [1, 5]},
        "xgboost": {"n_estimators": [100], "max_depth": [2, 4], "learning_rate": [0.1], "subsample": [0.8],
                    "colsample_bytree": [0.3]},
    },
    "regressor": {
        "logreg_l1": {"alpha": [0.03, 0.1, 0.3]},
        "logreg_l2": {"alpha": [100.0, 1000.0, 10000.0]},
        "svm": {"C": [0.1, 1.0, 10.0], "kernel": ["linear", "rbf"]},
        "random_forest": {"n_estimators": [300], "max_features": ["sqrt", 0.05], "min_samples_leaf": [1, 5]},
        "xgboost": {"n_estimators": [100], "max_depth": [2, 4], "learning_rate": [0.1], "subsample": [0.8],
                    "colsample_bytree": [0.3]},
    },
}

#: Paper-scale grids: wider searches of the kind the study reports for its comparison models.
PAPER_GRIDS: dict[str, dict[str, dict[str, list]]] = {
    "classifier": {
        "logreg_l1": {"C": [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]},
        "logreg_l2": {"C": [1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0]},
        "svm": {"C": [0.01, 0.1, 1.0, 10.0, 100.0], "kernel": ["linear", "rbf"], "gamma": ["scale", 1e-4, 1e-3]},
        "random_forest": {"n_estimators": [500, 1000], "max_features": ["sqrt", "log2", 0.05, 0.1],
                          "min_samples_leaf": [1, 3, 5], "max_depth": [None, 10]},
        "xgboost": {"n_estimators": [100, 300, 600], "max_depth": [2, 3, 4, 6], "learning_rate": [0.01, 0.05, 0.1],
                    "subsample": [0.7, 1.0], "colsample_bytree": [0.1, 0.3, 0.6]},
    },
    "regressor": {
        "logreg_l1": {"alpha": [0.003, 0.01, 0.03, 0.1, 0.3, 1.0]},
        "logreg_l2": {"alpha": [1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0]},
        "svm": {"C": [0.01, 0.1, 1.0, 10.0, 100.0], "kernel": ["linear", "rbf"], "epsilon": [0.1, 0.3]},
        "random_forest": {"n_estimators": [500, 1000], "max_features": ["sqrt", "log2", 0.05, 0.1],
                          "min_samples_leaf": [1, 3, 5], "max_depth": [None, 10]},
        "xgboost": {"n_estimators": [100, 300, 600], "max_depth": [2, 3, 4, 6], "learning_rate": [0.01, 0.05, 0.1],
                    "subsample": [0.7, 1.0], "colsample_bytree": [0.1, 0.3, 0.6]},
    },
}


class SerialPredictForestClassifier(RandomForestClassifier):
    """A random forest that fits its trees in parallel but predicts serially.

    scikit-learn's parallel ``predict_proba`` adds the trees' probabilities in
    thread-completion order, so two runs can differ in the last bits; serial
    prediction keeps outputs (and the inner grid search) bit-reproducible.
    """

    def predict_proba(self, X):
        n_jobs = self.n_jobs
        self.n_jobs = 1
        try:
            return super().predict_proba(X)
        finally:
            self.n_jobs = n_jobs


class SerialPredictForestRegressor(RandomForestRegressor):
    """A random-forest regressor that fits in parallel and predicts serially (bit-reproducible sums)."""

    def predict(self, X):
        n_jobs = self.n_jobs
        self.n_jobs = 1
        try:
            return super().predict(X)
        finally:
            self.n_jobs = n_jobs


def check_name(name: str) -> None:
    if name not in BASELINES:
        raise ValueError(f"unknown baseline model {name!r}; known: {list(BASELINES)}")


def _task(target_type: str) -> str:
    if target_type not in TARGET_TYPES:
        raise ValueError(f"unknown target type {target_type!r}; expected one of {TARGET_TYPES}")
    return "regressor" if target_type == "continuous" else "classifier"


def _model(name: str, target_type: str, seed: int, n_jobs: int) -> tuple[Any, str]:
    """The bare model (no scaler) and the prefix of its parameters inside the final pipeline."""
    if target_type == "continuous":
        models = {
            "logreg_l1": lambda: Lasso(alpha=0.1, max_iter=20000, random_state=seed),
            "logreg_l2": lambda: Ridge(alpha=1000.0),
            "svm": lambda: SVR(),
            "random_forest": lambda: SerialPredictForestRegressor(n_estimators=300, random_state=seed, n_jobs=n_jobs),
            "xgboost": lambda: _xgb("regressor", seed, n_jobs),
        }
        return models[name](), "regressor__model__"
    multiclass = target_type == "multiclass"

    def logreg(l1_ratio: float):
        lr = LogisticRegression(l1_ratio=l1_ratio, C=1.0, solver="liblinear", class_weight="balanced",
                                max_iter=5000, random_state=seed)
        return (OneVsRestClassifier(lr), "model__estimator__") if multiclass else (lr, "model__")

    models = {
        "logreg_l1": lambda: logreg(1.0),
        "logreg_l2": lambda: logreg(0.0),
        "svm": lambda: (SVC(class_weight="balanced", random_state=seed), "model__"),
        "random_forest": lambda: (SerialPredictForestClassifier(n_estimators=300, class_weight="balanced",
                                                                random_state=seed, n_jobs=n_jobs), "model__"),
        "xgboost": lambda: (_xgb("classifier", seed, n_jobs), "model__"),
    }
    return models[name]()


def _xgb(task: str, seed: int, n_jobs: int):
    import xgboost

    cls = xgboost.XGBRegressor if task == "regressor" else xgboost.XGBClassifier
    return cls(tree_method="hist", n_jobs=n_jobs, random_state=seed, verbosity=0)


def make_estimator(name: str, target_type: str, *, seed: int = 0, n_jobs: int = 1) -> tuple[Any, str]:
    """An unfitted pipeline (StandardScaler -> model; continuous targets also standardise y) and the
    prefix that turns a model parameter name into a pipeline parameter name."""
    check_name(name)
    _task(target_type)
    model, prefix = _model(name, target_type, seed, n_jobs)
    if target_type == "continuous":
        pipe = Pipeline([("scale", StandardScaler()), ("model", model)])
        return TransformedTargetRegressor(regressor=pipe, transformer=StandardScaler()), prefix
    return Pipeline([("scale", StandardScaler()), ("model", model)]), prefix


def default_grid(name: str, target_type: str, grids: Mapping[str, Mapping[str, Mapping[str, Sequence]]] | None = None
                 ) -> dict[str, list]:
    """The grid of one baseline: from ``grids[task][name]`` when given there, else :data:`DEFAULT_GRIDS`."""
    check_name(name)
    task = _task(target_type)
    if grids and name in (grids.get(task) or {}):
        return {k: list(v) for k, v in grids[task][name].items()}
    return {k: list(v) for k, v in DEFAULT_GRIDS[task][name].items()}


def _check_grid(name: str, target_type: str, grid: Mapping[str, Sequence], estimator, prefix: str) -> dict[str, list]:
    if not grid:
        raise ValueError(f"baseline {name!r} ({target_type}): the parameter grid is empty")
    valid = {k[len(prefix):] for k in estimator.get_params() if k.startswith(prefix) and "__" not in k[len(prefix):]}
    out = {}
    for key, values in grid.items():
        if key not in valid:
            raise ValueError(f"baseline {name!r} ({target_type}): unknown parameter {key!r} in its grid; "
                             f"valid: {sorted(valid)}")
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise ValueError(f"baseline {name!r}: grid values of {key!r} must be a list, got {values!r}")
        if len(values) == 0:
            raise ValueError(f"baseline {name!r} ({target_type}): the grid lists no value for {key!r}")
        out[key] = list(values)
    return out


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1.0 - EPS)
    return np.log(p) - np.log1p(-p)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _columns_by_class(values: np.ndarray, fitted_classes: np.ndarray, n_classes: int, fill: float) -> np.ndarray:
    out = np.full((len(values), n_classes), fill, dtype=np.float64)
    for j, c in enumerate(np.asarray(fitted_classes).astype(int)):
        out[:, c] = values[:, j]
    return out


def outputs(estimator, x: np.ndarray, target_type: str, classes: Sequence[str]) -> np.ndarray:
    """Raw outputs of a fitted baseline in the workflow's convention (see the module docstring): n x 1 or n x C."""
    if target_type == "continuous":
        return np.asarray(estimator.predict(x), dtype=np.float64).reshape(-1, 1)
    fitted_classes = estimator.classes_
    if target_type == "binary":
        if len(fitted_classes) != 2:
            raise ValueError(f"binary baseline was fitted on classes {list(fitted_classes)}; it needs both 0 and 1")
        if hasattr(estimator, "decision_function"):
            score = np.asarray(estimator.decision_function(x), dtype=np.float64)
        else:
            score = _logit(estimator.predict_proba(x)[:, 1])
        return score.reshape(-1, 1)
    n_classes = len(classes)
    if hasattr(estimator, "predict_proba"):
        prob = np.clip(np.asarray(estimator.predict_proba(x), dtype=np.float64), EPS, 1.0)
        logp = np.log(prob / prob.sum(axis=1, keepdims=True))
    else:
        logp = _log_softmax(estimator.decision_function(x))
    return _columns_by_class(logp, fitted_classes, n_classes, fill=np.log(EPS))


def _scorer(target_type: str, classes: Sequence[str]):
    metric = PRIMARY_METRIC[target_type]

    def score(estimator, x, y) -> float:
        out = outputs(estimator, x, target_type, classes)
        value = metrics.score(target_type, np.asarray(y), out, classes)[metric]
        return float(value) if np.isfinite(value) else float("-inf")

    return score


@dataclass
class BaselineFit:
    """A baseline tuned on one set of patients: the refitted best pipeline and its inner search."""

    name: str
    target_type: str
    classes: list[str]
    genes: list[str]
    estimator: Any
    params: dict[str, Any]
    inner_score: float
    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    def outputs(self, expression: pd.DataFrame) -> np.ndarray:
        """Raw outputs for patients x genes (the model's genes, in its order)."""
        missing = [g for g in self.genes if g not in expression.columns]
        if missing:
            raise ValueError(f"expression lacks {len(missing)} of the baseline's genes (e.g. {missing[:5]})")
        x = expression.loc[:, self.genes].to_numpy(dtype=np.float64)
        return outputs(self.estimator, x, self.target_type, self.classes)


def _fit_params(name: str, target_type: str, y: np.ndarray) -> dict[str, np.ndarray]:
    if name == "xgboost" and target_type != "continuous":
        return {"model__sample_weight": compute_sample_weight("balanced", y)}
    return {}


def fit_baseline(name: str, expression: pd.DataFrame, y: pd.Series, target_type: str, classes: Sequence[str], *,
                 grid: Mapping[str, Sequence] | None = None, inner_folds: int = 3, seed: int = 0, n_jobs: int = 1
                 ) -> BaselineFit:
    """Tune one baseline by grid search over inner folds of these patients, then refit it on all of them.

    ``grid`` maps model parameter names (e.g. ``C``) to value lists; ``None``
    takes :data:`DEFAULT_GRIDS`. Ties in the inner score go to the first
    grid point in scikit-learn's order. Only the patients of ``y`` are seen.
    """
    check_name(name)
    estimator, prefix = make_estimator(name, target_type, seed=seed, n_jobs=n_jobs)
    grid = _check_grid(name, target_type, default_grid(name, target_type) if grid is None else grid, estimator, prefix)
    y = y.sort_index()
    x = expression.loc[y.index].to_numpy(dtype=np.float64)
    y_np = y.to_numpy()
    cv = inner_fold_indices(y, target_type, inner_folds, seed)
    search = GridSearchCV(estimator, {prefix + k: v for k, v in grid.items()}, scoring=_scorer(target_type, classes),
                          cv=cv, refit=True, error_score="raise", n_jobs=1)
    search.fit(x, y_np, **_fit_params(name, target_type, y_np))
    params = {k[len(prefix):]: v for k, v in search.best_params_.items()}
    res = search.cv_results_
    table = pd.DataFrame({"candidate": np.arange(len(res["params"])),
                          "params": [{k[len(prefix):]: v for k, v in p.items()} for p in res["params"]],
                          "mean": res["mean_test_score"], "sd": res["std_test_score"],
                          "rank": res["rank_test_score"]})
    log.info("baseline %s (%s): %d patients, %d grid points x %d inner folds; chosen %s (inner %s %.3f)",
             name, target_type, len(y), len(table), inner_folds, params, PRIMARY_METRIC[target_type],
             search.best_score_)
    return BaselineFit(name=name, target_type=target_type, classes=list(classes), genes=list(expression.columns),
                       estimator=search.best_estimator_, params=params, inner_score=float(search.best_score_),
                       table=table)


def fit_with_params(name: str, expression: pd.DataFrame, y: pd.Series, target_type: str, classes: Sequence[str],
                    params: Mapping[str, Any], *, seed: int = 0, n_jobs: int = 1) -> BaselineFit:
    """Fit one baseline with fixed (already chosen) parameters on all patients of ``y``; no search."""
    check_name(name)
    estimator, prefix = make_estimator(name, target_type, seed=seed, n_jobs=n_jobs)
    if params:
        _check_grid(name, target_type, {k: [v] for k, v in params.items()}, estimator, prefix)
    estimator = clone(estimator).set_params(**{prefix + k: v for k, v in params.items()})
    y = y.sort_index()
    y_np = y.to_numpy()
    estimator.fit(expression.loc[y.index].to_numpy(dtype=np.float64), y_np, **_fit_params(name, target_type, y_np))
    return BaselineFit(name=name, target_type=target_type, classes=list(classes), genes=list(expression.columns),
                       estimator=estimator, params=dict(params), inner_score=float("nan"))
