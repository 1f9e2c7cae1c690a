"""Training: the autoencoder, target networks, cross-validation and the final refit.

No leakage: in each outer fold the gene scaler, the target scaler (continuous
targets), the class weights and early stopping use only the fold's training
part (early stopping on an inner, stratified validation split of it). The
fold being scored is only predicted. The final model is refit on all patients
of the target for the median of the folds' early-stopping epochs.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass, fields
from typing import Any, Iterator, Mapping

import numpy as np
import pandas as pd
import torch
from torch import nn

from . import evaluation
from .cohorts import inner_split
from .nets import Autoencoder, Encoder, FittedModel, Scaler, TargetNet, build_target_net, n_outputs_for

log = logging.getLogger(__name__)


@dataclass
class TrainingConfig:
    lr: float = 1e-3
    batch_size: int = 16
    max_epochs: int = 100
    patience: int = 10
    weight_decay: float = 0.0
    optimizer: str = "adam"
    class_weight: str | None = "balanced"
    val_fraction: float = 0.2
    transfer: bool = True
    freeze_layers: int = 0
    log_every: int = 10

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "TrainingConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown training settings {sorted(unknown)}; known: {sorted(known)}")
        return cls(**dict(d))


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def _optimizer(params, cfg: TrainingConfig) -> torch.optim.Optimizer:
    params = [p for p in params if p.requires_grad]
    name = cfg.optimizer.lower()
    if name == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)
    if name == "adadelta":
        return torch.optim.Adadelta(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}; expected adam, adamw, sgd or adadelta")


def _batches(n: int, batch_size: int, gen: torch.Generator) -> list[torch.Tensor]:
    perm = torch.randperm(n, generator=gen)
    chunks = list(torch.split(perm, batch_size))
    # BatchNorm cannot train on a batch of one: fold a single leftover into the previous batch.
    if len(chunks) > 1 and len(chunks[-1]) == 1:
        chunks[-2] = torch.cat([chunks[-2], chunks[-1]])
        chunks.pop()
    return chunks


def epoch_steps(model: nn.Module, loss_fn, x_tr: torch.Tensor, y_tr: torch.Tensor, cfg: TrainingConfig,
                seed: int) -> Iterator[float]:
    """Endless mini-batch training, one epoch per ``next()``: yields the epoch's mean training loss.

    The batch order comes from a generator seeded with ``seed``; the
    optimizer is built once. The model is left in training mode; callers
    that evaluate between epochs switch it to ``eval()`` themselves (the next
    epoch switches it back). :func:`_train_loop` and the per-epoch model
    selection of :mod:`radiogenomics.selection` both train through this.
    """
    gen = torch.Generator().manual_seed(seed)
    opt = _optimizer(model.parameters(), cfg)
    while True:
        model.train()
        total, count = 0.0, 0
        for idx in _batches(len(x_tr), cfg.batch_size, gen):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x_tr[idx]), y_tr[idx])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            count += len(idx)
        yield total / max(count, 1)


def _train_loop(model: nn.Module, loss_fn, x_tr: torch.Tensor, y_tr: torch.Tensor, cfg: TrainingConfig, seed: int,
                x_va: torch.Tensor | None = None, y_va: torch.Tensor | None = None,
                epochs: int | None = None, label: str = "") -> dict[str, Any]:
    """Mini-batch training; early stopping on the validation loss when a validation set is given.

    Returns the history and the best epoch (1-based); the model is left with the best weights.
    """
    steps = epoch_steps(model, loss_fn, x_tr, y_tr, cfg, seed)
    max_epochs = epochs if epochs is not None else cfg.max_epochs
    history: list[dict[str, float]] = []
    best = (math.inf, 0, None)
    since_best = 0
    for epoch in range(1, max_epochs + 1):
        row = {"epoch": epoch, "train_loss": next(steps)}
        if x_va is not None:
            model.eval()
            with torch.no_grad():
                row["val_loss"] = float(loss_fn(model(x_va), y_va))
            if row["val_loss"] < best[0] - 1e-7:
                best = (row["val_loss"], epoch, {k: v.detach().clone() for k, v in model.state_dict().items()})
                since_best = 0
            else:
                since_best += 1
        history.append(row)
        if cfg.log_every and (epoch % cfg.log_every == 0 or epoch == 1):
            log.info("%s epoch %d: train loss %.4f%s", label, epoch, row["train_loss"],
                     f", val loss {row['val_loss']:.4f}" if "val_loss" in row else "")
        if x_va is not None and since_best >= cfg.patience:
            log.info("%s early stop at epoch %d (best %d, val loss %.4f)", label, epoch, best[1], best[0])
            break
    if x_va is not None and best[2] is not None:
        model.load_state_dict(best[2])
        best_epoch = best[1]
    else:
        best_epoch = len(history)
    model.eval()
    return {"history": history, "best_epoch": best_epoch}


def train_autoencoder(expression: pd.DataFrame, arch: Mapping[str, Any], cfg: TrainingConfig, seed: int
                      ) -> tuple[Autoencoder, Scaler, dict[str, Any]]:
    """Train the gene-expression autoencoder (MAE loss) with early stopping on a random validation split."""
    set_seed(seed)
    x_all = expression.to_numpy(dtype=np.float32)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x_all))
    n_val = max(1, int(round(cfg.val_fraction * len(x_all)))) if len(x_all) >= 10 else 0
    va, tr = order[:n_val], order[n_val:]
    scaler = Scaler.fit(x_all[tr])
    x = torch.as_tensor(scaler.transform(x_all))
    model = Autoencoder(x.shape[1], arch["hidden"], arch.get("activation", "tanh"), arch.get("batch_norm", True))
    res = _train_loop(model, nn.L1Loss(), x[tr], x[tr], cfg, seed,
                      x_va=x[va] if n_val else None, y_va=x[va] if n_val else None, label="autoencoder")
    log.info("autoencoder: %d training / %d validation patients, best epoch %d", len(tr), n_val, res["best_epoch"])
    return model, scaler, res


def save_autoencoder(model: Autoencoder, scaler: Scaler, genes: list[str], arch: Mapping[str, Any],
                     info: Mapping[str, Any], path: str) -> None:
    from .files import atomic_path

    with atomic_path(path) as tmp:
        torch.save({"state_dict": model.state_dict(), "genes": list(genes), "arch": dict(arch),
                    "scaler_mean": scaler.mean, "scaler_scale": scaler.scale, "info": dict(info)}, tmp)


def load_encoder(path: str) -> tuple[Encoder, list[str], dict]:
    blob = torch.load(path, map_location="cpu", weights_only=False)
    arch = blob["arch"]
    model = Autoencoder(len(blob["genes"]), arch["hidden"], arch.get("activation", "tanh"), arch.get("batch_norm", True))
    model.load_state_dict(blob["state_dict"])
    return model.encoder, list(blob["genes"]), arch


def _loss_fn(target_type: str, y_train: np.ndarray, n_outputs: int, class_weight: str | None):
    if target_type == "binary":
        pos = float((y_train == 1).sum())
        neg = float((y_train == 0).sum())
        pos_weight = torch.tensor([neg / pos]) if class_weight == "balanced" and pos > 0 else None
        bce = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
        return lambda out, y: bce(out[:, 0], y)
    if target_type == "multiclass":
        weight = None
        if class_weight == "balanced":
            counts = np.bincount(y_train.astype(int), minlength=n_outputs).astype(np.float32)
            weight = torch.as_tensor(len(y_train) / (n_outputs * np.maximum(counts, 1)))
        ce = nn.CrossEntropyLoss(weight=weight)
        return lambda out, y: ce(out, y)
    mse = nn.MSELoss()
    return lambda out, y: mse(out[:, 0], y)


def _y_tensor(y: np.ndarray, target_type: str) -> torch.Tensor:
    if target_type == "multiclass":
        return torch.as_tensor(y, dtype=torch.long)
    return torch.as_tensor(y, dtype=torch.float32)


def fit_network(expression: pd.DataFrame, y: pd.Series, target_type: str, classes: list[str], arch: Mapping[str, Any],
                cfg: TrainingConfig, seed: int, *, encoder: Encoder | None = None, epochs: int | None = None,
                target: str = "", label: str = "") -> FittedModel:
    """Fit one target network on the given patients.

    With ``epochs=None`` an inner stratified validation split of these
    patients drives early stopping; otherwise exactly ``epochs`` epochs are
    run on all of them. Scalers and class weights come from these patients only.
    """
    set_seed(seed)
    y = y.sort_index()
    patients = y.index
    if epochs is None:
        tr_idx, va_idx = inner_split(y, target_type, cfg.val_fraction, seed)
    else:
        tr_idx, va_idx = patients, pd.Index([])
    prep = prepare_network(expression, y, target_type, classes, arch, cfg, encoder=encoder, loss_patients=tr_idx)
    net, scaler, y_fit = prep.network, prep.scaler, prep.y_fit
    x_tr = torch.as_tensor(scaler.transform(expression.loc[tr_idx].to_numpy()))
    y_tr = _y_tensor(y_fit.loc[tr_idx].to_numpy(), target_type)
    kwargs = {}
    if len(va_idx):
        kwargs = {"x_va": torch.as_tensor(scaler.transform(expression.loc[va_idx].to_numpy())),
                  "y_va": _y_tensor(y_fit.loc[va_idx].to_numpy(), target_type)}
    res = _train_loop(net, prep.loss_fn, x_tr, y_tr, cfg, seed, epochs=epochs, label=label or target, **kwargs)
    info = {"best_epoch": res["best_epoch"], "n_train": len(tr_idx), "n_val": len(va_idx), "history": res["history"]}
    return prep.fitted(target=target, info=info)


@dataclass
class PreparedNetwork:
    """An untrained target network with its scalers and loss, built from one set of training patients."""

    network: TargetNet
    scaler: Scaler
    target_scaler: tuple[float, float] | None
    y_fit: pd.Series  # training targets as the loss sees them (continuous: standardised)
    loss_fn: Any
    genes: list[str]
    target_type: str
    classes: list[str]
    arch: dict

    def fitted(self, *, target: str = "", info: Mapping[str, Any] | None = None) -> FittedModel:
        return FittedModel(network=self.network, genes=self.genes, scaler=self.scaler, target=target,
                           target_type=self.target_type, classes=self.classes, arch=self.arch,
                           target_scaler=self.target_scaler, info=dict(info or {}))


def prepare_network(expression: pd.DataFrame, y: pd.Series, target_type: str, classes: list[str],
                    arch: Mapping[str, Any], cfg: TrainingConfig, *, encoder: Encoder | None = None,
                    loss_patients: pd.Index | None = None) -> PreparedNetwork:
    """Build the network for the patients of ``y`` (sorted by ID): the gene scaler and the target
    scaler (continuous targets) come from them, the class weights of the loss from ``loss_patients``
    (default: all of them). The encoder is transferred when given and ``cfg.transfer`` is set.

    Initial weights come from torch's global generator: call :func:`set_seed` first.
    """
    y = y.sort_index()
    patients = y.index
    loss_patients = patients if loss_patients is None else loss_patients
    scaler = Scaler.fit(expression.loc[patients].to_numpy(dtype=np.float32))
    y_np = y.to_numpy()
    target_scaler = None
    if target_type == "continuous":
        mu, sd = float(y_np.mean()), float(y_np.std()) or 1.0
        target_scaler = (mu, sd)
        y_np = (y_np - mu) / sd
    y_fit = pd.Series(y_np, index=patients)
    n_out = n_outputs_for(target_type, classes)
    net = build_target_net(expression.shape[1], arch, n_out)
    if encoder is not None and cfg.transfer:
        net.transfer_encoder(encoder, cfg.freeze_layers)
    loss_fn = _loss_fn(target_type, y_fit.loc[loss_patients].to_numpy(), n_out, cfg.class_weight)
    return PreparedNetwork(network=net, scaler=scaler, target_scaler=target_scaler, y_fit=y_fit, loss_fn=loss_fn,
                           genes=list(expression.columns), target_type=target_type, classes=list(classes),
                           arch=dict(arch))


def y_tensor(y: np.ndarray, target_type: str) -> torch.Tensor:
    """Targets as the loss expects them: class codes as int64, binary / continuous values as float32."""
    return _y_tensor(y, target_type)


output_columns = evaluation.output_columns


def cross_validate(expression: pd.DataFrame, y: pd.Series, folds: pd.DataFrame, target_type: str, classes: list[str],
                   arch: Mapping[str, Any], cfg: TrainingConfig, seed: int, *, encoder: Encoder | None = None,
                   target: str = "") -> tuple[pd.DataFrame, pd.DataFrame, dict[int, FittedModel]]:
    """Outer K-fold CV from a split file: (out-of-fold predictions, per-fold scores, fold -> model).

    Joins by patient ID: split-file patients without expression or a target
    value are an error, never silently dropped.
    """
    folds = folds.set_index("patient")["fold"]
    missing = folds.index.difference(y.index).union(folds.index.difference(expression.index))
    if len(missing):
        raise ValueError(f"{len(missing)} patients of the split file for {target!r} lack expression or a target value "
                         f"(e.g. {list(missing[:5])})")
    extra = y.index.difference(folds.index)
    if len(extra):
        log.warning("%s: %d patients with a target value are not in the split file and are not used", target, len(extra))
    pred_rows, score_rows, models = [], [], {}
    cols = output_columns(target_type, classes)
    for k in sorted(folds.unique()):
        test = folds.index[folds == k].sort_values()
        train = folds.index[folds != k].sort_values()
        fold_seed = seed + 1000 * (int(k) + 1)
        model = fit_network(expression, y.loc[train], target_type, classes, arch, cfg, fold_seed, encoder=encoder,
                            target=target, label=f"{target} fold {k}")
        models[int(k)] = model
        out = model.outputs(model.scaled(expression.loc[test]))
        s = evaluation.score(target_type, y.loc[test].to_numpy(), out, classes)
        log.info("%s fold %d: n_train %d, n_test %d, best epoch %d, %s", target, k, len(train), len(test),
                 model.info["best_epoch"], ", ".join(f"{m} {v:.3f}" for m, v in s.items()))
        score_rows.append({"target": target, "fold": int(k), "n_train": len(train), "n_test": len(test),
                           "best_epoch": model.info["best_epoch"], **s})
        pred = pd.DataFrame(out, index=test, columns=cols)
        pred.insert(0, "y", y.loc[test].to_numpy())
        pred.insert(0, "fold", int(k))
        pred_rows.append(pred)
    predictions = pd.concat(pred_rows).sort_index()
    predictions.index.name = "patient"
    return predictions.reset_index(), pd.DataFrame(score_rows), models


def final_epochs(scores: pd.DataFrame) -> int:
    """Epochs for the refit on all patients: the median early-stopping epoch over the outer folds."""
    return max(1, int(round(float(np.median(scores["best_epoch"])))))


def load_encoders(paths: Mapping[str, str], genes: list[str]) -> dict[str, Encoder]:
    """Pretrained encoders by architecture key; each must have been trained on exactly ``genes``."""
    encoders = {}
    for key, path in paths.items():
        encoder, enc_genes, _ = load_encoder(path)
        if enc_genes != list(genes):
            raise ValueError(f"{path}: the autoencoder's genes differ from the expression matrix's")
        encoders[key] = encoder
    return encoders
