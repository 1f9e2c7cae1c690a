"""Honest model selection: nested cross-validation of the networks and the comparison models.

The study reported, for each fold, the best epoch on that same fold and chose
hyper-parameters on the folds it reported. Here the fold being scored takes
no part in any choice:

* :func:`evaluate_outer_fold` is the one entry point per (target, model,
  outer fold). It hands only the outer training part to the selection
  (scalers, class weights and inner folds all come from it), refits the
  chosen configuration on the whole outer training part and predicts the
  outer test fold once.
* :func:`select_network` trains every network configuration on each
  inner-training split and records the primary metric on the inner
  validation fold after every epoch. The inner models of a configuration are
  trained in lockstep; training stops when the mean inner curve has not
  improved for ``patience`` epochs (or at ``max_epochs``). The chosen
  (configuration, epochs) maximises the mean inner curve; ties go to fewer
  epochs, then to the earlier configuration.
* Baselines are tuned by their own grid search over the same inner folds
  (:mod:`radiogenomics.models.baselines`).
* :func:`select_final` runs the same selection on all patients of a target
  (for the final refit, :func:`fit_selected`, and for interpretation).

Network configurations are dictionaries with the keys of
:data:`NETWORK_DEFAULTS`; a grid maps each key to a list of values
(:func:`expand_grid`). The ``settings`` mapping of
:func:`evaluate_outer_fold` / :func:`select_final` is described in
:func:`check_settings`.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import pandas as pd

from radiogenomics.cohorts.splits import inner_fold_indices
from radiogenomics.evaluation import metrics
from radiogenomics.evaluation.metrics import PRIMARY_METRIC, TARGET_TYPES
from radiogenomics.models import baselines
from radiogenomics.models.baselines import BASELINES

if TYPE_CHECKING:
    from radiogenomics.models import training
    from radiogenomics.models.nets import Encoder, FittedModel

# torch (radiogenomics.models.training, .nets) is imported inside the functions that train networks, so a
# comparison-model job never pays for importing it (about 1 s per job on 2 cores).

#: Activations of the network grid (the keys of :data:`radiogenomics.models.nets.ACTIVATIONS`).
ACTIVATION_NAMES = ("relu", "sigmoid", "tanh")

log = logging.getLogger(__name__)

MODELS = ("network", *BASELINES)
OPTIMIZERS = ("adam", "adamw", "sgd", "adadelta", "nadam", "adagrad")
#: ``lr: keras`` in a configuration: the default learning rate of its optimiser in Keras 2.2 (the published code).
KERAS_LEARNING_RATES = {"adam": 0.001, "sgd": 0.01, "nadam": 0.002, "adagrad": 0.01, "adadelta": 1.0}

#: Every key of a network configuration with its default (the values of config/config.yaml's network).
NETWORK_DEFAULTS: dict[str, Any] = {
    "hidden": [256, 128, 64],
    "activation": "tanh",
    "batch_norm": True,
    "dropout": 0.3,
    "optimizer": "adam",
    "lr": 5e-4,
    "batch_size": 16,
    "max_epochs": 150,
    "patience": 15,
    "transfer": True,
    "freeze_layers": 0,
    "weight_decay": 0.0,
    # the published Keras code's semantics (config/seed.yaml); these defaults are this workflow's own
    "dropout_placement": "head",  # or every_layer: the input and every hidden block's output too
    "optimizer_settings": "torch",  # or keras: Keras 2.2's optimiser defaults (training.optimizer_options)
    "batch_norm_momentum": 0.1,  # torch's convention (Keras' momentum 0.99 is 0.01)
    "batch_norm_eps": 1e-5,
    "weight_init": "torch",  # or glorot_uniform (Keras' Dense default)
    "transfer_batch_norm": True,  # false: transfer (and freeze) only the encoder's Linear weights
}
_ARCH_KEYS = ("hidden", "activation", "batch_norm", "dropout")
#: Architecture keys written only when they differ from their default (saved models of the default
#: configurations keep their architecture dict; nets.build_target_net fills in what is absent).
_ARCH_OPTIONAL_KEYS = ("dropout_placement", "batch_norm_momentum", "batch_norm_eps", "weight_init",
                       "transfer_batch_norm")

#: A small default grid (2 configurations).
DEFAULT_NETWORK_GRID: dict[str, list] = {"hidden": [[256, 128, 64]], "dropout": [0.3], "lr": [5e-4, 1e-3]}

#: A search of the study's scale (4000-2000-1000 encoder; 48 configurations).
PAPER_NETWORK_GRID: dict[str, list] = {
    "hidden": [[4000, 2000, 1000]],
    "activation": ["tanh", "relu"],
    "dropout": [0.0, 0.3, 0.5],
    "optimizer": ["adam", "sgd"],
    "lr": [1e-4, 1e-3],
    "freeze_layers": [0, 2],
    "max_epochs": [200],
    "patience": [20],
}

DEFAULT_INNER_FOLDS = 3
#: Selection and refit log their progress (epoch, training loss, inner metric) every this many epochs.
PROGRESS_EVERY = 10
#: Mean inner scores equal to this many decimals are ties (then fewer epochs, then the earlier configuration win).
TIE_DECIMALS = 10

#: The settings layout (see :func:`check_settings`).
DEFAULT_SETTINGS: dict[str, Any] = {
    "inner_folds": DEFAULT_INNER_FOLDS,
    "network": DEFAULT_NETWORK_GRID,
    "baselines": baselines.DEFAULT_GRIDS,
    "n_jobs": 1,
}


# --------------------------------------------------------------------------- grids

def _is_list(v: Any) -> bool:
    return isinstance(v, (list, tuple))


def _check_value(key: str, v: Any) -> str | None:
    """None when ``v`` is a valid value of ``key``, else the reason."""
    is_int = isinstance(v, (int, np.integer)) and not isinstance(v, bool)
    is_num = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
    if key == "hidden":
        if not _is_list(v) or not v or not all(isinstance(h, (int, np.integer)) and not isinstance(h, bool) and h > 0
                                               for h in v):
            return "a non-empty list of positive layer widths, e.g. [256, 128, 64]"
    elif key == "activation":
        if v not in ACTIVATION_NAMES:
            return f"one of {sorted(ACTIVATION_NAMES)}"
    elif key in ("batch_norm", "transfer", "transfer_batch_norm"):
        if not isinstance(v, bool):
            return "true or false"
    elif key == "dropout_placement":
        if v not in ("head", "every_layer"):
            return "head (dropout before the head only) or every_layer (the input and every hidden block's output)"
    elif key == "optimizer_settings":
        if v not in ("torch", "keras"):
            return "torch or keras"
    elif key == "weight_init":
        if v not in ("torch", "glorot_uniform"):
            return "torch or glorot_uniform"
    elif key == "batch_norm_momentum":
        if not is_num or not 0.0 < v <= 1.0:
            return "a number in (0, 1] (torch's convention: Keras' momentum 0.99 is 0.01)"
    elif key == "batch_norm_eps":
        if not is_num or not v > 0:
            return "a positive number"
    elif key == "dropout":
        if not is_num or not 0.0 <= v < 1.0:
            return "a number in [0, 1)"
    elif key == "optimizer":
        if not isinstance(v, str) or v.lower() not in OPTIMIZERS:
            return f"one of {list(OPTIMIZERS)}"
    elif key == "lr":
        if v != "keras" and (not is_num or not v > 0):
            return "a positive number, or keras (the optimiser's Keras 2.2 default)"
    elif key == "weight_decay":
        if not is_num or not v >= 0:
            return "a number >= 0"
    elif key == "batch_size":
        if not is_int or v < 2:
            return "an integer >= 2"
    elif key in ("max_epochs", "patience"):
        if not is_int or v < 1:
            return "an integer >= 1"
    elif key == "freeze_layers":
        if not is_int or v < 0:
            return "an integer >= 0"
    return None


def expand_grid(grid: Mapping[str, Sequence]) -> list[dict[str, Any]]:
    """All configurations of a network grid (cartesian product, keys in :data:`NETWORK_DEFAULTS` order).

    Each value of ``grid`` is a list of candidate values (``hidden``: a list
    of layer-width lists). Keys left out take :data:`NETWORK_DEFAULTS`.
    ``freeze_layers`` only matters with ``transfer``; without it the value is
    set to 0 and duplicate configurations are dropped. Raises ValueError for
    an empty grid, an empty or non-list value list, an unknown key, an invalid
    value, or ``freeze_layers`` above the number of hidden layers.
    """
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError("network grid is empty: give at least one key with a list of values, "
                         f"e.g. {{'lr': [0.001]}}; keys: {list(NETWORK_DEFAULTS)}")
    unknown = [k for k in grid if k not in NETWORK_DEFAULTS]
    if unknown:
        raise ValueError(f"network grid: unknown key(s) {unknown}; known: {list(NETWORK_DEFAULTS)}")
    values: dict[str, list] = {}
    for key in NETWORK_DEFAULTS:
        if key not in grid:
            values[key] = [NETWORK_DEFAULTS[key]]
            continue
        vals = grid[key]
        if not _is_list(vals):
            raise ValueError(f"network grid: {key!r} must be a list of candidate values, got {vals!r}"
                             + (" (hidden takes a list of layer-width lists, e.g. [[256, 128, 64]])"
                                if key == "hidden" else ""))
        if len(vals) == 0:
            raise ValueError(f"network grid: {key!r} lists no value")
        for v in vals:
            reason = _check_value(key, v)
            if reason:
                raise ValueError(f"network grid: {key!r} value {v!r} is invalid; expected {reason}")
        values[key] = [list(v) if key == "hidden" else v for v in vals]
    configs: list[dict[str, Any]] = []
    seen: set[str] = set()
    dropped = 0
    for combo in itertools.product(*values.values()):
        config = dict(zip(values, combo))
        config["hidden"] = [int(h) for h in config["hidden"]]
        if config["freeze_layers"] > len(config["hidden"]):
            raise ValueError(f"network grid: freeze_layers {config['freeze_layers']} exceeds the "
                             f"{len(config['hidden'])} hidden layers of {config['hidden']}")
        if not config["transfer"]:
            config["freeze_layers"] = 0
        optimizer = str(config["optimizer"]).lower()
        if config["lr"] == "keras" and optimizer not in KERAS_LEARNING_RATES:
            raise ValueError(f"network grid: lr 'keras' with optimizer {optimizer!r}, which Keras 2.2 does not have; "
                             f"use one of {sorted(KERAS_LEARNING_RATES)} or a number")
        if config["optimizer_settings"] == "keras" and optimizer not in KERAS_LEARNING_RATES:
            raise ValueError(f"network grid: optimizer_settings 'keras' with optimizer {optimizer!r}, which Keras 2.2 "
                             f"does not have; use one of {sorted(KERAS_LEARNING_RATES)}")
        ident = json.dumps(config, sort_keys=True, default=float)
        if ident in seen:
            dropped += 1
            continue
        seen.add(ident)
        configs.append(config)
    if dropped:
        log.info("network grid: %d duplicate configurations dropped (freeze_layers without transfer)", dropped)
    return configs


def expand_grids(grids: Mapping[str, Sequence] | Sequence[Mapping[str, Sequence]]) -> list[dict[str, Any]]:
    """One grid or a list of grids (their union, in order, duplicates dropped)."""
    if isinstance(grids, Mapping):
        return expand_grid(grids)
    if not _is_list(grids) or not grids:
        raise ValueError("network grid list is empty: give one grid (a mapping) or a non-empty list of grids")
    configs, seen = [], set()
    for g in grids:
        for c in expand_grid(g):
            ident = json.dumps(c, sort_keys=True, default=float)
            if ident not in seen:
                seen.add(ident)
                configs.append(c)
    return configs


def full_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A configuration with defaults filled in, validated as :func:`expand_grid` validates a grid."""
    unknown = [k for k in config if k not in NETWORK_DEFAULTS]
    if unknown:
        raise ValueError(f"network configuration: unknown key(s) {unknown}; known: {list(NETWORK_DEFAULTS)}")
    configs = expand_grid({k: [v] for k, v in {**NETWORK_DEFAULTS, **dict(config)}.items()})
    return configs[0]


