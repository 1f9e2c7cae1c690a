"""Networks: the gene-expression autoencoder and the target network, plus the saved-model format.

The study's shape: a 3-layer encoder (Linear -> BatchNorm -> tanh per layer),
a mirrored decoder, MAE loss. A target network is the encoder (weights
transferred, the first ``k`` layers optionally frozen), dropout, and a linear
head with one output (binary logit / continuous value) or one per class.

Saved models (``.pt``) hold only tensors and plain types (dict, list, tuple, str, int, float,
bool, None) and are read with ``torch.load(..., weights_only=True)``, which unpickles nothing
else: :func:`save_torch` / :func:`load_torch`. They are written into memory first, so the
archive inside never carries the name of the temporary file of the atomic write: the same
model gives the same bytes.
"""

from __future__ import annotations

import io
import os
import pickle
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from radiogenomics.results import atomic_path

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}
#: Where a target network drops out (:class:`TargetNet`): before the head only, or on the input and after
#: every hidden block (the published Keras code).
DROPOUT_PLACEMENTS = ("head", "every_layer")
#: Initial weights of a target network's Linear layers: torch's default, or Keras' Dense default.
WEIGHT_INITS = ("torch", "glorot_uniform")

#: Written into every saved model; :func:`load_torch` refuses files without it (an older format).
MODEL_FORMAT = "radiogenomics-model/2"


