"""Preranked gene set enrichment (GSEA) for many rankings at once.

The method is GSEA preranked (Subramanian et al. 2005; as in gseapy
``prerank`` and fgsea): genes are sorted by score, descending (ties keep the
genes' input order). Walking down the list, a running sum goes up at each gene
of the set by ``|score|^weight / N_R`` (``N_R`` = the sum of that over the
set's genes; equal steps if it is 0) and down at each other gene by
``1 / (N - N_H)``. The enrichment score (ES) is the running sum's largest
deviation from zero, with its sign (the negative one when both are equally
far, as gseapy; "equally" up to rounding, :data:`ES_TIE_TOLERANCE`).

The running sum only turns at the set's genes, so its maximum is reached just
after a hit and its minimum just before one (or at the ends, where it is 0).
With the hits at sorted positions ``k_1 < ... < k_m`` and ``c_j`` the
normalised cumulative hit weight, the value just after hit ``j`` is
``c_j - (k_j - j + 1) / (N - m)`` and just before it
``c_{j-1} - (k_j - j + 1) / (N - m)`` (1-based ``j``). That needs only the hit
positions and a cumulative sum over the hits, so the ES of every
(ranking x permutation) pair is a few array operations with no sorting of
scores.

The null is gene-label permutation: random gene sets of the same size. A
random gene set lands on uniformly random positions of any ranking, so the
random sets are drawn as sets of positions, shared by all rankings and by
all sets of the same size (a set of size ``m`` is the first ``m`` draws of one
without-replacement sequence per permutation). NES divides ES by the mean
absolute null ES of the same sign; p is the share of same-sign null ES at
least as extreme, with +1 in numerator and denominator (fgsea); FDR is
Benjamini-Hochberg across the sets of each ranking.
"""

from __future__ import annotations

import logging
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .stats import benjamini_hochberg

log = logging.getLogger(__name__)

#: Default memory budget (bytes) for the temporary arrays of one chunk of rankings.
DEFAULT_MEMORY_BYTES = 256 * 2**20

#: Values (rankings x permutations x set size) per block of the null computation: small enough
#: for the CPU cache, which makes the array passes several times faster than on large arrays.
NULL_BLOCK_VALUES = 2**15

#: Deviations up and down that differ by less than this are a tie (the negative one is the ES):
#: equal in exact arithmetic, they may differ in the last bits depending on the summation order.
ES_TIE_TOLERANCE = 1e-12

RESULT_COLUMNS = ["ranking", "set", "size", "es", "nes", "p", "fdr"]


def _misses(pos: np.ndarray, n_genes: int) -> np.ndarray:
    """Misses up to and including each hit (``k_j - j`` for 0-based ``j``) over the number of misses."""
    m = pos.shape[-1]
    return (pos - np.arange(m)) / float(n_genes - m)