def architecture(config: Mapping[str, Any]) -> dict[str, Any]:
    """The network architecture of a configuration (as :func:`radiogenomics.models.nets.build_target_net` takes it)."""
    c = {**NETWORK_DEFAULTS, **dict(config)}
    arch = {k: (list(c[k]) if k == "hidden" else c[k]) for k in _ARCH_KEYS}
    arch.update({k: c[k] for k in _ARCH_OPTIONAL_KEYS if c[k] != NETWORK_DEFAULTS[k]})
    return arch


def architecture_key(config: Mapping[str, Any]) -> str:
    """Which pretrained autoencoder a configuration needs, e.g. ``"1000-500-250_tanh_bn"``.

    Widths, activation and batch norm fix the encoder; dropout and the training settings do not.
    """
    c = {**NETWORK_DEFAULTS, **dict(config)}
    return f"{'-'.join(str(int(h)) for h in c['hidden'])}_{c['activation']}_{'bn' if c['batch_norm'] else 'nobn'}"


def required_encoders(configs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Architecture key -> autoencoder architecture (hidden, activation, batch_norm) for every
    configuration that transfers pretrained weights, in order of first use."""
    out: dict[str, dict[str, Any]] = {}
    for c in configs:
        c = {**NETWORK_DEFAULTS, **dict(c)}
        if c["transfer"]:
            out.setdefault(architecture_key(c), {"hidden": list(c["hidden"]), "activation": c["activation"],
                                                 "batch_norm": c["batch_norm"]})
    return out


def training_config(config: Mapping[str, Any]) -> training.TrainingConfig:
    """The :class:`~radiogenomics.models.training.TrainingConfig` of a configuration (class weights balanced)."""
    from radiogenomics.models import training

    c = {**NETWORK_DEFAULTS, **dict(config)}
    optimizer = str(c["optimizer"]).lower()
    lr = KERAS_LEARNING_RATES[optimizer] if c["lr"] == "keras" else float(c["lr"])
    return training.TrainingConfig(lr=lr, batch_size=int(c["batch_size"]), max_epochs=int(c["max_epochs"]),
                                   patience=int(c["patience"]), weight_decay=float(c["weight_decay"]),
                                   optimizer=optimizer, optimizer_settings=str(c["optimizer_settings"]),
                                   transfer=bool(c["transfer"]), freeze_layers=int(c["freeze_layers"]),
                                   log_every=PROGRESS_EVERY)


def _config_json(config: Mapping[str, Any]) -> str:
    return json.dumps(dict(config), sort_keys=True, default=float)


# --------------------------------------------------------------------------- settings

def check_settings(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validate and complete the settings of :func:`evaluate_outer_fold` / :func:`select_final`.

    Layout (every key optional; defaults in :data:`DEFAULT_SETTINGS`)::

        inner_folds: 3              # inner CV folds inside each training part (>= 2)
        network:                    # one grid, or a list of grids whose union is searched
          - {hidden: [[256, 128, 64]], dropout: [0.3], lr: [0.0005, 0.001]}
        baselines:                  # per task, per baseline: model parameter -> values
          classifier: {logreg_l1: {C: [0.05, 0.2, 1.0]}, svm: {C: [...], kernel: [...]}, ...}
          regressor:  {logreg_l1: {alpha: [...]}, ...}
        n_jobs: 1                   # threads of random forests and XGBoost

    A baseline left out of ``baselines`` takes :data:`radiogenomics.models.baselines.DEFAULT_GRIDS`.
    Returns the settings with ``network`` expanded to ``network_configs`` (a list of configurations).
    """
    settings = dict(settings or {})
    unknown = set(settings) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ValueError(f"model-selection settings: unknown key(s) {sorted(unknown)}; "
                         f"known: {sorted(DEFAULT_SETTINGS)}")
    s = {**DEFAULT_SETTINGS, **settings}
    k = s["inner_folds"]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"model-selection settings: inner_folds must be an integer >= 2, got {k!r}")
    n_jobs = s["n_jobs"]
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise ValueError(f"model-selection settings: n_jobs must be a non-zero integer, got {n_jobs!r}")
    grids = s["baselines"] or {}
    if not isinstance(grids, Mapping):
        raise ValueError("model-selection settings: baselines must map 'classifier' / 'regressor' to per-model grids")
    bad_tasks = set(grids) - {"classifier", "regressor"}
    if bad_tasks:
        raise ValueError(f"model-selection settings: baselines has unknown task(s) {sorted(bad_tasks)}; "
                         "use 'classifier' (binary and multiclass targets) and 'regressor' (continuous targets)")
    for task, per_model in grids.items():
        for name, grid in (per_model or {}).items():
            baselines.check_name(name)
            if not grid:
                raise ValueError(f"model-selection settings: baselines.{task}.{name} is an empty grid")
    return {"inner_folds": int(k), "network_configs": expand_grids(s["network"]), "baselines": grids,
            "n_jobs": int(n_jobs)}