def plain(obj: Any, where: str = "model") -> Any:
    """``obj`` with numpy arrays as tensors and numpy scalars as Python numbers: what ``weights_only`` loads.

    Dicts (keys str/int), lists, tuples, str, int, float, bool, None and tensors are kept; anything
    else is a ``TypeError`` naming where it is (so nothing is saved that could not be read back).
    """
    if obj is None or isinstance(obj, (str, bool, int, float, torch.Tensor)):
        return obj
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(obj).copy())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, (str, int, np.integer)) or isinstance(k, bool):
                raise TypeError(f"{where}: key {k!r} is a {type(k).__name__}; saved models take str or int keys")
            out[int(k) if isinstance(k, np.integer) else k] = plain(v, f"{where}[{k!r}]")
        return out
    if isinstance(obj, (list, tuple)):
        items = [plain(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        return items if isinstance(obj, list) else tuple(items)
    raise TypeError(f"{where}: a {type(obj).__module__}.{type(obj).__name__} cannot be saved in a model file "
                    "(only tensors, numpy arrays and plain types)")


def save_torch(obj: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Save ``obj`` (tensors and plain types; see :func:`plain`) atomically, with :data:`MODEL_FORMAT`.

    The archive is written into memory and then to a temporary file renamed into place, so its
    internal name is always ``archive``: identical contents give identical files.
    """
    blob = {"format": MODEL_FORMAT, **plain(dict(obj))}
    buffer = io.BytesIO()
    torch.save(blob, buffer)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def load_torch(path: str | os.PathLike) -> dict[str, Any]:
    """Read a file written by :func:`save_torch` with ``torch.load(weights_only=True)`` (no arbitrary unpickling).

    A file of another format (an older version of this workflow stored numpy arrays, which
    ``weights_only`` refuses) is a ``ValueError`` naming the file and saying to regenerate it.
    """
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ValueError(f"model file {path}: not readable with torch.load(weights_only=True) (an older format of "
                         "this workflow, or not a model it wrote); delete it and rerun the rule that writes it "
                         f"(snakemake --forcerun <rule>): {str(exc).splitlines()[0]}") from None
    if not isinstance(blob, dict) or blob.get("format") != MODEL_FORMAT:
        found = blob.get("format") if isinstance(blob, dict) else type(blob).__name__
        raise ValueError(f"model file {path}: format {found!r}, expected {MODEL_FORMAT!r}; delete it and rerun "
                         "the rule that writes it (snakemake --forcerun <rule>)")
    return blob


def _activation(name: str) -> nn.Module:
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}") from None


class _PersistentGradLinear(torch.autograd.Function):
    """``F.linear`` whose backward writes the weight and bias gradients into the parameters' existing
    ``.grad`` tensors (``out=``) instead of returning freshly allocated ones.

    At the study's size the first layer's gradient is 48 M floats: a new 193 MB tensor per step
    costs a fresh allocation (page faults, zeroing by the kernel) on top of the matrix product.
    The gradient is overwritten, not accumulated: one backward per ``zero_grad``.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, module):
        ctx.save_for_backward(x)
        ctx.module = module
        return F.linear(x, weight, bias)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        m = ctx.module
        grad_in = grad_out.mm(m.weight) if ctx.needs_input_grad[0] else None
        grad_out2 = grad_out.reshape(-1, grad_out.shape[-1])
        x2 = x.reshape(-1, x.shape[-1])
        if ctx.needs_input_grad[1]:
            if m.weight.grad is None:
                m.weight.grad = grad_out2.t().mm(x2)
            else:
                torch.mm(grad_out2.t(), x2, out=m.weight.grad)
        if m.bias is not None and ctx.needs_input_grad[2]:
            if m.bias.grad is None:
                m.bias.grad = grad_out2.sum(0)
            else:
                torch.sum(grad_out2, 0, out=m.bias.grad)
        return grad_in, None, None, None


class Linear(nn.Linear):
    """``nn.Linear`` (same parameters and state dict) that can keep its gradients in place.

    With ``persistent_grad`` set (the fast training step sets it), a training-mode forward with
    gradients enabled backpropagates through :class:`_PersistentGradLinear`; otherwise it is
    exactly ``nn.Linear``.
    """

    persistent_grad: bool = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.persistent_grad and self.training and torch.is_grad_enabled() and x.dim() == 2:
            return _PersistentGradLinear.apply(x, self.weight, self.bias, self)
        return F.linear(x, self.weight, self.bias)


def mlp_block(n_in: int, n_out: int, activation: str, batch_norm: bool = True) -> nn.Sequential:
    """Linear -> (BatchNorm) -> activation. A Linear that feeds a BatchNorm has no bias.

    BatchNorm subtracts the batch mean, so such a bias changes neither the training loss nor the
    function class (BatchNorm's own shift replaces it), and its gradient is zero in exact arithmetic:
    what reaches it is float rounding (~1e-8), whose sign depends on the CPU's reduction order. An
    adaptive optimiser (Adam divides by the root of the second moment) turns that noise into full-size
    steps, so the bias random-walked, moved the BatchNorm running mean and made eval-mode outputs
    differ between machines, thread counts and the fast/plain training paths by up to ~1e-3.
    """
    layers: list[nn.Module] = [Linear(n_in, n_out, bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm1d(n_out))
    layers.append(_activation(activation))
    return nn.Sequential(*layers)


class HostDropout(nn.Dropout):
    """``nn.Dropout`` whose masks always come from the CPU random generator.

    On the CPU it is exactly ``nn.Dropout``. On a GPU the mask is drawn on the CPU (the same
    draw a CPU run makes) and copied over, so training on a GPU uses the same masks as on the
    CPU and the two differ only by float rounding; the mask is small next to the layer's
    weights (batch x units).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0 or x.device.type == "cpu":
            return super().forward(x)
        keep = torch.empty(x.shape, dtype=x.dtype).bernoulli_(1 - self.p).div_(1 - self.p)
        return x * keep.to(x.device, non_blocking=True)


class Encoder(nn.Sequential):
    def __init__(self, n_genes: int, hidden: Sequence[int], activation: str = "tanh", batch_norm: bool = True):
        sizes = [n_genes, *hidden]
        super().__init__(*[mlp_block(a, b, activation, batch_norm) for a, b in zip(sizes[:-1], sizes[1:])])


class Autoencoder(nn.Module):
    def __init__(self, n_genes: int, hidden: Sequence[int], activation: str = "tanh", batch_norm: bool = True):
        super().__init__()
        self.encoder = Encoder(n_genes, hidden, activation, batch_norm)
        rev = list(hidden)[::-1]
        dec: list[nn.Module] = [mlp_block(a, b, activation, batch_norm) for a, b in zip(rev[:-1], rev[1:])]
        dec.append(Linear(rev[-1], n_genes))
        self.decoder = nn.Sequential(*dec)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class TargetNet(nn.Module):
    """Encoder + dropout + linear head. ``forward`` returns raw outputs (logits or values).

    ``dropout_placement``: ``"head"`` (default) drops out only the encoder's output, before the head;
    ``"every_layer"`` (the published Keras code) also drops out the input and the output of every hidden
    block, all at the rate ``dropout`` (``input_dropout``, ``hidden_dropouts``; ``nn.Identity`` with
    ``"head"``, so those networks draw no extra random numbers). ``batch_norm_momentum`` /
    ``batch_norm_eps`` set every BatchNorm (torch's convention: Keras' momentum 0.99 is 0.01 here).
    ``weight_init``: ``"torch"`` (torch's default) or ``"glorot_uniform"`` (Keras' Dense default: Glorot
    uniform weights, zero biases). ``transfer_batch_norm``: whether :meth:`transfer_encoder` copies the
    encoder's BatchNorm layers too (default) or only its Linear weights, as the published code did (its
    BatchNorm layers start fresh, and freezing freezes only the Linear weights; BatchNorm keeps training).
    """

    def __init__(self, n_genes: int, hidden: Sequence[int], n_outputs: int, activation: str = "tanh",
                 dropout: float = 0.0, batch_norm: bool = True, dropout_placement: str = "head",
                 batch_norm_momentum: float = 0.1, batch_norm_eps: float = 1e-5, weight_init: str = "torch",
                 transfer_batch_norm: bool = True):
        super().__init__()
        if dropout_placement not in DROPOUT_PLACEMENTS:
            raise ValueError(f"unknown dropout_placement {dropout_placement!r}; expected one of {DROPOUT_PLACEMENTS}")
        if weight_init not in WEIGHT_INITS:
            raise ValueError(f"unknown weight_init {weight_init!r}; expected one of {WEIGHT_INITS}")
        self.encoder = Encoder(n_genes, hidden, activation, batch_norm)
        every = dropout_placement == "every_layer"
        # with no hidden layer the head's dropout is already on the input
        self.input_dropout = HostDropout(dropout) if every and len(hidden) else nn.Identity()
        self.hidden_dropouts = nn.ModuleList([HostDropout(dropout) if every else nn.Identity()
                                              for _ in range(max(len(hidden) - 1, 0))])
        self.dropout = HostDropout(dropout)
        self.head = Linear(hidden[-1] if len(hidden) else n_genes, n_outputs)
        self.dropout_placement = dropout_placement
        self.transfer_batch_norm = bool(transfer_batch_norm)
        for m in self.encoder.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.momentum, m.eps = float(batch_norm_momentum), float(batch_norm_eps)
        if weight_init == "glorot_uniform":
            with torch.no_grad():
                for m in self.modules():
                    if isinstance(m, nn.Linear):
                        nn.init.xavier_uniform_(m.weight)
                        if m.bias is not None:
                            m.bias.zero_()

    def layers(self) -> list[nn.Module]:
        """The modules ``forward`` applies, in order (dropout modules included)."""
        out: list[nn.Module] = [self.input_dropout]
        for i, block in enumerate(self.encoder):
            out.append(block)
            if i < len(self.hidden_dropouts):
                out.append(self.hidden_dropouts[i])
        return [*out, self.dropout, self.head]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.input_dropout(x)
        for i, block in enumerate(self.encoder):
            h = block(h)
            if i < len(self.hidden_dropouts):
                h = self.hidden_dropouts[i](h)
        return self.head(self.dropout(h))

    def transfer_encoder(self, encoder: Encoder, freeze_layers: int = 0) -> None:
        """Copy encoder weights; freeze the first ``freeze_layers`` blocks (parameters and BatchNorm statistics).

        With ``transfer_batch_norm`` off only the Linear layers are copied and frozen; the BatchNorm
        layers keep their fresh initialisation and train (the published code's transfer).
        """
        if len(encoder) != len(self.encoder):
            raise ValueError(f"encoder depth {len(encoder)} differs from the network's {len(self.encoder)}")
        if self.transfer_batch_norm:
            self.encoder.load_state_dict(encoder.state_dict())
        else:
            for mine, theirs in zip(self.encoder, encoder):
                mine[0].load_state_dict(theirs[0].state_dict())
        for i, block in enumerate(self.encoder):
            if i < freeze_layers:
                for p in (block if self.transfer_batch_norm else block[0]).parameters():
                    p.requires_grad_(False)
        self.frozen_layers = int(freeze_layers)

    def train(self, mode: bool = True) -> "TargetNet":
        super().train(mode)
        # Frozen blocks keep their transferred BatchNorm statistics (when BatchNorm was transferred).
        if getattr(self, "transfer_batch_norm", True):
            for i, block in enumerate(self.encoder):
                if i < getattr(self, "frozen_layers", 0):
                    block.eval()
        return self


@dataclass
class Scaler:
    """Per-gene standardisation fitted on training patients only."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> "Scaler":
        x = np.asarray(x, dtype=np.float64)
        mean = x.mean(axis=0)
        sd = x.std(axis=0)
        sd[~np.isfinite(sd) | (sd < 1e-8)] = 1.0
        return cls(mean.astype(np.float32), sd.astype(np.float32))

    def transform(self, x: np.ndarray) -> np.ndarray:
        return ((np.asarray(x, dtype=np.float32) - self.mean) / self.scale).astype(np.float32)


@dataclass
class FittedModel:
    """A trained target network with everything needed to apply it to new patients."""

    network: TargetNet
    genes: list[str]
    scaler: Scaler
    target: str
    target_type: str
    classes: list[str]
    arch: dict
    target_scaler: tuple[float, float] | None = None  # continuous targets: (mean, sd) of training y
    info: dict = field(default_factory=dict)

    def scaled(self, expression: pd.DataFrame) -> np.ndarray:
        """Scaled input (patients x genes) in the model's gene order; raises if genes are missing."""
        missing = [g for g in self.genes if g not in expression.columns]
        if missing:
            raise ValueError(f"expression lacks {len(missing)} of the model's genes (e.g. {missing[:5]})")
        return self.scaler.transform(expression.loc[:, self.genes].to_numpy())

    @torch.no_grad()
    def outputs(self, x_scaled: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Raw outputs for scaled input (n x C); continuous outputs are put back on the target's scale."""
        self.network.eval()
        chunks = []
        for start in range(0, len(x_scaled), batch_size):
            xb = torch.as_tensor(x_scaled[start:start + batch_size], dtype=torch.float32)
            chunks.append(self.network(xb).double().numpy())
        out = np.concatenate(chunks) if chunks else np.zeros((0, self.network.head.out_features))
        return self.unscale_outputs(out)

    def unscale_outputs(self, out: np.ndarray) -> np.ndarray:
        if self.target_type == "continuous" and self.target_scaler is not None:
            mu, sd = self.target_scaler
            return out * sd + mu
        return out

    def save(self, path: str | os.PathLike) -> None:
        save_torch(self.to_blob(), path)

    def to_blob(self) -> dict:
        """The model as tensors and plain types (numpy arrays become tensors): what ``weights_only`` loads."""
        return plain({
            "state_dict": {k: v.detach().cpu() for k, v in self.network.state_dict().items()},
            "genes": [str(g) for g in self.genes],
            "scaler_mean": self.scaler.mean,
            "scaler_scale": self.scaler.scale,
            "target": self.target,
            "target_type": self.target_type,
            "classes": [str(c) for c in self.classes],
            "arch": dict(self.arch),
            "target_scaler": None if self.target_scaler is None else [float(v) for v in self.target_scaler],
            "info": dict(self.info),
            "frozen_layers": int(getattr(self.network, "frozen_layers", 0)),
        }, "FittedModel")

    @classmethod
    def load(cls, path: str | os.PathLike) -> "FittedModel":
        return cls.from_blob(load_torch(path))

    @classmethod
    def from_blob(cls, blob: dict) -> "FittedModel":
        arch = blob["arch"]
        net = build_target_net(len(blob["genes"]), arch, n_outputs_for(blob["target_type"], blob["classes"]))
        net.load_state_dict(blob["state_dict"])
        net.frozen_layers = blob.get("frozen_layers", 0)
        net.eval()
        target_scaler = blob["target_scaler"]
        return cls(network=net, genes=list(blob["genes"]),
                   scaler=Scaler(_numpy(blob["scaler_mean"]), _numpy(blob["scaler_scale"])),
                   target=blob["target"], target_type=blob["target_type"], classes=list(blob["classes"]),
                   arch=arch, target_scaler=None if target_scaler is None else tuple(float(v) for v in target_scaler),
                   info=blob.get("info", {}))


def _numpy(value: Any) -> np.ndarray:
    return value.numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


def n_outputs_for(target_type: str, classes: Sequence[str]) -> int:
    return len(classes) if target_type == "multiclass" else 1


def build_target_net(n_genes: int, arch: dict, n_outputs: int) -> TargetNet:
    """The network of an architecture dict; keys it lacks (models saved before they existed) take the defaults."""
    return TargetNet(n_genes, arch["hidden"], n_outputs, activation=arch.get("activation", "tanh"),
                     dropout=arch.get("dropout", 0.0), batch_norm=arch.get("batch_norm", True),
                     dropout_placement=arch.get("dropout_placement", "head"),
                     batch_norm_momentum=arch.get("batch_norm_momentum", 0.1),
                     batch_norm_eps=arch.get("batch_norm_eps", 1e-5), weight_init=arch.get("weight_init", "torch"),
                     transfer_batch_norm=arch.get("transfer_batch_norm", True))


def save_fold_models(models: Mapping[int, FittedModel], path: str | os.PathLike) -> None:
    """Save the outer-fold models of one target in one file (fold -> model)."""
    save_torch({"folds": {int(k): m.to_blob() for k, m in sorted(models.items())}}, path)


def load_fold_models(path: str | os.PathLike) -> dict[int, FittedModel]:
    blobs = load_torch(path)["folds"]
    return {int(k): FittedModel.from_blob(b) for k, b in blobs.items()}
