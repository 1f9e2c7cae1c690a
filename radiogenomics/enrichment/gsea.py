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

Two nulls; every result table names its own in the column ``null``.

``gene_set`` (:func:`prerank_gsea`): gene-label permutation, random gene sets
of the same size. A random gene set lands on uniformly random positions of any
ranking, so the random sets are drawn as sets of positions, shared by all
rankings and by all sets of the same size (a set of size ``m`` is the first
``m`` draws of one without-replacement sequence per permutation). This null
treats genes as independent: co-expressed genes of a set move together in any
ranking, so for a ranking computed from a cohort it is anti-conservative (on
52 TCGA-GBM patients, the correlation ranking of the 840 ClaNC genes with the
enhancing share of the tumour core gives p < 0.001 for three of the four
Verhaak sets, which the phenotype null puts at p > 0.1). It is the only null
for a ranking with nothing to permute, such as one patient's saliency.

``phenotype`` (:func:`phenotype_gsea`, :func:`correlation_gsea`): the original
GSEA null for a cohort-level ranking. The trait is permuted across patients
(within strata when given; a permutation of all patients keeps the class
counts of a binary or multi-class trait), the ranking is recomputed from the
permuted trait and the ES of every set is taken in it, so gene-gene
correlation is in the null. Null statistics are accumulated per chunk of
permutations (memory does not grow with the number of permutations), and the
permutations are adaptive: after ``n_perm`` permutations, sets whose p is not
yet resolved (fewer than ``min_exceedances`` null ES at least as extreme and p
above ``fdr / n_sets``, the smallest BH threshold) get more, up to
``max_perm``, so no BH call at ``fdr`` is decided by the permutation floor.

Both nulls: NES divides ES by the mean absolute null ES of the same sign (for
that set and ranking under the phenotype null); p is the share of same-sign
null ES at least as extreme, with +1 in numerator and denominator
(``(b + 1) / (P + 1)``, fgsea); FDR is Benjamini-Hochberg of these p across the
sets of each ranking (column ``fdr_method`` = ``BH``), not GSEA's NES-based
estimate. ``n_perm`` is the number of null ES behind each row.

Relation to gseapy ``prerank`` (1.3): the ES, the null (gene-set
permutation: for a preranked list gseapy shuffles the gene labels, which puts
each set on random positions, the same null as here) and the NES
normalisation are the same. gseapy's nominal p has no +1 (``#null at least as
extreme / #null of the same sign``) and its ``FDR q-val`` is the GSEA
NES-based estimate pooled over all sets (Subramanian et al. 2005), not
Benjamini-Hochberg. :func:`agreement` therefore compares NES directly and
significance with one FDR definition on both sides: BH within each ranking
applied to each side's nominal p. Per ranking, all sets and all permutations
here are computed together (a few array passes over the hit positions), where
gseapy walks the full ranked list for every set and permutation.

