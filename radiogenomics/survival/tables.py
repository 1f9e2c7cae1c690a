"""The survival stage's workflow tables: covariate decisions, adjusted Cox models, predicted traits and their encoder
provenance, endpoint files.
"""

from __future__ import annotations

import logging
import os
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from lifelines.exceptions import ConvergenceError

from radiogenomics.errors import InputError
from radiogenomics.survival.endpoints import ENDPOINT_COLUMNS
from radiogenomics.survival.km_cox import check_endpoint, check_unique, cox_joined, group_levels, join_covariates
from radiogenomics.survival.traits import level_without_events

log = logging.getLogger(__name__)


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
    check_endpoint(endpoint)
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
        levels = group_levels(values)
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
    check_endpoint(endpoint)
    cov = (pd.DataFrame(index=pd.Index(endpoint.index.map(str), name="patient")) if covariates is None
           else covariates.set_axis(pd.Index(covariates.index.map(str), name="patient")))
    tr = traits.set_axis(pd.Index(traits.index.map(str), name="patient"))
    check_unique(cov.index, "covariates")
    check_unique(tr.index, "traits")
    clash = [c for c in tr.columns if c in cov.columns]
    if clash:
        raise InputError(None, f"trait name(s) {clash} are also covariate names")
    parts = []

    def fit(model: str, term: str, columns: pd.DataFrame) -> None:
        ep, cv = join_covariates(endpoint, columns, quiet=True)
        n, events = int(len(ep)), int(ep["event"].sum())
        base = {"model": model, "term": term, "n": n, "events": events}
        if columns.shape[1] == 0:
            log.info("cox %s: no covariate, nothing to fit", model)
            return
        reason = ""
        if n == 0 or events == 0:
            reason = f"{n} patients with complete data, {events} events: not fitted"
        elif term and len(group_levels(cv[term])) < 2:
            levels = group_levels(cv[term])
            reason = (f"{term} has one level only ({levels[0]!r}) among the {n} patients with complete data: "
                      "not fitted" if levels else f"{term} has no values: not fitted")
        elif term:
            categorical = (not pd.api.types.is_numeric_dtype(cv[term])
                           or isinstance(cv[term].dtype, pd.CategoricalDtype) or len(group_levels(cv[term])) == 2)
            empty = level_without_events(ep, cv[term]) if categorical else []
            if empty:
                reason = f"level(s) {empty} of {term} without events: hazard ratio not estimable"
        if not reason:
            try:
                result = cox_joined(ep, cv, quiet=True)
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
    check_unique(expr.index, "expression")
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