def check_model_name(name: str) -> None:
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {list(MODELS)}")


def check_class_sizes(y: pd.Series, target_type: str, classes: Sequence[str], k: int, what: str) -> None:
    """Raise ValueError unless every class (binary, multiclass) has at least ``k`` patients, or a
    continuous target has at least ``5 k`` (its folds stratify on 5 quantile bins)."""
    if target_type not in TARGET_TYPES:
        raise ValueError(f"unknown target type {target_type!r}; expected one of {TARGET_TYPES}")
    name = f"target {y.name!r}" if y.name is not None else "target"
    if target_type == "continuous":
        if len(y) < 5 * k:
            raise ValueError(f"{name}: {len(y)} patients in {what}, fewer than 5 x {k} needed for {k} folds "
                             "stratified on 5 quantile bins")
        return
    names = list(classes) if target_type == "multiclass" else (list(classes) if len(classes) == 2 else ["0", "1"])
    counts = np.bincount(y.to_numpy().astype(int), minlength=len(names))
    small = {names[i] if i < len(names) else str(i): int(n) for i, n in enumerate(counts) if n < k}
    if small:
        raise ValueError(f"{name}: class(es) {small} have fewer patients in {what} than the {k} folds; "
                         f"counts {dict(zip(names, counts.tolist()))}")


