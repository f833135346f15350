"""Keras 3's Adam and AdamW: the bias correction folded into the step size, epsilon outside the sqrt."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

from .base import Optimizer, TensorList, check_float, host_scalar
from .schedules import LearningRateSchedule


class Adam(Optimizer):
    """Adam, with Keras 3's numbers (its defaults and its form of the update).

    Keras moves each weight by `alpha * m / (sqrt(v) + epsilon)` with
    `alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)` and the uncorrected moments `m`, `v`;
    torch's Adam divides by `sqrt(v / (1 - beta_2**t)) + eps` (epsilon inside the correction) and
    defaults to eps=1e-8, so the two differ where `v` is small.

    Args:
        learning_rate: a float (default 0.001) or a schedule.
        beta_1: the first moment's decay. Default 0.9.
        beta_2: the second moment's decay. Default 0.999.
        epsilon: Keras's "epsilon hat", added to `sqrt(v)`. Default 1e-7.
        amsgrad: keep the running maximum of `v` ("velocity_hat") and divide by it. Default False.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name, params: as for `kr.optimizers.Optimizer`
            (as are use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor and
            gradient_accumulation_steps).

    >>> model = kr.Sequential([kr.Dense(1)])
    >>> _ = model(torch.ones(4, 3))
    >>> opt = kr.optimizers.Adam(learning_rate=0.01)
    >>> opt.build(list(model.parameters()))
    >>> model(torch.ones(4, 3)).square().mean().backward()
    >>> opt.step()
    >>> sorted(opt.state[model.layers[0].kernel])
    ['momentum', 'velocity']
    """

    _default_name = "adam"

    def __init__(self, learning_rate: float | LearningRateSchedule | Callable[[], Any] = 0.001,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None, gradient_accumulation_steps: int | None = None,
                 name: str | None = None, *, params: Iterable[Any] | None = None) -> None:
        owner = type(self).__name__
        self.beta_1 = check_float(beta_1, "beta_1", owner)
        self.beta_2 = check_float(beta_2, "beta_2", owner)
        self.epsilon = check_float(epsilon, "epsilon", owner)
        self.amsgrad = bool(amsgrad)
        self.slot_names = ("momentum", "velocity", "velocity_hat") if self.amsgrad else ("momentum", "velocity")
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                         ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name, params=params)

    def _update(self, params: TensorList, grads: TensorList, slots: dict[str, TensorList],
                lr: torch.Tensor, dtype: torch.dtype) -> None:
        t = host_scalar(float(self.iterations + 1), dtype)
        beta_1_power = torch.pow(host_scalar(self.beta_1, dtype), t)
        beta_2_power = torch.pow(host_scalar(self.beta_2, dtype), t)
        alpha = float(lr * torch.sqrt(1 - beta_2_power) / (1 - beta_1_power))
        m, v = slots["momentum"], slots["velocity"]
        torch._foreach_mul_(m, self.beta_1)
        torch._foreach_add_(m, grads, alpha=1 - self.beta_1)
        torch._foreach_mul_(v, self.beta_2)
        torch._foreach_add_(v, torch._foreach_mul(grads, grads), alpha=1 - self.beta_2)
        if self.amsgrad:
            torch._foreach_maximum_(slots["velocity_hat"], v)
            v = slots["velocity_hat"]
        steps = torch._foreach_div(torch._foreach_mul(m, alpha),
                                   torch._foreach_add(torch._foreach_sqrt(v), self.epsilon))
        torch._foreach_add_(params, steps, alpha=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.004), as Keras 3's `AdamW`.

    Keras's AdamW is its Adam with `weight_decay` required: each step first multiplies the weights by
    `1 - weight_decay * lr`. (torch's AdamW defaults to weight_decay=0.01 and eps=1e-8.)

    Args:
        learning_rate: a float (default 0.001) or a schedule.
        weight_decay: the decoupled decay. Default 0.004; None raises ValueError (as Keras).
        beta_1, beta_2, epsilon, amsgrad: as for `Adam`.
        clipnorm, clipvalue, global_clipnorm, name, params: as for `kr.optimizers.Optimizer` (as are
            use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor and gradient_accumulation_steps).

    >>> opt = kr.optimizers.AdamW(learning_rate=0.01, weight_decay=0.1)
    >>> opt.get_config()["weight_decay"]
    0.1
    """

    _default_name = "adam_w"

    def __init__(self, learning_rate: float | LearningRateSchedule | Callable[[], Any] = 0.001,
                 weight_decay: float | None = 0.004, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None, gradient_accumulation_steps: int | None = None,
                 name: str | None = None, *, params: Iterable[Any] | None = None) -> None:
        if weight_decay is None:
            raise ValueError("AdamW: argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clipnorm, clipvalue,
                         global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
                         gradient_accumulation_steps, name, params=params)
