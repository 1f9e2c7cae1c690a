"""Gene saliency: the gradient of a network output with respect to each scaled input gene.

The API mirrors captum's ``Saliency`` (``Saliency(net).attribute(x, target=k)``)
without the dependency, and gives the same values (``tests/unit/test_agreement.py``).
All patients are handled in one backward pass: in eval mode (BatchNorm on its
running statistics, dropout off) the rows of a batch do not interact, so the
gradient of the *sum* of one output column over the batch, taken with respect
to the input, has in row ``i`` exactly the gradient of patient ``i``'s own
output. Several targets (the classes of a multi-class network) share one
forward pass: :meth:`Saliency.attribute_targets` runs the backward passes of
all targets as one batched backward pass over the same graph, where captum
runs a forward and a backward pass per class.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from typing import Callable, Iterator, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from radiogenomics.models.nets import FittedModel

log = logging.getLogger(__name__)


class Saliency:
    """Vanilla gradient saliency (Simonyan et al. 2014) for a network mapping (n, genes) -> (n, outputs).

    ``attribute`` runs the network in eval mode (an ``nn.Module`` in training
    mode is switched to eval for the call and switched back after), so that the
    rows of the batch are independent and one backward pass of the summed
    target output gives every row's own gradient. Only the input requires a
    gradient and ``torch.autograd.grad`` is used, so no parameter ``.grad`` is
    touched.
    """

    def __init__(self, forward_func: nn.Module | Callable[[torch.Tensor], torch.Tensor]):
        self.forward_func = forward_func

    def attribute(self, inputs: torch.Tensor, target: int | None = None, abs: bool = True) -> torch.Tensor:
        """Gradient of ``output[:, target]`` (column 0 when ``target`` is None) w.r.t. ``inputs``.

        Returns a tensor of the inputs' shape, detached; absolute values when ``abs`` is true.
        """
        x = inputs.detach().clone().requires_grad_(True)
        with self._eval_mode(), torch.enable_grad():
            out = self.forward_func(x)
            if out.ndim == 1:
                if target not in (None, 0):
                    raise ValueError(f"target {target} requested from a network with a single output")
                selected = out
            else:
                column = 0 if target is None else int(target)
                if not -out.shape[1] <= column < out.shape[1]:
                    raise ValueError(f"target {target} is out of range for {out.shape[1]} outputs")
                selected = out[:, column]
            (grad,) = torch.autograd.grad(selected.sum(), x)
        grad = grad.detach()
        return grad.abs() if abs else grad

    def attribute_targets(self, inputs: torch.Tensor, targets: Sequence[int] | None = None,
                          abs: bool = True) -> torch.Tensor:
        """Gradients of several output columns at once: a tensor (n_targets, *inputs.shape).

        ``targets`` defaults to every output column. One forward pass; the backward passes of all
        targets are batched over the same graph (``is_grads_batched``; a loop with a retained graph
        where an operation has no batched backward). Block ``t`` equals ``attribute(inputs,
        targets[t], abs)``.
        """
        x = inputs.detach().clone().requires_grad_(True)
        with self._eval_mode(), torch.enable_grad():
            out = self.forward_func(x)
            if out.ndim == 1:
                out = out[:, None]
            n_out = out.shape[1]
            columns = list(range(n_out)) if targets is None else [int(t) for t in targets]
            for t in columns:
                if not -n_out <= t < n_out:
                    raise ValueError(f"target {t} is out of range for {n_out} outputs")
            if not columns:
                return torch.zeros((0, *x.shape), dtype=x.dtype, device=x.device)
            seeds = torch.zeros((len(columns), *out.shape), dtype=out.dtype, device=out.device)
            for row, t in enumerate(columns):
                seeds[row, :, t] = 1.0
            grad = self._batched_grad(out, x, seeds)
        grad = grad.detach()
        return grad.abs() if abs else grad

    @contextlib.contextmanager
    def _eval_mode(self) -> Iterator[None]:
        """An ``nn.Module`` forward function in eval mode for the block, then back in the mode it was in."""
        module = self.forward_func if isinstance(self.forward_func, nn.Module) else None
        was_training = module.training if module is not None else False
        if module is not None:
            module.eval()
        try:
            yield
        finally:
            if module is not None:
                module.train(was_training)

    @staticmethod
    def _batched_grad(out: torch.Tensor, x: torch.Tensor, seeds: torch.Tensor) -> torch.Tensor:
        if seeds.shape[0] == 1:
            (grad,) = torch.autograd.grad(out, x, grad_outputs=seeds[0])
            return grad[None]
        try:
            (grad,) = torch.autograd.grad(out, x, grad_outputs=seeds, is_grads_batched=True, retain_graph=True)
            return grad
        except RuntimeError as err:  # an operation without a batched backward rule
            log.debug("batched backward failed (%s); one backward pass per target", err)
            rows = [torch.autograd.grad(out, x, grad_outputs=seed, retain_graph=True)[0] for seed in seeds]
            return torch.stack(rows)


def saliency_table(model: FittedModel, expression: pd.DataFrame, *, abs: bool = True,
                   device: str | torch.device | None = None) -> pd.DataFrame:
    """Saliency of every patient for every model gene, as float32 (gradient w.r.t. the *scaled* gene).

    binary / continuous: rows = patients (index named ``patient``), columns = the model's genes
    (named ``gene``), values |d output / d scaled gene| of the network's raw output (the logit, or
    the prediction on the scaled target; unscaling a continuous output multiplies every value by the
    same constant).
    multiclass: one block per class, in the order of ``model.classes``; rows are a MultiIndex
    (``patient``, ``class``) and the block of class ``k`` holds the gradient of class ``k``'s
    own logit (not of class 0 for every class).
    ``device`` (e.g. ``"cuda"``): where the forward and backward passes run (a copy of the network is
    moved there; the model stays put); None: the CPU.
    """
    network = model.network
    if device is not None and torch.device(device).type != "cpu":
        network = copy.deepcopy(network).to(device)
    x = torch.as_tensor(model.scaled(expression), dtype=torch.float32, device=device)
    patients = pd.Index(expression.index, name="patient")
    columns = pd.Index(list(model.genes), name="gene")
    sal = Saliency(network)
    if model.target_type != "multiclass":
        values = sal.attribute(x, target=0, abs=abs).cpu().numpy().astype(np.float32, copy=False)
        return pd.DataFrame(values, index=patients, columns=columns)
    grads = sal.attribute_targets(x, range(len(model.classes)), abs=abs).cpu()
    blocks = list(grads.numpy().astype(np.float32, copy=False))
    index = pd.MultiIndex.from_arrays(
        [np.tile(patients.to_numpy(dtype=object), len(model.classes)),
         np.repeat(np.asarray(model.classes, dtype=object), len(patients))],
        names=["patient", "class"])
    log.debug("saliency of %d patients x %d genes for %d classes", len(patients), len(columns), len(blocks))
    return pd.DataFrame(np.concatenate(blocks) if blocks else np.zeros((0, len(columns)), np.float32),
                        index=index, columns=columns)