# --------------------------------------------------------------------------- network selection

@dataclass
class SelectionResult:
    """The chosen configuration of one model on one set of patients.

    ``config``: the network configuration or the baseline's parameters;
    ``epochs``: the network's training epochs (None for baselines);
    ``score``: its mean inner-fold primary metric; ``table``: the inner
    search (networks: one row per configuration and epoch).
    """

    model: str
    config: dict[str, Any]
    epochs: int | None
    metric: str
    score: float
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    inner_folds: int = DEFAULT_INNER_FOLDS

    @property
    def params(self) -> dict[str, Any]:
        """The chosen parameters (networks: the configuration plus ``epochs``)."""
        return {**self.config, "epochs": self.epochs} if self.model == "network" else dict(self.config)


def _primary(target_type: str, y: np.ndarray, out: np.ndarray, classes: Sequence[str]) -> float:
    v = metrics.score(target_type, y, out, classes)[PRIMARY_METRIC[target_type]]
    return float(v) if np.isfinite(v) else float("nan")


def _encoder_for(config: Mapping[str, Any], encoders: Mapping[str, Encoder] | None, n_genes: int) -> Encoder | None:
    if not config["transfer"]:
        return None
    key = architecture_key(config)
    if not encoders or key not in encoders:
        raise ValueError(f"network configuration {_config_json(config)} transfers pretrained weights but no "
                         f"autoencoder {key!r} was given (have {sorted(encoders or {})}); pretrain one or set "
                         "transfer: [false] in the grid")
    enc = encoders[key]
    n_in = enc[0][0].in_features
    if n_in != n_genes:
        raise ValueError(f"autoencoder {key!r} takes {n_in} genes; the expression matrix has {n_genes}")
    return enc


