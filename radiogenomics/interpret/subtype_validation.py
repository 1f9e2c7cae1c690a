"""Subtype validation of the interpretation (Smedley et al. 2020, Figure 2).

A network trained to predict the four Verhaak subtypes (Proneural, Neural,
Classical, Mesenchymal) from expression has a known answer: each subtype is
defined by its own ClaNC gene set. If gene masking recovers what the network
uses, masking the input down to a subtype's own set must keep that subtype's
class recognisable (a high one-vs-rest AUC of its class probability), while
the other subtypes' sets, and random sets of the same size, must not.

- :func:`subtype_masking_probabilities`: per-patient class probabilities with
  the input masked to each subtype set and to random sets of the same sizes
  (plus the unmasked network), from one network or out-of-fold from the
  outer-fold networks.
- :func:`subtype_set_auc`: for each class, the one-vs-rest AUC under each
  subtype set's mask, with the random sets' AUC distribution and an empirical
  p; :func:`subtype_validation_summary` condenses it to own set vs the others.
- :func:`coverage_curve`: the share of reference genes (the 840 ClaNC genes)
  among the top N genes of single-gene masking, with its random expectation.
"""

from __future__ import annotations

import logging
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from radiogenomics.evaluation import metrics
from radiogenomics.interpret.masking import (
    DEFAULT_MEMORY_BYTES,
    MaskingEngine,
    gene_indices,
    random_gene_sets,
)
from radiogenomics.models.nets import FittedModel

log = logging.getLogger(__name__)

PROBABILITY_COLUMNS = ["mask", "kind", "matched_to", "draw", "n_genes", "patient", "subtype", "class", "probability"]

#: ``kind`` values of the probability table.
UNMASKED, SUBTYPE_SET, RANDOM_SET = "unmasked", "subtype set", "random"


def _parts(model: FittedModel | Mapping[int, FittedModel], expression: pd.DataFrame,
           folds: pd.DataFrame | None) -> tuple[list[tuple[FittedModel, pd.Index]], FittedModel]:
    """(model, patients it predicts) per part, and the reference model (genes, classes)."""
    if expression.index.has_duplicates:
        raise ValueError("expression has duplicated patient IDs")
    if folds is None:
        if not isinstance(model, FittedModel):
            raise TypeError("several fold models need `folds` (a split table with columns patient, fold)")
        return [(model, expression.index)], model
    if isinstance(model, FittedModel):
        raise TypeError("out-of-fold masking needs one model per fold (a mapping fold -> model)")
    fold_of = folds.set_index("patient")["fold"]
    fold_of = fold_of.loc[fold_of.index.intersection(expression.index, sort=False)]
    missing = sorted(set(fold_of.unique()) - set(model))
    if missing:
        raise ValueError(f"no model for folds {missing}")
    ref = model[next(iter(model))]
    for k, m in model.items():
        if m.genes != ref.genes or m.classes != ref.classes or m.target_type != ref.target_type:
            raise ValueError(f"fold {k} model differs from the others in genes, classes or type")
    parts = [(model[k], pd.Index(fold_of.index[fold_of.to_numpy() == k])) for k in sorted(model)]
    return [(m, ids) for m, ids in parts if len(ids)], ref


