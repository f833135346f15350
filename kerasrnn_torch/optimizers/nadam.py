"""Keras 3's Nadam: Adam with Nesterov momentum and Keras's momentum schedule (0.96 decay)."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from .base import Optimizer, TensorList, check_float, host_scalar
from .schedules import LearningRateSchedule


class Nadam(Optimizer):
    """Nadam, with Keras 3's numbers.

    Keras's momentum schedule `u_t = beta_1 * (1 - 0.5 * 0.96**t)` and its running product (kept
    optimizer-wide, saved in `state_dict()["extra"]["u_product"]`) correct `m`; `v` is corrected by
    `1 - beta_2**t` and epsilon is added outside the sqrt. torch's NAdam uses the same schedule with
    `momentum_decay=0.004` expressed differently, and eps=1e-8.

    Args:
        learning_rate: a float (default 0.001) or a schedule.
        beta_1: Default 0.9.
        beta_2: Default 0.999.
        epsilon: Default 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name, params: as for `kr.optimizers.Optimizer`
            (as are use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor and
            gradient_accumulation_steps).

    >>> kr.optimizers.Nadam().get_config()["epsilon"]
    1e-07
    """

    _default_name = "nadam"
    slot_names = ("momentum", "velocity")

    def __init__(self, learning_rate: float | LearningRateSchedule | Callable[[], Any] = 0.001,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None, gradient_accumulation_steps: int | None = None,
                 name: str | None = None, *, params: Iterable[Any] | None = None) -> None:
        self.beta_1 = check_float(beta_1, "beta_1", "Nadam")
        self.beta_2 = check_float(beta_2, "beta_2", "Nadam")
        self.epsilon = check_float(epsilon, "epsilon", "Nadam")
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                         ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name, params=params)
        self._extra_state["u_product"] = 1.0
        self._next_u_product: float | None = None

    def _update(self, params: TensorList, grads: TensorList, slots: dict[str, TensorList],
                lr: torch.Tensor, dtype: torch.dtype) -> None:
        t = host_scalar(float(self.iterations + 1), dtype)
        decay = host_scalar(0.96, dtype)
        beta_1 = host_scalar(self.beta_1, dtype)
        u_t = beta_1 * (1.0 - 0.5 * torch.pow(decay, t))
        u_t_1 = beta_1 * (1.0 - 0.5 * torch.pow(decay, host_scalar(float(self.iterations + 2), dtype)))
        u_product_t = host_scalar(self._extra_state["u_product"], dtype) * u_t
        u_product_t_1 = u_product_t * u_t_1
        beta_2_power = torch.pow(host_scalar(self.beta_2, dtype), t)
        self._next_u_product = float(u_product_t)
        m, v = slots["momentum"], slots["velocity"]
        torch._foreach_mul_(m, self.beta_1)
        torch._foreach_add_(m, grads, alpha=1 - self.beta_1)
        torch._foreach_mul_(v, self.beta_2)
        torch._foreach_add_(v, torch._foreach_mul(grads, grads), alpha=1 - self.beta_2)
        m_hat = torch._foreach_add(torch._foreach_div(torch._foreach_mul(m, float(u_t_1)), float(1 - u_product_t_1)),
                                   torch._foreach_div(torch._foreach_mul(grads, float(1 - u_t)),
                                                      float(1 - u_product_t)))
        v_hat = torch._foreach_div(v, float(1 - beta_2_power))
        steps = torch._foreach_div(torch._foreach_mul(m_hat, self._rate_float(lr)),
                                   torch._foreach_add(torch._foreach_sqrt(v_hat), self.epsilon))
        torch._foreach_add_(params, steps, alpha=-1)

    def _after_step(self) -> None:
        if self._next_u_product is not None:
            self._extra_state["u_product"] = self._next_u_product
            self._next_u_product = None

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
