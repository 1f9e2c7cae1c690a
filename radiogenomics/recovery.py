"""Recovery of the simulator's planted truth: ranks of each trait's driver programs."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from .evaluation import PRIMARY_METRIC


def correlation_set_ranks(results: pd.DataFrame) -> pd.DataFrame:
    """Rank gene sets by the GSEA of a gene-trait correlation ranking (``enrichment.prerank_gsea``
    of ``enrichment.correlation_ranking``): 1 = the largest |NES| (association in either
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


def driver_ranks(truth: Mapping[str, Any], masking: Mapping[str, pd.DataFrame],
                 enrichment: Mapping[str, pd.DataFrame] | None = None,
                 correlation: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """One row per (trait, planted driver program): its rank in the trait network's masking table
    (1 = the set whose genes alone best preserve the prediction), in the saliency-GSEA summary
    (1 = enriched in the most patients, ties broken by mean NES) and, with ``correlation`` (trait ->
    GSEA results of its gene-trait correlation ranking), in the correlation GSEA
    (:func:`correlation_set_ranks`: 1 = largest |NES|). Traits absent from ``masking`` are skipped."""
    rows = []
    for target, spec in truth["traits"].items():
        if target not in masking:
            continue
        table = masking[target].set_index("set")
        metric = next(m for m in PRIMARY_METRIC.values() if m in table.columns)
        summary = None
        if enrichment is not None and target in enrichment:
            # 1 = enriched in the most patients; ties (e.g. none enriched) broken by mean NES
            summary = enrichment[target].sort_values(["n_enriched", "mean_nes"], ascending=False, kind="stable")
            summary = summary.reset_index(drop=True).assign(enrichment_rank=lambda d: d.index + 1).set_index("set")
        corr = None
        if correlation is not None and target in correlation:
            corr = correlation_set_ranks(correlation[target]).set_index("set")
        for driver in spec["drivers"]:
            row = {"target": target, "driver": driver, "rule": spec.get("rule", ""), "n_sets": len(table),
                   "masking_rank": np.nan, "masking_metric": metric, "masking_value": np.nan,
                   "masking_p": np.nan, "masking_fdr": np.nan, "enrichment_rank": np.nan, "enrichment_share": np.nan}
            if correlation is not None:
                row.update(correlation_rank=np.nan, correlation_nes=np.nan, correlation_fdr=np.nan)
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
            rows.append(row)
    return pd.DataFrame(rows)
