import pandas as pd

from radiogenomics.interpret import recovery


def test_driver_ranks_from_masking_and_enrichment():
    truth = {"traits": {"f5": {"drivers": ["P1"], "rule": "linear"},
                        "f14": {"drivers": ["P2", "P3"], "rule": "interaction"},
                        "f9": {"drivers": ["P1"], "rule": "linear"}}}
    masking = {t: pd.DataFrame({"set": ["P2", "P1", "P3"], "n_genes": [30, 40, 50], "auc": [0.9, 0.8, 0.6],
                                "ap": [0.9, 0.8, 0.6], "p_empirical": [0.01, 0.02, 0.5], "fdr": [0.03, 0.03, 0.5],
                                "rank": [1, 2, 3]}) for t in ("f5", "f14")}
    enrich = {"f5": pd.DataFrame({"set": ["P2", "P1", "P3"], "n_enriched": [0, 0, 0], "share_enriched": [0, 0, 0],
                                  "mean_nes": [0.9, 1.4, 1.0]})}
    table = recovery.driver_ranks(truth, masking, enrich)
    assert list(zip(table["target"], table["driver"], table["masking_rank"])) == [
        ("f5", "P1", 2), ("f14", "P2", 1), ("f14", "P3", 3)]
    f5 = table[table["target"] == "f5"].iloc[0]
    assert f5["masking_metric"] == "auc" and f5["masking_value"] == 0.8 and f5["n_sets"] == 3
    assert f5["enrichment_rank"] == 1  # no set enriched: the tie is broken by mean NES
    assert table[table["target"] == "f14"]["enrichment_rank"].isna().all()
