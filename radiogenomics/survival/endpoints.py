"""Survival endpoints (overall and progression-free) from TCGA clinical tables, with covariates and the problems found
per patient.
"""

from __future__ import annotations

import csv
import logging
import os
import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from radiogenomics import inputs
from radiogenomics.errors import InputError, log_dropped

log = logging.getLogger(__name__)


ENDPOINT_COLUMNS = ["time", "event"]


COVARIATE_COLUMNS = ["age", "age_group", "gender", "race", "karnofsky"]


PROBLEM_COLUMNS = ["patient", "problem"]


# Column names of the current Biotab tables first, then the legacy short names.
_VITAL_COLUMNS = ("vital_status",)


_DEATH_COLUMNS = ("death_days_to", "days_to_death")


_LAST_CONTACT_COLUMNS = ("last_contact_days_to", "days_to_last_followup")


AGE_COLUMNS = ("age_at_initial_pathologic_diagnosis", "age_at_diagnosis")


GENDER_COLUMNS = ("gender",)


RACE_COLUMNS = ("race",)


KARNOFSKY_COLUMNS = ("karnofsky_score", "karnofsky_performance_score")


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


BRACKETED_RE = re.compile(r"^\[.*\]$")


def find_column(df: pd.DataFrame, candidates: Sequence[str]) -> str | None:
    for name in candidates:
        if name in df.columns:
            return name
    return None


def clean_text(values: pd.Series) -> pd.Series:
    """Strip strings; empty strings and bracketed markers (``[Not Available]``) become NaN."""
    out = values.astype("object").where(values.notna(), None)
    out = out.map(lambda v: v.strip() if isinstance(v, str) else v)
    is_missing = out.map(lambda v: v is None
                         or (isinstance(v, str) and (v == "" or (v.startswith("[") and v.endswith("]"))))
                         or (isinstance(v, float) and np.isnan(v)))
    return out.where(~is_missing, np.nan)


def race_group(value) -> str:
    if not isinstance(value, str):
        return "unknown"
    v = value.strip().lower()
    if v == "white":
        return "white"
    if v in {"", "unknown", "not reported", "not available"}:
        return "unknown"
    return "non-white"


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
            records.append([np.nan if (c := cell.strip()) == "" or BRACKETED_RE.match(c) else c for cell in record])
            lines.append(line)
    df = pd.DataFrame(records, columns=names, dtype=object)
    if inputs.VITAL_STATUS_COLUMN in df.columns:  # one rule with the clinical table and a plain survival table
        inputs.check_vital_status(df[inputs.VITAL_STATUS_COLUMN].to_numpy(), lines, path)
    df.insert(0, "patient", df.pop("bcr_patient_barcode").map(lambda v: v.strip() if isinstance(v, str) else v))
    log.info("%s: %d records of %d patients, %d columns", path, len(df), df["patient"].nunique(), df.shape[1])
    return df


def _table_patients(table: pd.DataFrame) -> pd.Index:
    """Patient IDs of each row: the ``bcr_patient_barcode`` or ``patient`` column, else the index."""
    col = find_column(table, _PATIENT_ID_COLUMNS)
    raw = table[col].to_numpy(dtype=object) if col is not None else table.index.to_numpy(dtype=object)
    return pd.Index([str(v).strip() if isinstance(v, str) or not pd.isna(v) else "" for v in raw], name="patient")


def _numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numeric values (NaN when missing or not a number) and a mask of the non-numeric, non-missing ones."""
    clean = clean_text(values)
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
        vital_col = find_column(table, _VITAL_COLUMNS)
        if vital_col is not None:
            used.append(vital_col)
            for pid, v in zip(ids, clean_text(table[vital_col])):
                if isinstance(v, str):
                    s = v.lower()
                    if s in _DEAD or s in _ALIVE:
                        extra.status.setdefault(pid, set()).add("dead" if s in _DEAD else "alive")
                    else:  # the readers stop on this already; tables built in code get the same rule
                        raise InputError(None, f"{name}: unrecognised vital status {v!r} for patient {pid} "
                                               "(expected Dead or Alive)", row=pid, column=vital_col)
        type_col = find_column(table, _NTE_TYPE_COLUMNS)
        new_primary = (clean_text(table[type_col]).map(lambda v: isinstance(v, str) and "new primary" in v.lower())
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
                for pid, v in zip(ids, clean_text(table[col])):
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
    vital_col = find_column(clinical, _VITAL_COLUMNS)
    death_col = find_column(clinical, _DEATH_COLUMNS)
    contact_col = find_column(clinical, _LAST_CONTACT_COLUMNS)
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
    vital = clean_text(clinical[vital_col]).set_axis(index)
    death_raw = clean_text(clinical[death_col]).set_axis(index)
    contact_raw = clean_text(clinical[contact_col]).set_axis(index)
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
    age_col = find_column(clinical, AGE_COLUMNS)
    if age_col is not None:
        age = pd.to_numeric(clean_text(clinical[age_col]).set_axis(index)[first], errors="coerce")
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
    gender_col = find_column(clinical, GENDER_COLUMNS)
    if gender_col is not None:
        gender = clean_text(clinical[gender_col]).set_axis(index)[first]
        endpoint["gender"] = gender.reindex(kept).map(lambda v: v.lower() if isinstance(v, str) else np.nan)
    race_col = find_column(clinical, RACE_COLUMNS)
    if race_col is not None:
        race = clean_text(clinical[race_col]).set_axis(index)[first]
        endpoint["race"] = race.reindex(kept).map(race_group)
    kps_col = find_column(clinical, KARNOFSKY_COLUMNS)
    if kps_col is not None:
        kps = pd.to_numeric(clean_text(clinical[kps_col]).set_axis(index)[first], errors="coerce")
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
    clinical_nte = find_column(clinical, _NTE_DAY_COLUMNS)
    clinical_flag = find_column(clinical, _NTE_INDICATOR_COLUMNS)
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
