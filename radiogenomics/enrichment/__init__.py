"""Gene-set enrichment (preranked GSEA) of masking and saliency rankings, against a phenotype-permutation null.
"""

__all__ = ["gsea"]
