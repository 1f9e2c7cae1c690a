"""Paper tables and heatmaps: trait-trait and trait-clinical associations (Fisher / Fisher-Freeman-Halton,
Bonferroni)."""

import _common

log = _common.start(snakemake, "paper_associations")

import pandas as pd

from radiogenomics import results, survival
from radiogenomics.cohorts import targets
from radiogenomics.plots import figures, paper

inp, out, params = snakemake.input, snakemake.output, snakemake.params
traits = targets.class_labels(pd.read_parquet(inp.targets), results.read_json(inp.meta), list(params.traits))
cfg = params.paper
if "traits_png" in out.keys():
    table = paper.association_table(traits, paper.trait_pairs(list(params.traits)), n_resamples=cfg["n_resamples"],
                                    seed=params.seed, alpha=cfg["alpha"])
    results.write_table(table, out.traits)
    figures.draw(paper.association_heatmap_figure, out.traits_png, table, list(params.traits), list(params.traits),
               title="Association between traits (Cramér's V)", row_label="Trait", col_label="Trait",
               symmetric=True, alpha=cfg["alpha"])
if "clinical_png" in out.keys():
    covariates = paper.clinical_covariates(pd.read_parquet(inp.clinical))
    endpoint = survival.read_endpoint(inp.endpoint)
    clinical = paper.clinical_categories(covariates, endpoint, age_cut=cfg["age_cut"],
                                         karnofsky_cut=cfg["karnofsky_cut"])
    data = traits.join(clinical, how="outer")
    columns = list(clinical.columns)
    table = paper.association_table(data, paper.cross_pairs(list(params.traits), columns),
                                    n_resamples=cfg["n_resamples"], seed=params.seed, alpha=cfg["alpha"])
    results.write_table(table, out.clinical)
    figures.draw(paper.association_heatmap_figure, out.clinical_png, table, list(params.traits), columns,
               title="Association between traits and clinical variables (Cramér's V)", row_label="Trait",
               col_label="Clinical variable", alpha=cfg["alpha"])