def subtype_masking_probabilities(model: FittedModel | Mapping[int, FittedModel], expression: pd.DataFrame,
                                  subtype_sets: Mapping[str, Sequence[str]], *, n_random: int = 100,
                                  seed: int = 0, folds: pd.DataFrame | None = None,
                                  subtypes: pd.Series | None = None,
                                  memory_bytes: int = DEFAULT_MEMORY_BYTES) -> pd.DataFrame:
    """Class probabilities of a subtype network with the input masked to each subtype gene set.

    Parameters
    ----------
    model: the multi-class subtype network, or fold -> outer-fold network with ``folds`` (each
        fold's network then predicts only its held-out patients: out-of-fold probabilities).
    expression: patients x genes, raw (the model's scaler is applied).
    subtype_sets: set name -> genes, e.g. ``ClancTable.gene_sets``; genes the model lacks are
        ignored. A set named like a class is that class's "own" set in :func:`subtype_set_auc`.
    n_random: random gene sets per distinct set size (drawn from the model's genes).
    seed: seed of the random sets.
    folds: split table (patient, fold) for the out-of-fold mode.
    subtypes: the true subtype by patient; fills the ``subtype`` column (else empty).

    Returns
    -------
    Long table, one row per (mask, draw, patient, class): ``mask`` (``unmasked``, the set name, or
    ``random <set>`` for random sets of that set's size), ``kind`` (``unmasked``, ``subtype set``,
    ``random``), ``matched_to`` (the subtype set whose size a random set has; the set itself for a
    subtype set), ``draw`` (random draw 0..n_random-1; 0 otherwise), ``n_genes``, ``patient``,
    ``subtype``, ``class`` and ``probability`` (softmax of the masked logits).
    """
    if n_random < 0:
        raise ValueError("n_random must be at least 0")
    parts, ref = _parts(model, expression, folds)
    if ref.target_type != "multiclass":
        raise ValueError(f"subtype validation needs a multiclass network, not a {ref.target_type} one")
    names, sets = gene_indices(ref, subtype_sets, "subtype sets")
    sizes = [int(s.size) for s in sets]
    rng = np.random.default_rng(seed)
    randoms = random_gene_sets(len(ref.genes), sizes, n_random, rng) if n_random else {}
    random_list = [s for size in randoms for s in randoms[size]]
    random_start = {}
    offset = 0
    for size in randoms:
        random_start[size] = offset
        offset += len(randoms[size])

    patients = pd.Index([p for _, ids in parts for p in ids])
    n, c = len(patients), len(ref.classes)
    unmasked = np.empty((n, c))
    masked = np.empty((len(sets), n, c))
    rand = np.empty((len(random_list), n, c))
    row = 0
    for m, ids in parts:
        x = m.scaled(expression.loc[ids])
        engine = MaskingEngine(m.network, memory_bytes=memory_bytes)
        sl = slice(row, row + len(ids))
        unmasked[sl] = m.outputs(x)
        masked[:, sl] = engine.outputs(x, sets)
        if random_list:
            rand[:, sl] = engine.outputs(x, random_list)
        row += len(ids)
        del engine

    def prob(logits: np.ndarray) -> np.ndarray:
        return metrics.softmax(logits.reshape(-1, c)).reshape(logits.shape)

    truth = (subtypes.reindex(patients).astype(object).to_numpy() if subtypes is not None
             else np.full(n, None, dtype=object))
    classes = np.asarray(ref.classes, dtype=object)
    pat = patients.to_numpy(dtype=object)
    blocks = []

    def block(mask: str, kind: str, matched: str, draw: int, n_genes: int, p: np.ndarray) -> None:
        blocks.append(pd.DataFrame({
            "mask": mask, "kind": kind, "matched_to": matched, "draw": draw, "n_genes": n_genes,
            "patient": np.repeat(pat, c), "subtype": np.repeat(truth, c), "class": np.tile(classes, n),
            "probability": p.ravel(),
        }))

    block(UNMASKED, UNMASKED, "", 0, len(ref.genes), prob(unmasked))
    p_masked = prob(masked)
    for i, name in enumerate(names):
        block(str(name), SUBTYPE_SET, str(name), 0, sizes[i], p_masked[i])
    if random_list:
        p_rand = prob(rand)
        for i, name in enumerate(names):
            start = random_start[sizes[i]]
            for d in range(n_random):
                block(f"random {name}", RANDOM_SET, str(name), d, sizes[i], p_rand[start + d])
    log.info("subtype masking: %d patients (%s), %d subtype sets %s, %d random sets per size", n,
             "out-of-fold" if folds is not None else "single model", len(sets), dict(zip(names, sizes)), n_random)
    return pd.concat(blocks, ignore_index=True)[PROBABILITY_COLUMNS]


def _truth(probabilities: pd.DataFrame, subtypes: pd.Series | None) -> pd.Series:
    if subtypes is not None:
        return subtypes.astype(str)
    if "subtype" not in probabilities.columns or probabilities["subtype"].isna().all():
        raise ValueError("the true subtypes are needed: pass `subtypes` or a table with a filled `subtype` column")
    t = probabilities.drop_duplicates("patient").set_index("patient")["subtype"]
    return t.dropna().astype(str)


