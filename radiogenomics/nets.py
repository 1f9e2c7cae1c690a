"""Networks: the gene-expression autoencoder and the target network, plus the saved-model format.

The study's shape: a 3-layer encoder (Linear -> BatchNorm -> tanh per layer),
a mirrored decoder, MAE loss. A target network is the encoder (weights
transferred, the first ``k`` layers optionally frozen), dropout, and a linear
head with one output (binary logit / continuous value) or one per class.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from .files import atomic_path

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}


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
    """Encoder + dropout + linear head. ``forward`` returns raw outputs (logits or values)."""

    def __init__(self, n_genes: int, hidden: Sequence[int], n_outputs: int, activation: str = "tanh",
                 dropout: float = 0.0, batch_norm: bool = True):
        super().__init__()
        self.encoder = Encoder(n_genes, hidden, activation, batch_norm)
        self.dropout = HostDropout(dropout)
        self.head = Linear(hidden[-1] if len(hidden) else n_genes, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.encoder(x)))

    def transfer_encoder(self, encoder: Encoder, freeze_layers: int = 0) -> None:
        """Copy encoder weights; freeze the first ``freeze_layers`` blocks (parameters and BatchNorm statistics)."""
        if len(encoder) != len(self.encoder):
            raise ValueError(f"encoder depth {len(encoder)} differs from the network's {len(self.encoder)}")
        self.encoder.load_state_dict(encoder.state_dict())
        for i, block in enumerate(self.encoder):
            if i < freeze_layers:
                for p in block.parameters():
                    p.requires_grad_(False)
        self.frozen_layers = int(freeze_layers)

    def train(self, mode: bool = True) -> "TargetNet":
        super().train(mode)
        # Frozen blocks keep their transferred BatchNorm statistics.
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
        with atomic_path(path) as tmp:
            torch.save(self.to_blob(), tmp)

    def to_blob(self) -> dict:
        return {
            "state_dict": self.network.state_dict(),
            "genes": self.genes,
            "scaler_mean": self.scaler.mean,
            "scaler_scale": self.scaler.scale,
            "target": self.target,
            "target_type": self.target_type,
            "classes": self.classes,
            "arch": self.arch,
            "target_scaler": self.target_scaler,
            "info": self.info,
            "frozen_layers": getattr(self.network, "frozen_layers", 0),
        }

    @classmethod
    def load(cls, path: str | os.PathLike) -> "FittedModel":
        return cls.from_blob(torch.load(path, map_location="cpu", weights_only=False))

    @classmethod
    def from_blob(cls, blob: dict) -> "FittedModel":
        arch = blob["arch"]
        net = build_target_net(len(blob["genes"]), arch, n_outputs_for(blob["target_type"], blob["classes"]))
        net.load_state_dict(blob["state_dict"])
        net.frozen_layers = blob.get("frozen_layers", 0)
        net.eval()
        return cls(network=net, genes=list(blob["genes"]),
                   scaler=Scaler(np.asarray(blob["scaler_mean"]), np.asarray(blob["scaler_scale"])),
                   target=blob["target"], target_type=blob["target_type"], classes=list(blob["classes"]),
                   arch=arch, target_scaler=blob["target_scaler"], info=blob.get("info", {}))


def n_outputs_for(target_type: str, classes: Sequence[str]) -> int:
    return len(classes) if target_type == "multiclass" else 1


def build_target_net(n_genes: int, arch: dict, n_outputs: int) -> TargetNet:
    return TargetNet(n_genes, arch["hidden"], n_outputs, activation=arch.get("activation", "tanh"),
                     dropout=arch.get("dropout", 0.0), batch_norm=arch.get("batch_norm", True))


def save_fold_models(models: Mapping[int, FittedModel], path: str | os.PathLike) -> None:
    """Save the outer-fold models of one target in one file (fold -> model)."""
    with atomic_path(path) as tmp:
        torch.save({int(k): m.to_blob() for k, m in models.items()}, tmp)


def load_fold_models(path: str | os.PathLike) -> dict[int, FittedModel]:
    blobs = torch.load(path, map_location="cpu", weights_only=False)
    return {int(k): FittedModel.from_blob(b) for k, b in blobs.items()}