Rankings: :func:`correlation_ranking` (gene-trait correlation, one ranking per
class for a multi-class trait) and :func:`masking_ranking` (single-gene
masking metric) give gene scores to rank, besides per-patient saliency.
"""

from __future__ import annotations

import logging
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from radiogenomics.evaluation.stats import benjamini_hochberg

log = logging.getLogger(__name__)

#: Default memory budget (bytes) for the temporary arrays of one chunk of rankings.
DEFAULT_MEMORY_BYTES = 256 * 2**20

#: Values (rankings x permutations x set size) per block of the null computation: small enough
#: for the CPU cache, which makes the array passes several times faster than on large arrays.
NULL_BLOCK_VALUES = 2**15

#: Deviations up and down that differ by less than this are a tie (the negative one is the ES):
#: equal in exact arithmetic, they may differ in the last bits depending on the summation order.
ES_TIE_TOLERANCE = 1e-12

RESULT_COLUMNS = ["ranking", "set", "size", "es", "nes", "p", "fdr", "n_perm", "null", "fdr_method"]

#: The nulls a result table can name in its ``null`` column.
NULLS = ("phenotype", "gene_set")

#: Default permutations (the study used 10,000: with 1,000 the smallest p is about 0.001 and BH calls
#: over a collection depend on the permutation count).
DEFAULT_N_PERM = 10_000

#: Default cap of the adaptive phenotype permutations.
DEFAULT_MAX_PERM = 100_000

#: A phenotype-null p is resolved once this many same-sign null ES are at least as extreme.
DEFAULT_MIN_EXCEEDANCES = 10

#: A null ES within this of the observed ES counts as at least as extreme (a permutation that reproduces
#: the observed ranking gives the observed ES up to rounding).
NULL_TIE_TOLERANCE = 1e-12


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


def _as_matrix(scores: np.ndarray | pd.DataFrame | pd.Series,
               genes: Sequence[str] | None) -> tuple[np.ndarray, list, list[str]]:
    if isinstance(scores, pd.Series):  # one ranking, labelled by the series name
        scores = scores.to_frame(name=0 if scores.name is None else scores.name).T
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


def _match_sets(genes: Sequence[str], gene_sets: Mapping[str, Sequence[str]], min_size: int,
                max_size: int) -> tuple[list, list[np.ndarray]]:
    """Names and gene column indices of the sets with ``min_size``..``max_size`` genes among ``genes``."""
    if min_size < 1 or max_size < min_size:
        raise ValueError(f"invalid size range [{min_size}, {max_size}]")
    n_genes = len(genes)
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
    return names, sets


def _rank_arrays(mat: np.ndarray, weight: float) -> tuple[np.ndarray, np.ndarray]:
    """Hit weights in rank order and the rank of each gene, per ranking (row) of ``mat``."""
    order = np.argsort(-mat, axis=1, kind="stable")  # descending; ties keep the input gene order
    w_sorted = np.abs(np.take_along_axis(mat, order, axis=1)) ** weight
    rank_of = np.empty_like(order)
    np.put_along_axis(rank_of, order, np.arange(mat.shape[1])[None, :], axis=1)
    return w_sorted, rank_of


def _check_floor(n_perm: int, n_sets: int, fdr: float, what: str) -> None:
    floor = 1.0 / (n_perm + 1.0)
    if floor > fdr / n_sets:
        log.warning("%s: the smallest p with %d permutations (%.2g) is above the smallest BH threshold "
                    "%s / %d sets = %.2g: FDR calls at %s can be limited by the permutation count", what, n_perm,
                    floor, fdr, n_sets, fdr / n_sets, fdr)


def _table(labels: Sequence, names: Sequence, sizes: np.ndarray, es: np.ndarray, nes: np.ndarray, p: np.ndarray,
           n_perm: np.ndarray, null: str) -> pd.DataFrame:
    n_rank, n_sets = es.shape
    fdr = np.vstack([benjamini_hochberg(row) for row in p])
    return pd.DataFrame({
        "ranking": np.repeat(np.asarray(labels, dtype=object), n_sets),
        "set": np.tile(np.asarray(names, dtype=object), n_rank),
        "size": np.tile(sizes, n_rank),
        "es": es.ravel(), "nes": nes.ravel(), "p": p.ravel(), "fdr": fdr.ravel(),
        "n_perm": np.broadcast_to(n_perm, es.shape).ravel().astype(np.int64),
        "null": null, "fdr_method": "BH",
    }, columns=RESULT_COLUMNS)


def prerank_gsea(scores: np.ndarray | pd.DataFrame | pd.Series, gene_sets: Mapping[str, Sequence[str]], *,
                 genes: Sequence[str] | None = None, n_perm: int = DEFAULT_N_PERM, min_size: int = 15,
                 max_size: int = 500, weight: float = 1.0, seed: int = 0, fdr: float = 0.05,
                 memory_bytes: int = DEFAULT_MEMORY_BYTES) -> pd.DataFrame:
    """Preranked GSEA of every gene set in every ranking, gene-label (``gene_set``) null.

    The null treats genes as independent (random gene sets of the same size in the same ranking),
    so its p-values ignore gene-gene correlation: for a ranking computed from a cohort use
    :func:`phenotype_gsea`; for one patient's ranking (saliency) it is the only null, and NES is the
    effect size to read.

    Parameters
    ----------
    scores: rankings x genes, a DataFrame (row labels name the rankings, columns the genes), a
        Series (one ranking indexed by gene, labelled by the series name, 0 without one) or an
        array (1-D for one ranking; ``genes`` names its columns; rankings are labelled 0..R-1).
    gene_sets: set name -> genes; genes outside the ranking are ignored. Sets with fewer than
        ``min_size`` or more than ``max_size`` genes left (or all the genes) are skipped.
    n_perm: random gene sets per set size (the gene-permutation null), shared by all rankings.
    weight: exponent of ``|score|`` in the hit steps (0 = classic Kolmogorov-Smirnov).
    seed: seed of the permutations; equal seeds give equal results.
    fdr: only for the log: a warning when the smallest p, ``1 / (n_perm + 1)``, is above
        ``fdr / n_sets`` (BH calls at ``fdr`` could then be limited by the permutation count).
    memory_bytes: budget of the temporary arrays; rankings are processed in chunks that fit.

    Returns
    -------
    Columns ``ranking``, ``set``, ``size``, ``es``, ``nes``, ``p``, ``fdr`` (BH within each ranking),
    ``n_perm``, ``null`` (``gene_set``) and ``fdr_method`` (``BH``); rankings in input order, sets in
    ``gene_sets`` order. ``nes`` is NaN when the null has no ES of the same sign.
    """
    if n_perm < 1:
        raise ValueError("n_perm must be at least 1")
    mat, labels, genes = _as_matrix(scores, genes)
    n_rank, n_genes = mat.shape
    names, sets = _match_sets(genes, gene_sets, min_size, max_size)
    w_sorted, rank_of = _rank_arrays(mat, weight)

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
    log.info("preranked GSEA (gene-set null): %d rankings x %d sets (%d sizes), %d permutations", n_rank, len(sets),
             len(np.unique(sizes)), n_perm)
    _check_floor(n_perm, len(sets), fdr, "gene-set null")
    return _table(labels, names, sizes, es, nes, p, np.int64(n_perm), "gene_set")


# --------------------------------------------------------------------------- phenotype permutation


def permutations(n: int, n_perm: int, rng: np.random.Generator, strata: np.ndarray | None = None) -> np.ndarray:
    """``n_perm`` random permutations of ``n`` patients (n_perm x n row indices), within ``strata`` if given.

    Row ``k`` maps position ``i`` to the patient whose value it takes (``y[perm[k]]``). Each row costs
    ``n`` uniform draws from ``rng`` in order, so drawing permutations in chunks gives the same
    permutations whatever the chunk sizes. With ``strata`` (one label per patient) values move only
    within a stratum.
    """
    keys = rng.random((n_perm, n))
    if strata is None:
        return np.argsort(keys, axis=1, kind="stable")
    codes = pd.factorize(np.asarray(strata), sort=True)[0]
    if codes.shape != (n,):
        raise ValueError(f"strata has {codes.size} labels for {n} patients")
    base = np.argsort(codes, kind="stable")  # positions grouped by stratum, in index order
    out = np.empty((n_perm, n), dtype=np.int64)
    for k in range(n_perm):  # grouped by stratum in random order, laid over the same groups
        out[k, base] = np.lexsort((keys[k], codes))
    return out


class _NullAccumulator:
    """Streaming null statistics per (ranking, set): same-sign counts and sums, and exceedances."""

    def __init__(self, es: np.ndarray):
        self.es = es
        self.positive = es >= 0
        shape = es.shape
        self.n_pos, self.n_neg = np.zeros(shape, np.int64), np.zeros(shape, np.int64)
        self.sum_pos, self.sum_neg = np.zeros(shape), np.zeros(shape)
        self.exceed = np.zeros(shape, np.int64)  # same-sign null ES at least as extreme as the observed
        self.n_perm = np.zeros(shape, np.int64)

    def add(self, null: np.ndarray, active: np.ndarray) -> None:
        """Null ES (permutations x rankings x sets) of a chunk; only ``active`` (rankings x sets) cells count."""
        pos = null >= 0
        act = active[None]
        self.n_pos += (pos & act).sum(axis=0)
        self.n_neg += (~pos & act).sum(axis=0)
        self.sum_pos += np.where(pos & act, null, 0.0).sum(axis=0)
        self.sum_neg -= np.where(~pos & act, null, 0.0).sum(axis=0)
        e = self.es[None]
        beyond = np.where(self.positive[None], pos & (null >= e - NULL_TIE_TOLERANCE),
                          ~pos & (null <= e + NULL_TIE_TOLERANCE))
        self.exceed += (beyond & act).sum(axis=0)
        self.n_perm += active * null.shape[0]

    def same_sign(self) -> np.ndarray:
        return np.where(self.positive, self.n_pos, self.n_neg)

    def p(self) -> np.ndarray:
        return (self.exceed + 1.0) / (self.same_sign() + 1.0)

    def nes(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(self.positive, self.sum_pos / self.n_pos, self.sum_neg / self.n_neg)
        mean = np.where((self.same_sign() > 0) & (mean > 0), mean, np.nan)
        return self.es / mean


def _set_es(scores: np.ndarray, sets: Sequence[np.ndarray], sizes: np.ndarray, weight: float,
            memory_bytes: int) -> np.ndarray:
    """ES (rankings x sets) of every set in every row of ``scores`` (rankings x genes)."""
    w_sorted, rank_of = _rank_arrays(scores, weight)
    out = np.empty((scores.shape[0], len(sets)))
    for m in np.unique(sizes):
        members = np.flatnonzero(sizes == m)
        chunk = max(1, int(memory_bytes // (8 * 3 * len(members) * int(m))))
        out[:, members] = _observed_es(w_sorted, rank_of, np.stack([sets[i] for i in members]), chunk)
    return out


def phenotype_gsea(observed: np.ndarray | pd.DataFrame | pd.Series,
                   permuted: Callable[[np.ndarray], np.ndarray], n_samples: int,
                   gene_sets: Mapping[str, Sequence[str]], *, genes: Sequence[str] | None = None,
                   strata: np.ndarray | None = None, n_perm: int = DEFAULT_N_PERM, max_perm: int | None = None,
                   min_exceedances: int = DEFAULT_MIN_EXCEEDANCES, fdr: float = 0.05, min_size: int = 15,
                   max_size: int = 500, weight: float = 1.0, seed: int = 0,
                   memory_bytes: int = DEFAULT_MEMORY_BYTES) -> pd.DataFrame:
    """Preranked GSEA of cohort-level rankings with the phenotype-permutation null (GSEA's original null).

    Parameters
    ----------
    observed: the rankings (rankings x genes) computed from the observed trait, in the forms of
        :func:`prerank_gsea` (``genes`` names the columns of an array).
    permuted: ``permuted(perm)`` with ``perm`` (k x ``n_samples``) permutations of the samples
        returns the rankings recomputed from each permuted trait, shape (k, rankings, genes) in the
        layout of ``observed``.
    n_samples: the number of samples (patients) whose trait is permuted.
    strata: optional label per sample; the trait is permuted within each stratum.
    n_perm: permutations for every set.
    max_perm: cap of the adaptive permutations (None: :data:`DEFAULT_MAX_PERM`, at least ``n_perm``;
        ``n_perm`` turns them off). After ``n_perm``, a (ranking, set) with fewer than
        ``min_exceedances`` same-sign null ES at least as extreme and p above ``fdr / n_sets`` (not yet
        below the smallest BH threshold) is not resolved: permutations continue, in chunks, until
        every set is resolved or has ``max_perm``. Each permutation recomputes the rankings; only
        the unresolved sets' ES are computed.
    fdr: the BH level whose calls the adaptive permutations resolve.
    min_size, max_size, weight, seed, memory_bytes: as :func:`prerank_gsea`. Equal seeds give equal
        results, whatever ``memory_bytes`` (the chunking of the permutations).

    Returns
    -------
    The columns of :func:`prerank_gsea` with ``null`` = ``phenotype``; ``n_perm`` is the number of
    permutations behind each row (above ``n_perm`` where the adaptive scheme continued). p =
    (b + 1) / (P + 1) over the P same-sign null ES of that ranking and set, b of them at least as
    extreme; NES = ES / mean |same-sign null ES| of that ranking and set; FDR = BH of p within
    each ranking.
    """
    if n_perm < 1:
        raise ValueError("n_perm must be at least 1")
    max_perm = max(n_perm, DEFAULT_MAX_PERM) if max_perm is None else int(max_perm)
    if max_perm < n_perm:
        raise ValueError(f"max_perm ({max_perm}) must be at least n_perm ({n_perm})")
    if min_exceedances < 1:
        raise ValueError("min_exceedances must be at least 1")
    if not 0 < fdr <= 1:
        raise ValueError(f"fdr must be in (0, 1], got {fdr}")
    mat, labels, genes = _as_matrix(observed, genes)
    n_rank, n_genes = mat.shape
    names, sets = _match_sets(genes, gene_sets, min_size, max_size)
    sizes = np.array([s.size for s in sets])
    n_sets = len(sets)
    es = _set_es(mat, sets, sizes, weight, memory_bytes)
    acc = _NullAccumulator(es)
    rng = np.random.default_rng(seed)
    # permutations per chunk: the permuted rankings, their sort order and ranks (4 arrays of 8 bytes)
    chunk = int(max(1, min(1000, memory_bytes // (32 * n_rank * n_genes))))
    active = np.ones((n_rank, n_sets), dtype=bool)
    done = 0
    while done < max_perm:
        k = min(chunk, (n_perm if done < n_perm else max_perm) - done)
        perm = permutations(n_samples, k, rng, strata)
        scores = np.asarray(permuted(perm), dtype=np.float64)
        if scores.shape != (k, n_rank, n_genes):
            raise ValueError(f"permuted rankings have shape {scores.shape}; expected {(k, n_rank, n_genes)}")
        cols = np.flatnonzero(active.any(axis=0))
        null = np.zeros((k, n_rank, n_sets))
        null[:, :, cols] = _set_es(scores.reshape(k * n_rank, n_genes), [sets[i] for i in cols], sizes[cols],
                                   weight, memory_bytes).reshape(k, n_rank, cols.size)
        acc.add(null, active)
        done += k
        if done >= n_perm:
            active &= (acc.exceed < min_exceedances) & (acc.p() > fdr / n_sets)
            if not active.any():
                break
    extended = acc.n_perm > n_perm
    log.info("preranked GSEA (phenotype null): %d rankings x %d sets, %d samples, %d permutations%s", n_rank,
             n_sets, n_samples, n_perm, f"; {int(extended.sum())} (ranking, set) pair(s) continued to up to "
             f"{int(acc.n_perm.max())} (fewer than {min_exceedances} null ES as extreme)" if extended.any() else "")
    unresolved = active & (acc.n_perm >= max_perm)
    if unresolved.any():
        log.warning("phenotype null: %d (ranking, set) pair(s) reached max_perm = %d with p = %.2g still above "
                    "the smallest BH threshold %.2g and fewer than %d null ES as extreme", int(unresolved.sum()),
                    max_perm, float(acc.p()[unresolved].min()), fdr / n_sets, min_exceedances)
    return _table(labels, names, sizes, es, acc.nes(), acc.p(), acc.n_perm, "phenotype")


def enrichment_summary(results: pd.DataFrame, fdr: float = 0.05) -> pd.DataFrame:
    """Per gene set over all rankings: how often it is positively enriched.

    Columns ``set``, ``n_rankings``, ``n_enriched`` (rankings with ``fdr`` below the threshold and
    ``nes > 0``), ``share_enriched``, ``mean_nes`` and ``median_fdr``, and ``null`` (the null of the
    results, when they name one); sorted by ``n_enriched`` (descending), then ``mean_nes``
    (descending) and the set name.
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
    out = out.drop(columns="_neg").reset_index(drop=True)
    if "null" in results.columns:
        nulls = results["null"].dropna().unique()
        if len(nulls) > 1:
            raise ValueError(f"results mix nulls {sorted(map(str, nulls))}; summarise one null at a time")
        out["null"] = nulls[0] if len(nulls) else np.nan
    return out


# --------------------------------------------------------------------------- rankings

#: Default correlation per target type: point-biserial (Pearson with the 0/1 labels) for binary
#: traits and one-vs-rest classes, Spearman for continuous traits.
DEFAULT_CORRELATION = {"binary": "pearson", "multiclass": "pearson", "continuous": "spearman"}


def read_summaries(targets: Sequence[str], paths: Sequence[str]) -> dict[str, pd.DataFrame]:
    """Enrichment summaries (:func:`enrichment_summary` tables written by the workflow) by network:
    ``{target: table}``, and ``{"target:class": table}`` for each class of a multi-class network."""
    summaries: dict[str, pd.DataFrame] = {}
    for target, path in zip(targets, paths):
        df = pd.read_csv(path, sep="\t")
        if "class" in df.columns:  # multi-class network: one entry per class
            for cls, part in df.groupby("class", sort=False):
                summaries[f"{target}:{cls}"] = part.drop(columns="class")
        else:
            summaries[target] = df
    return summaries


def _column_correlation(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation of every column of ``x`` (n x g) with ``y`` (n); 0 for a constant column."""
    xc = x - x.mean(axis=0)
    yc = y - y.mean()
    den = np.sqrt((xc ** 2).sum(axis=0) * float((yc ** 2).sum()))
    num = yc @ xc
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return np.clip(r, -1.0, 1.0)


def _correlation_inputs(expression: pd.DataFrame, y: pd.Series, target_type: str, method: str | None,
                        classes: Sequence[str] | None) -> tuple[np.ndarray, np.ndarray, list, pd.Index, pd.Index, str]:
    """Joined (and, for Spearman, ranked) expression (n x g), target columns (n x R: one, or one 0/1
    membership column per class), ranking labels, gene names, patient IDs and the method."""
    if target_type not in DEFAULT_CORRELATION:
        raise ValueError(f"unknown target type {target_type!r}; expected one of {sorted(DEFAULT_CORRELATION)}")
    method = method or DEFAULT_CORRELATION[target_type]
    if method not in ("pearson", "spearman"):
        raise ValueError(f"unknown correlation method {method!r}; use 'pearson' or 'spearman'")
    y = y.dropna()
    # sorted IDs: the permutations of the phenotype null do not depend on the row order of the inputs
    ids = expression.index.intersection(y.index, sort=False).sort_values()
    if len(ids) < 3:
        raise ValueError(f"only {len(ids)} patients are in both the expression table and y")
    x = expression.loc[ids].to_numpy(dtype=np.float64)
    yv = y.loc[ids]
    if not np.isfinite(x).all():
        raise ValueError("expression contains NaN or infinite values")
    if method == "spearman":
        x = stats.rankdata(x, axis=0)
    genes = pd.Index([str(g) for g in expression.columns], name="gene")
    if target_type == "multiclass":
        if classes is None:
            classes = sorted({str(v) for v in yv})
        classes = [str(c) for c in classes]
        if pd.api.types.is_numeric_dtype(yv):
            codes = yv.to_numpy()
            if not np.all(np.equal(np.mod(codes, 1), 0)) or codes.min() < 0 or codes.max() >= len(classes):
                raise ValueError(f"multiclass codes must be 0..{len(classes) - 1}")
            labels = np.asarray(classes, dtype=object)[codes.astype(int)]
        else:
            labels = yv.astype(str).to_numpy()
            unknown = sorted(set(labels) - set(classes))
            if unknown:
                raise ValueError(f"y has classes not in {classes}: {unknown[:5]}")
        columns = []
        for c in classes:
            member = (labels == c).astype(np.float64)
            columns.append(stats.rankdata(member) if method == "spearman" else member)
        return x, np.column_stack(columns), classes, genes, ids, method
    target = yv.to_numpy(dtype=np.float64)
    if target_type == "binary" and not np.isin(target, (0.0, 1.0)).all():
        raise ValueError("binary y must be 0/1")
    if method == "spearman":
        target = stats.rankdata(target)
    return x, target[:, None], ["correlation"], genes, ids, method


def correlation_ranking(expression: pd.DataFrame, y: pd.Series, target_type: str, *,
                        method: str | None = None, classes: Sequence[str] | None = None) -> pd.Series | pd.DataFrame:
    """Gene-trait correlation as a GSEA ranking (the conventional, network-free interpretation).

    Parameters
    ----------
    expression: patients x genes; joined to ``y`` by patient ID (patients in one only, or with a
        missing ``y``, are dropped).
    y: the trait by patient: 0/1 (binary), class labels or codes (multiclass), values (continuous).
    target_type: ``binary``, ``multiclass`` or ``continuous``.
    method: ``pearson`` or ``spearman`` (ranks of the expression and of ``y``, average ties); by
        default point-biserial (Pearson with 0/1) for binary and per-class one-vs-rest, Spearman
        for continuous traits.
    classes: multiclass class order (labels); codes 0..C-1 in ``y`` index into it. By default the
        sorted distinct labels of ``y``.

    Returns
    -------
    binary / continuous: a Series indexed by gene (named ``gene``), one correlation per gene.
    multiclass: a DataFrame, one row per class (index ``class``) holding the correlation of each
    gene with membership of that class. Constant genes get 0. Rows feed :func:`prerank_gsea`;
    :func:`correlation_gsea` tests them against the phenotype null.
    """
    x, t, labels, genes, ids, method = _correlation_inputs(expression, y, target_type, method, classes)
    if target_type == "multiclass":
        log.info("correlation ranking (%s, one-vs-rest): %d patients, %d genes, %d classes", method, len(ids),
                 len(genes), len(labels))
        return pd.DataFrame(np.vstack([_column_correlation(x, t[:, j]) for j in range(t.shape[1])]),
                            index=pd.Index(labels, name="class"), columns=genes)
    log.info("correlation ranking (%s): %d patients, %d genes", method, len(ids), len(genes))
    return pd.Series(_column_correlation(x, t[:, 0]), index=genes, name="correlation")


def _fixed_point(a: np.ndarray, bits: int) -> np.ndarray:
    """Columns centred, scaled to unit norm (0 for a constant column) and rounded to multiples of
    ``2**-bits``, returned as the integers (float64) ``round(value * 2**bits)``."""
    c = a - a.mean(axis=0)
    norm = np.sqrt((c ** 2).sum(axis=0))
    return np.round(np.divide(c, norm, out=np.zeros_like(c), where=norm > 0) * 2.0 ** bits)


def correlation_gsea(expression: pd.DataFrame, y: pd.Series, target_type: str,
                     gene_sets: Mapping[str, Sequence[str]], *, null: str = "phenotype", method: str | None = None,
                     classes: Sequence[str] | None = None, strata: pd.Series | None = None,
                     n_perm: int = DEFAULT_N_PERM, max_perm: int | None = None,
                     min_exceedances: int = DEFAULT_MIN_EXCEEDANCES, fdr: float = 0.05, min_size: int = 15,
                     max_size: int = 500, weight: float = 1.0, seed: int = 0,
                     memory_bytes: int = DEFAULT_MEMORY_BYTES) -> pd.DataFrame:
    """GSEA of the gene-trait correlation ranking(s) (:func:`correlation_ranking`) of a cohort.

    ``null="phenotype"`` (default): the trait is permuted across the joined patients (within
    ``strata``, a label per patient, when given; a permutation keeps the class counts of a binary or
    multi-class trait), every gene's correlation with the permuted trait is recomputed (one matrix
    product of the standardised expression and the standardised permuted traits per chunk of
    permutations; the one-vs-rest rankings of a multi-class trait all come from the same permuted
    labels) and the ES of every set is taken in it (:func:`phenotype_gsea`).
    ``null="gene_set"``: :func:`prerank_gsea` of the observed ranking (random gene sets; ignores
    gene-gene correlation, anti-conservative for a cohort-level ranking).

    The other parameters are those of :func:`correlation_ranking` and :func:`phenotype_gsea`
    (``max_perm`` and ``min_exceedances`` apply to the phenotype null only). Rankings are labelled
    ``correlation``, or by class for a multi-class trait.
    """
    if null not in NULLS:
        raise ValueError(f"unknown null {null!r}; expected one of {list(NULLS)}")
    x, t, labels, genes, ids, method = _correlation_inputs(expression, y, target_type, method, classes)
    # Correlations as dot products of unit-norm columns in fixed point: integers below 2**52 in total, so
    # every product and sum is exact in float64 and the rankings (ties included) are the same whatever
    # the BLAS blocking, thread count or chunk of permutations (rounding is < 2**-bits per value).
    bits = (52 - int(np.ceil(np.log2(max(len(ids), 2))))) // 2
    xs, ts = _fixed_point(x, bits), _fixed_point(t, bits)
    unit = 2.0 ** (-2 * bits)
    observed = np.clip((ts.T @ xs) * unit, -1.0, 1.0)  # rankings x genes
    log.info("correlation GSEA (%s, %s null): %d patients, %d genes, %d ranking(s)", method, null, len(ids),
             len(genes), len(labels))
    if null == "gene_set":
        return prerank_gsea(observed, gene_sets, genes=list(genes), n_perm=n_perm, min_size=min_size,
                            max_size=max_size, weight=weight, seed=seed, fdr=fdr, memory_bytes=memory_bytes)\
            .assign(ranking=lambda d: np.asarray(labels, dtype=object)[d["ranking"].to_numpy(dtype=int)])
    codes = None
    if strata is not None:
        missing = ids.difference(strata.dropna().index)
        if len(missing):
            raise ValueError(f"strata lack {len(missing)} of the {len(ids)} patients (e.g. {list(missing[:3])})")
        codes = strata.loc[ids].to_numpy()
    n_rank = ts.shape[1]

    def permuted(perm: np.ndarray) -> np.ndarray:
        tp = ts[perm]  # (k, n, R): the standardised permuted traits
        k = perm.shape[0]
        r = (tp.transpose(0, 2, 1).reshape(k * n_rank, -1) @ xs) * unit
        return np.clip(r, -1.0, 1.0).reshape(k, n_rank, -1)

    res = phenotype_gsea(observed, permuted, len(ids), gene_sets, genes=list(genes), strata=codes, n_perm=n_perm,
                         max_perm=max_perm, min_exceedances=min_exceedances, fdr=fdr, min_size=min_size,
                         max_size=max_size, weight=weight, seed=seed, memory_bytes=memory_bytes)
    return res.assign(ranking=lambda d: np.asarray(labels, dtype=object)[d["ranking"].to_numpy(dtype=int)])


def masking_ranking(single_gene_table: pd.DataFrame, *, metric: str | None = None,
                    center: bool = True) -> pd.Series:
    """Genes ranked by their single-gene masking score (``masking.single_gene_masking``) for GSEA.

    ``metric`` defaults to the table's secondary metric (``ap`` / ``ap_macro`` for classifiers,
    ``spearman`` for continuous traits; ``attrs['secondary_metric']``, else the first of these
    present). With ``center`` the median over genes is subtracted, so a positive score means the
    gene alone keeps more of the prediction than a typical gene, and the GSEA hit weights
    ``|score|`` measure that gain rather than the metric's chance level. Genes with an undefined
    metric get the median (0 after centring). Returns a Series indexed by gene (``gene``).
    """
    if "set" not in single_gene_table.columns:
        raise ValueError("the single-gene masking table lacks the column 'set' (the gene)")
    if metric is None:
        candidates = [single_gene_table.attrs.get("secondary_metric"), "ap", "ap_macro", "spearman"]
        metric = next((m for m in candidates if m and m in single_gene_table.columns), None)
        if metric is None:
            raise ValueError(f"no masking metric among the columns {list(single_gene_table.columns)}")
    elif metric not in single_gene_table.columns:
        raise ValueError(f"the single-gene masking table has no column {metric!r}")
    values = pd.Series(single_gene_table[metric].to_numpy(dtype=np.float64),
                       index=pd.Index(single_gene_table["set"].astype(str), name="gene"), name=metric)
    if values.index.has_duplicates:
        raise ValueError("the single-gene masking table lists a gene twice")
    median = float(values.median()) if values.notna().any() else 0.0
    values = values.fillna(median)
    return values - median if center else values


# --------------------------------------------------------------------------- agreement with gseapy


def agreement(ours: pd.DataFrame, reference: pd.DataFrame, *, fdr: float = 0.05) -> dict[str, float]:
    """Agreement of two preranked GSEA result tables on the same rankings and sets.

    Both tables need ``ranking``, ``set``, ``nes`` and ``p`` (nominal p); they are joined on
    (ranking, set). Significance uses one definition on both sides: Benjamini-Hochberg within each
    ranking applied to each side's nominal p, significant when below ``fdr`` (gseapy's own
    ``FDR q-val`` is a different, NES-based estimate and is not used).

    Returns ``n_pairs``, ``nes_spearman`` (over all finite pairs), ``nes_max_abs_diff``,
    ``es_max_abs_diff`` (when both have ``es``), ``significant_ours``, ``significant_reference``
    and ``same_significance`` (the share of pairs called the same way).
    """
    for name, table in (("ours", ours), ("reference", reference)):
        missing = [c for c in ("ranking", "set", "nes", "p") if c not in table.columns]
        if missing:
            raise ValueError(f"{name} lacks column(s) {missing}")

    def with_bh(table: pd.DataFrame) -> pd.DataFrame:
        t = table.copy()
        t["_key"] = t["ranking"].astype(str)
        t["bh"] = np.nan
        for _, idx in t.groupby("_key", sort=False).groups.items():
            t.loc[idx, "bh"] = benjamini_hochberg(t.loc[idx, "p"].to_numpy(dtype=np.float64))
        return t

    a, b = with_bh(ours), with_bh(reference)
    b["_set"] = b["set"].astype(str)
    a["_set"] = a["set"].astype(str)
    cols = ["_key", "_set", "nes", "p", "bh"] + (["es"] if "es" in a.columns and "es" in b.columns else [])
    joined = a[cols].merge(b[cols], on=["_key", "_set"], suffixes=("_ours", "_ref"))
    if joined.empty:
        raise ValueError("the two tables share no (ranking, set) pair")
    finite = np.isfinite(joined["nes_ours"]) & np.isfinite(joined["nes_ref"])
    sig_a = joined["bh_ours"].to_numpy() < fdr
    sig_b = joined["bh_ref"].to_numpy() < fdr
    out = {
        "n_pairs": float(len(joined)),
        "nes_spearman": float(stats.spearmanr(joined.loc[finite, "nes_ours"], joined.loc[finite, "nes_ref"]).statistic)
        if finite.sum() > 2 else float("nan"),
        "nes_max_abs_diff": float((joined.loc[finite, "nes_ours"] - joined.loc[finite, "nes_ref"]).abs().max()),
        "significant_ours": float(sig_a.sum()),
        "significant_reference": float(sig_b.sum()),
        "same_significance": float((sig_a == sig_b).mean()),
    }
    if "es_ours" in joined.columns:
        out["es_max_abs_diff"] = float((joined["es_ours"] - joined["es_ref"]).abs().max())
    return out


def gseapy_prerank(scores: pd.DataFrame | pd.Series, gene_sets: Mapping[str, Sequence[str]], *,
                   n_perm: int = 1000, min_size: int = 15, max_size: int = 500, weight: float = 1.0,
                   seed: int = 0, threads: int = 1) -> pd.DataFrame:
    """The reference: gseapy ``prerank`` called once per ranking, in this module's result layout.

    Needs gseapy (a test/benchmark dependency, ``pip install .[test]``). Returns columns
    ``ranking``, ``set``, ``size``, ``es``, ``nes``, ``p`` (gseapy's nominal p), ``fdr``
    (gseapy's own NES-based ``FDR q-val``, not Benjamini-Hochberg; see :func:`agreement`), ``n_perm``,
    ``null`` (``gene_set``) and ``fdr_method`` (``GSEA``).
    """
    try:
        import gseapy
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("gseapy_prerank needs gseapy (the test extra: pip install .[test])") from err
    if isinstance(scores, pd.Series):
        scores = scores.to_frame(name=0 if scores.name is None else scores.name).T
    gmt = {name: [str(g) for g in genes] for name, genes in gene_sets.items()}
    parts = []
    for label, row in scores.iterrows():
        rnk = pd.Series(row.to_numpy(dtype=np.float64), index=[str(g) for g in scores.columns])
        res = gseapy.prerank(rnk=rnk, gene_sets=gmt, permutation_num=n_perm, min_size=min_size, max_size=max_size,
                             weight=weight, seed=seed, threads=threads, outdir=None, no_plot=True,
                             verbose=False).res2d
        sizes = res["Tag %"].astype(str).str.split("/").str[1].astype(int)
        parts.append(pd.DataFrame({
            "ranking": label, "set": res["Term"].astype(str).to_numpy(), "size": sizes.to_numpy(),
            "es": res["ES"].astype(float).to_numpy(), "nes": res["NES"].astype(float).to_numpy(),
            "p": res["NOM p-val"].astype(float).to_numpy(), "fdr": res["FDR q-val"].astype(float).to_numpy(),
            "n_perm": n_perm, "null": "gene_set", "fdr_method": "GSEA",
        }))
    return pd.concat(parts, ignore_index=True)[RESULT_COLUMNS]
