"""Stepwise Cox selection by AIC (both, backward or forward), with post-selection inference marked as such."""

from __future__ import annotations

import logging
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from lifelines.exceptions import ConvergenceError

from radiogenomics.errors import InputError
from radiogenomics.survival.km_cox import (
    COX_COLUMNS,
    check_endpoint,
    check_unique,
    cox_joined,
    group_levels,
    join_covariates,
)
from radiogenomics.survival.traits import level_without_events

log = logging.getLogger(__name__)


STEPWISE_PATH_COLUMNS = ["step", "action", "term", "aic_before", "aic_after", "loglik", "n_params", "note"]


STEPWISE_DIRECTIONS = ("both", "backward", "forward")


#: Stated on every row of the final stepwise model: its p-values and intervals ignore the selection.
POST_SELECTION_NOTE = ("post-selection: p and 95% CI are from the selected model refitted as if it had been chosen "
                       "in advance; after stepwise selection they are not valid inference")


STEPWISE_FINAL_COLUMNS = COX_COLUMNS + ["role", "inference"]


#: AIC differences at most this large are ties (broken by the candidates' column order).
AIC_TOLERANCE = 1e-8


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
    check_endpoint(endpoint)
    base_cov = pd.DataFrame(index=pd.Index(endpoint.index.map(str))) if covariates is None else covariates
    base_cov = base_cov.set_axis(pd.Index(base_cov.index.map(str), name="patient"))
    cand = candidates.set_axis(pd.Index(candidates.index.map(str), name="patient"))
    check_unique(base_cov.index, "covariates")
    check_unique(cand.index, "candidates")
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
    ep, cv = join_covariates(endpoint, joined)
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
        levels = group_levels(values)
        reason = ""
        if len(levels) < 2:
            reason = f"one level only ({levels[0]!r})" if levels else "no values"
        else:
            categorical = not pd.api.types.is_numeric_dtype(values) or isinstance(values.dtype, pd.CategoricalDtype) \
                or len(levels) == 2
            if categorical:
                empty = level_without_events(ep, values)
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
                    fit = cox_joined(ep, cv[columns], quiet=True)
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
        final = pd.DataFrame(cox_joined(ep, cv[final_columns]).rows, columns=COX_COLUMNS)
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
