"""Single-gene masking: the network with only one gene kept, for every gene of the model.

Mode out_of_fold: each outer-fold network predicts its held-out patients; mode final: the final network
predicts all of the target's patients. The null of a random single gene is every gene (null_mean/null_sd);
p and FDR are left empty (a rank quantile cannot reach significance after BH over thousands of genes).
"""

import _common

log = _common.start(snakemake, "single_gene_masking")

import pandas as pd

from radiogenomics import results
from radiogenomics.cohorts import targets
from radiogenomics.interpret import masking

inp, out, params, wc = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
expression = pd.read_parquet(inp.expression)
model, folds, target_type = _common.load_networks(inp, params.mode == "out_of_fold")
y = targets.target_vector(pd.read_parquet(inp.targets), wc.target, target_type)
table = masking.single_gene_masking(model, expression, y, folds=folds, per_class=True,
                                    device=_common.device(snakemake, log))
primary = table.attrs["primary_metric"]
log.info("%s (%s): %d genes masked one at a time over %d patients; unmasked score %s; %s over genes: "
         "mean %.4f, sd %.4f; top genes %s", wc.target, params.mode, len(table), table.attrs["n_patients"],
         table.attrs["full_score"], primary, table["null_mean"].iloc[0], table["null_sd"].iloc[0],
         table["set"].head(10).tolist())
table.attrs = {}
results.write_table(table, out.table)
