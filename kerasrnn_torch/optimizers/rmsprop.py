"""Keras 3's RMSprop: epsilon inside the sqrt, the learning rate inside the momentum."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from .base import Optimizer, TensorList, check_float
from .schedules import LearningRateSchedule


class RMSprop(Optimizer):
    """RMSprop, with Keras 3's numbers.

    Keras keeps `v = rho * v + (1 - rho) * g**2` and steps by `lr * g / sqrt(v + epsilon)` (centered:
    `sqrt(v - mean_g**2 + epsilon)`); with momentum, `m = momentum * m + lr * g / sqrt(...)` and the
    weight moves by `m`. torch's RMSprop names rho `alpha` (default 0.99), adds eps (1e-8) outside the
    sqrt and keeps the momentum buffer without the rate.

    Args:
        learning_rate: a float (default 0.001) or a schedule.
        rho: the decay of the squared-gradient average. Default 0.9.
        momentum: Default 0.0 (no momentum slot is kept).
        epsilon: added to the average under the sqrt. Default 1e-7.
        centered: subtract the squared running mean of the gradients. Default False.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name, params: as for `kr.optimizers.Optimizer`
            (as are use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor and
            gradient_accumulation_steps).

    >>> opt = kr.optimizers.RMSprop(centered=True, momentum=0.5)
    >>> opt.slot_names
    ('velocity', 'momentum', 'average_gradient')
    """

    _default_name = "rm_sprop"

    def __init__(self, learning_rate: float | LearningRateSchedule | Callable[[], Any] = 0.001,
                 rho: float = 0.9, momentum: float = 0.0, epsilon: float = 1e-7, centered: bool = False,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None, gradient_accumulation_steps: int | None = None,
                 name: str | None = None, *, params: Iterable[Any] | None = None) -> None:
        self.rho = check_float(rho, "rho", "RMSprop")
        self.momentum = check_float(momentum, "momentum", "RMSprop")
        self.epsilon = check_float(epsilon, "epsilon", "RMSprop")
        self.centered = bool(centered)
        self.slot_names = ("velocity",) + (("momentum",) if self.momentum > 0 else ()) + (
            ("average_gradient",) if self.centered else ())
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                         ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name, params=params)

    def _update(self, params: TensorList, grads: TensorList, slots: dict[str, TensorList],
                lr: torch.Tensor, dtype: torch.dtype) -> None:
        velocity = slots["velocity"]
        torch._foreach_mul_(velocity, self.rho)
        torch._foreach_add_(velocity, torch._foreach_mul(grads, grads), alpha=1 - self.rho)
        denominators = torch._foreach_add(velocity, self.epsilon)
        if self.centered:
            mean = slots["average_gradient"]
            torch._foreach_mul_(mean, self.rho)
            torch._foreach_add_(mean, grads, alpha=1 - self.rho)
            torch._foreach_add_(denominators, torch._foreach_mul(mean, mean), alpha=-1)
        torch._foreach_sqrt_(denominators)
        increments = torch._foreach_div(torch._foreach_mul(grads, self._rate_float(lr)), denominators)
        if self.momentum > 0:
            moving = slots["momentum"]
            torch._foreach_mul_(moving, self.momentum)
            torch._foreach_add_(moving, increments)
            torch._foreach_add_(params, moving, alpha=-1)
        else:
            torch._foreach_add_(params, increments, alpha=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}
