"""Recovery of the simulator's planted truth: ranks of each trait's driver programs."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from .evaluation import PRIMARY_METRIC


def driver_ranks(truth: Mapping[str, Any], masking: Mapping[str, pd.DataFrame],
                 enrichment: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """One row per (trait, planted driver program): its rank in the trait network's masking table
    (1 = the set whose genes alone best preserve the prediction) and in the saliency-GSEA summary
    (1 = enriched in the most patients, ties broken by mean NES). Traits absent from ``masking``
    are skipped."""
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
        for driver in spec["drivers"]:
            row = {"target": target, "driver": driver, "rule": spec.get("rule", ""), "n_sets": len(table),
                   "masking_rank": np.nan, "masking_metric": metric, "masking_value": np.nan,
                   "masking_p": np.nan, "masking_fdr": np.nan, "enrichment_rank": np.nan, "enrichment_share": np.nan}
            if driver in table.index:
                t = table.loc[driver]
                row.update(masking_rank=int(t["rank"]), masking_value=float(t[metric]),
                           masking_p=float(t["p_empirical"]), masking_fdr=float(t["fdr"]))
            if summary is not None and driver in summary.index:
                row.update(enrichment_rank=int(summary.loc[driver, "enrichment_rank"]),
                           enrichment_share=float(summary.loc[driver, "share_enriched"]))
            rows.append(row)
    return pd.DataFrame(rows)
