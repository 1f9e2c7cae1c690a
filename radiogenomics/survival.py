"""Survival endpoints, Kaplan–Meier, log-rank and Cox fits, radiogenomic traits and stepwise selection.

Endpoints are built from a TCGA clinical table indexed by patient (as
returned by ``parsers.read_clinical_biotab``: string values, bracketed
missing values already NaN), optionally completed by the other Biotab tables
(follow-ups, drugs, radiation, new tumour events; see
:func:`read_biotab_records`). Every patient that cannot be given an endpoint
is listed in a problems table with the reason; nothing is dropped silently.
Groups (imaging traits, subtypes, radiogenomic traits) are always joined to
the endpoint by patient ID, never by position, so row order never changes a
result.

Fits use lifelines: ``KaplanMeierFitter``, ``multivariate_logrank_test`` and
``CoxPHFitter`` (Efron ties, lifelines' only method and R's ``coxph``
default). ``tests/test_survival_r.py`` checks the log-rank statistic and the
Cox fit against R's ``survival`` package, and the stepwise AIC paths
(forward, backward, both) against R's ``step``.
"""

from __future__ import annotations

import csv
import logging
import os
import re
import warnings
from dataclasses import dataclass, field
from typing import Hashable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import median_survival_times

from . import parsers
from .files import InputError, log_dropped
from .survival_config import RADIOGENOMIC_MIN_CARRIERS, RADIOGENOMIC_MIN_NON_CARRIERS
from .survival_config import check_minimums as _check_minimums
from .stats import benjamini_hochberg

log = logging.getLogger(__name__)

ENDPOINT_COLUMNS = ["time", "event"]
COVARIATE_COLUMNS = ["age", "age_group", "gender", "race", "karnofsky"]
PROBLEM_COLUMNS = ["patient", "problem"]
KM_SUMMARY_COLUMNS = ["group", "n", "events", "median_days", "median_ci_low", "median_ci_high"]
LOGRANK_KEYS = ["test_statistic", "p", "df", "n", "n_groups", "note"]
LOGRANK_TABLE_COLUMNS = ["trait", "n", "n_groups", "events", "statistic", "p", "note", "fdr"]
COX_COLUMNS = ["covariate", "hr", "ci_low", "ci_high", "p", "note"]
KM_LOGRANK_COLUMNS = ["label", "grouping", "group", "n", "events", "median_days", "median_ci_low", "median_ci_high",
                      "logrank_statistic", "logrank_df", "logrank_p", "note"]
RADIOGENOMIC_TEST_COLUMNS = ["trait", "network", "set", "status", "n", "n_carriers", "n_non_carriers", "events",
                             "carrier_events", "logrank_statistic", "logrank_p", "logrank_fdr", "n_cox", "hr",
                             "ci_low", "ci_high", "cox_p", "cox_fdr", "note"]
#: Radiogenomic traits not tested because too few patients carry them, or too few do not.
RADIOGENOMIC_SKIPPED_COLUMNS = ["trait", "network", "set", "n_assessed", "n_carriers", "n_non_carriers", "reason"]
STEPWISE_PATH_COLUMNS = ["step", "action", "term", "aic_before", "aic_after", "loglik", "n_params", "note"]
STEPWISE_DIRECTIONS = ("both", "backward", "forward")
#: Stated on every row of the final stepwise model: its p-values and intervals ignore the selection.
POST_SELECTION_NOTE = ("post-selection: p and 95% CI are from the selected model refitted as if it had been chosen "
                       "in advance; after stepwise selection they are not valid inference")
STEPWISE_FINAL_COLUMNS = COX_COLUMNS + ["role", "inference"]
#: Separator of the network (imaging trait) and the gene set in a radiogenomic trait name.
RADIOGENOMIC_SEPARATOR = "|"

# Column names of the current Biotab tables first, then the legacy short names.
_VITAL_COLUMNS = ("vital_status",)
_DEATH_COLUMNS = ("death_days_to", "days_to_death")
_LAST_CONTACT_COLUMNS = ("last_contact_days_to", "days_to_last_followup")
_AGE_COLUMNS = ("age_at_initial_pathologic_diagnosis", "age_at_diagnosis")
_GENDER_COLUMNS = ("gender",)
_RACE_COLUMNS = ("race",)
_KARNOFSKY_COLUMNS = ("karnofsky_score", "karnofsky_performance_score")
_PATIENT_ID_COLUMNS = ("bcr_patient_barcode", "patient")
#: Day of a new tumour event (progression / recurrence) after the initial diagnosis.
_NTE_DAY_COLUMNS = ("new_tumor_event_dx_days_to", "days_to_new_tumor_event_after_initial_treatment")
#: Yes/no flag of a new tumour event (a YES with no day is a problem for progression-free survival).
_NTE_INDICATOR_COLUMNS = ("new_tumor_event_dx_indicator", "new_tumor_event_after_initial_treatment")
_NTE_TYPE_COLUMNS = ("new_tumor_event_type",)
#: Start / end days of drug and radiation treatment (Biotab drug and radiation tables, current and legacy
#: names, e.g. ``pharmaceutical_tx_started_days_to``, ``radiation_therapy_ended_days_to``,
#: ``days_to_drug_therapy_start``): the patient was known to be alive on that day.
_TREATMENT_DAY_RE = re.compile(r"^(?:(?:pharmaceutical|drug|radiation)[a-z0-9_]*_days_to"
                               r"|days_to_(?:drug|radiation)[a-z0-9_]*)$")

_DEAD = {"dead", "deceased"}
_ALIVE = {"alive", "living"}
_YES = {"yes", "true", "1"}
_BRACKETED_RE = re.compile(r"^\[.*\]$")

#: Newton-Raphson tolerances of lifelines' ``CoxPHFitter`` (its defaults, 1e-7 / 1e-9, stop about 1e-5 short of
#: the maximum; these reach R's ``coxph`` estimates to about 1e-10).
COX_FIT_OPTIONS = {"precision": 1e-12, "r_precision": 1e-14}

#: AIC differences at most this large are ties (broken by the candidates' column order).
AIC_TOLERANCE = 1e-8


def _find_column(df: pd.DataFrame, candidates: Sequence[str]) -> str | None:
    for name in candidates:
        if name in df.columns:
            return name
    return None


def _clean_text(values: pd.Series) -> pd.Series:
    """Strip strings; empty strings and bracketed markers (``[Not Available]``) become NaN."""
    out = values.astype("object").where(values.notna(), None)
    out = out.map(lambda v: v.strip() if isinstance(v, str) else v)
    is_missing = out.map(lambda v: v is None
                         or (isinstance(v, str) and (v == "" or (v.startswith("[") and v.endswith("]"))))
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


# --------------------------------------------------------------------------- endpoints


def read_biotab_records(path: str | os.PathLike) -> pd.DataFrame:
    """Read a TCGA Biotab table that may hold several rows per patient.

    For the follow-up (``clinical_follow_up_v1.0_gbm``), drug, radiation and
    new-tumour-event (``clinical_nte_gbm``) tables, which
    ``parsers.read_clinical_biotab`` rejects because a patient has several
    records. Format as the patient table: tab-separated, three header rows
    (column names, short names, a row of ``CDE_ID:`` codes), then one record
    per row; ``bcr_patient_barcode`` names the patient.

    Returns one row per record (file order, default index): ``patient`` (the
    stripped barcode) first, then the other columns as strings; bracketed
    values (``[Not Available]``) and empty cells are NaN.

    Raises
    ------
    InputError
        A missing file, fewer than three header rows, no
        ``bcr_patient_barcode`` column, or a row with the wrong number of
        fields (row named).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(path, "file not found")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = [next(reader, None) for _ in range(3)]
        if any(h is None for h in header) or not header[2] or not header[2][0].startswith("CDE_ID:"):
            raise InputError(path, "expected three header rows (column names, short names, and a row of 'CDE_ID:' "
                                   "codes)", row=3)
        names = [c.strip() for c in header[0]]
        if "bcr_patient_barcode" not in names:
            raise InputError(path, "missing required column 'bcr_patient_barcode'", column="bcr_patient_barcode")
        records = []
        lines = []
        for line, record in enumerate(reader, start=4):
            if not record or all(not c.strip() for c in record):
                continue
            if len(record) != len(names):
                raise InputError(path, f"expected {len(names)} tab-separated fields, found {len(record)}", row=line)
            records.append([np.nan if (c := cell.strip()) == "" or _BRACKETED_RE.match(c) else c for cell in record])
            lines.append(line)
    df = pd.DataFrame(records, columns=names, dtype=object)
    if parsers.VITAL_STATUS_COLUMN in df.columns:  # one rule with the clinical table and a plain survival table
        parsers.check_vital_status(df[parsers.VITAL_STATUS_COLUMN].to_numpy(), lines, path)
    df.insert(0, "patient", df.pop("bcr_patient_barcode").map(lambda v: v.strip() if isinstance(v, str) else v))
    log.info("%s: %d records of %d patients, %d columns", path, len(df), df["patient"].nunique(), df.shape[1])
    return df


def _table_patients(table: pd.DataFrame) -> pd.Index:
    """Patient IDs of each row: the ``bcr_patient_barcode`` or ``patient`` column, else the index."""
    col = _find_column(table, _PATIENT_ID_COLUMNS)
    raw = table[col].to_numpy(dtype=object) if col is not None else table.index.to_numpy(dtype=object)
    return pd.Index([str(v).strip() if isinstance(v, str) or not pd.isna(v) else "" for v in raw], name="patient")


def _numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numeric values (NaN when missing or not a number) and a mask of the non-numeric, non-missing ones."""
    clean = _clean_text(values)
    num = pd.to_numeric(clean, errors="coerce").astype(float)
    num = num.where(np.isfinite(num), np.nan)
    return num, num.isna() & clean.notna()


@dataclass
class _Extra:
    """What the extra Biotab tables say per patient (day lists hold (day, 'table k: column'))."""

    first_table: dict[str, str] = field(default_factory=dict)
    status: dict[str, set] = field(default_factory=dict)
    death: dict[str, list] = field(default_factory=dict)
    contact: dict[str, list] = field(default_factory=dict)
    activity: dict[str, list] = field(default_factory=dict)
    progression: dict[str, list] = field(default_factory=dict)
    progression_flag: dict[str, set] = field(default_factory=dict)
    negative_contact: dict[str, list] = field(default_factory=dict)
    negative_progression: dict[str, list] = field(default_factory=dict)
    non_numeric: dict[str, list] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, store: dict, pid: str, value) -> None:
        store.setdefault(pid, []).append(value)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


