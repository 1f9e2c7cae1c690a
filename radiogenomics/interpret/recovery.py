"""Recovery of the simulator's planted truth: ranks of each trait's driver programs."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from radiogenomics.evaluation.metrics import PRIMARY_METRIC


def correlation_set_ranks(results: pd.DataFrame) -> pd.DataFrame:
    """Rank gene sets by the GSEA of a gene-trait correlation ranking (``enrichment.correlation_gsea``,
    phenotype or gene-set null): 1 = the largest |NES| (association in either
    direction); with several rankings (one per class) a set's largest |NES| over them counts.
    Returns ``set``, ``nes`` (the signed NES of that ranking), ``fdr`` and ``correlation_rank``."""
    missing = [c for c in ("set", "nes", "fdr") if c not in results.columns]
    if missing:
        raise ValueError(f"correlation GSEA results lack column(s) {missing}")
    t = results.assign(_abs=results["nes"].abs()).sort_values(["_abs", "set"], ascending=[False, True],
                                                              kind="stable", na_position="last")
    t = t.drop_duplicates("set").reset_index(drop=True)
    t["correlation_rank"] = np.arange(1, len(t) + 1)
    return t[["set", "nes", "fdr", "correlation_rank"]]


def masking_gsea_set_ranks(results: pd.DataFrame) -> pd.DataFrame:
    """Rank gene sets by the GSEA of the single-gene masking ranking (``enrichment.prerank_gsea`` of
    ``enrichment.masking_ranking``): 1 = the largest positive NES (the set's genes, each kept alone,
    keep more of the prediction than typical genes); sets with a negative or undefined NES follow.
    Returns ``set``, ``nes``, ``fdr`` and ``masking_gsea_rank``."""
    missing = [c for c in ("set", "nes", "fdr") if c not in results.columns]
    if missing:
        raise ValueError(f"masking GSEA results lack column(s) {missing}")
    t = results.assign(_key=-results["nes"]).sort_values(["_key", "set"], kind="stable", na_position="last")
    t = t.drop_duplicates("set").reset_index(drop=True)
    t["masking_gsea_rank"] = np.arange(1, len(t) + 1)
    return t[["set", "nes", "fdr", "masking_gsea_rank"]]


def _planted_targets(truth: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every simulated target with planted driver programs: the VASARI traits, the driven radiomic
    features of the plain target table (noise features have none) and the classes of a multiclass
    plain-table target (the driver of each class that has one)."""
    planted = dict(truth["traits"])
    for name, spec in (truth.get("radiomic") or {}).items():
        if spec.get("drivers"):
            planted[name] = {"drivers": list(spec["drivers"]), "rule": "radiomic"}
    for name, classes in (truth.get("multiclass_targets") or {}).items():
        planted[name] = {"drivers": [d for d in classes.values() if d is not None], "rule": "class driver"}
    return planted


def driver_ranks(truth: Mapping[str, Any], masking: Mapping[str, pd.DataFrame],
                 enrichment: Mapping[str, pd.DataFrame] | None = None,
                 correlation: Mapping[str, pd.DataFrame] | None = None,
                 masking_gsea: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """One row per (trait, planted driver program): its rank in the trait network's masking table
    (1 = the set whose genes alone best preserve the prediction), in the saliency-GSEA summary
    (1 = enriched in the most patients, ties broken by mean NES) and, with ``correlation`` (trait ->
    GSEA results of its gene-trait correlation ranking), in the correlation GSEA
    (:func:`correlation_set_ranks`: 1 = largest |NES|) and, with ``masking_gsea`` (trait -> GSEA
    results of its single-gene masking ranking), in that GSEA (:func:`masking_gsea_set_ranks`: 1 =
    largest positive NES). Traits absent from ``masking`` are skipped."""
    rows = []
    for target, spec in _planted_targets(truth).items():
        if target not in masking:
            continue
        table = masking[target].set_index("set")
        metric = next(m for m in PRIMARY_METRIC.values() if m in table.columns)
        summary = None
        if enrichment is not None and target in enrichment:
            # 1 = enriched in the most patients; ties (e.g. none enriched) broken by mean NES
            summary = enrichment[target].sort_values(["n_enriched", "mean_nes"], ascending=False, kind="stable")
            if "class" in summary.columns:
                # one summary per class (multiclass saliency): a set's best rank within any class counts
                summary = summary.assign(enrichment_rank=summary.groupby("class", sort=False).cumcount() + 1)
                summary = summary.sort_values("enrichment_rank", kind="stable").drop_duplicates("set")
                summary = summary.set_index("set")
            else:
                summary = summary.reset_index(drop=True).assign(enrichment_rank=lambda d: d.index + 1).set_index("set")
        corr = None
        if correlation is not None and target in correlation:
            corr = correlation_set_ranks(correlation[target]).set_index("set")
        mgsea = None
        if masking_gsea is not None and target in masking_gsea:
            mgsea = masking_gsea_set_ranks(masking_gsea[target]).set_index("set")
        for driver in spec["drivers"]:
            row = {"target": target, "driver": driver, "rule": spec.get("rule", ""), "n_sets": len(table),
                   "masking_rank": np.nan, "masking_metric": metric, "masking_value": np.nan,
                   "masking_p": np.nan, "masking_fdr": np.nan, "enrichment_rank": np.nan, "enrichment_share": np.nan}
            if correlation is not None:
                row.update(correlation_rank=np.nan, correlation_nes=np.nan, correlation_fdr=np.nan)
            if masking_gsea is not None:
                row.update(masking_gsea_rank=np.nan, masking_gsea_nes=np.nan, masking_gsea_fdr=np.nan)
            if driver in table.index:
                t = table.loc[driver]
                row.update(masking_rank=int(t["rank"]), masking_value=float(t[metric]),
                           masking_p=float(t["p_empirical"]), masking_fdr=float(t["fdr"]))
            if summary is not None and driver in summary.index:
                row.update(enrichment_rank=int(summary.loc[driver, "enrichment_rank"]),
                           enrichment_share=float(summary.loc[driver, "share_enriched"]))
            if corr is not None and driver in corr.index:
                row.update(correlation_rank=int(corr.loc[driver, "correlation_rank"]),
                           correlation_nes=float(corr.loc[driver, "nes"]),
                           correlation_fdr=float(corr.loc[driver, "fdr"]))
            if mgsea is not None and driver in mgsea.index:
                row.update(masking_gsea_rank=int(mgsea.loc[driver, "masking_gsea_rank"]),
                           masking_gsea_nes=float(mgsea.loc[driver, "nes"]),
                           masking_gsea_fdr=float(mgsea.loc[driver, "fdr"]))
            rows.append(row)
    return pd.DataFrame(rows)
