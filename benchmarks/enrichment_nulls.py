"""Cohort-level enrichment under the two nulls, side by side: phenotype permutation vs random gene sets.

Runs the workflow up to ``correlation_enrichment`` twice for one config, once with the default
``enrichment.permute: phenotype`` and once with ``permute: gene_set`` (each in its own results
directory), then prints per target and collection how many (ranking, set) pairs each null calls at
the config's FDR, and the sets whose call differs.

    python benchmarks/enrichment_nulls.py --configfile config/tcga_gbm.yaml --out /tmp/nulls --cores 2

Only the ingest, target, split and correlation-enrichment jobs run (no network is trained).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
NULLS = ("phenotype", "gene_set")


def run(configfile: Path, out: Path, null: str, cores: int) -> Path:
    results = out / null
    override = out / f"{null}.yaml"
    out.mkdir(parents=True, exist_ok=True)
    override.write_text(yaml.safe_dump({"results": str(results), "enrichment": {"permute": null}}))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "workflow" / "Snakefile"),
           "--directory", str(REPO),
           "--configfile", str(configfile), str(override), "--cores", str(cores), "--until",
           "correlation_enrichment", "--quiet", "rules"]
    subprocess.run(cmd, check=True)
    return results


def calls(results: Path) -> pd.DataFrame:
    frames = []
    for path in sorted((results / "enrichment").glob("*/*_correlation.tsv")):
        table = pd.read_csv(path, sep="\t")
        ranking = "class" if "class" in table.columns else "ranking"
        frames.append(table.assign(target=path.parent.name, collection=path.name.removesuffix("_correlation.tsv"),
                                   ranking=table[ranking].astype(str))
                      [["target", "collection", "ranking", "set", "nes", "p", "fdr", "null", "n_perm"]])
    if not frames:
        raise SystemExit(f"no correlation enrichment tables under {results}/enrichment")
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configfile", type=Path, default=REPO / "config" / "config.yaml")
    ap.add_argument("--out", type=Path, required=True, help="folder for the two results directories")
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args()
    fdr = yaml.safe_load(args.configfile.read_text()).get("enrichment", {}).get("fdr", 0.05)
    tables = {null: calls(run(args.configfile.resolve(), args.out.resolve(), null, args.cores)) for null in NULLS}
    keys = ["target", "collection", "ranking", "set"]
    both = tables["phenotype"].merge(tables["gene_set"], on=keys, suffixes=("_phen", "_gene"), validate="1:1")
    for null, suffix in (("phenotype", "_phen"), ("gene_set", "_gene")):
        assert (both["null" + suffix] == null).all(), f"tables of the {null} run name another null"
    both["called_phen"] = both["fdr_phen"] < fdr
    both["called_gene"] = both["fdr_gene"] < fdr
    summary = both.groupby(["target", "collection"]).agg(
        pairs=("set", "size"), called_phenotype=("called_phen", "sum"), called_gene_set=("called_gene", "sum"),
        min_p_phenotype=("p_phen", "min"), min_p_gene_set=("p_gene", "min"))
    print(f"config {args.configfile}: (ranking, set) pairs called at FDR < {fdr} under each null")
    print(summary.to_string())
    print(f"total: phenotype {int(both['called_phen'].sum())}, gene_set {int(both['called_gene'].sum())} "
          f"of {len(both)} pairs")
    differ = both[both["called_phen"] != both["called_gene"]]
    if len(differ):
        print("\npairs called under one null only:")
        print(differ[keys + ["nes_phen", "p_phen", "fdr_phen", "p_gene", "fdr_gene"]]
              .sort_values(["target", "collection", "p_gene"]).to_string(index=False))


if __name__ == "__main__":
    main()