def _as_table_list(tables, what: str) -> list[pd.DataFrame]:
    if tables is None:
        return []
    if isinstance(tables, pd.DataFrame):
        return [tables]
    out = list(tables)
    for i, t in enumerate(out, start=1):
        if not isinstance(t, pd.DataFrame):
            raise InputError(None, f"{what} table {i} is a {type(t).__name__}, expected a pandas DataFrame")
    return out


def _collect_extra(tables: list[pd.DataFrame], kind: str, extra: _Extra) -> None:
    """Read the day columns of follow-up / drug / radiation (``kind='follow_up'``) or new-tumour-event tables."""
    for k, table in enumerate(tables, start=1):
        name = f"{kind} table {k}"
        ids = _table_patients(table)
        if (ids == "").any():
            raise InputError(None, f"{name}: {int((ids == '').sum())} row(s) without a patient ID")
        for pid in ids:
            extra.first_table.setdefault(pid, name)
        used: list[str] = []
        vital_col = _find_column(table, _VITAL_COLUMNS)
        if vital_col is not None:
            used.append(vital_col)
            for pid, v in zip(ids, _clean_text(table[vital_col])):
                if isinstance(v, str):
                    s = v.lower()
                    if s in _DEAD or s in _ALIVE:
                        extra.status.setdefault(pid, set()).add("dead" if s in _DEAD else "alive")
                    else:  # the readers stop on this already; tables built in code get the same rule
                        raise InputError(None, f"{name}: unrecognised vital status {v!r} for patient {pid} "
                                               "(expected Dead or Alive)", row=pid, column=vital_col)
        type_col = _find_column(table, _NTE_TYPE_COLUMNS)
        new_primary = (_clean_text(table[type_col]).map(lambda v: isinstance(v, str) and "new primary" in v.lower())
                       .to_numpy(dtype=bool) if type_col is not None else np.zeros(len(table), dtype=bool))
        if type_col is not None:
            used.append(type_col)
            extra.count(f"new primary tumour records not counted as progression ({name})", int(new_primary.sum()))
        if kind == "new_tumor_events":
            for pid, np_row in zip(ids, new_primary):
                if not np_row:
                    extra.progression_flag.setdefault(pid, set()).add(f"a record in {name}")
        for col in table.columns:
            if col in _PATIENT_ID_COLUMNS:
                continue
            if col in _NTE_INDICATOR_COLUMNS:
                used.append(col)
                for pid, v in zip(ids, _clean_text(table[col])):
                    if isinstance(v, str) and v.lower() in _YES:
                        extra.progression_flag.setdefault(pid, set()).add(f"{col} = {v} in {name}")
                continue
            if col in _DEATH_COLUMNS:
                role = "death"
            elif col in _LAST_CONTACT_COLUMNS:
                role = "contact"
            elif col in _NTE_DAY_COLUMNS:
                role = "nte"
            elif _TREATMENT_DAY_RE.match(str(col)):
                role = "treatment"
            else:
                continue
            used.append(col)
            days, bad = _numbers(table[col])
            where = f"{name}: {col}"
            raw_values = table[col].to_numpy(dtype=object)
            for pid, day, is_bad, np_row, raw in zip(ids, days, bad, new_primary, raw_values):
                if is_bad:
                    extra.add(extra.non_numeric, pid, f"{where} = {raw!r}")
                    continue
                if not np.isfinite(day):
                    continue
                if role == "death":
                    extra.add(extra.death, pid, (day, where))
                elif role == "contact":
                    if day < 0:
                        extra.add(extra.negative_contact, pid, f"{where} = {day:g}")
                    else:
                        extra.add(extra.contact, pid, (day, where))
                elif day < 0:
                    if role == "nte" and not np_row:
                        extra.add(extra.negative_progression, pid, f"{where} = {day:g}")
                    else:
                        extra.count("negative treatment / new-tumour-event days (before diagnosis; not a follow-up "
                                    "time)")
                else:
                    extra.add(extra.activity, pid, (day, where))
                    if role == "nte" and not np_row:
                        extra.add(extra.progression, pid, (day, where))
        log.info("%s: %d rows of %d patients; columns read: %s", name, len(table), ids.nunique(), used or "none")


@dataclass
class _Base:
    """Per-patient overall-survival facts from the clinical table and the extra tables."""

    index: pd.Index
    first: np.ndarray
    os: dict[str, dict]
    os_problems: dict[str, str]
    death_day: dict[str, float]
    extra: _Extra
    clinical_only: list[str]


def _survival_base(clinical: pd.DataFrame, follow_up, new_tumor_events=None) -> _Base:
    vital_col = _find_column(clinical, _VITAL_COLUMNS)
    death_col = _find_column(clinical, _DEATH_COLUMNS)
    contact_col = _find_column(clinical, _LAST_CONTACT_COLUMNS)
    missing = [names[0] for names, col in ((_VITAL_COLUMNS, vital_col), (_DEATH_COLUMNS, death_col),
                                           (_LAST_CONTACT_COLUMNS, contact_col)) if col is None]
    if missing:
        raise InputError(None, f"clinical table lacks the column(s) {missing} needed for the survival endpoint; "
                               f"it has {list(clinical.columns)[:20]}")
    extra = _Extra()
    fu_tables = _as_table_list(follow_up, "follow-up")
    _collect_extra(fu_tables, "follow_up", extra)
    _collect_extra(_as_table_list(new_tumor_events, "new tumour event"), "new_tumor_events", extra)
    for reason, n in sorted(extra.counts.items()):
        if n:
            log.info("extra clinical tables: %d %s", n, reason)

    index = pd.Index([str(p).strip() for p in clinical.index], name="patient")
    vital = _clean_text(clinical[vital_col]).set_axis(index)
    death_raw = _clean_text(clinical[death_col]).set_axis(index)
    contact_raw = _clean_text(clinical[contact_col]).set_axis(index)
    duplicated = index.duplicated(keep=False)

    os_records: dict[str, dict] = {}
    problems: dict[str, str] = {}
    death_day: dict[str, float] = {}
    for pid in sorted(set(index[duplicated])):
        problems[pid] = "duplicated patient ID in the clinical table (ambiguous endpoint)"
    tally = {"lapsed": 0, "extended": 0, "ignored_death_days": 0}
    for pos, pid in enumerate(index):
        if duplicated[pos]:
            continue
        for what in extra.non_numeric.get(pid, []):
            log.warning("patient %s: non-numeric day ignored (%s)", pid, what)
        status = vital.iloc[pos]
        statuses = set(extra.status.get(pid, set()))
        if isinstance(status, str):
            s = status.lower()
            if s in _DEAD or s in _ALIVE:
                statuses.add("dead" if s in _DEAD else "alive")
            else:  # parsers.read_clinical_biotab stops on this already; tables built in code get the same rule
                raise InputError(None, f"clinical table: unrecognised vital status {status!r} for patient {pid} "
                                       "(expected Dead or Alive)", row=pid, column=vital_col)
        if not statuses:
            problems[pid] = "missing vital status"
            continue
        if "dead" in statuses:
            raw = death_raw.iloc[pos]
            days: list[tuple[float, str]] = []
            if isinstance(raw, str) or (raw is not None and not pd.isna(raw)):
                try:
                    t = float(raw)
                except (TypeError, ValueError):
                    t = float("nan")
                if not np.isfinite(t):
                    problems[pid] = f"non-numeric time: {death_col} = {raw!r}"
                    continue
                days.append((t, f"clinical: {death_col}"))
            days += extra.death.get(pid, [])
            if not days:
                problems[pid] = (f"missing time: {death_col} is missing for a patient with vital status Dead"
                                 + (" (nor in the follow-up tables)" if fu_tables else ""))
                continue
            distinct = sorted({d for d, _ in days})
            if len(distinct) > 1:
                problems[pid] = ("conflicting death days: " + "; ".join(f"{w} = {d:g}" for d, w in sorted(days)))
                continue
            t = distinct[0]
            if t < 0:
                problems[pid] = f"death before diagnosis: {days[0][1]} = {t:g} (negative time)"
                continue
            death_day[pid] = t
            later = [d for d, _ in extra.contact.get(pid, []) + extra.activity.get(pid, []) if d > t]
            try:
                contact = float(contact_raw.iloc[pos])
            except (TypeError, ValueError):
                contact = np.nan
            if (np.isfinite(contact) and contact > t) or later:
                tally["lapsed"] += 1
            os_records[pid] = {"time": t, "event": 1}
        else:
            raw = contact_raw.iloc[pos]
            days = []
            if isinstance(raw, str) or (raw is not None and not pd.isna(raw)):
                try:
                    t = float(raw)
                except (TypeError, ValueError):
                    t = float("nan")
                if not np.isfinite(t):
                    problems[pid] = f"non-numeric time: {contact_col} = {raw!r}"
                    continue
                if t < 0:
                    problems[pid] = f"negative time: {contact_col} = {raw!r}"
                    continue
                days.append((t, f"clinical: {contact_col}"))
            if pid in extra.negative_contact:
                problems[pid] = "negative time: " + "; ".join(sorted(extra.negative_contact[pid]))
                continue
            if pid in extra.death:
                tally["ignored_death_days"] += 1
            later = extra.contact.get(pid, []) + extra.activity.get(pid, [])
            if not days and not later:
                problems[pid] = (f"missing time: {contact_col} is missing for a patient with vital status Alive"
                                 + (" and no day is in the follow-up tables" if fu_tables else ""))
                continue
            t = max(d for d, _ in days + later)
            if days and t > days[0][0]:
                tally["extended"] += 1
            os_records[pid] = {"time": t, "event": 0}
    clinical_ids = set(index)
    clinical_only = sorted(set(extra.first_table) - clinical_ids)
    if tally["lapsed"]:
        log.info("survival: %d dead patients have a contact or treatment day after the death day (death day used)",
                 tally["lapsed"])
    if tally["extended"]:
        log.info("survival: %d living patients are followed beyond the clinical table's last contact thanks to the "
                 "follow-up / treatment tables", tally["extended"])
    if tally["ignored_death_days"]:
        log.warning("survival: %d patients with vital status Alive everywhere have a death day in a follow-up table "
                    "(ignored)", tally["ignored_death_days"])
    return _Base(index=index, first=~index.duplicated(keep="first"), os=os_records, os_problems=problems,
                 death_day=death_day, extra=extra, clinical_only=clinical_only)