def _inner_curve(expression: pd.DataFrame, y: pd.Series, target_type: str, classes: list[str], config: dict,
                 splits: list[tuple[np.ndarray, np.ndarray]], encoder: Encoder | None, seed: int,
                 stacked: bool | None = None) -> np.ndarray:
    """Train the configuration on each inner-training split in lockstep; return epochs x folds metrics.

    The inner models are trained as one stacked network (small networks, see
    :func:`radiogenomics.models.training.lockstep_runs`) or one after another; each model trains as
    if alone (own batch order, dropout random state and optimiser), so both give the same curve.
    """
    import torch

    from radiogenomics.models import training

    arch, cfg = architecture(config), training_config(config)
    nets, loss_fns, xs, ts, seeds, states, vals = [], [], [], [], [], [], []
    for k, (tr, va) in enumerate(splits):
        run_seed = seed + 100 * (k + 1)
        training.set_seed(run_seed)
        y_tr = y.iloc[tr]
        prep = training.prepare_network(expression, y_tr, target_type, classes, arch, cfg, encoder=encoder)
        states.append(torch.get_rng_state())
        nets.append(prep.network)
        loss_fns.append(prep.loss_fn)
        xs.append(torch.as_tensor(prep.scaler.transform(expression.loc[y_tr.index].to_numpy())))
        ts.append(training.y_tensor(prep.y_fit.loc[y_tr.index].to_numpy(), target_type))
        seeds.append(run_seed)
        vals.append((prep.fitted(), torch.as_tensor(prep.scaler.transform(expression.loc[y.index[va]].to_numpy())),
                     y.iloc[va].to_numpy()))
    runs = training.lockstep_runs(nets, loss_fns, xs, ts, cfg, seeds, states, stacked=stacked)
    curve: list[list[float]] = []
    best, since = -math.inf, 0
    for epoch in range(1, cfg.max_epochs + 1):
        losses = runs.epoch()
        outs = runs.outputs([x_va for _, x_va, _ in vals])
        row = [_primary(target_type, y_va, model.unscale_outputs(out), classes)
               for (model, _, y_va), out in zip(vals, outs)]
        curve.append(row)
        mean = float(np.nanmean(row)) if np.isfinite(row).any() else -math.inf
        if epoch == 1 or epoch % PROGRESS_EVERY == 0:
            log.info("selection progress: epoch %d/%d, train loss %.4f, inner %s %.4f (%s)", epoch, cfg.max_epochs,
                     float(np.mean(losses)), PRIMARY_METRIC[target_type], mean,
                     "stacked" if isinstance(runs, training.StackedRuns) else "sequential")
        if mean > best:
            best, since = mean, 0
        else:
            since += 1
        if since >= cfg.patience:
            break
    return np.asarray(curve, dtype=np.float64)


