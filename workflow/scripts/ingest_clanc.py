"""Parse the Verhaak ClaNC table: subtype labels per patient and the subtype gene sets."""

import _common

log = _common.start(snakemake, "ingest_clanc")

import pandas as pd

from radiogenomics import inputs, results

clanc = inputs.read_clanc(snakemake.input.clanc)
subtypes = pd.DataFrame({"subtype": clanc.subtypes})
subtypes.index.name = "patient"
log.info("subtypes: %s", subtypes["subtype"].value_counts().to_dict())
results.write_table(subtypes, snakemake.output.subtypes, index=True)
results.write_text(inputs.format_gmt(clanc.gene_sets, description="Verhaak 2010 ClaNC subtype gene set"),
                 snakemake.output.gene_sets)