def _es_in_place(w: np.ndarray, misses: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """ES from hit weights ``w`` (..., m) in rank order; ``w`` and ``tmp`` (same shape) are overwritten.

    ``misses`` (broadcasting against ``w``) is :func:`_misses` of the hits' sorted positions.
    Returns ES with shape ``w.shape[:-1]``.
    """
    m = w.shape[-1]
    np.cumsum(w, axis=-1, out=w)
    total = w[..., -1:].copy()
    zero = total[..., 0] == 0
    if zero.any():  # no weight on any hit: equal steps
        w[zero] = np.arange(1, m + 1, dtype=np.float64)
        total[zero] = float(m)
    w /= total  # normalised cumulative hit weight c_j
    np.subtract(w, misses, out=tmp)  # the running sum just after each hit
    top = tmp.max(axis=-1)
    bottom = np.broadcast_to(-misses[..., 0], top.shape)  # just before the first hit
    if m > 1:  # just before hit j: c_{j-1} - misses_j
        before = tmp[..., :-1]
        np.subtract(w[..., :-1], misses[..., 1:], out=before)
        bottom = np.minimum(bottom, before.min(axis=-1))
    bottom = np.minimum(bottom, 0.0)  # the ends of the walk
    return np.where(top > -bottom + ES_TIE_TOLERANCE, top, bottom)


def _observed_es(w_sorted: np.ndarray, rank_of: np.ndarray, idx: np.ndarray, chunk: int) -> np.ndarray:
    """ES (rankings x sets) of sets ``idx`` (sets x m gene columns) in every ranking."""
    n_rank, n_genes = w_sorted.shape
    out = np.empty((n_rank, idx.shape[0]))
    for start in range(0, n_rank, chunk):
        stop = min(n_rank, start + chunk)
        pos = np.sort(rank_of[start:stop][:, idx], axis=-1)  # (r, k, m)
        w = np.take_along_axis(w_sorted[start:stop][:, None, :], pos, axis=-1)
        out[start:stop] = _es_in_place(w, _misses(pos, n_genes), np.empty_like(w))
    return out


def _null_es(w_sorted: np.ndarray, pos: np.ndarray, block: int) -> np.ndarray:
    """ES (rankings x permutations) of the random position sets ``pos`` (permutations x m, sorted).

    Works on blocks of about ``block`` values (rankings x permutations x m): blocks that fit in the
    CPU cache run faster than big arrays, and two buffers are reused for every block.
    """
    n_rank, n_genes = w_sorted.shape
    n_perm, m = pos.shape
    misses = _misses(pos, n_genes)
    perm_chunk = int(min(n_perm, max(1, block // m)))
    rank_chunk = int(min(n_rank, max(1, block // (perm_chunk * m))))
    buf = np.empty((rank_chunk, perm_chunk, m))
    tmp = np.empty_like(buf)
    out = np.empty((n_rank, n_perm))
    for p0 in range(0, n_perm, perm_chunk):
        p1 = min(n_perm, p0 + perm_chunk)
        pos_p, miss_p = pos[p0:p1], misses[p0:p1]
        for r0 in range(0, n_rank, rank_chunk):
            r1 = min(n_rank, r0 + rank_chunk)
            w = buf[:r1 - r0, :p1 - p0]
            np.take(w_sorted[r0:r1], pos_p, axis=1, out=w)
            out[r0:r1, p0:p1] = _es_in_place(w, miss_p, tmp[:r1 - r0, :p1 - p0])
    return out


def _null_statistics(es: np.ndarray, null: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NES and p of observed ES (rankings x k) against the null (rankings x P) of each ranking."""
    pos_mask = null >= 0
    n_pos = pos_mask.sum(axis=1)
    n_neg = null.shape[1] - n_pos
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_pos = np.where(pos_mask, null, 0.0).sum(axis=1) / n_pos
        mean_neg = np.where(pos_mask, 0.0, -null).sum(axis=1) / n_neg
    mean_pos = np.where((n_pos > 0) & (mean_pos > 0), mean_pos, np.nan)
    mean_neg = np.where((n_neg > 0) & (mean_neg > 0), mean_neg, np.nan)
    null_sorted = np.sort(null, axis=1)
    n_perm = null.shape[1]
    nes = np.empty_like(es)
    p = np.empty_like(es)
    for r in range(es.shape[0]):
        e = es[r]
        at_least = n_perm - np.searchsorted(null_sorted[r], e, side="left")  # null >= e
        at_most = np.searchsorted(null_sorted[r], e, side="right")  # null <= e
        positive = e >= 0
        nes[r] = np.where(positive, e / mean_pos[r], e / mean_neg[r])
        p[r] = np.where(positive, (at_least + 1.0) / (n_pos[r] + 1.0), (at_most + 1.0) / (n_neg[r] + 1.0))
    return nes, p


def _as_matrix(scores: np.ndarray | pd.DataFrame,
               genes: Sequence[str] | None) -> tuple[np.ndarray, list, list[str]]:
    if isinstance(scores, pd.DataFrame):
        labels = list(scores.index)
        if genes is not None and [str(g) for g in genes] != [str(c) for c in scores.columns]:
            raise ValueError("genes differs from the columns of the scores table")
        genes = [str(c) for c in scores.columns]
        mat = scores.to_numpy(dtype=np.float64)
    else:
        mat = np.asarray(scores, dtype=np.float64)
        if mat.ndim == 1:
            mat = mat[None, :]
        if mat.ndim != 2:
            raise ValueError(f"scores must be 1-D or 2-D (rankings x genes), got shape {mat.shape}")
        if genes is None:
            raise ValueError("genes is required when scores is an array")
        genes = [str(g) for g in genes]
        labels = list(range(mat.shape[0]))
    if len(genes) != mat.shape[1]:
        raise ValueError(f"{len(genes)} gene names for {mat.shape[1]} score columns")
    if len(set(genes)) != len(genes):
        raise ValueError("gene names are not unique")
    if not np.isfinite(mat).all():
        raise ValueError("scores contain NaN or infinite values")
    return mat, labels, genes


def prerank_gsea(scores: np.ndarray | pd.DataFrame, gene_sets: Mapping[str, Sequence[str]], *,
                 genes: Sequence[str] | None = None, n_perm: int = 1000, min_size: int = 15,
                 max_size: int = 500, weight: float = 1.0, seed: int = 0,
                 memory_bytes: int = DEFAULT_MEMORY_BYTES) -> pd.DataFrame:
    """Preranked GSEA of every gene set in every ranking.

    Parameters
    ----------
    scores: rankings x genes, a DataFrame (row labels name the rankings, columns the genes) or an
        array (1-D for one ranking; ``genes`` names its columns; rankings are labelled 0..R-1).
    gene_sets: set name -> genes; genes outside the ranking are ignored. Sets with fewer than
        ``min_size`` or more than ``max_size`` genes left (or all the genes) are skipped.
    n_perm: random gene sets per set size (the gene-permutation null), shared by all rankings.
    weight: exponent of ``|score|`` in the hit steps (0 = classic Kolmogorov-Smirnov).
    seed: seed of the permutations; equal seeds give equal results.
    memory_bytes: budget of the temporary arrays; rankings are processed in chunks that fit.

    Returns
    -------
    Columns ``ranking``, ``set``, ``size``, ``es``, ``nes``, ``p``, ``fdr``; rankings in input
    order, sets in ``gene_sets`` order. ``nes`` is NaN when the null has no ES of the same sign.
    """
    if n_perm < 1:
        raise ValueError("n_perm must be at least 1")
    if min_size < 1 or max_size < min_size:
        raise ValueError(f"invalid size range [{min_size}, {max_size}]")
    mat, labels, genes = _as_matrix(scores, genes)
    n_rank, n_genes = mat.shape
    column = {g: i for i, g in enumerate(genes)}

    names, sets, skipped = [], [], []
    for name, members in gene_sets.items():
        idx = np.unique(np.fromiter((column[g] for g in map(str, members) if g in column), dtype=np.int64))
        if min_size <= idx.size <= max_size and idx.size < n_genes:
            names.append(name)
            sets.append(idx)
        else:
            skipped.append(f"{name} ({idx.size})")
    if skipped:
        log.info("skipped %d gene set(s) with a size outside [%d, %d] among %d genes: %s", len(skipped),
                 min_size, max_size, n_genes, ", ".join(skipped[:10]) + (" ..." if len(skipped) > 10 else ""))
    if not sets:
        raise ValueError(f"no gene set has between {min_size} and {max_size} genes among the {n_genes} ranked")

    order = np.argsort(-mat, axis=1, kind="stable")  # descending; ties keep the input gene order
    w_sorted = np.abs(np.take_along_axis(mat, order, axis=1)) ** weight
    rank_of = np.empty_like(order)
    np.put_along_axis(rank_of, order, np.arange(n_genes)[None, :], axis=1)

    sizes = np.array([s.size for s in sets])
    rng = np.random.default_rng(seed)
    longest = int(sizes.max())
    draws = np.empty((n_perm, longest), dtype=np.int64)
    for i in range(n_perm):
        draws[i] = rng.choice(n_genes, size=longest, replace=False)

    es = np.empty((n_rank, len(sets)))
    nes = np.empty_like(es)
    p = np.empty_like(es)
    block = max(1, min(NULL_BLOCK_VALUES, memory_bytes // 16))
    for m in np.unique(sizes):
        members = np.flatnonzero(sizes == m)
        null = _null_es(w_sorted, np.sort(draws[:, :m], axis=1), block)
        chunk = max(1, int(memory_bytes // (8 * 3 * len(members) * int(m))))
        idx = np.stack([sets[i] for i in members])
        observed = _observed_es(w_sorted, rank_of, idx, chunk)
        es[:, members] = observed
        nes[:, members], p[:, members] = _null_statistics(observed, null)
    fdr = np.vstack([benjamini_hochberg(row) for row in p])
    log.info("preranked GSEA: %d rankings x %d sets (%d sizes), %d permutations", n_rank, len(sets),
             len(np.unique(sizes)), n_perm)

    return pd.DataFrame({
        "ranking": np.repeat(np.asarray(labels, dtype=object), len(sets)),
        "set": np.tile(np.asarray(names, dtype=object), n_rank),
        "size": np.tile(sizes, n_rank),
        "es": es.ravel(), "nes": nes.ravel(), "p": p.ravel(), "fdr": fdr.ravel(),
    }, columns=RESULT_COLUMNS)


def enrichment_summary(results: pd.DataFrame, fdr: float = 0.05) -> pd.DataFrame:
    """Per gene set over all rankings: how often it is positively enriched.

    Columns ``set``, ``n_rankings``, ``n_enriched`` (rankings with ``fdr`` below the threshold and
    ``nes > 0``), ``share_enriched``, ``mean_nes`` and ``median_fdr``; sorted by ``n_enriched``
    (descending), then ``mean_nes`` (descending) and the set name.
    """
    missing = [c for c in ("set", "nes", "fdr") if c not in results.columns]
    if missing:
        raise ValueError(f"results lack column(s) {missing}")
    enriched = (results["fdr"] < fdr) & (results["nes"] > 0)
    grouped = results.assign(_enriched=enriched).groupby("set", sort=False)
    out = pd.DataFrame({
        "n_rankings": grouped.size(),
        "n_enriched": grouped["_enriched"].sum().astype(int),
        "mean_nes": grouped["nes"].mean(),
        "median_fdr": grouped["fdr"].median(),
    })
    out["share_enriched"] = out["n_enriched"] / out["n_rankings"]
    out = out.reset_index()[["set", "n_rankings", "n_enriched", "share_enriched", "mean_nes", "median_fdr"]]
    out = out.assign(_neg=-out["mean_nes"]).sort_values(["n_enriched", "_neg", "set"],
                                                         ascending=[False, True, True], na_position="last")
    return out.drop(columns="_neg").reset_index(drop=True)