def select_network(expression: pd.DataFrame, y: pd.Series, target_type: str, classes: Sequence[str],
                   configs: Sequence[Mapping[str, Any]], *, inner_folds: int, seed: int,
                   encoders: Mapping[str, Encoder] | None = None) -> SelectionResult:
    """Choose (configuration, epochs) by inner cross-validation on the patients of ``y`` only.

    Every configuration is trained on each inner-training split for up to
    ``max_epochs`` (stopping when the mean inner curve has not improved for
    ``patience`` epochs); after each epoch its primary metric on the inner
    validation fold is recorded. The choice maximises the mean inner curve;
    ties go to fewer epochs, then to the earlier configuration. Configurations
    with ``transfer`` need ``encoders[architecture_key(config)]``.
    """
    if not configs:
        raise ValueError("network selection: no configurations (empty grid)")
    configs = [full_config(c) for c in configs]
    classes = list(classes)
    y = y.sort_index()
    check_class_sizes(y, target_type, classes, inner_folds, "the selection patients")
    expression = expression.loc[y.index]
    splits = inner_fold_indices(y, target_type, inner_folds, seed)
    metric = PRIMARY_METRIC[target_type]
    rows = []
    for i, config in enumerate(configs):
        encoder = _encoder_for(config, encoders, expression.shape[1])
        curve = _inner_curve(expression, y, target_type, classes, config, splits, encoder, seed)
        with np.errstate(all="ignore"):
            means = np.array([np.nanmean(r) if np.isfinite(r).any() else np.nan for r in curve])
            sds = np.array([np.nanstd(r, ddof=1) if np.isfinite(r).sum() > 1 else np.nan for r in curve])
        for e, (m, sd, r) in enumerate(zip(means, sds, curve), start=1):
            rows.append({"config": i, "epoch": e, "mean": m, "sd": sd,
                         **{f"fold_{k}": float(v) for k, v in enumerate(r)}, "params": _config_json(config)})
        best_e = int(np.nanargmax(np.where(np.isfinite(means), means, -np.inf))) + 1
        log.info("selection: config %d/%d %s: %d epochs run, best inner mean %s %.4f at epoch %d",
                 i + 1, len(configs), _config_json(config), len(curve), metric, means[best_e - 1], best_e)
    table = pd.DataFrame(rows)
    # differences below floating-point noise are ties (a mean of equal fold scores can differ in the last bit)
    score = table["mean"].fillna(-np.inf).round(TIE_DECIMALS)
    order = np.lexsort((table["config"].to_numpy(), table["epoch"].to_numpy(), -score.to_numpy()))
    best = table.iloc[order[0]]
    chosen = configs[int(best["config"])]
    log.info("selection: chose config %d %s for %d epochs (mean inner %s %.4f over %d folds, %d patients)",
             int(best["config"]), _config_json(chosen), int(best["epoch"]), metric, best["mean"], inner_folds, len(y))
    return SelectionResult(model="network", config=chosen, epochs=int(best["epoch"]), metric=metric,
                           score=float(best["mean"]), table=table, inner_folds=inner_folds)