def subtype_set_auc(probabilities: pd.DataFrame, *, subtypes: pd.Series | None = None) -> pd.DataFrame:
    """One-vs-rest AUC of each class's probability with the input masked to each subtype set.

    Parameters
    ----------
    probabilities: the table of :func:`subtype_masking_probabilities`.
    subtypes: the true subtype by patient (default: the table's ``subtype`` column).

    Returns
    -------
    One row per (class, subtype set): ``class``, ``set``, ``own`` (the set is the class's own),
    ``n_genes``, ``auc`` (ROC AUC of P(class) for patients of that subtype vs the rest, with the
    input masked to the set), ``unmasked_auc``, ``random_auc_mean`` / ``random_auc_sd`` over the
    random sets of the set's size, ``p_random`` = (1 + #random sets with AUC >= auc) /
    (n_random + 1) (NaN without random sets) and ``rank_in_class`` (1 = the set with the highest
    AUC for that class). Classes without a patient on either side are skipped.
    """
    truth = _truth(probabilities, subtypes)
    probs = probabilities[probabilities["patient"].isin(truth.index)]
    if probs.empty:
        raise ValueError("no patient of the probability table has a true subtype")
    patients = pd.Index(pd.unique(probs["patient"]))
    y = truth.reindex(patients).to_numpy()
    classes = list(pd.unique(probs["class"]))

    def matrix(frame: pd.DataFrame, cls: str) -> np.ndarray:
        """(draws, patients) probability of class ``cls``."""
        sub = frame[frame["class"] == cls]
        wide = sub.pivot_table(index="draw", columns="patient", values="probability", aggfunc="first")
        return wide.reindex(columns=patients).to_numpy(dtype=np.float64)

    unmasked = probs[probs["kind"] == UNMASKED]
    sets = probs[probs["kind"] == SUBTYPE_SET]
    randoms = probs[probs["kind"] == RANDOM_SET]
    set_names = list(pd.unique(sets["mask"]))
    rows = []
    for cls in classes:
        label = (y == str(cls)).astype(int)
        if label.sum() == 0 or label.sum() == label.size:
            log.warning("class %s: no patient on one side (%d of %d); skipped", cls, label.sum(), label.size)
            continue
        base = float(metrics.auc_rows(label, matrix(unmasked, cls))[0]) if not unmasked.empty else np.nan
        for name in set_names:
            frame = sets[sets["mask"] == name]
            auc = float(metrics.auc_rows(label, matrix(frame, cls))[0])
            rframe = randoms[randoms["matched_to"] == name]
            if rframe.empty:
                r_mean = r_sd = p = np.nan
            else:
                null = metrics.auc_rows(label, matrix(rframe, cls))
                r_mean = float(np.mean(null))
                r_sd = float(np.std(null, ddof=1)) if null.size > 1 else np.nan
                p = float((1.0 + np.sum(null >= auc - 1e-12)) / (null.size + 1.0))
            rows.append({"class": cls, "set": name, "own": str(name) == str(cls),
                         "n_genes": int(frame["n_genes"].iloc[0]), "auc": auc, "unmasked_auc": base,
                         "random_auc_mean": r_mean, "random_auc_sd": r_sd, "p_random": p})
    out = pd.DataFrame(rows, columns=["class", "set", "own", "n_genes", "auc", "unmasked_auc", "random_auc_mean",
                                      "random_auc_sd", "p_random"])
    if not out.empty:
        out["rank_in_class"] = (out.groupby("class", sort=False)["auc"].rank(ascending=False, method="min")
                                .astype(int))
    else:
        out["rank_in_class"] = pd.Series(dtype=int)
    return out


def subtype_validation_summary(auc_table: pd.DataFrame) -> pd.DataFrame:
    """Per class: the AUC with its own set against the other subtype sets.

    Columns ``class``, ``own_set_auc``, ``other_sets_mean_auc``, ``best_other_set``,
    ``best_other_auc``, ``own_rank`` (1 = own set best), ``own_beats_mean_of_others``,
    ``random_auc_mean`` (of the own set's size), ``p_random`` and ``unmasked_auc``. Classes
    without an own set are skipped.
    """
    rows = []
    for cls, part in auc_table.groupby("class", sort=False):
        own = part[part["own"]]
        other = part[~part["own"]]
        if own.empty:
            continue
        o = own.iloc[0]
        best = other.loc[other["auc"].idxmax()] if not other.empty else None
        mean_other = float(other["auc"].mean()) if not other.empty else np.nan
        rows.append({
            "class": cls, "own_set_auc": float(o["auc"]), "other_sets_mean_auc": mean_other,
            "best_other_set": best["set"] if best is not None else None,
            "best_other_auc": float(best["auc"]) if best is not None else np.nan,
            "own_rank": int(o["rank_in_class"]),
            "own_beats_mean_of_others": bool(o["auc"] > mean_other) if np.isfinite(mean_other) else False,
            "random_auc_mean": float(o["random_auc_mean"]), "p_random": float(o["p_random"]),
            "unmasked_auc": float(o["unmasked_auc"]),
        })
    return pd.DataFrame(rows)


