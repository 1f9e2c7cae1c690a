"""Overall survival by imaging trait: endpoint, Kaplan–Meier, log-rank and Cox fits.

The endpoint is built from a TCGA clinical table indexed by patient (as
returned by ``parsers.read_clinical_biotab``: string values, bracketed
missing values already NaN). Every patient that cannot be given an endpoint
is listed in a problems table with the reason; nothing is dropped silently.
Groups (imaging traits) are always joined to the endpoint by patient ID,
never by position, so row order never changes a result.

Fits use lifelines: ``KaplanMeierFitter``, ``multivariate_logrank_test`` and
``CoxPHFitter`` (Efron ties, lifelines' default).
"""

from __future__ import annotations

import logging
from typing import Hashable, Sequence

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import median_survival_times

from .files import InputError, log_dropped
from .stats import benjamini_hochberg

log = logging.getLogger(__name__)

ENDPOINT_COLUMNS = ["time", "event"]
COVARIATE_COLUMNS = ["age", "gender", "race"]
PROBLEM_COLUMNS = ["patient", "problem"]
KM_SUMMARY_COLUMNS = ["group", "n", "events", "median_days", "median_ci_low", "median_ci_high"]
LOGRANK_KEYS = ["test_statistic", "p", "df", "n", "n_groups", "note"]
LOGRANK_TABLE_COLUMNS = ["trait", "n", "n_groups", "events", "statistic", "p", "note", "fdr"]
COX_COLUMNS = ["covariate", "hr", "ci_low", "ci_high", "p", "note"]

# Column names of the current Biotab table first, then the legacy short names.
_VITAL_COLUMNS = ("vital_status",)
_DEATH_COLUMNS = ("death_days_to", "days_to_death")
_LAST_CONTACT_COLUMNS = ("last_contact_days_to", "days_to_last_followup")
_AGE_COLUMNS = ("age_at_initial_pathologic_diagnosis", "age_at_diagnosis")
_GENDER_COLUMNS = ("gender",)
_RACE_COLUMNS = ("race",)

_DEAD = {"dead", "deceased"}
_ALIVE = {"alive", "living"}


def _find_column(df: pd.DataFrame, candidates: Sequence[str]) -> str | None:
    for name in candidates:
        if name in df.columns:
            return name
    return None


def _clean_text(values: pd.Series) -> pd.Series:
    """Strip strings; empty strings and bracketed markers (``[Not Available]``) become NaN."""
    out = values.astype("object").where(values.notna(), None)
    out = out.map(lambda v: v.strip() if isinstance(v, str) else v)
    is_missing = out.map(lambda v: v is None or (isinstance(v, str) and (v == "" or (v.startswith("[") and v.endswith("]"))))
                         or (isinstance(v, float) and np.isnan(v)))
    return out.where(~is_missing, np.nan)


def _race_group(value) -> str:
    if not isinstance(value, str):
        return "unknown"
    v = value.strip().lower()
    if v == "white":
        return "white"
    if v in {"", "unknown", "not reported", "not available"}:
        return "unknown"
    return "non-white"


