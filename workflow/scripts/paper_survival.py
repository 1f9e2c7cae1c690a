"""Paper figures: KM panels of the categorical traits and of the significant radiogenomic traits (overall survival)."""

import _common

log = _common.start(snakemake, "paper_survival")

import pandas as pd

from radiogenomics import figures, files, paper, survival, targets

inp, out, params = snakemake.input, snakemake.output, snakemake.params
endpoint = survival.read_endpoint(inp.endpoint)
groups = targets.class_labels(pd.read_parquet(inp.targets), files.read_json(inp.meta), list(params.km_traits))
paper.draw(figures._km_grid_figure, out.km_traits_png, endpoint, groups, list(params.km_traits),
           title="Overall survival by trait")
traits = pd.read_csv(inp.traits, sep="\t", dtype={"patient": str}).set_index("patient")
tests = pd.read_csv(inp.tests, sep="\t")
fdr = pd.to_numeric(tests.get("cox_fdr", pd.Series(dtype=float)), errors="coerce")
significant = [t for t, f in zip(tests.get("trait", []), fdr) if f < params.alpha and t in traits.columns]
n_tested = int((tests["status"] == "tested").sum())  # the others had too few carriers or non-carriers
log.info("radiogenomic traits: %d tested (%d skipped), %d with adjusted Cox FDR < %g", n_tested, len(tests) - n_tested,
         len(significant), params.alpha)
paper.draw(figures._radiogenomic_grid_figure, out.km_radiogenomic_png, endpoint, traits, tests=tests,
           columns=significant, max_panels=params.max_panels, ylabel="Overall survival probability",
           empty_message=(f"No radiogenomic trait has a covariate-adjusted Cox FDR below {params.alpha:g} "
                          f"({n_tested} traits tested; see survival/os/radiogenomic_tests.tsv)."))
