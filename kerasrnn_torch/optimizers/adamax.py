"""Keras 3's Adamax: Adam with the infinity norm."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from .base import Optimizer, TensorList, check_float, host_scalar
from .schedules import LearningRateSchedule


class Adamax(Optimizer):
    """Adamax, with Keras 3's numbers.

    Keras keeps `m` (as Adam) and `u = max(beta_2 * u, |g|)`, and steps by
    `lr * m / ((u + epsilon) * (1 - beta_1**t))` (torch: eps=1e-8, added inside the max).

    Args:
        learning_rate: a float (default 0.001) or a schedule.
        beta_1: Default 0.9.
        beta_2: the infinity norm's decay. Default 0.999.
        epsilon: Default 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name, params: as for `kr.optimizers.Optimizer`
            (as are use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor and
            gradient_accumulation_steps).

    >>> kr.optimizers.Adamax().slot_names
    ('momentum', 'norm')
    """

    _default_name = "adamax"
    slot_names = ("momentum", "norm")

    def __init__(self, learning_rate: float | LearningRateSchedule | Callable[[], Any] = 0.001,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None, gradient_accumulation_steps: int | None = None,
                 name: str | None = None, *, params: Iterable[Any] | None = None) -> None:
        self.beta_1 = check_float(beta_1, "beta_1", "Adamax")
        self.beta_2 = check_float(beta_2, "beta_2", "Adamax")
        self.epsilon = check_float(epsilon, "epsilon", "Adamax")
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                         ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name, params=params)

    def _update(self, params: TensorList, grads: TensorList, slots: dict[str, TensorList],
                lr: torch.Tensor, dtype: torch.dtype) -> None:
        beta_1_power = torch.pow(host_scalar(self.beta_1, dtype), host_scalar(float(self.iterations + 1), dtype))
        m, u = slots["momentum"], slots["norm"]
        torch._foreach_mul_(m, self.beta_1)
        torch._foreach_add_(m, grads, alpha=1 - self.beta_1)
        torch._foreach_mul_(u, self.beta_2)
        torch._foreach_maximum_(u, torch._foreach_abs(grads))
        steps = torch._foreach_div(torch._foreach_mul(m, self._rate_float(lr)),
                                   torch._foreach_mul(torch._foreach_add(u, self.epsilon), float(1 - beta_1_power)))
        torch._foreach_add_(params, steps, alpha=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