def _add_covariates(endpoint: pd.DataFrame, clinical: pd.DataFrame, base: _Base, what: str) -> pd.DataFrame:
    """Age (and ``age_group`` split at the median), gender, race group and Karnofsky score when the table has them."""
    kept = endpoint.index
    index, first = base.index, base.first
    age_col = _find_column(clinical, _AGE_COLUMNS)
    if age_col is not None:
        age = pd.to_numeric(_clean_text(clinical[age_col]).set_axis(index)[first], errors="coerce")
        endpoint["age"] = age.reindex(kept).astype(float)
        n_na = int(endpoint["age"].isna().sum())
        if n_na:
            log.info("%s: age missing or non-numeric for %d of %d patients (kept, age NaN)", what, n_na, len(kept))
        ages = endpoint["age"].dropna()
        if len(ages):
            median = float(ages.median())
            low, high = f"<={median:g}", f">{median:g}"
            groups = np.where(endpoint["age"].isna(), None, np.where(endpoint["age"] <= median, low, high))
            endpoint["age_group"] = pd.Categorical(groups, categories=[low, high])
            log.info("%s: age groups split at the median age %g: %s", what, median,
                     endpoint["age_group"].value_counts(sort=False).to_dict())
        else:
            endpoint["age_group"] = pd.Categorical([None] * len(kept), categories=[])
    gender_col = _find_column(clinical, _GENDER_COLUMNS)
    if gender_col is not None:
        gender = _clean_text(clinical[gender_col]).set_axis(index)[first]
        endpoint["gender"] = gender.reindex(kept).map(lambda v: v.lower() if isinstance(v, str) else np.nan)
    race_col = _find_column(clinical, _RACE_COLUMNS)
    if race_col is not None:
        race = _clean_text(clinical[race_col]).set_axis(index)[first]
        endpoint["race"] = race.reindex(kept).map(_race_group)
    kps_col = _find_column(clinical, _KARNOFSKY_COLUMNS)
    if kps_col is not None:
        kps = pd.to_numeric(_clean_text(clinical[kps_col]).set_axis(index)[first], errors="coerce")
        endpoint["karnofsky"] = kps.reindex(kept).astype(float)
        log.info("%s: Karnofsky score missing or non-numeric for %d of %d patients (kept, NaN)", what,
                 int(endpoint["karnofsky"].isna().sum()), len(kept))
    return endpoint


