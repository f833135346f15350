"""Read and set an optimizer's learning rate: a `torch.optim.Optimizer` (every param group's "lr")
or a Keras-style optimizer (`learning_rate`)."""
from __future__ import annotations

from typing import Any

import torch


def get_learning_rate(optimizer: Any) -> float:
    """The learning rate (Keras's `learning_rate` where the optimizer has one, else a torch optimizer's
    first param group's)."""
    if isinstance(optimizer, torch.optim.Optimizer) and not hasattr(optimizer, "learning_rate"):
        return float(optimizer.param_groups[0]["lr"])
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError(f"the optimizer {optimizer!r} has no learning rate to read (a torch.optim optimizer or "
                         "one with a `learning_rate` attribute is needed)")
    return float(optimizer.learning_rate)


def set_learning_rate(optimizer: Any, value: float) -> None:
    """Set the learning rate (Keras's `learning_rate`, which refuses a schedule; else every param group's
    for a torch optimizer)."""
    if isinstance(optimizer, torch.optim.Optimizer) and not hasattr(optimizer, "learning_rate"):
        for group in optimizer.param_groups:
            group["lr"] = float(value)
        return
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError(f"the optimizer {optimizer!r} has no learning rate to set")
    optimizer.learning_rate = float(value)