def _select(model_name: str, expression: pd.DataFrame, y: pd.Series, target_type: str, classes: list[str],
            s: Mapping[str, Any], seed: int, encoders: Mapping[str, Encoder] | None
            ) -> tuple[SelectionResult, baselines.BaselineFit | None]:
    if model_name == "network":
        return select_network(expression, y, target_type, classes, s["network_configs"],
                              inner_folds=s["inner_folds"], seed=seed, encoders=encoders), None
    grid = baselines.default_grid(model_name, target_type, s["baselines"])
    fit = baselines.fit_baseline(model_name, expression, y, target_type, classes, grid=grid,
                                 inner_folds=s["inner_folds"], seed=seed, n_jobs=s["n_jobs"])
    table = fit.table.assign(params=[_config_json(p) for p in fit.table["params"]])
    sel = SelectionResult(model=model_name, config=dict(fit.params), epochs=None, metric=PRIMARY_METRIC[target_type],
                          score=fit.inner_score, table=table, inner_folds=s["inner_folds"])
    return sel, fit


def fit_selected(model_name: str, expression: pd.DataFrame, y: pd.Series, target_type: str, classes: Sequence[str],
                 selection: SelectionResult, *, seed: int, encoders: Mapping[str, Encoder] | None = None,
                 n_jobs: int = 1, target: str = "") -> FittedModel | baselines.BaselineFit:
    """Refit the chosen configuration on all patients of ``y``: a network for exactly ``selection.epochs``
    epochs (no early stopping), a baseline with its chosen parameters (no search)."""
    from radiogenomics.models import training

    check_model_name(model_name)
    classes = list(classes)
    if model_name == "network":
        config = full_config(selection.config)
        encoder = _encoder_for(config, encoders, expression.shape[1])
        model = training.fit_network(expression, y, target_type, classes, architecture(config),
                                     training_config(config), seed, encoder=encoder, epochs=int(selection.epochs),
                                     target=target, label=f"{target} refit".strip())
        model.info.update({"selection": selection.params, "inner_metric": selection.metric,
                           "inner_score": selection.score, "inner_folds": selection.inner_folds})
        return model
    return baselines.fit_with_params(model_name, expression, y, target_type, classes, selection.config,
                                     seed=seed, n_jobs=n_jobs)


def model_outputs(model: FittedModel | baselines.BaselineFit, expression: pd.DataFrame) -> np.ndarray:
    """Raw outputs of a fitted network or baseline for patients x genes."""
    from radiogenomics.models.nets import FittedModel

    if isinstance(model, FittedModel):
        return model.outputs(model.scaled(expression))
    return model.outputs(expression)


# --------------------------------------------------------------------------- outer folds

@dataclass
class OuterFoldResult:
    """One outer fold of one model: test-fold predictions, the chosen parameters, the refit model."""

    predictions: pd.DataFrame  # patient, fold, y, output columns (training.output_columns)
    params: dict[str, Any]
    model: FittedModel | baselines.BaselineFit
    selection: SelectionResult


def _fold_series(folds: pd.DataFrame) -> pd.Series:
    for col in ("patient", "fold"):
        if col not in folds.columns:
            raise ValueError(f"split table needs columns patient and fold; it has {list(folds.columns)}")
    if folds["patient"].duplicated().any():
        raise ValueError(f"split table lists patient {folds['patient'][folds['patient'].duplicated()].iloc[0]!r} twice")
    return folds.set_index("patient")["fold"].astype(int)


def check_encoders_unseen(encoders: Mapping[str, Encoder] | None, patients: Sequence[str], what: str) -> None:
    """Refuse a pretrained encoder whose autoencoder was trained on any of ``patients`` (the patients a model
    built on it is scored on). Encoders written by the workflow record their training patients
    (``pretrained_patients``, see :func:`radiogenomics.models.training.load_encoder`); one without a record is refused
    too, since nothing would show that it never saw the scored patients."""
    for key, enc in (encoders or {}).items():
        seen = getattr(enc, "pretrained_patients", "absent")
        if seen == "absent":
            continue  # an encoder built in memory (library use): its caller chose its patients
        if seen is None:
            raise ValueError(f"{what}: autoencoder {key!r} does not record the patients it was trained on; "
                             "retrain it with this version of the workflow")
        overlap = sorted(set(seen).intersection(map(str, patients)))
        if overlap:
            raise ValueError(f"{what}: autoencoder {key!r} was trained on {len(overlap)} of the patients scored here "
                             f"(e.g. {overlap[:5]}): pretraining would leak the test fold")


