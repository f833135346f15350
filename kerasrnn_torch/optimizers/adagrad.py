"""Keras 3's Adagrad: accumulators start at `initial_accumulator_value`, epsilon inside the sqrt."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from .base import Optimizer, TensorList, check_float
from .schedules import LearningRateSchedule


class Adagrad(Optimizer):
    """Adagrad, with Keras 3's numbers.

    Keras's accumulators start at `initial_accumulator_value` (0.1; torch's at 0) and each step is
    `lr * g / sqrt(acc + epsilon)` (torch: `/ (sqrt(acc) + eps)`, eps=1e-10).

    Args:
        learning_rate: a float (default 0.001) or a schedule.
        initial_accumulator_value: the accumulators' starting value. Default 0.1.
        epsilon: added to the accumulator under the sqrt. Default 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name, params: as for `kr.optimizers.Optimizer`
            (as are use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor and
            gradient_accumulation_steps).

    >>> w = torch.nn.Parameter(torch.zeros(2))
    >>> opt = kr.optimizers.Adagrad(params=[w])
    >>> opt.variables[0]
    tensor([0.1000, 0.1000])
    """

    _default_name = "adagrad"
    slot_names = ("accumulator",)

    def __init__(self, learning_rate: float | LearningRateSchedule | Callable[[], Any] = 0.001,
                 initial_accumulator_value: float = 0.1, epsilon: float = 1e-7,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None, gradient_accumulation_steps: int | None = None,
                 name: str | None = None, *, params: Iterable[Any] | None = None) -> None:
        self.initial_accumulator_value = check_float(initial_accumulator_value, "initial_accumulator_value",
                                                     "Adagrad")
        self.epsilon = check_float(epsilon, "epsilon", "Adagrad")
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                         ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name, params=params)

    def _new_slots(self, param: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"accumulator": torch.full_like(param, self.initial_accumulator_value,
                                               memory_format=torch.preserve_format)}

    def _update(self, params: TensorList, grads: TensorList, slots: dict[str, TensorList],
                lr: torch.Tensor, dtype: torch.dtype) -> None:
        accumulators = slots["accumulator"]
        torch._foreach_add_(accumulators, torch._foreach_mul(grads, grads))
        steps = torch._foreach_div(torch._foreach_mul(grads, self._rate_float(lr)),
                                   torch._foreach_sqrt(torch._foreach_add(accumulators, self.epsilon)))
        torch._foreach_add_(params, steps, alpha=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