def coverage_curve(single_gene_table: pd.DataFrame, reference_genes: Iterable[str],
                   max_n: int | None = None, *, score: str | None = None) -> pd.DataFrame:
    """Reference genes among the top N genes of single-gene masking, for N = 1..max_n.

    Parameters
    ----------
    single_gene_table: ``masking.single_gene_masking`` output (``set`` = gene, ``rank``; without a
        rank the table's order is used).
    reference_genes: e.g. the 840 ClaNC genes; only those among the table's genes count.
    max_n: the largest N (default: all genes of the table).
    score: rank by this column instead (descending; ties by gene name), e.g. ``auc_Proneural``.

    Returns
    -------
    Columns ``n``, ``n_reference`` (reference genes among the top n), ``share_of_reference``
    (``n_reference`` / reference genes in the table: the coverage), ``share_of_top``
    (``n_reference / n``), and their expectations for a random gene order,
    ``expected_share_of_reference`` = n / G and ``expected_share_of_top`` = R / G (G genes in the
    table, R of them reference genes). ``attrs`` holds ``n_genes`` and ``n_reference``.
    """
    if "set" not in single_gene_table.columns:
        raise ValueError("the single-gene table lacks the column 'set' (the gene)")
    if score is not None:
        if score not in single_gene_table.columns:
            raise ValueError(f"the single-gene table has no column {score!r}")
        table = single_gene_table.assign(_key=-single_gene_table[score].astype(float),
                                         _gene=single_gene_table["set"].astype(str))
        table = table.sort_values(["_key", "_gene"], kind="stable", na_position="last")
    elif "rank" in single_gene_table.columns:
        table = single_gene_table.sort_values("rank", kind="stable")
    else:
        table = single_gene_table
    genes = table["set"].astype(str).to_numpy()
    g = genes.size
    if g == 0:
        raise ValueError("the single-gene table is empty")
    reference = {str(x) for x in reference_genes}
    hit = np.isin(genes, list(reference))
    r = int(hit.sum())
    if r == 0:
        raise ValueError("no reference gene is among the single-gene table's genes")
    if r == g:
        log.warning("coverage curve: all %d ranked genes are reference genes, so the coverage equals the random "
                    "expectation at every N (nothing to learn from it; rank more genes than the reference)", g)
    max_n = g if max_n is None else max(1, min(int(max_n), g))
    n = np.arange(1, max_n + 1)
    found = np.cumsum(hit)[:max_n]
    out = pd.DataFrame({"n": n, "n_reference": found, "share_of_reference": found / r, "share_of_top": found / n,
                        "expected_share_of_reference": n / g, "expected_share_of_top": np.full(max_n, r / g)})
    out.attrs.update(n_genes=int(g), n_reference=r)
    return out


def class_coverage_curves(single_gene_table: pd.DataFrame, class_sets: Mapping[str, Iterable[str]],
                          max_n: int | None = None) -> pd.DataFrame:
    """Per class: the coverage of the class's own gene set by the genes ranked for that class.

    ``single_gene_table`` is ``masking.single_gene_masking(..., per_class=True)`` of a multiclass
    network (columns ``auc_<class>``: the one-vs-rest AUC of the class with only the gene kept).
    For each class of ``class_sets`` with such a column, the genes are ranked by it and
    :func:`coverage_curve` counts the class's own set among the top N. Informative even when the
    genes are exactly the union of the sets (the Verhaak table's 840 ClaNC genes), where the
    pooled :func:`coverage_curve` is not. Returns the columns of :func:`coverage_curve` and
    ``class`` (first), one block per class; classes without a column or a gene are skipped with a
    warning.
    """
    parts = []
    for cls, genes in class_sets.items():
        column = f"auc_{cls}"
        if column not in single_gene_table.columns:
            log.warning("class coverage: the single-gene table has no column %s; class %s skipped", column, cls)
            continue
        try:
            curve = coverage_curve(single_gene_table, genes, max_n, score=column)
        except ValueError as err:
            log.warning("class coverage: class %s skipped (%s)", cls, err)
            continue
        parts.append(curve.assign(reference_size=curve.attrs["n_reference"]).assign(**{"class": str(cls)}))
    if not parts:
        raise ValueError("no class has both an auc_<class> column and a gene set among the table's genes")
    out = pd.concat(parts, ignore_index=True)
    return out[["class"] + [c for c in out.columns if c != "class"]]


def coverage_at(curve: pd.DataFrame, points: Sequence[int]) -> pd.DataFrame:
    """Rows of a coverage curve at the given N (those within the curve), for reports and logs."""
    return curve[curve["n"].isin([int(n) for n in points])].reset_index(drop=True)
