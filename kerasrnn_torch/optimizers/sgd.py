"""Keras 3's SGD: plain, momentum and Nesterov momentum steps."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from .base import Optimizer, TensorList, check_unit_interval
from .schedules import LearningRateSchedule


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum, with Keras 3's numbers.

    With momentum, Keras keeps `m = momentum * m - lr * g` and moves the weight by `m`
    (Nesterov: by `momentum * m - lr * g`). This equals torch's SGD with momentum only for a
    constant learning rate (torch keeps the buffer without the rate).

    Args:
        learning_rate: a float (default 0.01) or a schedule.
        momentum: a float in [0, 1]. Default 0.0 (no momentum slot is kept).
        nesterov: whether to apply Nesterov momentum. Default False.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name, params: as for `kr.optimizers.Optimizer`
            (as are use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor and
            gradient_accumulation_steps).

    >>> w = torch.nn.Parameter(torch.ones(2))
    >>> opt = kr.optimizers.SGD(learning_rate=0.5, params=[w])
    >>> w.grad = torch.ones(2)
    >>> opt.step()
    >>> w.data
    tensor([0.5000, 0.5000])
    """

    _default_name = "sgd"

    def __init__(self, learning_rate: float | LearningRateSchedule | Callable[[], Any] = 0.01,
                 momentum: float = 0.0, nesterov: bool = False, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None, loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str | None = None, *,
                 params: Iterable[Any] | None = None) -> None:
        self.momentum = check_unit_interval(momentum, "momentum", "SGD")
        self.nesterov = bool(nesterov)
        self.slot_names = ("momentum",) if self.momentum != 0 else ()
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                         ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name, params=params)

    def _update(self, params: TensorList, grads: TensorList, slots: dict[str, TensorList],
                lr: torch.Tensor, dtype: torch.dtype) -> None:
        rate = self._rate_float(lr)
        if self.momentum == 0:
            torch._foreach_add_(params, grads, alpha=-rate)
            return
        velocity = slots["momentum"]
        torch._foreach_mul_(velocity, self.momentum)
        torch._foreach_add_(velocity, grads, alpha=-rate)
        if self.nesterov:
            torch._foreach_add_(params, grads, alpha=-rate)
            torch._foreach_add_(params, velocity, alpha=self.momentum)
        else:
            torch._foreach_add_(params, velocity)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
