"""Kaplan-Meier, log-rank and Cox fits on groups joined to an endpoint by patient ID (lifelines), and the KM + log-rank
tables.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Hashable

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceWarning
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import median_survival_times

from radiogenomics.errors import InputError, log_dropped
from radiogenomics.evaluation.stats import benjamini_hochberg
from radiogenomics.survival.endpoints import ENDPOINT_COLUMNS

log = logging.getLogger(__name__)


KM_SUMMARY_COLUMNS = ["group", "n", "events", "median_days", "median_ci_low", "median_ci_high"]


LOGRANK_KEYS = ["test_statistic", "p", "df", "n", "n_groups", "note"]


LOGRANK_TABLE_COLUMNS = ["trait", "n", "n_groups", "events", "statistic", "p", "note", "fdr"]


COX_COLUMNS = ["covariate", "hr", "ci_low", "ci_high", "p", "note"]


KM_LOGRANK_COLUMNS = ["label", "grouping", "group", "n", "events", "median_days", "median_ci_low", "median_ci_high",
                      "logrank_statistic", "logrank_df", "logrank_p", "note"]


#: Newton-Raphson tolerances of lifelines' ``CoxPHFitter`` (its defaults, 1e-7 / 1e-9, stop about 1e-5 short of
#: the maximum; these reach R's ``coxph`` estimates to about 1e-10).
COX_FIT_OPTIONS = {"precision": 1e-12, "r_precision": 1e-14}


def _as_series(groups: pd.Series | pd.DataFrame, what: str = "groups") -> pd.Series:
    if isinstance(groups, pd.DataFrame):
        if groups.shape[1] != 1:
            raise InputError(None, f"{what} must be a Series or a one-column DataFrame, "
                                   f"got columns {list(groups.columns)}")
        groups = groups.iloc[:, 0]
    if not isinstance(groups, pd.Series):
        raise InputError(None, f"{what} must be a pandas Series indexed by patient, got {type(groups).__name__}")
    return groups


def check_unique(index: pd.Index, what: str) -> None:
    if not index.is_unique:
        dups = sorted(set(map(str, index[index.duplicated()])))
        raise InputError(None, f"{what} has duplicated patient IDs {dups[:5]} (cannot join by patient)")


def check_endpoint(endpoint: pd.DataFrame) -> None:
    missing = [c for c in ENDPOINT_COLUMNS if c not in endpoint.columns]
    if missing:
        raise InputError(None, f"endpoint lacks column(s) {missing}; build it with overall_survival()")
    check_unique(endpoint.index, "endpoint")


def join_groups(endpoint: pd.DataFrame, groups: pd.Series, *, quiet: bool = False) -> pd.DataFrame:
    """Join the endpoint and a group label per patient by patient ID (never by position).

    Returns the endpoint columns plus ``group``, indexed by ``patient`` and
    sorted by it. Logs how many patients of each side have no partner and
    how many joined patients had a missing (NaN) group and were dropped.
    ``quiet`` lowers these messages to DEBUG (for loops over many traits).
    """
    check_endpoint(endpoint)
    groups = _as_series(groups)
    check_unique(groups.index, "groups")
    level = logging.DEBUG if quiet else logging.INFO
    ep_ids = pd.Index(endpoint.index.map(str))
    gr_ids = pd.Index(groups.index.map(str))
    common = ep_ids.intersection(gr_ids).sort_values()
    name = groups.name if groups.name is not None else "groups"
    log.log(level, "join %s: %d patients in both; %d of %d endpoint patients have no group; "
                   "%d of %d grouped patients have no endpoint",
            name, len(common), len(ep_ids.difference(gr_ids)), len(ep_ids),
            len(gr_ids.difference(ep_ids)), len(gr_ids))
    ep = endpoint.set_axis(ep_ids).loc[common]
    gr = groups.set_axis(gr_ids).loc[common]
    joined = ep.copy()
    joined["group"] = gr.array
    n_na = int(joined["group"].isna().sum())
    if n_na:
        joined = joined.loc[joined["group"].notna()]
    log.log(level, "join %s: dropped %d of %d joined patients with a missing group", name, n_na, len(common))
    joined.index.name = "patient"
    return joined


def group_levels(values: pd.Series) -> list:
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna())
        return [c for c in values.cat.categories if c in present]
    uniq = list(pd.unique(values.dropna()))
    try:
        return sorted(uniq)
    except TypeError:
        return sorted(uniq, key=str)


def km_fit(endpoint: pd.DataFrame, groups: pd.Series) -> dict[Hashable, KaplanMeierFitter]:
    """One fitted Kaplan–Meier estimator per group (label = the group's name), in sorted group order."""
    data = join_groups(endpoint, groups)
    return _km_fit_joined(data)


def _km_fit_joined(data: pd.DataFrame) -> dict[Hashable, KaplanMeierFitter]:
    fitters: dict[Hashable, KaplanMeierFitter] = {}
    for g in group_levels(data["group"]):
        sub = data.loc[data["group"] == g]
        kmf = KaplanMeierFitter(label=str(g))
        kmf.fit(sub["time"], event_observed=sub["event"])
        fitters[g] = kmf
    return fitters


def _finite_or_nan(x) -> float:
    x = float(x)
    return x if np.isfinite(x) else float("nan")


def km_summary(endpoint: pd.DataFrame, groups: pd.Series) -> pd.DataFrame:
    """Per group: ``group``, ``n``, ``events``, ``median_days`` (NaN if not reached) and its 95% CI."""
    data = join_groups(endpoint, groups)
    fitters = _km_fit_joined(data)
    rows = []
    for g, kmf in fitters.items():
        sub = data.loc[data["group"] == g]
        ci = median_survival_times(kmf.confidence_interval_)
        rows.append({
            "group": g,
            "n": int(len(sub)),
            "events": int(sub["event"].sum()),
            "median_days": _finite_or_nan(kmf.median_survival_time_),
            "median_ci_low": _finite_or_nan(ci.iloc[0, 0]),
            "median_ci_high": _finite_or_nan(ci.iloc[0, 1]),
        })
    return pd.DataFrame(rows, columns=KM_SUMMARY_COLUMNS)


def logrank_joined(data: pd.DataFrame) -> dict:
    n = int(len(data))
    order = group_levels(data["group"])
    n_groups = len(order)
    result = {"test_statistic": float("nan"), "p": float("nan"), "df": float("nan"),
              "n": n, "n_groups": n_groups, "note": ""}
    if n_groups < 2:
        result["note"] = f"only {n_groups} group(s) with an endpoint: no comparison"
        return result
    sizes = data.groupby("group", observed=True)["event"].agg(["size", "sum"])
    small = [str(g) for g in order if sizes.loc[g, "size"] < 2]
    if small:
        result["note"] = f"fewer than 2 patients in group(s) {small}: test not computed"
        return result
    if int(data["event"].sum()) == 0:
        result["note"] = "no events (deaths) in any group: test not computed"
        return result
    res = multivariate_logrank_test(data["time"], data["group"].astype(str), data["event"])
    result["test_statistic"] = float(res.test_statistic)
    result["p"] = float(res.p_value)
    result["df"] = float(res.degrees_of_freedom)
    no_events = [str(g) for g in order if sizes.loc[g, "sum"] == 0]
    if no_events:
        result["note"] = f"no events in group(s) {no_events}"
    return result


def logrank(endpoint: pd.DataFrame, groups: pd.Series) -> dict:
    """Multivariate log-rank test of survival across groups.

    Returns ``test_statistic``, ``p``, ``df``, ``n`` (patients joined),
    ``n_groups`` and ``note``. With a single group, fewer than 2 patients in
    a group, or no events at all, the statistic and ``p`` are NaN and the
    note says why; no exception is raised for these cases.
    """
    return logrank_joined(join_groups(endpoint, groups))


def logrank_table(endpoint: pd.DataFrame, targets: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """One log-rank test per trait column of ``targets`` (joined by patient ID).

    Columns: ``trait``, ``n``, ``n_groups``, ``events``, ``statistic``, ``p``,
    ``note``, ``fdr`` (Benjamini–Hochberg across the rows that have a p).
    """
    absent = [c for c in columns if c not in targets.columns]
    if absent:
        raise InputError(None, f"targets lack the trait column(s) {absent}; it has {list(targets.columns)}")
    rows = []
    for col in columns:
        data = join_groups(endpoint, targets[col].rename(col), quiet=True)
        res = logrank_joined(data)
        log.info("log-rank %s: n=%d, groups=%d, events=%d, p=%.3g%s", col, res["n"], res["n_groups"],
                 int(data["event"].sum()), res["p"], f" ({res['note']})" if res["note"] else "")
        rows.append({"trait": col, "n": res["n"], "n_groups": res["n_groups"], "events": int(data["event"].sum()),
                     "statistic": res["test_statistic"], "p": res["p"], "note": res["note"]})
    table = pd.DataFrame(rows, columns=LOGRANK_TABLE_COLUMNS[:-1])
    table["fdr"] = benjamini_hochberg(table["p"].to_numpy(dtype=float))
    return table


def _design(covariates: pd.DataFrame, *, quiet: bool = False) -> tuple[pd.DataFrame, list[dict], dict[str, str]]:
    """Numeric design matrix: numeric columns as they are, others one-hot against a reference level.

    Returns the design, the rows for covariates dropped (one level only) and
    a note per design column (the reference level of a categorical one).
    """
    design = {}
    dropped: list[dict] = []
    notes: dict[str, str] = {}
    for col in covariates.columns:
        values = covariates[col]
        if pd.api.types.is_bool_dtype(values):
            values = values.astype(int)
        levels = group_levels(values)
        if len(levels) < 2:
            level_txt = f" ({levels[0]!r})" if levels else ""
            note = f"one level only{level_txt}: covariate dropped from the model"
            log.log(logging.DEBUG if quiet else logging.WARNING, "cox: covariate %s has %s", col, note)
            dropped.append({"covariate": str(col), "hr": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                            "p": np.nan, "note": note})
            continue
        if pd.api.types.is_numeric_dtype(values) and not isinstance(values.dtype, pd.CategoricalDtype):
            design[str(col)] = values.astype(float)
            notes[str(col)] = "per unit"
            continue
        if isinstance(values.dtype, pd.CategoricalDtype):
            reference = levels[0]
        else:
            counts = values.value_counts()
            reference = max(levels, key=lambda lv: (counts[lv], -levels.index(lv)))
        for level in [lv for lv in levels if lv != reference]:
            name = f"{col}={level}"
            design[name] = (values == level).astype(float)
            notes[name] = f"vs {col}={reference}"
    return pd.DataFrame(design, index=covariates.index), dropped, notes


@dataclass
class _CoxFit:
    """One Cox fit: table rows, partial log-likelihood at the estimate, parameter count and data size."""

    rows: list[dict]
    loglik: float
    n_params: int
    n: int
    events: int
    warnings: list[str] = field(default_factory=list)


def join_covariates(endpoint: pd.DataFrame, covariates: pd.DataFrame, *, quiet: bool = False
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Endpoint and covariates of the patients in both with every covariate present, sorted by patient ID."""
    check_endpoint(endpoint)
    check_unique(covariates.index, "covariates")
    clash = [c for c in covariates.columns if c in ENDPOINT_COLUMNS]
    if clash:
        raise InputError(None, f"covariate name(s) {clash} clash with the endpoint columns {ENDPOINT_COLUMNS}")
    ep_ids = pd.Index(endpoint.index.map(str))
    cv_ids = pd.Index(covariates.index.map(str))
    common = ep_ids.intersection(cv_ids).sort_values()
    level = logging.DEBUG if quiet else logging.INFO
    log.log(level, "cox: %d patients in both; %d endpoint patients have no covariates; %d covariate patients have "
                   "no endpoint", len(common), len(ep_ids.difference(cv_ids)), len(cv_ids.difference(ep_ids)))
    ep = endpoint[ENDPOINT_COLUMNS].set_axis(ep_ids).loc[common]
    cv = covariates.set_axis(cv_ids).loc[common]
    complete = cv.notna().all(axis=1)
    if not quiet:
        log_dropped(log, "cox: patients with a missing covariate", {"missing covariate": int((~complete).sum())},
                    total=len(common))
    return ep.loc[complete], cv.loc[complete]


def cox_joined(ep: pd.DataFrame, cv: pd.DataFrame, *, quiet: bool = False) -> _CoxFit:
    """Cox fit of joined, complete data; rows in the order of the covariate columns."""
    design, dropped, notes = _design(cv, quiet=quiet)
    rows = list(dropped)
    n, events = int(len(ep)), int(ep["event"].sum())
    if design.shape[1] == 0:
        log.log(logging.DEBUG if quiet else logging.WARNING,
                "cox: no covariate with two or more levels; no model fitted")
        return _CoxFit(rows=rows, loglik=float("nan"), n_params=0, n=n, events=events)
    if events == 0:
        raise InputError(None, "cox: no events among the patients with complete covariates; cannot fit a Cox model")
    data = pd.concat([ep, design], axis=1)
    cph = CoxPHFitter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        cph.fit(data, duration_col="time", event_col="event", fit_options=dict(COX_FIT_OPTIONS))
    messages = [" ".join(str(w.message).split())[:200] for w in caught if issubclass(w.category, ConvergenceWarning)]
    for w in caught:  # other warnings are not ours to swallow
        if not issubclass(w.category, ConvergenceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    for m in messages:
        log.log(logging.DEBUG if quiet else logging.WARNING, "cox: lifelines convergence warning: %s", m)
    summary = cph.summary
    log.log(logging.DEBUG if quiet else logging.INFO, "cox: fitted on %d patients, %d events, %d terms",
            n, events, design.shape[1])
    for name in design.columns:
        s = summary.loc[name]
        rows.append({"covariate": name, "hr": float(s["exp(coef)"]), "ci_low": float(s["exp(coef) lower 95%"]),
                     "ci_high": float(s["exp(coef) upper 95%"]), "p": float(s["p"]), "note": notes[name]})
    order = {name: i for i, name in enumerate(list(cv.columns.map(str)))}

    def _key(row: dict) -> int:
        name = row["covariate"]
        if name in order:
            return order[name]
        return order.get(name.split("=", 1)[0], len(order))

    rows.sort(key=_key)
    return _CoxFit(rows=rows, loglik=float(cph.log_likelihood_), n_params=int(design.shape[1]), n=n, events=events,
                   warnings=messages)


def cox_fit(endpoint: pd.DataFrame, covariates: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """Cox proportional-hazards fit (lifelines ``CoxPHFitter``, Efron ties) joined by patient ID.

    Numeric covariates enter as they are (hazard ratio per unit); other
    covariates are one-hot encoded against a reference level (the most
    frequent level, ties to the first in sorted order; the first category of
    a Categorical), named ``column=level``. Patients
    with a missing covariate are dropped (logged). A covariate with a single
    level is reported with NaN estimates and a note, and left out of the fit.

    Returns columns ``covariate``, ``hr``, ``ci_low``, ``ci_high`` (95%),
    ``p`` (Wald) and ``note``.
    """
    if isinstance(covariates, pd.Series):
        covariates = covariates.to_frame(covariates.name if covariates.name is not None else "covariate")
    ep, cv = join_covariates(endpoint, covariates)
    return pd.DataFrame(cox_joined(ep, cv).rows, columns=COX_COLUMNS)


def km_logrank_table(endpoint: pd.DataFrame, groups: pd.Series, *, label: str = "observed",
                     grouping: str | None = None) -> pd.DataFrame:
    """Tidy per-group table of a (multi-group) comparison: KM median survival per group and the log-rank test.

    ``groups`` (e.g. the molecular subtype) is joined to ``endpoint`` by
    patient ID. One row per group (sorted order; a Categorical's category
    order), columns ``label`` (e.g. ``observed`` / ``predicted``),
    ``grouping`` (the Series name unless given), ``group``, ``n``,
    ``events``, ``median_days`` (NaN when not reached), ``median_ci_low``,
    ``median_ci_high`` (95%), and the log-rank test across all groups
    repeated on every row: ``logrank_statistic``, ``logrank_df``,
    ``logrank_p`` and ``note`` (why the test is NaN, or groups without
    events). No patient joined gives an empty table (logged).
    """
    groups = _as_series(groups)
    name = grouping if grouping is not None else (str(groups.name) if groups.name is not None else "groups")
    data = join_groups(endpoint, groups.rename(name))
    test = logrank_joined(data)
    rows = []
    for g, kmf in _km_fit_joined(data).items():
        sub = data.loc[data["group"] == g]
        ci = median_survival_times(kmf.confidence_interval_)
        rows.append({"label": label, "grouping": name, "group": g, "n": int(len(sub)),
                     "events": int(sub["event"].sum()),
                     "median_days": _finite_or_nan(kmf.median_survival_time_),
                     "median_ci_low": _finite_or_nan(ci.iloc[0, 0]), "median_ci_high": _finite_or_nan(ci.iloc[0, 1]),
                     "logrank_statistic": test["test_statistic"], "logrank_df": test["df"],
                     "logrank_p": test["p"], "note": test["note"]})
    if not rows:
        log.warning("KM table %s (%s): no patient has both an endpoint and a group", name, label)
    log.info("KM table %s (%s): %d groups, %d patients, log-rank p = %.3g%s", name, label, len(rows), test["n"],
             test["p"], f" ({test['note']})" if test["note"] else "")
    return pd.DataFrame(rows, columns=KM_LOGRANK_COLUMNS)


def predicted_trait_survival(endpoint: pd.DataFrame, predicted: pd.Series, *, observed: pd.Series | None = None,
                             exclude_observed: bool = True, grouping: str | None = None) -> pd.DataFrame:
    """Survival by a network-predicted trait (patients with expression but no imaging), beside the observed trait.

    ``predicted`` holds the predicted class per patient (index = patient),
    e.g. of the necrosis network for the patients without MR annotation.
    With ``observed`` (the annotated trait) and ``exclude_observed`` (the
    default), patients that also have an observed value are left out of the
    predicted rows, so the predicted comparison is independent of the
    annotated one (logged). Returns the rows of :func:`km_logrank_table`
    labelled ``predicted`` (then ``observed`` when given).
    """
    predicted = _as_series(predicted, "predicted")
    check_unique(predicted.index, "predicted")
    name = grouping if grouping is not None else (str(predicted.name) if predicted.name is not None else "trait")
    predicted = predicted.set_axis(pd.Index(predicted.index.map(str), name="patient"))
    parts = []
    if observed is not None:
        observed = _as_series(observed, "observed")
        check_unique(observed.index, "observed")
        observed = observed.set_axis(pd.Index(observed.index.map(str), name="patient"))
        if exclude_observed:
            both = predicted.index.intersection(observed.index[observed.notna()])
            log.info("predicted %s: %d of %d patients with a prediction also have an observed value and are left "
                     "out of the predicted comparison", name, len(both), len(predicted))
            predicted = predicted.drop(both)
    parts.append(km_logrank_table(endpoint, predicted, label="predicted", grouping=name))
    if observed is not None:
        parts.append(km_logrank_table(endpoint, observed, label="observed", grouping=name))
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