def overall_survival(clinical: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Overall-survival endpoint of each patient and the patients that have none.

    Parameters
    ----------
    clinical
        Clinical table indexed by patient with ``vital_status`` (Dead/Alive),
        ``death_days_to`` and ``last_contact_days_to`` (legacy
        ``days_to_death`` / ``days_to_last_followup`` are accepted), and
        optionally ``age_at_initial_pathologic_diagnosis``, ``gender``, ``race``.

    Returns
    -------
    endpoint
        Indexed by ``patient``: ``time`` (days; days to death for dead
        patients, days to last contact for living ones), ``event`` (1 dead,
        0 alive) and, when the clinical table has them, ``age`` (float),
        ``gender`` (lower case) and ``race`` (``white`` / ``non-white`` /
        ``unknown``).
    problems
        Columns ``patient``, ``problem``: one row per excluded patient and why
        (missing or unrecognised vital status, missing / non-numeric /
        negative time, duplicated patient ID).

    Raises
    ------
    InputError
        When the table lacks a column the endpoint needs (a whole-table
        problem); per-patient problems never raise.
    """
    vital_col = _find_column(clinical, _VITAL_COLUMNS)
    death_col = _find_column(clinical, _DEATH_COLUMNS)
    contact_col = _find_column(clinical, _LAST_CONTACT_COLUMNS)
    missing = [names[0] for names, col in ((_VITAL_COLUMNS, vital_col), (_DEATH_COLUMNS, death_col),
                                           (_LAST_CONTACT_COLUMNS, contact_col)) if col is None]
    if missing:
        raise InputError(None, f"clinical table lacks the column(s) {missing} needed for overall survival; "
                               f"it has {list(clinical.columns)[:20]}")

    index = pd.Index([str(p).strip() for p in clinical.index], name="patient")
    vital = _clean_text(clinical[vital_col]).set_axis(index)
    death_raw = _clean_text(clinical[death_col]).set_axis(index)
    contact_raw = _clean_text(clinical[contact_col]).set_axis(index)

    problems: list[tuple[str, str]] = []
    duplicated = index.duplicated(keep=False)
    dup_ids = sorted(set(index[duplicated]))
    for pid in dup_ids:
        problems.append((pid, "duplicated patient ID in the clinical table (ambiguous endpoint)"))

    records: dict[str, dict] = {}
    lapsed_contact = 0
    for pos, pid in enumerate(index):
        if duplicated[pos]:
            continue
        status = vital.iloc[pos]
        if not isinstance(status, str):
            problems.append((pid, "missing vital status"))
            continue
        status_l = status.lower()
        if status_l in _DEAD:
            event, col, raw = 1, death_col, death_raw.iloc[pos]
        elif status_l in _ALIVE:
            event, col, raw = 0, contact_col, contact_raw.iloc[pos]
        else:
            problems.append((pid, f"unrecognised vital status {status!r} (expected Dead or Alive)"))
            continue
        if raw is None or (isinstance(raw, float) and np.isnan(raw)):
            problems.append((pid, f"missing time: {col} is missing for a patient with vital status {status}"))
            continue
        try:
            t = float(raw)
        except (TypeError, ValueError):
            problems.append((pid, f"non-numeric time: {col} = {raw!r}"))
            continue
        if not np.isfinite(t):
            problems.append((pid, f"non-numeric time: {col} = {raw!r}"))
            continue
        if t < 0:
            problems.append((pid, f"negative time: {col} = {raw!r}"))
            continue
        if event == 1:
            try:
                contact = float(contact_raw.iloc[pos])
            except (TypeError, ValueError):
                contact = np.nan
            if np.isfinite(contact) and contact > t:
                lapsed_contact += 1
        records[pid] = {"time": t, "event": event}

    endpoint = pd.DataFrame.from_dict(records, orient="index", columns=ENDPOINT_COLUMNS)
    endpoint.index.name = "patient"
    endpoint["time"] = endpoint["time"].astype(float)
    endpoint["event"] = endpoint["event"].astype(int)

    kept = endpoint.index
    first = ~index.duplicated(keep="first")
    age_col = _find_column(clinical, _AGE_COLUMNS)
    if age_col is not None:
        age = pd.to_numeric(_clean_text(clinical[age_col]).set_axis(index)[first], errors="coerce")
        endpoint["age"] = age.reindex(kept).astype(float)
        n_na = int(endpoint["age"].isna().sum())
        if n_na:
            log.info("overall survival: age missing or non-numeric for %d of %d patients (kept, age NaN)", n_na, len(kept))
    gender_col = _find_column(clinical, _GENDER_COLUMNS)
    if gender_col is not None:
        gender = _clean_text(clinical[gender_col]).set_axis(index)[first]
        endpoint["gender"] = gender.reindex(kept).map(lambda v: v.lower() if isinstance(v, str) else np.nan)
    race_col = _find_column(clinical, _RACE_COLUMNS)
    if race_col is not None:
        race = _clean_text(clinical[race_col]).set_axis(index)[first]
        endpoint["race"] = race.reindex(kept).map(_race_group)

    problem_table = pd.DataFrame(problems, columns=PROBLEM_COLUMNS)
    reasons = problem_table["problem"].str.split(":").str[0].str.split(" \\(").str[0] if len(problem_table) else pd.Series(dtype=str)
    log_dropped(log, "overall survival endpoint", reasons.value_counts().to_dict() if len(reasons) else {}, total=len(index))
    log.info("overall survival: %d patients with an endpoint, %d events (dead), %d censored (alive)",
             len(endpoint), int(endpoint["event"].sum()), int((endpoint["event"] == 0).sum()))
    if lapsed_contact:
        log.info("overall survival: %d dead patients have a last contact after the death day (death day used)",
                 lapsed_contact)
    return endpoint, problem_table


def _as_series(groups: pd.Series | pd.DataFrame, what: str = "groups") -> pd.Series:
    if isinstance(groups, pd.DataFrame):
        if groups.shape[1] != 1:
            raise InputError(None, f"{what} must be a Series or a one-column DataFrame, got columns {list(groups.columns)}")
        groups = groups.iloc[:, 0]
    if not isinstance(groups, pd.Series):
        raise InputError(None, f"{what} must be a pandas Series indexed by patient, got {type(groups).__name__}")
    return groups


def _check_unique(index: pd.Index, what: str) -> None:
    if not index.is_unique:
        dups = sorted(set(map(str, index[index.duplicated()])))
        raise InputError(None, f"{what} has duplicated patient IDs {dups[:5]} (cannot join by patient)")


def _check_endpoint(endpoint: pd.DataFrame) -> None:
    missing = [c for c in ENDPOINT_COLUMNS if c not in endpoint.columns]
    if missing:
        raise InputError(None, f"endpoint lacks column(s) {missing}; build it with overall_survival()")
    _check_unique(endpoint.index, "endpoint")


def join_groups(endpoint: pd.DataFrame, groups: pd.Series, *, quiet: bool = False) -> pd.DataFrame:
    """Join the endpoint and a group label per patient by patient ID (never by position).

    Returns the endpoint columns plus ``group``, indexed by ``patient`` and
    sorted by it. Logs how many patients of each side have no partner and
    how many joined patients had a missing (NaN) group and were dropped.
    ``quiet`` lowers these messages to DEBUG (for loops over many traits).
    """
    _check_endpoint(endpoint)
    groups = _as_series(groups)
    _check_unique(groups.index, "groups")
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


def _group_order(values: pd.Series) -> list:
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
    for g in _group_order(data["group"]):
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


def _logrank_joined(data: pd.DataFrame) -> dict:
    n = int(len(data))
    order = _group_order(data["group"])
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
    return _logrank_joined(join_groups(endpoint, groups))



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
        res = _logrank_joined(data)
        log.info("log-rank %s: n=%d, groups=%d, events=%d, p=%.3g%s", col, res["n"], res["n_groups"],
                 int(data["event"].sum()), res["p"], f" ({res['note']})" if res["note"] else "")
        rows.append({"trait": col, "n": res["n"], "n_groups": res["n_groups"], "events": int(data["event"].sum()),
                     "statistic": res["test_statistic"], "p": res["p"], "note": res["note"]})
    table = pd.DataFrame(rows, columns=LOGRANK_TABLE_COLUMNS[:-1])
    table["fdr"] = benjamini_hochberg(table["p"].to_numpy(dtype=float))
    return table


def _design(covariates: pd.DataFrame) -> tuple[pd.DataFrame, list[dict], dict[str, str]]:
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
        levels = _group_order(values)
        if len(levels) < 2:
            level_txt = f" ({levels[0]!r})" if levels else ""
            note = f"one level only{level_txt}: covariate dropped from the model"
            log.warning("cox: covariate %s has %s", col, note)
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


def cox_fit(endpoint: pd.DataFrame, covariates: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """Cox proportional-hazards fit (lifelines ``CoxPHFitter``, Efron ties) joined by patient ID.

    Numeric covariates enter as they are (hazard ratio per unit); other
    covariates are one-hot encoded against a reference level (the most
    frequent level, ties to the first in sorted order; the first category of
    a Categorical), named ``column=level``. Patients
    with a missing covariate are dropped (logged). A covariate with a single
    level is reported with NaN estimates and a note, and left out of the fit.

    Returns columns ``covariate``, ``hr``, ``ci_low``, ``ci_high`` (95%),
    ``p`` and ``note``.
    """
    _check_endpoint(endpoint)
    if isinstance(covariates, pd.Series):
        covariates = covariates.to_frame(covariates.name if covariates.name is not None else "covariate")
    _check_unique(covariates.index, "covariates")
    clash = [c for c in covariates.columns if c in ENDPOINT_COLUMNS]
    if clash:
        raise InputError(None, f"covariate name(s) {clash} clash with the endpoint columns {ENDPOINT_COLUMNS}")
    ep_ids = pd.Index(endpoint.index.map(str))
    cv_ids = pd.Index(covariates.index.map(str))
    common = ep_ids.intersection(cv_ids).sort_values()
    log.info("cox: %d patients in both; %d endpoint patients have no covariates; %d covariate patients have no endpoint",
             len(common), len(ep_ids.difference(cv_ids)), len(cv_ids.difference(ep_ids)))
    ep = endpoint[ENDPOINT_COLUMNS].set_axis(ep_ids).loc[common]
    cv = covariates.set_axis(cv_ids).loc[common]
    complete = cv.notna().all(axis=1)
    log_dropped(log, "cox: patients with a missing covariate", {"missing covariate": int((~complete).sum())},
                total=len(common))
    ep, cv = ep.loc[complete], cv.loc[complete]

    design, dropped, notes = _design(cv)
    rows = list(dropped)
    if design.shape[1] == 0:
        log.warning("cox: no covariate with two or more levels; no model fitted")
        return pd.DataFrame(rows, columns=COX_COLUMNS)
    if int(ep["event"].sum()) == 0:
        raise InputError(None, "cox: no events among the patients with complete covariates; cannot fit a Cox model")
    data = pd.concat([ep, design], axis=1)
    cph = CoxPHFitter()
    cph.fit(data, duration_col="time", event_col="event")
    summary = cph.summary
    log.info("cox: fitted on %d patients, %d events, %d terms", len(data), int(ep["event"].sum()), design.shape[1])
    for name in design.columns:
        s = summary.loc[name]
        rows.append({"covariate": name, "hr": float(s["exp(coef)"]), "ci_low": float(s["exp(coef) lower 95%"]),
                     "ci_high": float(s["exp(coef) upper 95%"]), "p": float(s["p"]), "note": notes[name]})
    order = {name: i for i, name in enumerate(list(covariates.columns.map(str)))}

    def _key(row: dict) -> int:
        base = row["covariate"].split("=", 1)[0]
        return order.get(base, len(order))

    rows.sort(key=_key)
    return pd.DataFrame(rows, columns=COX_COLUMNS)