def _finish(records: dict[str, dict], problems: dict[str, str], columns: list[str], clinical: pd.DataFrame,
            base: _Base, what: str, n_input: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    endpoint = pd.DataFrame.from_dict(records, orient="index", columns=columns)
    endpoint = endpoint.sort_index()
    endpoint.index.name = "patient"
    endpoint["time"] = endpoint["time"].astype(float)
    endpoint["event"] = endpoint["event"].astype(int)
    endpoint = _add_covariates(endpoint, clinical, base, what)
    rows = sorted(problems.items())
    problem_table = pd.DataFrame(rows, columns=PROBLEM_COLUMNS)
    reasons = (problem_table["problem"].str.split(":").str[0].str.split(" \\(").str[0] if len(problem_table)
               else pd.Series(dtype=str))
    log_dropped(log, f"{what} endpoint", reasons.value_counts().to_dict() if len(reasons) else {}, total=n_input)
    return endpoint, problem_table


def overall_survival(clinical: pd.DataFrame, *, follow_up: Sequence[pd.DataFrame] | pd.DataFrame | None = None
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Overall-survival endpoint of each patient and the patients that have none.

    Parameters
    ----------
    clinical
        Clinical patient table indexed by patient with ``vital_status``
        (Dead/Alive), ``death_days_to`` and ``last_contact_days_to`` (legacy
        ``days_to_death`` / ``days_to_last_followup`` are accepted), and
        optionally ``age_at_initial_pathologic_diagnosis``, ``gender``,
        ``race``, ``karnofsky_score``.
    follow_up
        Optional extra Biotab tables (follow-up, drug, radiation, new tumour
        event; e.g. from :func:`read_biotab_records`), several rows per
        patient allowed, joined by patient ID (the ``bcr_patient_barcode`` or
        ``patient`` column, else the index). Columns read:
        ``vital_status``; ``death_days_to`` / ``days_to_death``;
        ``last_contact_days_to`` / ``days_to_last_followup``;
        ``new_tumor_event_dx_days_to`` /
        ``days_to_new_tumor_event_after_initial_treatment``; and the drug and
        radiation days, every column matching ``(pharmaceutical|drug|radiation)…_days_to``
        or ``days_to_(drug|radiation)…`` (e.g.
        ``pharmaceutical_tx_started_days_to``,
        ``radiation_therapy_ended_days_to``). A patient is dead when any
        vital status (clinical or follow-up) says so.

    Returns
    -------
    endpoint
        Indexed by ``patient`` (sorted): ``time`` (days; the death day for
        dead patients; for living ones the latest of the last contact and
        every non-negative follow-up / treatment / new-tumour-event day),
        ``event`` (1 dead, 0 alive) and the covariates the table has:
        ``age`` (float), ``age_group`` (Categorical ``<=median`` /
        ``>median``), ``gender`` (lower case), ``race`` (``white`` /
        ``non-white`` / ``unknown``), ``karnofsky`` (float).
    problems
        Columns ``patient``, ``problem``, sorted by patient: one row per
        patient without an endpoint and why (missing vital status; missing
        / non-numeric / negative time; death before
        diagnosis; conflicting death days; duplicated patient ID; a patient
        found only in the follow-up tables).

    Raises
    ------
    InputError
        When the table lacks a column the endpoint needs (a whole-table
        problem), or for a vital status other than Dead / Alive (as an event
        code of a plain survival table); other per-patient problems never
        raise.
    """
    base = _survival_base(clinical, follow_up)
    problems = dict(base.os_problems)
    for pid in base.clinical_only:
        problems[pid] = f"not in the clinical patient table (found only in the {base.extra.first_table[pid]})"
    endpoint, problem_table = _finish(base.os, problems, ENDPOINT_COLUMNS, clinical, base, "overall survival",
                                      len(base.index) + len(base.clinical_only))
    log.info("overall survival: %d patients with an endpoint, %d events (dead), %d censored (alive)",
             len(endpoint), int(endpoint["event"].sum()), int((endpoint["event"] == 0).sum()))
    return endpoint, problem_table


def progression_free_survival(clinical: pd.DataFrame,
                              new_tumor_events: Sequence[pd.DataFrame] | pd.DataFrame | None, *,
                              follow_up: Sequence[pd.DataFrame] | pd.DataFrame | None = None
                              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Progression-free survival: the first progression / recurrence, or death, whichever comes first.

    Death counts as an event (the study censored deaths in its progression
    endpoint, which biases it). Patients with neither are censored at their
    last known follow-up (the overall-survival time of a living patient, see
    :func:`overall_survival`).

    Progression days are the non-negative ``new_tumor_event_dx_days_to``
    (legacy ``days_to_new_tumor_event_after_initial_treatment``) of the
    ``new_tumor_events`` tables (a DataFrame or a list; one row per event,
    joined by patient ID) and of the ``follow_up`` tables, and of the
    clinical table when it has that column. Records whose
    ``new_tumor_event_type`` names a new primary tumour are not progression.
    A patient whose ``new_tumor_event_dx_indicator`` says YES, or who has a
    progression record, but no usable day, is a problem (not silently
    counted as progression-free).

    Returns ``endpoint`` indexed by ``patient`` (sorted) with ``time``,
    ``event`` (1 progression or death), ``event_type`` (``progression``,
    ``death`` or ``censored``) and the covariates of
    :func:`overall_survival`; and ``problems`` (``patient``, ``problem``).
    """
    clinical_nte = _find_column(clinical, _NTE_DAY_COLUMNS)
    clinical_flag = _find_column(clinical, _NTE_INDICATOR_COLUMNS)
    base = _survival_base(clinical, follow_up, new_tumor_events)
    extra = base.extra
    if clinical_nte is not None or clinical_flag is not None:
        cols = [c for c in (clinical_nte, clinical_flag) if c is not None]
        own = clinical[cols].set_axis(base.index)[base.first]
        # the clinical table's own new-tumour-event columns are read like one more table
        _collect_extra([own.reset_index()], "clinical", extra)
    problems: dict[str, str] = {}
    records: dict[str, dict] = {}
    n_prog = n_death_first = 0
    duplicated = set(base.index[base.index.duplicated(keep=False)])
    for pid in sorted(set(base.index)):
        if pid in duplicated:
            problems[pid] = base.os_problems[pid]
            continue
        if pid in extra.negative_progression:
            problems[pid] = ("progression before diagnosis: " + "; ".join(sorted(extra.negative_progression[pid]))
                             + " (negative time)")
            continue
        prog = extra.progression.get(pid, [])
        if not prog and pid in extra.progression_flag:
            problems[pid] = (f"progression reported ({'; '.join(sorted(extra.progression_flag[pid]))}) but its day is "
                             "missing: "
                             "progression-free time unknown")
            continue
        death = base.death_day.get(pid)
        if prog:
            t_prog = min(d for d, _ in prog)
            if death is not None and death < t_prog:
                records[pid] = {"time": death, "event": 1, "event_type": "death"}
                n_death_first += 1
            else:
                records[pid] = {"time": t_prog, "event": 1, "event_type": "progression"}
                n_prog += 1
            continue
        if pid in base.os_problems:
            problems[pid] = base.os_problems[pid]
            continue
        rec = base.os[pid]
        records[pid] = {"time": rec["time"], "event": rec["event"],
                        "event_type": "death" if rec["event"] == 1 else "censored"}
    for pid in base.clinical_only:
        problems[pid] = f"not in the clinical patient table (found only in the {extra.first_table[pid]})"
    if n_death_first:
        log.info("progression-free survival: %d patients have a progression day after their death day "
                 "(death used as the event)", n_death_first)
    endpoint, problem_table = _finish(records, problems, ["time", "event", "event_type"], clinical, base,
                                      "progression-free survival", len(set(base.index)) + len(base.clinical_only))
    counts = endpoint["event_type"].value_counts().to_dict()
    log.info("progression-free survival: %d patients; %d progressions, %d deaths without progression, %d censored",
             len(endpoint), counts.get("progression", 0), counts.get("death", 0), counts.get("censored", 0))
    return endpoint, problem_table


def _as_series(groups: pd.Series | pd.DataFrame, what: str = "groups") -> pd.Series:
    if isinstance(groups, pd.DataFrame):
        if groups.shape[1] != 1:
            raise InputError(None, f"{what} must be a Series or a one-column DataFrame, "
                                   f"got columns {list(groups.columns)}")
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
        levels = _group_order(values)
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


def _join_covariates(endpoint: pd.DataFrame, covariates: pd.DataFrame, *, quiet: bool = False
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Endpoint and covariates of the patients in both with every covariate present, sorted by patient ID."""
    _check_endpoint(endpoint)
    _check_unique(covariates.index, "covariates")
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


def _cox_joined(ep: pd.DataFrame, cv: pd.DataFrame, *, quiet: bool = False) -> _CoxFit:
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
    ep, cv = _join_covariates(endpoint, covariates)
    return pd.DataFrame(_cox_joined(ep, cv).rows, columns=COX_COLUMNS)


# --------------------------------------------------------------------------- KM + log-rank tables


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
    test = _logrank_joined(data)
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
    _check_unique(predicted.index, "predicted")
    name = grouping if grouping is not None else (str(predicted.name) if predicted.name is not None else "trait")
    predicted = predicted.set_axis(pd.Index(predicted.index.map(str), name="patient"))
    parts = []
    if observed is not None:
        observed = _as_series(observed, "observed")
        _check_unique(observed.index, "observed")
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


# --------------------------------------------------------------------------- radiogenomic traits

_NETWORK_COLUMNS = ("target", "network", "trait")


def _enrichment_long(enrichment: pd.DataFrame | Mapping[str, pd.DataFrame]) -> tuple[pd.DataFrame, str]:
    if isinstance(enrichment, Mapping):
        parts = []
        for name, table in enrichment.items():
            t = table.copy()
            if _find_column(t, _NETWORK_COLUMNS) is None:
                t.insert(0, "target", name)
            parts.append(t)
        if not parts:
            raise InputError(None, "radiogenomic traits: no enrichment tables given")
        enrichment = pd.concat(parts, ignore_index=True)
    if not isinstance(enrichment, pd.DataFrame):
        raise InputError(None, f"enrichment must be a DataFrame (or a dict of them), got {type(enrichment).__name__}")
    net_col = _find_column(enrichment, _NETWORK_COLUMNS)
    if net_col is None:
        raise InputError(None, f"enrichment table needs a network column (one of {list(_NETWORK_COLUMNS)}) naming the "
                               f"trait network of each row; it has {list(enrichment.columns)}")
    missing = [c for c in ("patient", "set", "nes", "fdr") if c not in enrichment.columns]
    if missing:
        raise InputError(None, f"enrichment table lacks column(s) {missing}; it has {list(enrichment.columns)}")
    return enrichment, net_col


def _too_few(n_carriers: int, n_non_carriers: int, min_carriers: int, min_non_carriers: int) -> str:
    """Why a radiogenomic trait is not tested (empty when it has enough carriers and non-carriers)."""
    parts = []
    if n_carriers < min_carriers:
        parts.append(f"{n_carriers} carrier(s), fewer than the minimum {min_carriers}")
    if n_non_carriers < min_non_carriers:
        parts.append(f"{n_non_carriers} non-carrier(s), fewer than the minimum {min_non_carriers}")
    return " and ".join(parts)


def radiogenomic_traits(enrichment: pd.DataFrame | Mapping[str, pd.DataFrame], targets: pd.DataFrame, *,
                        fdr: float = 0.05, min_carriers: int = RADIOGENOMIC_MIN_CARRIERS,
                        min_non_carriers: int = RADIOGENOMIC_MIN_NON_CARRIERS) -> pd.DataFrame:
    """The traits of :func:`radiogenomic_traits_with_skipped` (without the table of the skipped ones)."""
    return radiogenomic_traits_with_skipped(enrichment, targets, fdr=fdr, min_carriers=min_carriers,
                                            min_non_carriers=min_non_carriers)[0]


def radiogenomic_traits_with_skipped(enrichment: pd.DataFrame | Mapping[str, pd.DataFrame], targets: pd.DataFrame,
                                     *, fdr: float = 0.05, min_carriers: int = RADIOGENOMIC_MIN_CARRIERS,
                                     min_non_carriers: int = RADIOGENOMIC_MIN_NON_CARRIERS
                                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Binary radiogenomic traits: an imaging-trait network together with a gene set enriched for the patient.

    Parameters
    ----------
    enrichment
        Per-patient saliency GSEA of every trait network, long format: a
        network column (``target``, or ``network`` / ``trait``), ``patient``,
        ``class`` (multi-class networks only), ``set``, ``nes``, ``fdr``
        (``size``, ``es``, ``p`` are ignored); or a dict network -> table.
    targets
        Patients x traits (index = patient), as ``targets.class_labels``
        returns (class names). For a multi-class network the row of the
        patient's own class is used (the saliency of that class's logit), so
        its column must hold class names matching ``class``. When the
        network is a column, patients whose trait is missing are left out
        of that network's traits (NaN); otherwise every ranked patient is kept.
    fdr
        A patient carries ``network|set`` when that set has ``fdr < fdr`` and
        ``nes > 0`` in the patient's ranking.
    min_carriers, min_non_carriers
        A trait with fewer carriers, or fewer non-carriers, among the
        patients assessed (0 or 1) is not a trait to test: it is left out of
        the traits and listed in the skipped table with its counts (logged).

    Returns
    -------
    traits
        Patients (index ``patient``, sorted; the union over networks) x
        radiogenomic traits named ``network|set`` (networks, then sets,
        sorted): 1.0 carrier, 0.0 not (FDR at or above ``fdr``, or NES <= 0),
        NaN where the network did not rank the patient or did not test the
        set (no FDR), or the FDR is below ``fdr`` but the NES is missing.
    skipped
        :data:`RADIOGENOMIC_SKIPPED_COLUMNS`, one row per ``network|set``
        left out (same order): ``n_assessed``, ``n_carriers``,
        ``n_non_carriers`` and the ``reason``.
    """
    if not 0 < fdr <= 1:
        raise ValueError(f"fdr threshold must be in (0, 1], got {fdr}")
    _check_minimums(min_carriers, min_non_carriers)
    skipped: list[dict] = []
    table, net_col = _enrichment_long(enrichment)
    targets = targets.set_axis(pd.Index(targets.index.map(str), name="patient"))
    _check_unique(targets.index, "targets")
    columns: dict[str, pd.Series] = {}
    for network in sorted(pd.unique(table[net_col].dropna()), key=str):
        net = str(network)
        if RADIOGENOMIC_SEPARATOR in net:
            raise InputError(None, f"network name {net!r} contains {RADIOGENOMIC_SEPARATOR!r}, the separator of "
                                   "radiogenomic trait names")
        sub = table.loc[table[net_col] == network].copy()
        sub["patient"] = sub["patient"].map(lambda v: str(v).strip())
        has_class = "class" in sub.columns and sub["class"].notna().any()
        n_ranked = sub["patient"].nunique()
        keys = ["patient", "class", "set"] if has_class else ["patient", "set"]
        dup = sub.duplicated(keys, keep=False)
        if dup.any():
            first = sub.loc[dup].sort_values(keys, kind="mergesort").iloc[0]
            raise InputError(None, f"network {net!r}: patient {first['patient']} has {int(dup.sum())} rows for set "
                                   f"{first['set']!r}" + (f", class {first['class']!r}" if has_class else "")
                             + " (one row per patient and set expected, per class for multi-class networks)")
        if has_class:
            if net not in targets.columns:
                raise InputError(None, f"network {net!r} is multi-class (enrichment has a class column) but targets "
                                       f"has no {net!r} column to pick each patient's own class; targets has "
                                       f"{list(targets.columns)}")
            own = targets[net].dropna().map(str)
            classes = set(sub["class"].dropna().map(str))
            if not classes & set(own):
                raise InputError(None, f"network {net!r}: the targets column holds {sorted(set(own))[:6]}, none of "
                                       f"the enrichment classes {sorted(classes)}; pass class names "
                                       "(targets.class_labels), not codes")
            sub = sub.loc[sub["class"].map(str).to_numpy() == sub["patient"].map(own).to_numpy()]
            log.info("radiogenomic traits %s: %d of %d ranked patients kept with the ranking of their own class "
                     "(the others have no observed class)", net, sub["patient"].nunique(), n_ranked)
        elif net in targets.columns:
            observed = set(targets.index[targets[net].notna()])
            sub = sub.loc[sub["patient"].isin(observed)]
            log.info("radiogenomic traits %s: %d of %d ranked patients have the trait observed", net,
                     sub["patient"].nunique(), n_ranked)
        else:
            log.info("radiogenomic traits %s: not a targets column; all %d ranked patients kept", net, n_ranked)
        nes = pd.to_numeric(sub["nes"], errors="coerce")
        q = pd.to_numeric(sub["fdr"], errors="coerce")
        # Not enriched when the FDR is at or above the threshold, whatever the NES (the GSEA leaves the NES of
        # a negative enrichment score empty, with p = FDR = 1); unknown only without an FDR, or with an FDR
        # below the threshold but no NES to give the direction.
        significant = q < fdr
        flag = np.where(q.isna() | (significant & nes.isna()), np.nan,
                        (significant & (nes > 0)).astype(float))
        wide = (pd.DataFrame({"patient": sub["patient"].to_numpy(), "set": sub["set"].map(str).to_numpy(),
                              "flag": flag})
                .pivot(index="patient", columns="set", values="flag"))
        kept = few_carriers = few_non_carriers = 0
        for s in sorted(wide.columns):
            col = wide[s]
            carriers, assessed = int((col == 1).sum()), int(col.notna().sum())
            name = f"{net}{RADIOGENOMIC_SEPARATOR}{s}"
            reason = _too_few(carriers, assessed - carriers, min_carriers, min_non_carriers)
            if reason:
                few_carriers += carriers < min_carriers
                few_non_carriers += assessed - carriers < min_non_carriers
                skipped.append({"trait": name, "network": net, "set": s, "n_assessed": assessed,
                                "n_carriers": carriers, "n_non_carriers": assessed - carriers,
                                "reason": f"{reason} among the {assessed} assessed patients: not tested"})
                continue
            columns[name] = col
            kept += 1
        log.info("radiogenomic traits %s: %d sets x %d patients; %d traits kept; not tested (listed as skipped): %d "
                 "with fewer than %d carriers, %d with fewer than %d non-carriers", net, wide.shape[1], wide.shape[0],
                 kept, few_carriers, min_carriers, few_non_carriers, min_non_carriers)
    out = pd.DataFrame(columns) if columns else pd.DataFrame(index=pd.Index([], name="patient"))
    out = out.sort_index()
    out.index.name = "patient"
    out.columns.name = None
    log.info("radiogenomic traits: %d traits over %d patients; %d network x set pairs skipped (fewer than %d carriers "
             "or %d non-carriers)", out.shape[1], out.shape[0], len(skipped), min_carriers, min_non_carriers)
    return out.astype(float), pd.DataFrame(skipped, columns=RADIOGENOMIC_SKIPPED_COLUMNS)


def _split_trait(name: str) -> tuple[str, str]:
    network, sep, gene_set = str(name).partition(RADIOGENOMIC_SEPARATOR)
    return (network, gene_set) if sep else ("", str(name))


def _level_without_events(ep: pd.DataFrame, values: pd.Series) -> list:
    events = ep["event"].groupby(values.to_numpy()).sum()
    return [lv for lv, e in events.items() if e == 0]


def radiogenomic_tests(endpoint: pd.DataFrame, rg_traits: pd.DataFrame,
                       covariates: pd.DataFrame | None = None, *, min_carriers: int = RADIOGENOMIC_MIN_CARRIERS,
                       min_non_carriers: int = RADIOGENOMIC_MIN_NON_CARRIERS) -> pd.DataFrame:
    """Survival of carriers vs non-carriers of each radiogenomic trait: log-rank and covariate-adjusted Cox.

    ``rg_traits`` is the table of :func:`radiogenomic_traits` (NaN: not
    assessed); ``covariates`` (e.g. ``endpoint[["age", "gender"]]``) are
    joined by patient ID; the Cox model uses the patients with the trait and
    every covariate present.

    A trait with fewer than ``min_carriers`` carriers or fewer than
    ``min_non_carriers`` non-carriers among the patients with the endpoint
    is not tested: its row has ``status`` ``skipped``, its counts, NaN
    statistics and the reason in ``note``. A tested trait whose Cox
    complete cases fall below either minimum, that has one level there, or
    a level (carriers or not) without events (monotone likelihood: the HR
    runs off to 0 or infinity) keeps its log-rank test and gets NaN Cox
    estimates and a note; a fit that fails or warns is noted too. Nothing
    raises per trait.

    Returns one row per trait (input order): ``trait``, ``network``,
    ``set``, ``status`` (``tested`` / ``skipped``), ``n`` (patients with
    endpoint and trait), ``n_carriers``, ``n_non_carriers``, ``events``,
    ``carrier_events``, ``logrank_statistic``, ``logrank_p``,
    ``logrank_fdr``, ``n_cox`` (empty when skipped), ``hr`` (carriers vs
    not, adjusted), ``ci_low``, ``ci_high`` (95%), ``cox_p``, ``cox_fdr``,
    ``note``. Both FDRs are Benjamini–Hochberg across the traits with that
    p-value: the skipped traits are not counted.
    """
    _check_endpoint(endpoint)
    _check_minimums(min_carriers, min_non_carriers)
    rg = rg_traits.set_axis(pd.Index(rg_traits.index.map(str), name="patient"))
    _check_unique(rg.index, "radiogenomic traits")
    if covariates is None:
        cov = pd.DataFrame(index=pd.Index(endpoint.index.map(str), name="patient"))
    else:
        cov = covariates.set_axis(pd.Index(covariates.index.map(str), name="patient"))
        _check_unique(cov.index, "covariates")
    clash = [c for c in rg.columns if c in cov.columns]
    if clash:
        raise InputError(None, f"radiogenomic trait name(s) {clash} are also covariate names")
    rows = []
    for col in rg.columns:
        network, gene_set = _split_trait(col)
        notes: list[str] = []
        trait = rg[col].rename(col)
        data = join_groups(endpoint, trait, quiet=True)
        carriers = data["group"] == 1
        n_carriers = int(carriers.sum())
        row = {"trait": col, "network": network, "set": gene_set, "status": "tested", "n": int(len(data)),
               "n_carriers": n_carriers, "n_non_carriers": int(len(data)) - n_carriers,
               "events": int(data["event"].sum()), "carrier_events": int(data.loc[carriers, "event"].sum()),
               "logrank_statistic": np.nan, "logrank_p": np.nan, "n_cox": pd.NA, "hr": np.nan, "ci_low": np.nan,
               "ci_high": np.nan, "cox_p": np.nan}
        too_few = _too_few(row["n_carriers"], row["n_non_carriers"], min_carriers, min_non_carriers)
        if too_few:
            row.update(status="skipped",
                       note=f"not tested: {too_few} among the {row['n']} patients with the endpoint")
            log.info("radiogenomic test %s skipped: %s", col, row["note"])
            rows.append(row)
            continue
        lr = _logrank_joined(data)
        row.update(logrank_statistic=lr["test_statistic"], logrank_p=lr["p"])
        if lr["note"]:
            notes.append(f"log-rank: {lr['note']}")
        cv_all = cov.join(trait, how="outer")
        ep, cv = _join_covariates(endpoint, cv_all, quiet=True)
        row["n_cox"] = int(len(ep))
        levels = _group_order(cv[col])
        cox_carriers = int((cv[col] == 1).sum())
        cox_too_few = _too_few(cox_carriers, int(len(cv)) - cox_carriers, min_carriers, min_non_carriers)
        no_event_levels = _level_without_events(ep, cv[col]) if len(levels) >= 2 else []
        if len(levels) < 2:
            notes.append(f"cox: the trait has {len(levels)} level(s) among the {len(ep)} patients with complete "
                         "covariates: not fitted")
        elif cox_too_few:
            notes.append(f"cox: {cox_too_few} among the {len(ep)} patients with complete covariates: not fitted")
        elif no_event_levels:
            who = ["carriers" if lv == 1 else "non-carriers" for lv in no_event_levels]
            notes.append(f"cox: no events among {' and '.join(who)}: hazard ratio not estimable")
        else:
            try:
                fit = _cox_joined(ep, cv, quiet=True)
            except (InputError, ConvergenceError, np.linalg.LinAlgError, ValueError) as exc:
                notes.append(f"cox: fit failed ({' '.join(str(exc).split())[:160]})")
                log.warning("radiogenomic test %s: Cox fit failed: %s", col, exc)
            else:
                by_name = {r["covariate"]: r for r in fit.rows}
                r = by_name.get(col)
                if r is not None and np.isfinite(r["hr"]):
                    row.update(hr=r["hr"], ci_low=r["ci_low"], ci_high=r["ci_high"], cox_p=r["p"])
                dropped = [name for name, rr in by_name.items() if name != col and "one level" in str(rr["note"])]
                if dropped:
                    notes.append(f"cox: covariate(s) {dropped} have one level here and were left out")
                if fit.warnings:
                    notes.append("cox: convergence warning: " + fit.warnings[0])
        row["note"] = "; ".join(notes)
        rows.append(row)
    table = pd.DataFrame(rows, columns=[c for c in RADIOGENOMIC_TEST_COLUMNS if c not in ("logrank_fdr", "cox_fdr")])
    table["n_cox"] = table["n_cox"].astype("Int64")
    table.insert(table.columns.get_loc("logrank_p") + 1, "logrank_fdr",
                 benjamini_hochberg(table["logrank_p"].to_numpy(dtype=float)))
    table.insert(table.columns.get_loc("cox_p") + 1, "cox_fdr",
                 benjamini_hochberg(table["cox_p"].to_numpy(dtype=float)))
    tested = table["status"] == "tested"
    log.info("radiogenomic tests: %d traits, %d tested (at least %d carriers and %d non-carriers with the endpoint), "
             "%d skipped; BH across the tested traits: %d with a Cox p, %d with Cox FDR < 0.05; %d with a log-rank "
             "p, %d with log-rank FDR < 0.05", len(table), int(tested.sum()), min_carriers, min_non_carriers,
             int((~tested).sum()), int(table["cox_p"].notna().sum()), int((table["cox_fdr"] < 0.05).sum()),
             int(table["logrank_p"].notna().sum()), int((table["logrank_fdr"] < 0.05).sum()))
    return table[RADIOGENOMIC_TEST_COLUMNS]


# --------------------------------------------------------------------------- stepwise Cox


def null_log_likelihood(time: Iterable[float], event: Iterable[int]) -> float:
    """Cox partial log-likelihood with no covariates (all coefficients 0), Efron ties.

    With every relative risk 1, a time with ``d`` tied deaths and ``n`` at
    risk contributes ``-sum_{l<d} log(n - l)``.
    """
    t = np.asarray(list(time), dtype=float)
    e = np.asarray(list(event), dtype=int)
    ll = 0.0
    for ti in np.unique(t[e == 1]):
        d = int(((t == ti) & (e == 1)).sum())
        n_risk = int((t >= ti).sum())
        ll -= float(np.sum(np.log(n_risk - np.arange(d, dtype=float))))
    return ll


def _aic(loglik: float, k: int) -> float:
    return 2.0 * k - 2.0 * loglik if np.isfinite(loglik) else float("inf")


def stepwise_cox(endpoint: pd.DataFrame, covariates: pd.DataFrame | None, candidates: pd.DataFrame, *,
                 direction: str = "both") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stepwise Cox model selection by AIC (the study's approach; R's ``step`` on a ``coxph`` model).

    Scope, as R's ``step(fit, scope = list(lower = ~ covariates, upper = ~
    covariates + candidates))``: the ``covariates`` (e.g. age, gender) are
    the lower scope, always in the model and never removed; the
    ``candidates`` (imaging traits, radiogenomic traits; one column per
    term, categorical ones one-hot as in :func:`cox_fit`, added or removed
    as a whole) complete the upper scope. ``direction``:

    - ``"both"`` (the default, as R's ``step``): start from the covariates;
      each step considers every single addition of a candidate not in the
      model and every single removal of a candidate in it, and takes the
      move with the lowest AIC;
    - ``"forward"``: start from the covariates, additions only;
    - ``"backward"``: start from the covariates and every usable candidate,
      removals only.

    AIC = −2 logL + 2k, k = number of coefficients, logL = lifelines' Efron
    partial log-likelihood (with no coefficient, :func:`null_log_likelihood`);
    R's ``extractAIC`` of a ``coxph`` fit. A step is taken when it lowers the
    AIC by more than :data:`AIC_TOLERANCE`; selection stops when no single
    move does. Equal AICs (within it) go to removals before additions (R
    lists ``drop1`` rows first), then to the term earlier in the
    ``candidates`` column order, so the result is deterministic.

    Every model is fitted to the same patients: those with an endpoint,
    every covariate and every usable candidate (logged). A candidate with
    one level, or a categorical level without events, is skipped (listed in
    the path with the reason), and a model whose fit fails counts as AIC = inf.

    The p-values and intervals of the selected model are those of an
    ordinary Cox fit of it: they ignore the selection and are not valid
    inference (post-selection); the final table says so on every row.

    Returns
    -------
    final
        :data:`STEPWISE_FINAL_COLUMNS`: the :func:`cox_fit` columns of the
        selected model (covariates first, then the selected terms in the
        order they entered), ``role`` (``covariate``: lower scope, always in;
        ``selected``) and ``inference`` (:data:`POST_SELECTION_NOTE`).
    path
        :data:`STEPWISE_PATH_COLUMNS`: ``step`` (0 = start), ``action``
        (``skipped``, ``start``, ``add``, ``remove``, ``stop``), ``term``,
        ``aic_before`` and ``aic_after`` (the model's AIC before and after
        the step; the start row has only ``aic_after``, a ``stop`` row the
        final AIC twice), ``loglik`` and ``n_params`` after the step, and
        ``note`` (start: direction, scope, patients and events; stop: the
        best rejected move; skipped: why).
    """
    if direction not in STEPWISE_DIRECTIONS:
        raise ValueError(f"direction must be one of {list(STEPWISE_DIRECTIONS)}, got {direction!r}")
    _check_endpoint(endpoint)
    base_cov = pd.DataFrame(index=pd.Index(endpoint.index.map(str))) if covariates is None else covariates
    base_cov = base_cov.set_axis(pd.Index(base_cov.index.map(str), name="patient"))
    cand = candidates.set_axis(pd.Index(candidates.index.map(str), name="patient"))
    _check_unique(base_cov.index, "covariates")
    _check_unique(cand.index, "candidates")
    clash = [c for c in cand.columns if c in base_cov.columns]
    if clash:
        raise InputError(None, f"candidate(s) {clash} are also covariates")
    base_terms = [str(c) for c in base_cov.columns]
    order = [str(c) for c in cand.columns]
    cand.columns = order
    joined = base_cov.join(cand, how="outer")
    ep_ids = pd.Index(endpoint.index.map(str))
    common = ep_ids.intersection(joined.index)
    missing = joined.loc[common].isna().sum()
    worst = {c: int(v) for c, v in missing.sort_values(ascending=False, kind="mergesort").items() if v}
    ep, cv = _join_covariates(endpoint, joined)
    if worst:
        log.info("stepwise cox: missing values per column among the %d patients with an endpoint: %s",
                 len(common), dict(list(worst.items())[:10]))
    if len(ep) == 0 or int(ep["event"].sum()) == 0:
        raise InputError(None, f"stepwise cox: {len(ep)} patients with endpoint, covariates and every candidate, "
                               f"{int(ep['event'].sum()) if len(ep) else 0} events; nothing to fit")
    data_note = f"n = {len(ep)}, events = {int(ep['event'].sum())}"

    path: list[dict] = []
    usable: list[str] = []
    for term in order:
        values = cv[term]
        levels = _group_order(values)
        reason = ""
        if len(levels) < 2:
            reason = f"one level only ({levels[0]!r})" if levels else "no values"
        else:
            categorical = not pd.api.types.is_numeric_dtype(values) or isinstance(values.dtype, pd.CategoricalDtype) \
                or len(levels) == 2
            if categorical:
                empty = _level_without_events(ep, values)
                if empty:
                    reason = f"level(s) {empty} without events (hazard ratio not estimable)"
        if reason:
            path.append({"step": 0, "action": "skipped", "term": term, "aic_before": np.nan, "aic_after": np.nan,
                         "loglik": np.nan, "n_params": np.nan, "note": reason})
            log.warning("stepwise cox: candidate %s skipped: %s", term, reason)
        else:
            usable.append(term)
    position = {t: i for i, t in enumerate(usable)}

    cache: dict[frozenset, tuple[float, int, str]] = {}

    def evaluate(terms: Sequence[str]) -> tuple[float, int, str]:
        key = frozenset(terms)
        if key not in cache:
            columns = base_terms + sorted(terms, key=position.__getitem__)
            if not columns:
                cache[key] = (null_log_likelihood(ep["time"], ep["event"]), 0, "")
            else:
                try:
                    fit = _cox_joined(ep, cv[columns], quiet=True)
                    ll, k = (fit.loglik, fit.n_params) if fit.n_params else \
                        (null_log_likelihood(ep["time"], ep["event"]), 0)
                    cache[key] = (ll, k, "; ".join(fit.warnings[:1]))
                except (InputError, ConvergenceError, np.linalg.LinAlgError, ValueError) as exc:
                    cache[key] = (float("nan"), 0, f"fit failed: {' '.join(str(exc).split())[:120]}")
        return cache[key]

    current: list[str] = list(usable) if direction == "backward" else []
    ll, k, note = evaluate(current)
    current_aic = _aic(ll, k)
    start_model = f"covariates {base_terms}" + (f" + all {len(current)} usable candidates" if current else "")
    scope = (f"direction {direction}; lower scope (never removed): covariates {base_terms}; upper scope: + "
             f"{len(usable)} usable candidate(s)")
    path.append({"step": 0, "action": "start", "term": "", "aic_before": np.nan, "aic_after": current_aic,
                 "loglik": ll, "n_params": k,
                 "note": "; ".join(x for x in (f"start: {start_model}", scope, data_note, note) if x)})
    visited = {frozenset(current)}
    step = 0
    while True:
        # (aic, kind: 0 remove / 1 add, candidate position, action, term, loglik, n_params, note)
        moves: list[tuple[float, int, int, str, str, float, int, str]] = []
        if direction in ("backward", "both"):
            for term in current:
                rest = [t for t in current if t != term]
                if frozenset(rest) not in visited:
                    ll, k, note = evaluate(rest)
                    moves.append((_aic(ll, k), 0, position[term], "remove", term, ll, k, note))
        if direction in ("forward", "both"):
            for term in usable:
                if term not in current and frozenset(current + [term]) not in visited:
                    ll, k, note = evaluate(current + [term])
                    moves.append((_aic(ll, k), 1, position[term], "add", term, ll, k, note))
        best_aic = min((m[0] for m in moves), default=float("inf"))
        tied = [m for m in moves if m[0] <= best_aic + AIC_TOLERANCE]
        best = min(tied, key=lambda m: (m[1], m[2])) if tied else None
        if best is None or not best_aic < current_aic - AIC_TOLERANCE:
            moves_word = {"both": "addition or removal", "forward": "addition", "backward": "removal"}[direction]
            why = ("no candidate move left" if best is None else
                   f"no single {moves_word} lowers the AIC; best rejected: {best[3]} {best[4]} (AIC {best[0]:.4f})")
            path.append({"step": step + 1, "action": "stop", "term": "", "aic_before": current_aic,
                         "aic_after": current_aic, "loglik": cache[frozenset(current)][0],
                         "n_params": cache[frozenset(current)][1], "note": why})
            break
        aic, _, _, action, term, ll, k, note = best
        current = current + [term] if action == "add" else [t for t in current if t != term]
        visited.add(frozenset(current))
        step += 1
        path.append({"step": step, "action": action, "term": term, "aic_before": current_aic, "aic_after": aic,
                     "loglik": ll, "n_params": k, "note": note})
        log.info("stepwise cox step %d: %s %s, AIC %.3f -> %.3f", step, action, term, current_aic, aic)
        current_aic = aic
    path_table = pd.DataFrame(path, columns=STEPWISE_PATH_COLUMNS)
    final_columns = base_terms + current
    if final_columns:
        final = pd.DataFrame(_cox_joined(ep, cv[final_columns]).rows, columns=COX_COLUMNS)
    else:
        final = pd.DataFrame(columns=COX_COLUMNS)
    final["role"] = [_stepwise_role(name, base_terms, current) for name in final["covariate"]]
    final["inference"] = POST_SELECTION_NOTE
    log.info("stepwise cox (%s): %s selected from %d usable candidates in %d step(s); final AIC %.3f (%s); the final "
             "model's p-values are post-selection (not valid inference)", direction, current or "nothing",
             len(usable), step, current_aic, data_note)
    return final[STEPWISE_FINAL_COLUMNS], path_table


def _stepwise_role(name: str, base_terms: Sequence[str], selected: Sequence[str]) -> str:
    """``covariate`` or ``selected``: the term a design column of the final model belongs to (longest name first)."""
    terms = sorted([(t, "covariate") for t in base_terms] + [(t, "selected") for t in selected],
                   key=lambda x: -len(x[0]))
    for term, role in terms:
        if name == term or name.startswith(f"{term}="):
            return role
    return "covariate"


# --------------------------------------------------------------------------- workflow helpers

COVARIATE_DECISION_COLUMNS = ["covariate", "status", "n", "n_missing", "fraction_missing", "note"]
ADJUSTED_COX_COLUMNS = ["model", "term", "covariate", "hr", "ci_low", "ci_high", "p", "note", "n", "events"]
PREDICTED_COLUMNS = ["patient", "trait", "predicted", "score"]
#: The predicted-traits table of the workflow: which model saw each predicted patient (see predicted_provenance).
PREDICTED_TABLE_COLUMNS = PREDICTED_COLUMNS + ["encoder_pretrained_on_patient"]


def cox_covariates(endpoint: pd.DataFrame, names: Sequence[str], *, max_missing: float = 0.2
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The adjustment covariates of the Cox models: named endpoint columns, present and mostly observed.

    ``names`` are covariate columns of an :func:`overall_survival` /
    :func:`progression_free_survival` endpoint (``age``, ``age_group``,
    ``gender``, ``race``, ``karnofsky``). A name is left out, with the reason,
    when the endpoint lacks the column (the clinical table had none), when
    it is missing for more than ``max_missing`` of the patients (Cox fits
    are complete-case: such a covariate would drop that share of the
    cohort), or when it has a single observed level. Never raises for these.

    Returns the kept covariates (index = the endpoint's patients, column
    order of ``names``) and a decision table: ``covariate``, ``status``
    (``used``, ``absent``, ``too many missing``, ``one level``), ``n``,
    ``n_missing``, ``fraction_missing``, ``note``.
    """
    if not 0 <= max_missing <= 1:
        raise ValueError(f"max_missing must be in [0, 1], got {max_missing}")
    _check_endpoint(endpoint)
    dup = sorted({str(c) for c in names if list(names).count(c) > 1})
    if dup:
        raise ValueError(f"covariate(s) {dup} named more than once")
    clash = [c for c in names if c in ENDPOINT_COLUMNS or c == "event_type"]
    if clash:
        raise ValueError(f"{clash} are endpoint columns, not covariates")
    n = int(len(endpoint))
    rows, kept = [], []
    for name in names:
        if name not in endpoint.columns:
            rows.append({"covariate": name, "status": "absent", "n": n, "n_missing": n, "fraction_missing": 1.0,
                         "note": "not in the clinical table"})
            log.warning("cox covariates: %s is not in the endpoint table (the clinical table has no such column); "
                        "left out", name)
            continue
        values = endpoint[name]
        n_missing = int(values.isna().sum())
        frac = n_missing / n if n else 0.0
        levels = _group_order(values)
        row = {"covariate": name, "status": "used", "n": n, "n_missing": n_missing, "fraction_missing": frac,
               "note": ""}
        if frac > max_missing:
            row.update(status="too many missing",
                       note=f"missing for {n_missing} of {n} patients ({frac:.0%} > {max_missing:.0%})")
        elif len(levels) < 2:
            row.update(status="one level", note=f"one observed level {levels[:1]}")
        else:
            kept.append(name)
            if n_missing:
                row["note"] = f"{n_missing} patients with it missing leave the Cox fits (complete case)"
        level = logging.INFO if row["status"] == "used" else logging.WARNING
        log.log(level, "cox covariates: %s %s%s", name, row["status"], f" ({row['note']})" if row["note"] else "")
        rows.append(row)
    covariates = endpoint[kept].copy()
    covariates.index = pd.Index(endpoint.index.map(str), name="patient")
    return covariates, pd.DataFrame(rows, columns=COVARIATE_DECISION_COLUMNS)


def adjusted_cox_table(endpoint: pd.DataFrame, covariates: pd.DataFrame | None, traits: pd.DataFrame
                       ) -> pd.DataFrame:
    """Cox models of the covariates alone, then of the covariates plus each trait (one model per trait column).

    ``traits`` (patients x traits; a Categorical enters against its first
    category, numeric 0/1 per unit) and ``covariates`` are joined to the
    endpoint by patient ID; each model is complete-case on its own columns.
    A model that cannot be fitted (no events, one level, a failed fit) is a
    row with NaN estimates and the reason in ``note``; nothing raises per
    trait.

    Returns one row per model term: ``model`` (``covariates`` or
    ``covariates + <trait>``), ``term`` (the trait, empty for the
    covariate-only model and for the covariate rows), ``covariate`` (the
    design column, e.g. ``f7=>1/3``), ``hr``, ``ci_low``, ``ci_high``
    (95%), ``p`` (Wald), ``note``, ``n`` and ``events`` of the model.
    """
    _check_endpoint(endpoint)
    cov = (pd.DataFrame(index=pd.Index(endpoint.index.map(str), name="patient")) if covariates is None
           else covariates.set_axis(pd.Index(covariates.index.map(str), name="patient")))
    tr = traits.set_axis(pd.Index(traits.index.map(str), name="patient"))
    _check_unique(cov.index, "covariates")
    _check_unique(tr.index, "traits")
    clash = [c for c in tr.columns if c in cov.columns]
    if clash:
        raise InputError(None, f"trait name(s) {clash} are also covariate names")
    parts = []

    def fit(model: str, term: str, columns: pd.DataFrame) -> None:
        ep, cv = _join_covariates(endpoint, columns, quiet=True)
        n, events = int(len(ep)), int(ep["event"].sum())
        base = {"model": model, "term": term, "n": n, "events": events}
        if columns.shape[1] == 0:
            log.info("cox %s: no covariate, nothing to fit", model)
            return
        reason = ""
        if n == 0 or events == 0:
            reason = f"{n} patients with complete data, {events} events: not fitted"
        elif term and len(_group_order(cv[term])) < 2:
            levels = _group_order(cv[term])
            reason = (f"{term} has one level only ({levels[0]!r}) among the {n} patients with complete data: "
                      "not fitted" if levels else f"{term} has no values: not fitted")
        elif term:
            categorical = (not pd.api.types.is_numeric_dtype(cv[term])
                           or isinstance(cv[term].dtype, pd.CategoricalDtype) or len(_group_order(cv[term])) == 2)
            empty = _level_without_events(ep, cv[term]) if categorical else []
            if empty:
                reason = f"level(s) {empty} of {term} without events: hazard ratio not estimable"
        if not reason:
            try:
                result = _cox_joined(ep, cv, quiet=True)
            except (InputError, ConvergenceError, np.linalg.LinAlgError, ValueError) as exc:
                reason = f"fit failed ({' '.join(str(exc).split())[:160]})"
            else:
                note_extra = ("; convergence warning: " + result.warnings[0]) if result.warnings else ""
                for r in result.rows:
                    name = r["covariate"]
                    own = bool(term) and (name == term or name.startswith(f"{term}="))
                    parts.append({**base, "term": term if own else "", **r,
                                  "note": (r["note"] or "") + (note_extra if own else "")})
                log.info("cox %s: n = %d, events = %d", model, n, events)
                return
        log.warning("cox %s: %s", model, reason)
        parts.append({**base, "covariate": term or "", "hr": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                      "p": np.nan, "note": reason})

    fit("covariates", "", cov)
    for col in tr.columns:
        fit(f"covariates + {col}", str(col), cov.join(tr[[col]], how="outer"))
    return pd.DataFrame(parts, columns=ADJUSTED_COX_COLUMNS)


def predict_trait_classes(model, expression: pd.DataFrame, patients: Iterable[str] | None = None) -> pd.DataFrame:
    """The class a fitted categorical trait network predicts for each patient (e.g. those without imaging).

    ``model`` is a ``nets.FittedModel`` of a binary or multi-class target
    (its ``scaled``/``outputs``, ``target``, ``target_type``, ``classes``);
    ``expression`` is patients x genes (index = patient); ``patients``
    restricts the rows (joined by ID; IDs without expression are logged and
    skipped). Binary: the positive class (``classes[1]``) when the logit is
    above 0, else the negative one; multi-class: the arg-max class. ``score``
    is the predicted class's probability (sigmoid / softmax).

    Returns ``patient`` (sorted), ``trait``, ``predicted`` (class name),
    ``score``.
    """
    if model.target_type not in ("binary", "multiclass"):
        raise ValueError(f"network {model.target!r} is {model.target_type}; predicted classes need a binary or "
                         "multi-class network")
    expr = expression.set_axis(pd.Index(expression.index.map(str), name="patient"))
    _check_unique(expr.index, "expression")
    if patients is None:
        ids = expr.index.sort_values()
    else:
        wanted = pd.Index(sorted({str(p) for p in patients}))
        ids = wanted.intersection(expr.index).sort_values()
        if len(ids) < len(wanted):
            log.warning("predicted %s: %d of %d requested patients have no expression (skipped)", model.target,
                        len(wanted) - len(ids), len(wanted))
    if len(ids) == 0:
        log.warning("predicted %s: no patient to predict", model.target)
        return pd.DataFrame(columns=PREDICTED_COLUMNS)
    out = np.asarray(model.outputs(model.scaled(expr.loc[ids])), dtype=float)
    classes = list(model.classes)
    if model.target_type == "binary":
        logit = out.reshape(len(ids), -1)[:, -1]
        predicted = np.where(logit > 0, classes[1], classes[0])
        score = 1.0 / (1.0 + np.exp(-logit))
        score = np.where(logit > 0, score, 1.0 - score)
    else:
        z = out - out.max(axis=1, keepdims=True)
        prob = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        predicted = np.asarray(classes, dtype=object)[prob.argmax(axis=1)]
        score = prob.max(axis=1)
    table = pd.DataFrame({"patient": ids.to_numpy(), "trait": model.target, "predicted": predicted,
                          "score": score})
    log.info("predicted %s for %d patients: %s", model.target, len(table),
             table["predicted"].value_counts().reindex(classes).fillna(0).astype(int).to_dict())
    return table[PREDICTED_COLUMNS]


def transferred_encoder(model) -> bool:
    """Whether a fitted trait network (``nets.FittedModel``) started from the autoencoder's encoder.

    Read from the configuration its final selection chose
    (``model.info["selection"]["transfer"]``); raises ``ValueError`` when
    the model does not record it.
    """
    chosen = (getattr(model, "info", None) or {}).get("selection") or {}
    if "transfer" not in chosen:
        raise ValueError(f"network {getattr(model, 'target', '?')!r}: the saved model does not record whether its "
                         "configuration transferred the autoencoder's encoder (info['selection']['transfer'])")
    return bool(chosen["transfer"])


def encoder_patients(cohorts: Mapping, trait: str) -> list[str]:
    """The patients whose expression the autoencoder behind a trait network's encoder was pretrained on.

    ``cohorts`` is the workflow's ``cohorts/cohorts.json``: the target's
    list under ``encoder_patients`` when there is one; one list per outer
    fold there gives every patient any of those autoencoders saw; without
    the key, the shared autoencoder's cohort ``autoencoder`` (the patients
    with expression and no imaging).
    """
    scoped = (cohorts.get("encoder_patients") or {}).get(trait)
    if scoped is None:
        return [str(p) for p in cohorts["autoencoder"]]
    if isinstance(scoped, Mapping):
        return sorted({str(p) for patients in scoped.values() for p in patients})
    return [str(p) for p in scoped]


def predicted_provenance(predicted: pd.DataFrame, *, trait_patients: Mapping[str, Iterable[str]],
                         encoder_patients: Mapping[str, Iterable[str]] | None,
                         transferred: Mapping[str, bool]) -> pd.DataFrame:
    """Which model saw each patient of a predicted-traits table (:func:`predict_trait_classes` rows).

    ``trait_patients``: trait -> the patients its network was trained on
    (``cohorts.json`` ``targets``); a predicted patient among them is an
    ``InputError`` (the prediction would not be out of sample).
    ``encoder_patients``: trait -> the patients whose expression the
    autoencoder behind that network's encoder was pretrained on (the shared
    autoencoder: ``cohorts.json`` ``autoencoder``); None without an
    autoencoder. ``transferred``: trait -> whether its network started from
    that encoder (:func:`transferred_encoder`).

    Returns the table with :data:`PREDICTED_TABLE_COLUMNS`:
    ``encoder_pretrained_on_patient`` is True when the trait's network
    transferred the encoder and its autoencoder was pretrained on that
    patient's expression (unsupervised: no trait label, no survival).
    """
    missing = [c for c in PREDICTED_COLUMNS if c not in predicted.columns]
    if missing:
        raise InputError(None, f"predicted-traits table lacks column(s) {missing}")
    table = predicted[PREDICTED_COLUMNS].copy()
    table["patient"] = table["patient"].map(str)
    flags = np.zeros(len(table), dtype=bool)
    for trait in pd.unique(table["trait"]):
        rows = (table["trait"] == trait).to_numpy()
        if trait not in trait_patients or trait not in transferred:
            raise InputError(None, f"predicted trait {trait!r}: no training cohort or transfer flag given")
        trained = {str(p) for p in trait_patients[trait]}
        overlap = sorted(set(table.loc[rows, "patient"]) & trained)
        if overlap:
            raise InputError(None, f"predicted trait {trait!r}: {len(overlap)} predicted patient(s) trained its "
                                   f"network, e.g. {overlap[:5]}; predictions must be for patients it never saw")
        if transferred[trait] and (encoder_patients is None or trait not in encoder_patients):
            raise InputError(None, f"predicted trait {trait!r}: its network transferred an encoder but the "
                                   "patients of its autoencoder are not given")
        seen = {str(p) for p in encoder_patients[trait]} if transferred[trait] else set()
        flags[rows] = table.loc[rows, "patient"].isin(seen).to_numpy()
        log.info("predicted %s: %d patients, none among the network's %d training patients; encoder transferred "
                 "from an autoencoder: %s; pretrained on %d of them", trait, int(rows.sum()), len(trained),
                 bool(transferred[trait]), int(flags[rows].sum()))
    table["encoder_pretrained_on_patient"] = flags
    return table[PREDICTED_TABLE_COLUMNS]


def read_endpoint(path: str | os.PathLike) -> pd.DataFrame:
    """Read an endpoint table written by the workflow (TSV, ``patient`` column) with its types restored.

    ``patient`` becomes the (string) index, ``time`` float, ``event`` int,
    ``age_group`` a Categorical with the ``<=median`` group first (the Cox
    reference), ``gender`` / ``race`` / ``event_type`` strings. Raises
    ``InputError`` naming the file when a column is missing or a patient is
    listed twice.
    """
    path = os.fspath(path)
    table = pd.read_csv(path, sep="\t", dtype={"patient": str, "gender": str, "race": str, "event_type": str,
                                              "age_group": str})
    missing = [c for c in ["patient", *ENDPOINT_COLUMNS] if c not in table.columns]
    if missing:
        raise InputError(path, f"endpoint table lacks column(s) {missing}", column=missing[0])
    if table["patient"].duplicated().any():
        raise InputError(path, f"patient {table.loc[table['patient'].duplicated(), 'patient'].iloc[0]!r} is listed "
                               "twice", column="patient")
    table = table.set_index("patient")
    table["time"] = table["time"].astype(float)
    table["event"] = table["event"].astype(int)
    if "age_group" in table.columns:
        levels = sorted(table["age_group"].dropna().unique(), key=lambda v: (not str(v).startswith("<="), str(v)))
        table["age_group"] = pd.Categorical(table["age_group"], categories=levels)
    return table