def evaluate_outer_fold(model_name: str, expression: pd.DataFrame, y: pd.Series, folds: pd.DataFrame, fold: int,
                        target_type: str, classes: Sequence[str], *, settings: Mapping[str, Any] | None, seed: int,
                        encoders: Mapping[str, Encoder] | None = None, target: str = "") -> OuterFoldResult:
    """Select, refit and score one model on one outer fold.

    Selection sees only the outer training part (the split file's patients
    outside ``fold``): the expression matrix is cut to them before any
    fitting. The chosen configuration is refit on the whole training part
    (seed ``seed + 1000 (fold + 1)``, as :func:`training.cross_validate`)
    and the outer test fold is predicted once.
    """
    check_model_name(model_name)
    s = check_settings(settings)
    classes = list(classes)
    fold_of = _fold_series(folds)
    missing = fold_of.index.difference(y.index).union(fold_of.index.difference(expression.index))
    if len(missing):
        raise ValueError(f"{len(missing)} patients of the split file for {target or y.name!r} lack expression or a "
                         f"target value (e.g. {list(missing[:5])})")
    extra = y.index.difference(fold_of.index)
    if len(extra):
        log.warning("%s: %d patients with a target value are not in the split file and are not used",
                    target or y.name, len(extra))
    fold = int(fold)
    if fold not in set(fold_of):
        raise ValueError(f"fold {fold} is not in the split file (folds {sorted(set(fold_of))})")
    y = y.loc[fold_of.index].sort_index().rename(target or y.name)
    n_outer = int(fold_of.nunique())
    check_class_sizes(y, target_type, classes, n_outer, "the split file")
    train = fold_of.index[fold_of != fold].sort_values()
    test = fold_of.index[fold_of == fold].sort_values()
    check_class_sizes(y.loc[train], target_type, classes, s["inner_folds"], f"the training part of outer fold {fold}")
    check_encoders_unseen(encoders, test, f"{target or y.name!r} outer fold {fold}")
    fold_seed = seed + 1000 * (fold + 1)
    x_train = expression.loc[train]
    y_train = y.loc[train]
    selection, fit = _select(model_name, x_train, y_train, target_type, classes, s, fold_seed, encoders)
    if fit is not None:
        model: FittedModel | baselines.BaselineFit = fit  # the grid search refit the chosen parameters on x_train
    else:
        model = fit_selected(model_name, x_train, y_train, target_type, classes, selection, seed=fold_seed,
                             encoders=encoders, n_jobs=s["n_jobs"], target=target)
    out = model_outputs(model, expression.loc[test])
    pred = pd.DataFrame(out, index=test, columns=metrics.output_columns(target_type, classes))
    pred.insert(0, "y", y.loc[test].to_numpy())
    pred.insert(0, "fold", fold)
    pred.index.name = "patient"
    pred = pred.reset_index()
    s_test = metrics.score(target_type, y.loc[test].to_numpy(), out, classes)
    log.info("%s %s outer fold %d: n_train %d, n_test %d, chosen %s (inner %s %.3f); outer %s %.3f",
             target or y.name, model_name, fold, len(train), len(test), _config_json(selection.params),
             selection.metric, selection.score, selection.metric, s_test[selection.metric])
    return OuterFoldResult(predictions=pred, params=selection.params, model=model, selection=selection)


def select_final(model_name: str, expression: pd.DataFrame, y: pd.Series, target_type: str, classes: Sequence[str],
                 *, settings: Mapping[str, Any] | None, seed: int, encoders: Mapping[str, Encoder] | None = None,
                 target: str = "") -> SelectionResult:
    """The same selection on all patients of ``y`` (for the final refit with :func:`fit_selected`)."""
    check_model_name(model_name)
    s = check_settings(settings)
    classes = list(classes)
    y = y.sort_index().rename(target or y.name)
    missing = y.index.difference(expression.index)
    if len(missing):
        raise ValueError(f"{len(missing)} patients of {target or y.name!r} lack expression (e.g. {list(missing[:5])})")
    check_class_sizes(y, target_type, classes, s["inner_folds"], "all patients")
    selection, _ = _select(model_name, expression.loc[y.index], y, target_type, classes, s, seed, encoders)
    log.info("%s %s final selection on %d patients: %s", target or y.name, model_name, len(y),
             _config_json(selection.params))
    return selection


# --------------------------------------------------------------------------- null calibration

def permute_labels(y: pd.Series, seed: int) -> pd.Series:
    """The target's values shuffled among its own patients (index kept): a null target for calibration."""
    rng = np.random.default_rng(seed)
    return pd.Series(rng.permutation(y.to_numpy()), index=y.index, name=y.name)
