"""Radiogenomic traits (patients whose saliency ranking enriches a gene set) and their survival tests."""

from __future__ import annotations

import logging
from typing import Mapping

import numpy as np
import pandas as pd
from lifelines.exceptions import ConvergenceError

from radiogenomics.config.survival import RADIOGENOMIC_MIN_CARRIERS, RADIOGENOMIC_MIN_NON_CARRIERS
from radiogenomics.config.survival import check_minimums as _check_minimums
from radiogenomics.errors import InputError
from radiogenomics.evaluation.stats import benjamini_hochberg
from radiogenomics.survival.endpoints import find_column
from radiogenomics.survival.km_cox import (
    check_endpoint,
    check_unique,
    cox_joined,
    group_levels,
    join_covariates,
    join_groups,
    logrank_joined,
)

log = logging.getLogger(__name__)


RADIOGENOMIC_TEST_COLUMNS = ["trait", "network", "set", "status", "n", "n_carriers", "n_non_carriers", "events",
                             "carrier_events", "logrank_statistic", "logrank_p", "logrank_fdr", "n_cox", "hr",
                             "ci_low", "ci_high", "cox_p", "cox_fdr", "note"]


#: Radiogenomic traits not tested because too few patients carry them, or too few do not.
RADIOGENOMIC_SKIPPED_COLUMNS = ["trait", "network", "set", "n_assessed", "n_carriers", "n_non_carriers", "reason"]


#: Separator of the network (imaging trait) and the gene set in a radiogenomic trait name.
RADIOGENOMIC_SEPARATOR = "|"


_NETWORK_COLUMNS = ("target", "network", "trait")


def _enrichment_long(enrichment: pd.DataFrame | Mapping[str, pd.DataFrame]) -> tuple[pd.DataFrame, str]:
    if isinstance(enrichment, Mapping):
        parts = []
        for name, table in enrichment.items():
            t = table.copy()
            if find_column(t, _NETWORK_COLUMNS) is None:
                t.insert(0, "target", name)
            parts.append(t)
        if not parts:
            raise InputError(None, "radiogenomic traits: no enrichment tables given")
        enrichment = pd.concat(parts, ignore_index=True)
    if not isinstance(enrichment, pd.DataFrame):
        raise InputError(None, f"enrichment must be a DataFrame (or a dict of them), got {type(enrichment).__name__}")
    net_col = find_column(enrichment, _NETWORK_COLUMNS)
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
    check_unique(targets.index, "targets")
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


def level_without_events(ep: pd.DataFrame, values: pd.Series) -> list:
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
    check_endpoint(endpoint)
    _check_minimums(min_carriers, min_non_carriers)
    rg = rg_traits.set_axis(pd.Index(rg_traits.index.map(str), name="patient"))
    check_unique(rg.index, "radiogenomic traits")
    if covariates is None:
        cov = pd.DataFrame(index=pd.Index(endpoint.index.map(str), name="patient"))
    else:
        cov = covariates.set_axis(pd.Index(covariates.index.map(str), name="patient"))
        check_unique(cov.index, "covariates")
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
        lr = logrank_joined(data)
        row.update(logrank_statistic=lr["test_statistic"], logrank_p=lr["p"])
        if lr["note"]:
            notes.append(f"log-rank: {lr['note']}")
        cv_all = cov.join(trait, how="outer")
        ep, cv = join_covariates(endpoint, cv_all, quiet=True)
        row["n_cox"] = int(len(ep))
        levels = group_levels(cv[col])
        cox_carriers = int((cv[col] == 1).sum())
        cox_too_few = _too_few(cox_carriers, int(len(cv)) - cox_carriers, min_carriers, min_non_carriers)
        no_event_levels = level_without_events(ep, cv[col]) if len(levels) >= 2 else []
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
                fit = cox_joined(ep, cv, quiet=True)
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
