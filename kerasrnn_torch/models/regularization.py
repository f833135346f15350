"""What Keras's `fit` does with regularizers and constraints, for a PyTorch training loop.

Keras adds every layer's `losses` to the training loss and applies weight
constraints after each optimizer step; a PyTorch loop does both itself:

>>> loss = criterion(model(x), y) + kr.regularization_loss(model)  # doctest: +SKIP
>>> loss.backward(); optimizer.step()  # doctest: +SKIP
>>> kr.apply_constraints(model)  # doctest: +SKIP
"""
from __future__ import annotations

import torch
from torch import nn

from ..core.layer import Layer


def _layers(model: nn.Module):
    """Every kerasrnn_torch layer in the module tree, each once (shared layers too)."""
    return [module for module in model.modules() if isinstance(module, Layer)]


def regularization_loss(model: nn.Module) -> torch.Tensor:
    """The sum of all regularization terms in `model`, as a scalar tensor.

    Weight penalties come from the current weights; activity penalties and
    `add_loss` terms from each layer's latest forward call. `model` is any `nn.Module` holding
    kerasrnn_torch layers (or one of them); zero when none has a regularizer.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"regularization_loss expects a torch.nn.Module, got {type(model).__name__}")
    terms = regularization_terms(model)
    if not terms:
        like = next(model.parameters(), None)
        return torch.zeros((), device=None if like is None else like.device,
                           dtype=None if like is None or not like.is_floating_point() else like.dtype)
    total = torch.as_tensor(terms[0])
    for term in terms[1:]:
        total = total + term
    return total


def regularization_terms(model: nn.Module) -> list[torch.Tensor]:
    """Every regularization term of `model`'s layers: weight penalties, activity penalties and `add_loss`
    terms of the latest call (whether or not they carry gradients)."""
    terms: list[torch.Tensor] = []
    for layer in _layers(model):
        # Each layer's own terms: `layer.losses` also includes its sublayers',
        # which the walk over modules() visits on their own.
        terms.extend(layer.weight_regularization_losses())
        terms.extend(layer.activity_losses)
        terms.extend(layer.__dict__.get("_added_losses", ()))     # `add_loss` terms of the latest call
    return terms


def apply_constraints(model: nn.Module) -> None:
    """Project every constrained weight in `model` in place; call after `optimizer.step()`."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"apply_constraints expects a torch.nn.Module, got {type(model).__name__}")
    for layer in _layers(model):
        layer.apply_constraints()
