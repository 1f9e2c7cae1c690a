"""Gene masking: keep one gene set, set every other gene to its training mean, predict, score.

Expression is scaled per gene with the model's training scaler, so a gene at
its training mean is exactly 0 after scaling; "masking" a gene means setting
its scaled value to 0. A gene set that carries the information the network
uses keeps the prediction close to the unmasked one; a set that does not
drops the score towards chance.

Exactness and speed come from the first layer being linear: with every gene
outside ``S`` at 0, the first layer's pre-activation is
``x[:, S] @ W[:, S].T + b``, and for a single gene ``g`` it is rank one,
``x[:, g] * W[:, g] + b``. :class:`MaskingEngine` folds eval-mode BatchNorm
into the linear layers once, computes that first layer per set (no padding)
or per single gene (no matrix product; tied values computed once), and pushes
all (set, patient) rows through the remaining layers in preallocated,
memory-bounded batches under ``torch.inference_mode``: a masked set costs
about the remaining layers alone. The result equals running the network on
each masked input up to float32 rounding.

Significance is empirical: each set is compared with ``n_random`` random gene
sets of the same size drawn from the model's genes, and the p-values are
adjusted with Benjamini-Hochberg across the collection.
:func:`single_gene_masking` scores every gene on its own (the null of a random
single gene is every gene, computed exactly).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from radiogenomics.evaluation import metrics
from radiogenomics.evaluation.stats import benjamini_hochberg
from radiogenomics.models.nets import FittedModel, TargetNet

log = logging.getLogger(__name__)

#: Default memory budget (bytes) for the activations of one batch of masked sets.
DEFAULT_MEMORY_BYTES = 256 * 2**20

#: Rows (set x patient) per batch on a CPU when ``set_batch`` is not given.
CPU_BATCH_ROWS = 4096

#: Tolerance when counting random sets that score at least as well as the observed set:
#: two evaluations of one gene set may differ in the last bits (summation order).
_TIE_TOLERANCE = 1e-12


# --------------------------------------------------------------------------- network split


def _identity(h: torch.Tensor) -> torch.Tensor:
    return h


def _compose(inner: Callable[[torch.Tensor], torch.Tensor],
             outer: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[torch.Tensor], torch.Tensor]:
    def fn(h: torch.Tensor) -> torch.Tensor:
        return outer(inner(h))

    return fn


def split_first_linear(network: nn.Module) -> tuple[nn.Linear, Callable[[torch.Tensor], torch.Tensor]]:
    """Split a network into its first linear layer and the function applied to that layer's output.

    ``network(x) == rest(first_linear(x))`` in eval mode. Supported: a
    :class:`~radiogenomics.models.nets.TargetNet` (``rest`` = the remainder of
    ``encoder[0]`` after its Linear, then every later module of
    ``TargetNet.layers()``: hidden blocks, dropout and the head; with an empty
    encoder the head itself is the first linear layer; dropout before the first
    Linear, on the input, is the identity in eval mode), an ``nn.Linear``, and an
    ``nn.Sequential`` whose first element is (recursively) one of these.
    Raises ``TypeError`` for anything else.
    """
    if isinstance(network, nn.Linear):
        return network, _identity
    if isinstance(network, TargetNet):
        if len(network.encoder) == 0:
            return network.head, _identity
        layers = network.layers()
        start = layers.index(network.encoder[0])  # what comes before is input dropout: the identity in eval mode
        return split_first_linear(nn.Sequential(*layers[start:]))
    if isinstance(network, nn.Sequential) and len(network) > 0:
        first, rest_first = split_first_linear(network[0])
        if len(network) == 1:
            return first, rest_first
        # nn.Sequential(*...) rather than network[1:]: subclasses (Encoder) cannot be sliced.
        return first, _compose(rest_first, nn.Sequential(*list(network)[1:]))
    raise TypeError(f"cannot split the first linear layer off a {type(network).__name__}")


# --------------------------------------------------------------------------- masked forward passes


def _as_index_sets(gene_sets: Sequence[np.ndarray], n_genes: int) -> list[np.ndarray]:
    out = []
    for i, s in enumerate(gene_sets):
        idx = np.unique(np.asarray(s, dtype=np.int64).ravel())
        if idx.size and (idx[0] < 0 or idx[-1] >= n_genes):
            raise ValueError(f"gene set {i} has column indices outside 0..{n_genes - 1}")
        out.append(idx)
    return out


def _n_outputs(network: nn.Module, x: torch.Tensor) -> int:
    return int(network(x[:1]).shape[1])


def _activation_width(network: nn.Module) -> int:
    """Float32 values per input row held by a forward pass (sum of all layer widths, roughly)."""
    width = 0
    for m in network.modules():
        if isinstance(m, nn.Linear):
            width += m.out_features
    return max(width, 1)


#: In-place activations the folded engine can apply (the module type -> the in-place function).
_INPLACE_ACTIVATIONS: dict[type, Callable[[torch.Tensor], torch.Tensor]] = {
    nn.Tanh: torch.tanh_, nn.ReLU: torch.relu_, nn.Sigmoid: torch.sigmoid_,
}


@dataclass(frozen=True)
class FoldedLayer:
    """One eval-mode layer ``activation(h @ weight_t + bias)`` with its BatchNorm folded in."""

    weight_t: torch.Tensor  # (in_features, out_features), contiguous
    bias: torch.Tensor  # (out_features,)
    activation: Callable[[torch.Tensor], torch.Tensor] | None  # in place; None = linear


def _leaf_modules(module: nn.Module) -> list[nn.Module]:
    """The modules a forward pass applies, in order, for the networks whose forward is known."""
    if isinstance(module, TargetNet) and type(module).forward is TargetNet.forward:
        return [leaf for child in module.layers() for leaf in _leaf_modules(child)]
    if isinstance(module, nn.Sequential) and type(module).forward is nn.Sequential.forward:
        return [leaf for child in module for leaf in _leaf_modules(child)]
    return [module]


def fold_layers(network: nn.Module) -> list[FoldedLayer] | None:
    """The network in eval mode as a chain of ``activation(h @ W.T + b)`` layers, or None.

    Each eval-mode BatchNorm1d right after a Linear is folded into it
    (``W' = s W``, ``b' = s (b - mean) + beta`` with ``s = gamma / sqrt(var + eps)``), and dropout
    (the identity in eval mode) is dropped, so one layer is one matrix product and one in-place
    activation. Supported: a :class:`~radiogenomics.models.nets.TargetNet` or an ``nn.Sequential``
    (nested freely) of Linear, BatchNorm1d with running statistics, Tanh / ReLU / Sigmoid, Dropout
    and Identity, starting with a Linear. Anything else returns None (the caller falls back to the
    network's own modules). The weights are a snapshot: later changes to the network are not seen.
    """
    pending: list | None = None  # [weight (out, in), bias, activation, batch_norm_folded]
    layers: list[FoldedLayer] = []

    def flush() -> None:
        if pending is not None:
            weight, bias, act, _ = pending
            layers.append(FoldedLayer(weight.t().contiguous(), bias.contiguous(), act))

    with torch.no_grad():
        for leaf in _leaf_modules(network):
            if isinstance(leaf, nn.Linear):
                flush()
                weight = leaf.weight.detach()
                bias = (leaf.bias.detach().clone() if leaf.bias is not None
                        else torch.zeros(weight.shape[0], dtype=weight.dtype, device=weight.device))
                pending = [weight, bias, None, False]
            elif isinstance(leaf, nn.BatchNorm1d):
                if pending is None or pending[2] is not None or pending[3] or leaf.running_mean is None:
                    return None
                weight, bias = pending[0], pending[1]
                var = leaf.running_var.detach().double()
                scale = 1.0 / torch.sqrt(var + leaf.eps)
                if leaf.weight is not None:
                    scale = scale * leaf.weight.detach().double()
                shift = -leaf.running_mean.detach().double() * scale
                if leaf.bias is not None:
                    shift = shift + leaf.bias.detach().double()
                pending[0] = weight * scale.to(weight.dtype)[:, None]
                pending[1] = (bias.double() * scale + shift).to(weight.dtype)
                pending[3] = True
            elif type(leaf) in _INPLACE_ACTIVATIONS:
                if pending is None or pending[2] is not None:
                    return None
                pending[2] = _INPLACE_ACTIVATIONS[type(leaf)]
            elif isinstance(leaf, (nn.modules.dropout._DropoutNd, nn.Identity)):
                continue
            else:
                return None
        if pending is None:
            return None
        flush()
    return layers


class MaskingEngine:
    """Masked forward passes of one network: every gene outside a kept set at 0 (the training mean).

    Built once per network and reused for many calls (gene sets, random sets, all single genes).
    For networks :func:`fold_layers` understands (TargetNet and plain Sequential MLPs), BatchNorm
    is folded into the linear layers and the first layer is evaluated only on the kept genes:

    - a set ``S`` of two or more genes: ``x[:, S] @ W1[:, S].T + b1``, one product per set, no
      padding (sets sorted by size share a batch of rows);
    - a single gene ``g`` (rank one): ``x[:, g] * W1[:, g] + b1``, a gather of one column of
      ``W1`` per row and no matrix product; patients with the same value of ``g`` are computed
      once (ties are common in RNA-seq data: zeros, detection floors).

    All rows of a batch then go through the remaining layers as preallocated ``addmm`` +
    in-place activation steps under ``torch.inference_mode``, which costs about as much as the
    remaining layers' matrix products alone. Batches hold ``memory_bytes`` of activations, at
    most :data:`CPU_BATCH_ROWS` rows on a CPU. Other networks fall back to
    :func:`split_first_linear` (first layer trick, the network's own modules for the rest) or
    to one full forward pass per masked input.

    The result equals running the network in eval mode on each masked input up to float32
    rounding (folding changes the summation order, not the function).
    """

    def __init__(self, network: nn.Module, *, memory_bytes: int = DEFAULT_MEMORY_BYTES,
                 batch_rows: int | None = None):
        self.network = network
        self.memory_bytes = int(memory_bytes)
        self.batch_rows = None if batch_rows is None else max(1, int(batch_rows))
        try:
            self.device = next(network.parameters()).device
        except StopIteration:
            self.device = torch.device("cpu")
        self.layers = fold_layers(network)
        self.n_genes: int | None = None
        if self.layers is not None:
            self.n_genes = int(self.layers[0].weight_t.shape[0])
            self.dtype = self.layers[0].weight_t.dtype
        else:
            try:
                first, _ = split_first_linear(network)
                self.n_genes = first.in_features
            except TypeError:
                pass
            log.debug("masking engine: %s cannot be folded; using its own modules", type(network).__name__)

    # ------------------------------------------------------------------ public

    def outputs(self, x_scaled: np.ndarray, gene_sets: Sequence[np.ndarray], *,
                set_batch: int | None = None) -> np.ndarray:
        """Raw outputs (n_sets, n_patients, n_outputs), float32, with only each set's genes kept."""
        x_np = self._check_x(x_scaled)
        n, g = x_np.shape
        sets = _as_index_sets(gene_sets, g)
        if self.layers is None:
            return self._unfolded(x_np, sets, set_batch)
        n_out = int(self.layers[-1].weight_t.shape[1])
        out = np.empty((len(sets), n, n_out), dtype=np.float32)
        if n == 0 or not sets:
            return out
        sizes = np.array([s.size for s in sets])
        with torch.inference_mode():
            x = torch.from_numpy(x_np).to(device=self.device, dtype=self.dtype)
            single = np.flatnonzero(sizes == 1)
            if single.size:
                genes = np.fromiter((sets[i][0] for i in single), dtype=np.int64, count=single.size)
                out[single] = self._single_gene(x_np, x, genes)
            multi = np.flatnonzero(sizes != 1)
            if multi.size:
                self._multi_gene(x, [sets[i] for i in multi], multi, out, set_batch)
        return out

    def single_gene_outputs(self, x_scaled: np.ndarray, genes: Sequence[int] | None = None) -> np.ndarray:
        """Raw outputs (n_genes, n_patients, n_outputs) with only one gene kept, for every gene
        (or the given column indices), float32."""
        x_np = self._check_x(x_scaled)
        n, g = x_np.shape
        idx = np.arange(g, dtype=np.int64) if genes is None else np.asarray(genes, dtype=np.int64).ravel()
        if idx.size and (idx.min() < 0 or idx.max() >= g):
            raise ValueError(f"gene column indices outside 0..{g - 1}")
        if self.layers is None:
            return self._unfolded(x_np, [idx[i:i + 1] for i in range(idx.size)], None)
        n_out = int(self.layers[-1].weight_t.shape[1])
        if n == 0 or idx.size == 0:
            return np.empty((idx.size, n, n_out), dtype=np.float32)
        with torch.inference_mode():
            x = torch.from_numpy(x_np).to(device=self.device, dtype=self.dtype)
            return self._single_gene(x_np, x, idx)

    # ------------------------------------------------------------------ internals

    def _check_x(self, x_scaled: np.ndarray) -> np.ndarray:
        x_np = np.ascontiguousarray(x_scaled, dtype=np.float32)
        if x_np.ndim != 2:
            raise ValueError(f"x_scaled must be 2-D (patients x genes), got shape {x_np.shape}")
        if self.n_genes is not None and x_np.shape[1] != self.n_genes:
            raise ValueError(f"network expects {self.n_genes} genes, x_scaled has {x_np.shape[1]}")
        return x_np

    def _rows(self) -> int:
        """Rows (set x patient, or gene x distinct value) per batch."""
        if self.batch_rows is not None:
            return self.batch_rows
        width = sum(int(layer.weight_t.shape[1]) for layer in self.layers)
        rows = self.memory_bytes // (self.layers[0].weight_t.element_size() * max(width, 1))
        if self.device.type == "cpu":
            rows = min(rows, CPU_BATCH_ROWS)
        return max(1, int(rows))

    def _buffers(self, rows: int) -> list[torch.Tensor]:
        return [torch.empty(rows, int(layer.weight_t.shape[1]), dtype=self.dtype, device=self.device)
                for layer in self.layers]

    def _rest(self, h: torch.Tensor, buffers: list[torch.Tensor]) -> torch.Tensor:
        """Apply the first layer's activation to ``h`` (in place) and every later layer."""
        first = self.layers[0]
        if first.activation is not None:
            first.activation(h)
        for layer, buf in zip(self.layers[1:], buffers[1:]):
            nxt = buf[:h.shape[0]]
            torch.addmm(layer.bias, h, layer.weight_t, out=nxt)
            if layer.activation is not None:
                layer.activation(nxt)
            h = nxt
        return h

    def _single_gene(self, x_np: np.ndarray, x: torch.Tensor, genes: np.ndarray) -> np.ndarray:
        """(len(genes), n, C) outputs with one gene kept; each distinct (gene, value) pair once."""
        n = x_np.shape[0]
        values, counts, inverse = _distinct_values(x_np, genes)
        w1, b1 = self.layers[0].weight_t, self.layers[0].bias
        n_out = int(self.layers[-1].weight_t.shape[1])
        rows = self._rows()
        buffers = self._buffers(min(rows, values.size))
        v_t = torch.from_numpy(values).to(device=self.device, dtype=self.dtype)
        res = torch.empty(values.size, n_out, dtype=self.dtype, device=self.device)
        # Rows of one gene are consecutive: one fused multiply-add per gene and batch writes
        # b1 + value * W1[:, g] straight into the batch buffer (no gathered copy of the weights).
        bounds = np.concatenate([[0], np.cumsum(counts)])
        for start in range(0, values.size, rows):
            stop = min(values.size, start + rows)
            h = buffers[0][:stop - start]
            first_gene = int(np.searchsorted(bounds, start, side="right")) - 1
            last_gene = int(np.searchsorted(bounds, stop, side="left"))
            for j in range(first_gene, last_gene):
                lo, hi = max(start, int(bounds[j])), min(stop, int(bounds[j + 1]))
                torch.addcmul(b1, v_t[lo:hi, None], w1[int(genes[j])], out=h[lo - start:hi - start])
            res[start:stop] = self._rest(h, buffers)
        log.debug("single-gene masking: %d genes x %d patients as %d distinct rows", genes.size, n, values.size)
        res_np = res.float().cpu().numpy()
        return res_np[inverse.T]  # (genes, patients, C)

    def _multi_gene(self, x: torch.Tensor, sets: list[np.ndarray], where: np.ndarray, out: np.ndarray,
                    set_batch: int | None) -> None:
        n = x.shape[0]
        w1, b1 = self.layers[0].weight_t, self.layers[0].bias
        per_batch = max(1, int(set_batch)) if set_batch is not None else max(1, self._rows() // n)
        per_batch = min(per_batch, len(sets))
        buffers = self._buffers(per_batch * n)
        order = np.argsort([s.size for s in sets], kind="stable")
        for start in range(0, len(order), per_batch):
            batch = order[start:start + per_batch]
            h = buffers[0][:len(batch) * n]
            for row, i in enumerate(batch):
                seg = h[row * n:(row + 1) * n]
                idx = sets[i]
                if idx.size == 0:
                    seg.copy_(b1.expand(n, -1))
                else:
                    cols = torch.from_numpy(idx).to(self.device)
                    torch.addmm(b1, x.index_select(1, cols), w1.index_select(0, cols), out=seg)
            res = self._rest(h, buffers)
            out[where[batch]] = res.reshape(len(batch), n, -1).float().cpu().numpy()

    def _unfolded(self, x_np: np.ndarray, sets: list[np.ndarray], set_batch: int | None) -> np.ndarray:
        network = self.network
        n, g = x_np.shape
        was_training = network.training
        network.eval()
        try:
            with torch.no_grad():
                x = torch.from_numpy(x_np).to(self.device)
                if n == 0 or not sets:
                    n_out = _n_outputs(network, torch.zeros(1, g, device=self.device))
                    return np.zeros((len(sets), n, n_out), dtype=np.float32)
                try:
                    first, rest = split_first_linear(network)
                except TypeError as err:
                    log.debug("masking by full forward passes: %s", err)
                    return _masked_full(network, x, sets, set_batch, self.memory_bytes)
                return _masked_split(network, first, rest, x, sets, set_batch, self.memory_bytes)
        finally:
            network.train(was_training)


def _distinct_values(x: np.ndarray, genes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct values of each gene column: (values, count per gene, inverse (n x genes)).

    The values of gene ``genes[j]`` are consecutive (``counts[j]`` of them, ascending) and
    ``values[inverse[p, j]]`` is ``x[p, genes[j]]``.
    """
    cols = x[:, genes]  # (n, k)
    order = np.argsort(cols, axis=0, kind="stable")
    sorted_cols = np.take_along_axis(cols, order, axis=0)
    new = np.ones(sorted_cols.shape, dtype=bool)
    new[1:] = sorted_cols[1:] != sorted_cols[:-1]
    ids = np.cumsum(new, axis=0) - 1
    counts = ids[-1] + 1
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    inverse = np.empty(cols.shape, dtype=np.int64)
    np.put_along_axis(inverse, order, ids + offsets[None, :], axis=0)
    values = np.ascontiguousarray(sorted_cols.T[new.T])
    return values, counts, inverse


def masked_outputs(network: nn.Module, x_scaled: np.ndarray, gene_sets: Sequence[np.ndarray], *,
                   set_batch: int | None = None, memory_bytes: int = DEFAULT_MEMORY_BYTES) -> np.ndarray:
    """Raw network outputs with only each gene set kept (every other scaled gene set to 0).

    Parameters
    ----------
    network: the network (run in eval mode; its previous mode is restored).
    x_scaled: (n_patients, n_genes) scaled expression.
    gene_sets: column indices of the genes kept, one array per set (duplicates ignored).
    set_batch: sets per batch; by default chosen so one batch's activations fit ``memory_bytes``.

    Returns
    -------
    float32 array (n_sets, n_patients, n_outputs), equal to ``network(masked x)`` per set up to
    float32 rounding. A one-off :class:`MaskingEngine`; build one engine and call its
    ``outputs`` to reuse the folded weights over many calls.
    """
    return MaskingEngine(network, memory_bytes=memory_bytes).outputs(x_scaled, gene_sets, set_batch=set_batch)


def _masked_split(network: nn.Module, first: nn.Linear, rest: Callable[[torch.Tensor], torch.Tensor],
                  x: torch.Tensor, sets: list[np.ndarray], set_batch: int | None,
                  memory_bytes: int) -> np.ndarray:
    """Fallback for networks that cannot be folded: the first-layer trick, the network's own modules after it."""
    n, g = x.shape
    if first.in_features != g:
        raise ValueError(f"network expects {first.in_features} genes, x_scaled has {g}")
    weight = first.weight.detach()  # (H, G)
    x = x.to(weight.dtype)
    h = weight.shape[0]
    bias = first.bias.detach() if first.bias is not None else torch.zeros(h, dtype=weight.dtype, device=x.device)
    # A zero column at index g: sets padded to a common size point there and add exactly 0.
    x_pad = torch.cat([x, torch.zeros(n, 1, dtype=x.dtype, device=x.device)], dim=1)
    w_pad = torch.cat([weight, torch.zeros(h, 1, dtype=weight.dtype, device=weight.device)], dim=1)
    n_out = int(rest(bias[None, :]).shape[1])

    order = np.argsort([s.size for s in sets], kind="stable")  # similar sizes share a batch: little padding
    rows_cap = CPU_BATCH_ROWS if x.device.type == "cpu" else 2**62
    width = _activation_width(network)
    out = np.empty((len(sets), n, n_out), dtype=np.float32)
    start = 0
    while start < len(order):
        if set_batch is not None:
            b = max(1, int(set_batch))
        else:
            # Memory per set: gathered inputs (n x L) and weights (L x H) plus the activations (n x width).
            size_cap = sets[order[min(len(order) - 1, start + 1023)]].size
            per_set = 4 * (n * size_cap + size_cap * h + 3 * n * width)
            b = max(1, min(1024, memory_bytes // max(per_set, 1), rows_cap // max(n, 1)))
        batch = order[start:start + b]
        length = max(sets[i].size for i in batch)
        idx = np.full((len(batch), length), g, dtype=np.int64)
        for row, i in enumerate(batch):
            idx[row, :sets[i].size] = sets[i]
        idx_t = torch.from_numpy(idx).to(x.device)
        xg = x_pad[:, idx_t].permute(1, 0, 2)  # (B, n, L)
        wg = w_pad[:, idx_t].permute(1, 2, 0)  # (B, L, H)
        pre = torch.bmm(xg, wg) + bias  # (B, n, H)
        res = rest(pre.reshape(len(batch) * n, h)).reshape(len(batch), n, n_out)
        out[batch] = res.float().cpu().numpy()
        start += len(batch)
    return out


def _masked_full(network: nn.Module, x: torch.Tensor, sets: list[np.ndarray], set_batch: int | None,
                 memory_bytes: int) -> np.ndarray:
    """Fallback for networks without a known first linear layer: one full forward pass per masked input."""
    n, g = x.shape
    width = _activation_width(network)
    b = max(1, int(set_batch)) if set_batch is not None else max(1, memory_bytes // (4 * max(n, 1) * (g + 3 * width)))
    chunks = []
    for start in range(0, len(sets), b):
        batch = sets[start:start + b]
        xm = torch.zeros(len(batch), n, g, dtype=x.dtype, device=x.device)
        for row, idx in enumerate(batch):
            if idx.size:
                cols = torch.from_numpy(idx).to(x.device)
                xm[row][:, cols] = x[:, cols]
        res = network(xm.reshape(len(batch) * n, g))
        chunks.append(res.reshape(len(batch), n, -1).float().cpu().numpy())
    return np.concatenate(chunks)

# --------------------------------------------------------------------------- random sets and statistics


def random_gene_sets(n_genes: int, sizes: Sequence[int], n_random: int,
                     rng: np.random.Generator) -> dict[int, list[np.ndarray]]:
    """``n_random`` random gene sets (sorted column indices, no repeats within a set) per distinct size."""
    out: dict[int, list[np.ndarray]] = {}
    for size in sorted({int(s) for s in sizes}):
        if not 0 <= size <= n_genes:
            raise ValueError(f"cannot draw a random set of {size} genes from {n_genes}")
        out[size] = [np.sort(rng.choice(n_genes, size=size, replace=False)) for _ in range(n_random)]
    return out



def _join(model: FittedModel, expression: pd.DataFrame, y_true: pd.Series) -> tuple[pd.Index, np.ndarray]:
    if expression.index.has_duplicates:
        raise ValueError("expression has duplicated patient IDs")
    if y_true.index.has_duplicates:
        raise ValueError("y_true has duplicated patient IDs")
    y_true = y_true.dropna()
    ids = expression.index.intersection(y_true.index, sort=False)
    if len(ids) == 0:
        raise ValueError("no patient is in both the expression table and y_true")
    dropped_x = len(expression) - len(ids)
    dropped_y = len(y_true) - len(ids)
    if dropped_x or dropped_y:
        log.info("joined %d patients by ID; dropped %d expression-only and %d target-only patients",
                 len(ids), dropped_x, dropped_y)
    y = y_true.loc[ids]
    if model.target_type == "multiclass":
        if y.dtype == object or isinstance(y.dtype, (pd.CategoricalDtype, pd.StringDtype)):
            lookup = {str(c): i for i, c in enumerate(model.classes)}
            unknown = sorted({str(v) for v in y} - set(lookup))
            if unknown:
                raise ValueError(f"y_true has classes not in the model's {model.classes}: {unknown[:5]}")
            y = y.astype(str).map(lookup)
        codes = y.to_numpy()
        if not np.all(np.equal(np.mod(codes, 1), 0)) or codes.min() < 0 or codes.max() >= len(model.classes):
            raise ValueError(f"multiclass y_true must be integer codes 0..{len(model.classes) - 1}")
        return ids, codes.astype(int)
    if model.target_type == "binary":
        codes = y.to_numpy()
        if not np.isin(codes, (0, 1)).all():
            raise ValueError("binary y_true must be 0/1")
        return ids, codes.astype(int)
    return ids, y.to_numpy(dtype=float)


def gene_indices(model: FittedModel, gene_sets: Mapping[str, Sequence[str]],
                  collection: str) -> tuple[list[str], list[np.ndarray]]:
    position = {gene: i for i, gene in enumerate(model.genes)}
    names, sets, skipped = [], [], []
    for name, genes in gene_sets.items():
        idx = np.unique(np.fromiter((position[g] for g in genes if g in position), dtype=np.int64))
        if idx.size == 0:
            skipped.append(name)
            continue
        names.append(name)
        sets.append(idx)
    if skipped:
        log.warning("%s: %d gene set(s) share no gene with the model and are skipped: %s",
                    collection, len(skipped), ", ".join(map(str, skipped[:10])) + (" ..." if len(skipped) > 10 else ""))
    if not sets:
        raise ValueError(f"gene set collection {collection!r}: no set shares a gene with the model's "
                         f"{len(model.genes)} genes")
    return names, sets


def gene_masking(model: FittedModel | Mapping[int, FittedModel], expression: pd.DataFrame, y_true: pd.Series,
                 gene_sets: Mapping[str, Sequence[str]], *, folds: pd.DataFrame | None = None, n_random: int = 100,
                 seed: int = 0, collection: str = "gene sets",
                 memory_bytes: int = DEFAULT_MEMORY_BYTES,
                 device: str | torch.device | None = None) -> pd.DataFrame:
    """Score the network with only each gene set kept, against random sets of the same size.

    Two modes. With one ``model`` and ``folds=None`` the model predicts every joined patient
    (the study's approach: interpretation of one network on its own patients). With ``model`` a
    mapping fold -> the outer-fold model and ``folds`` a split table (patient, fold), each fold's
    model predicts only the patients of its held-out fold and the pooled out-of-fold predictions
    are scored: masking scores then measure what the network learned that generalises, not what
    it memorised (a network scored on its own training patients keeps a high score even for
    random gene sets).

    Parameters
    ----------
    model: a fitted target network, or fold -> fitted network (all with the same genes and type).
    expression: patients x genes (raw, unscaled) expression; must contain the model's genes.
    y_true: the truth indexed by patient ID (binary 0/1, multiclass codes 0..C-1 in the order of
        ``model.classes`` (class labels are also accepted), continuous values). Joined to
        ``expression`` by ID; patients in one table only (or with a missing truth) are dropped.
    gene_sets: set name -> gene symbols; genes the model lacks are ignored, sets left empty are
        skipped with a warning.
    folds: split table (columns patient, fold) for the out-of-fold mode.
    n_random: random gene sets per distinct set size (the empirical null).
    seed: seed of the random sets.
    collection: name of the collection for log lines and errors.
    memory_bytes: activation budget of one batch of masked forward passes (:class:`MaskingEngine`).
    device: where the masked forward passes run (e.g. ``"cuda"``); None: where the network's
        parameters are (the CPU for a loaded model). The models themselves are left where they are.

    Returns
    -------
    One row per set, sorted by ``rank``: ``set``, ``n_genes``, the primary and secondary metric
    of the target type (e.g. ``auc``, ``ap``; out of fold: of the pooled predictions of the fold
    models), in the out-of-fold mode the primary metric of each fold model on its own test patients
    averaged over the folds with its spread (``<primary>_fold_mean``, ``_fold_sd``, ``_fold_min``,
    ``_fold_max``, ``n_folds``), ``ranked_by`` (which score ranks the sets: the pooled one),
    ``null_mean``/``null_sd`` of the primary metric over
    the random sets of the same size, ``p_empirical`` = (1 + #random >= observed) / (n_random + 1),
    ``fdr`` (Benjamini-Hochberg across the collection) and ``rank`` (1 = best primary metric,
    ties broken by set name). ``df.attrs`` holds ``full_score`` (``metrics.score`` of the
    unmasked network(s) on the same patients), ``target_type``, ``primary_metric``,
    ``secondary_metric``, ``n_patients``, ``n_random`` and ``mode``.
    """
    if n_random < 1:
        raise ValueError("n_random must be at least 1")
    parts, ids, y, ref = _masking_parts(model, expression, y_true, folds)
    tt = ref.target_type
    primary, secondary = metrics.PRIMARY_METRIC[tt], metrics.SECONDARY_METRIC[tt]
    names, sets = gene_indices(ref, gene_sets, collection)

    full = metrics.score(tt, y, _pooled(parts, len(ids), lambda m, x: m.outputs(x)[None])[0], ref.classes)

    rng = np.random.default_rng(seed)
    sizes = np.array([s.size for s in sets])
    randoms = random_gene_sets(len(ref.genes), sizes, n_random, rng)
    # One engine per model (BatchNorm folded once) for the observed sets and every random size.
    groups = [sets] + [randoms[size] for size in randoms]
    pooled = _pooled_groups(parts, len(ids), groups, memory_bytes, device=device, label=collection)
    observed = pooled[0]
    per_output = [metrics.score(tt, y, out, ref.classes) for out in observed]
    prim = np.array([m[primary] for m in per_output])
    sec = np.array([m[secondary] for m in per_output])
    prim_fast = metrics.primary_rows(tt, y, observed)
    null = {size: metrics.primary_rows(tt, y, rout) for size, rout in zip(randoms, pooled[1:])}
    mode = "out-of-fold" if folds is not None else "single model"
    log.info("%s: masked %d sets and %d random sets (%d sizes) over %d patients (%s, %d model(s))", collection,
             len(sets), n_random * len(randoms), len(randoms), len(ids), mode, len(parts))

    null_mean = np.array([np.nanmean(null[s]) if np.isfinite(null[s]).any() else np.nan for s in sizes])
    null_sd = np.array([np.nanstd(null[s], ddof=1) if np.isfinite(null[s]).sum() > 1 else np.nan for s in sizes])
    with np.errstate(invalid="ignore"):
        exceed = np.array([(null[s] >= o - _TIE_TOLERANCE).sum() for s, o in zip(sizes, prim_fast)])
    p_emp = np.where(np.isfinite(prim_fast), (1.0 + exceed) / (n_random + 1.0), np.nan)

    df = pd.DataFrame({"set": names, "n_genes": sizes, primary: prim, secondary: sec,
                       "null_mean": null_mean, "null_sd": null_sd, "p_empirical": p_emp,
                       "fdr": benjamini_hochberg(p_emp)})
    if folds is not None:
        # beside the pooled score: each outer-fold model scored on its own test patients, averaged over
        # the folds, with the spread across folds (folds whose metric is undefined are left out)
        per_fold = pd.DataFrame(np.stack([metrics.primary_rows(tt, y[pos], observed[:, pos, :])
                                          for _, _, pos in parts]))
        df[f"{primary}_fold_mean"] = per_fold.mean(axis=0).to_numpy()
        df[f"{primary}_fold_sd"] = per_fold.std(axis=0, ddof=1).to_numpy()
        df[f"{primary}_fold_min"] = per_fold.min(axis=0).to_numpy()
        df[f"{primary}_fold_max"] = per_fold.max(axis=0).to_numpy()
        df["n_folds"] = int(len(parts))
        ranked_by = f"{primary} of the pooled out-of-fold predictions"
    else:
        ranked_by = f"{primary} of the single model's predictions"
    df["ranked_by"] = ranked_by
    df = df.assign(_key=-df[primary]).sort_values(["_key", "set"], na_position="last", kind="stable")
    df = df.drop(columns="_key").reset_index(drop=True)
    df["rank"] = np.arange(1, len(df) + 1)
    df.attrs.update(full_score=full, target_type=tt, primary_metric=primary, secondary_metric=secondary,
                    n_patients=int(len(ids)), n_random=int(n_random), mode=mode)
    return df


def _masking_parts(model: FittedModel | Mapping[int, FittedModel], expression: pd.DataFrame, y_true: pd.Series,
                   folds: pd.DataFrame | None) -> tuple[list[tuple[FittedModel, np.ndarray, np.ndarray]],
                                                        pd.Index, np.ndarray, FittedModel]:
    """(model, scaled rows, positions in the joined patient order) per part, the joined IDs and truth."""
    if folds is None:
        if not isinstance(model, FittedModel):
            raise TypeError("several fold models need `folds` (a split table with columns patient, fold)")
        ids, y = _join(model, expression, y_true)
        return [(model, model.scaled(expression.loc[ids]), np.arange(len(ids)))], ids, y, model
    if isinstance(model, FittedModel):
        raise TypeError("out-of-fold masking needs one model per fold (a mapping fold -> model)")
    fold_of = folds.set_index("patient")["fold"]
    missing = sorted(set(fold_of.unique()) - set(model))
    if missing:
        raise ValueError(f"no model for folds {missing}")
    ref = model[next(iter(model))]
    for k, m in model.items():
        if m.genes != ref.genes or m.target_type != ref.target_type or m.classes != ref.classes:
            raise ValueError(f"fold {k} model differs from fold {next(iter(model))}'s in genes, type or classes")
    ids, y = _join(ref, expression.loc[expression.index.intersection(fold_of.index, sort=False)], y_true)
    dropped = fold_of.index.difference(ids)
    if len(dropped):
        log.info("%d patients of the split file lack expression or truth and are not scored", len(dropped))
    assigned = fold_of.loc[ids].to_numpy()
    parts = []
    for k in sorted(model):
        pos = np.flatnonzero(assigned == k)
        if pos.size:
            parts.append((model[k], model[k].scaled(expression.loc[ids[pos]]), pos))
    return parts, ids, y, ref


def _pooled(parts: Sequence[tuple[FittedModel, np.ndarray, np.ndarray]], n: int,
            fn: Callable[[FittedModel, np.ndarray], np.ndarray]) -> np.ndarray:
    """Apply ``fn(model, x) -> (n_sets, n_part, C)`` per part and put the rows back in patient order."""
    out = None
    for model, x, pos in parts:
        res = fn(model, x)
        if out is None:
            out = np.empty((res.shape[0], n, res.shape[2]), dtype=np.float64)
        out[:, pos, :] = res
    return out


def _engine_network(network: nn.Module, device: str | torch.device | None) -> nn.Module:
    """The network itself, or a copy on ``device`` when that is another device (the model stays put)."""
    if device is None:
        return network
    device = torch.device(device)
    try:
        current = next(network.parameters()).device
    except StopIteration:
        return network
    return network if current == device else copy.deepcopy(network).to(device)


def _pooled_groups(parts: Sequence[tuple[FittedModel, np.ndarray, np.ndarray]], n: int,
                   groups: Sequence[Sequence[np.ndarray]], memory_bytes: int,
                   device: str | torch.device | None = None, label: str = "") -> list[np.ndarray]:
    """Masked outputs (float64, on the target's scale) of each group of column-index sets, pooled over
    the parts in patient order; one :class:`MaskingEngine` per part, dropped after its part. Logs
    progress (sets done / total) at INFO."""
    out: list[np.ndarray | None] = [None] * len(groups)
    total = len(parts) * sum(len(g) for g in groups)
    done = 0
    for p, (model, x, pos) in enumerate(parts, 1):
        engine = MaskingEngine(_engine_network(model.network, device), memory_bytes=memory_bytes)
        for k, group in enumerate(groups):
            res = model.unscale_outputs(engine.outputs(x, group).astype(np.float64))
            if out[k] is None:
                out[k] = np.empty((res.shape[0], n, res.shape[2]), dtype=np.float64)
            out[k][:, pos, :] = res
            done += len(group)
        log.info("%s: model %d/%d on %s, %d/%d masked sets done", label or "masking", p, len(parts),
                 engine.device, done, total)
        del engine
    return out


def single_gene_masking(model: FittedModel | Mapping[int, FittedModel], expression: pd.DataFrame,
                        y_true: pd.Series, *, folds: pd.DataFrame | None = None, p_values: bool = False,
                        per_class: bool = False, memory_bytes: int = DEFAULT_MEMORY_BYTES,
                        device: str | torch.device | None = None) -> pd.DataFrame:
    """Score the network with only one gene kept, for every gene of the model.

    The collection is every model gene as a set of one. The first layer of a single-gene input is
    rank one (``x_g * W1[:, g] + b1``), so all genes together cost about one pass of the remaining
    layers per (gene, patient) pair (:meth:`MaskingEngine.single_gene_outputs`); metrics are
    computed for all genes at once (vectorised, equal to ``metrics.score``).

    Parameters are those of :func:`gene_masking` (``model``/``folds`` give the single-model or the
    out-of-fold mode). There is no random-set sampling: the null of a random set of one gene is
    the set of all single genes, which is computed exactly. ``null_mean``/``null_sd`` are the mean
    and SD of the primary metric over all genes. With ``p_values`` the empirical p of each gene is
    (1 + #other genes scoring at least as well) / n_genes with a Benjamini-Hochberg ``fdr``; these
    are rank quantiles (no single gene can beat thousands of others at FDR 0.05), so by default
    they are left out (NaN). With ``per_class`` (multiclass models only; ignored otherwise) one
    column ``auc_<class>`` per class is added: the one-vs-rest ROC AUC of that class's softmax
    probability with only the gene kept (what ranks genes for one subtype; the primary metric is
    their mean over classes).
    ``device`` is where the masked forward passes run, as in :func:`gene_masking`.

    Returns
    -------
    The columns of :func:`gene_masking` (``set`` = the gene symbol, ``n_genes`` = 1, the primary
    and secondary metric, ``null_mean``, ``null_sd``, ``p_empirical``, ``fdr``, ``rank``), one row
    per gene sorted by rank, and the same ``attrs`` (``n_random`` = the number of other genes
    when ``p_values``, else 0; ``class_columns``: class -> its ``auc_<class>`` column).
    """
    parts, ids, y, ref = _masking_parts(model, expression, y_true, folds)
    tt = ref.target_type
    primary, secondary = metrics.PRIMARY_METRIC[tt], metrics.SECONDARY_METRIC[tt]
    full = metrics.score(tt, y, _pooled(parts, len(ids), lambda m, x: m.outputs(x)[None])[0], ref.classes)

    def fn(m: FittedModel, x: np.ndarray) -> np.ndarray:
        engine = MaskingEngine(_engine_network(m.network, device), memory_bytes=memory_bytes)
        res = m.unscale_outputs(engine.single_gene_outputs(x).astype(np.float64))
        log.info("single-gene masking: %d genes x %d patients of one model done on %s", res.shape[0], res.shape[1],
                 engine.device)
        return res

    outputs = _pooled(parts, len(ids), fn)
    prim = metrics.primary_rows(tt, y, outputs)
    sec = metrics.secondary_rows(tt, y, outputs)
    n_genes = len(ref.genes)
    finite = np.isfinite(prim)
    null_mean = float(np.mean(prim[finite])) if finite.any() else np.nan
    null_sd = float(np.std(prim[finite], ddof=1)) if finite.sum() > 1 else np.nan
    p_emp = np.full(n_genes, np.nan)
    if p_values and finite.any():
        ranked = np.sort(prim[finite])
        at_least = ranked.size - np.searchsorted(ranked, prim[finite] - _TIE_TOLERANCE, side="left")
        p_emp[finite] = at_least / float(ranked.size)  # (1 + others at least as good) / (others + 1)
    mode = "out-of-fold" if folds is not None else "single model"
    log.info("single-gene masking: %d genes over %d patients (%s, %d model(s)); best %s %.3f, median %.3f",
             n_genes, len(ids), mode, len(parts), primary, np.nanmax(prim) if finite.any() else np.nan,
             np.nanmedian(prim) if finite.any() else np.nan)
    df = pd.DataFrame({"set": list(ref.genes), "n_genes": np.ones(n_genes, dtype=int), primary: prim,
                       secondary: sec, "null_mean": null_mean, "null_sd": null_sd, "p_empirical": p_emp,
                       "fdr": benjamini_hochberg(p_emp)})
    class_columns: dict[str, str] = {}
    if per_class and tt == "multiclass":
        k, n, c = outputs.shape
        prob = metrics.softmax(outputs.reshape(k * n, c)).reshape(k, n, c)
        for j, cls in enumerate(ref.classes):
            class_columns[str(cls)] = f"auc_{cls}"
            df[f"auc_{cls}"] = metrics.auc_rows((y.astype(int) == j).astype(int), prob[:, :, j])
    df = df.assign(_key=-df[primary]).sort_values(["_key", "set"], na_position="last", kind="stable")
    df = df.drop(columns="_key").reset_index(drop=True)
    df["rank"] = np.arange(1, len(df) + 1)
    df.attrs.update(full_score=full, target_type=tt, primary_metric=primary, secondary_metric=secondary,
                    n_patients=int(len(ids)), n_random=int(finite.sum() - 1) if p_values else 0, mode=mode,
                    class_columns=class_columns)
    return df


def masked_class_probabilities(model: FittedModel, expression: pd.DataFrame,
                               gene_sets: Mapping[str, Sequence[str]], *,
                               collection: str = "gene sets") -> pd.DataFrame:
    """Class probabilities of a multiclass model with only each gene set kept.

    Long format: one row per (set, patient, class) with columns ``set``, ``patient``, ``class``
    (the model's class labels) and ``probability`` (softmax of the masked logits).
    """
    if model.target_type != "multiclass":
        raise ValueError(f"class probabilities need a multiclass model, not a {model.target_type} one")
    x = model.scaled(expression)
    names, sets = gene_indices(model, gene_sets, collection)
    prob = metrics.softmax(masked_outputs(model.network, x, sets).astype(np.float64).reshape(-1, len(model.classes)))
    n_sets, n, c = len(sets), len(expression), len(model.classes)
    return pd.DataFrame({
        "set": np.repeat(np.asarray(names, dtype=object), n * c),
        "patient": np.tile(np.repeat(expression.index.to_numpy(dtype=object), c), n_sets),
        "class": np.tile(np.asarray(model.classes, dtype=object), n_sets * n),
        "probability": prob.ravel(),
    })
