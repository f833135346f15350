"""Keras 3's Adadelta: a learning rate (default 0.001) scales the Adadelta step."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from .base import Optimizer, TensorList, check_float
from .schedules import LearningRateSchedule


class Adadelta(Optimizer):
    """Adadelta, with Keras 3's numbers (and its defaults: lr=0.001, rho=0.95, epsilon=1e-7).

    Each step computes `delta = -sqrt(acc_delta + eps) * g / sqrt(acc_g + eps)` from the running
    averages and moves the weight by `lr * delta` (torch's defaults are lr=1.0, rho=0.9, eps=1e-6).

    Args:
        learning_rate: a float (default 0.001) or a schedule.
        rho: the decay of both running averages. Default 0.95.
        epsilon: Default 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name, params: as for `kr.optimizers.Optimizer`
            (as are use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor and
            gradient_accumulation_steps).

    >>> kr.optimizers.Adadelta().slot_names
    ('accumulated_grad', 'accumulated_delta_var')
    """

    _default_name = "adadelta"
    slot_names = ("accumulated_grad", "accumulated_delta_var")

    def __init__(self, learning_rate: float | LearningRateSchedule | Callable[[], Any] = 0.001,
                 rho: float = 0.95, epsilon: float = 1e-7, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None, loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str | None = None, *,
                 params: Iterable[Any] | None = None) -> None:
        self.rho = check_float(rho, "rho", "Adadelta")
        self.epsilon = check_float(epsilon, "epsilon", "Adadelta")
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                         ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name, params=params)

    def _update(self, params: TensorList, grads: TensorList, slots: dict[str, TensorList],
                lr: torch.Tensor, dtype: torch.dtype) -> None:
        grad_average, delta_average = slots["accumulated_grad"], slots["accumulated_delta_var"]
        torch._foreach_mul_(grad_average, self.rho)
        torch._foreach_add_(grad_average, torch._foreach_mul(grads, grads), alpha=1 - self.rho)

        def rms(values: TensorList) -> TensorList:
            return torch._foreach_sqrt(torch._foreach_add(values, self.epsilon))

        deltas = torch._foreach_mul(torch._foreach_div(torch._foreach_mul(rms(delta_average), grads),
                                                       rms(grad_average)), -1)
        torch._foreach_mul_(delta_average, self.rho)
        torch._foreach_add_(delta_average, torch._foreach_mul(deltas, deltas), alpha=1 - self.rho)
        torch._foreach_add_(params, deltas, alpha=self._rate_float(lr))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
