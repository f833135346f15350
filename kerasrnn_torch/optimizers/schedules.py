"""Keras 3's learning-rate schedules: callables from the step number to the rate, with Keras's numbers.

Each schedule computes in float32 on the host, with the operations Keras runs, so an optimizer given
a schedule takes the rates Keras's would, bit for bit. A schedule returns a 0-d float32 tensor;
`float(schedule(step))` is the rate. `serialize`/`deserialize` use Keras's form
(`{"module": "keras.optimizers.schedules", "class_name", "config", "registered_name"}`).
"""
from __future__ import annotations

import math
from typing import Any, TypeVar

import torch

_S = TypeVar("_S", bound="LearningRateSchedule")
_F32 = torch.float32


def _f32(value: Any) -> torch.Tensor:
    return torch.as_tensor(value).to(_F32) if isinstance(value, torch.Tensor) else torch.tensor(value, dtype=_F32)


def _positive_steps(decay_steps: Any, owner: str) -> None:
    if decay_steps <= 0:
        raise ValueError(f"{owner}: argument `decay_steps` must be > 0. Received: decay_steps={decay_steps}")


class LearningRateSchedule:
    """Base class of the schedules: `schedule(step)` is the learning rate at optimizer step `step`.

    Subclasses define `__call__(step)` (returning a float or a 0-d tensor) and, to be
    serializable, `get_config()`; `from_config(config)` calls the constructor with it.

    Args:
        (none): a subclass takes its own.

    >>> class Halving(kr.optimizers.schedules.LearningRateSchedule):
    ...     def __call__(self, step):
    ...         return 0.1 / 2 ** int(step)
    >>> opt = kr.optimizers.SGD(learning_rate=Halving())
    >>> opt.learning_rate
    0.1
    """

    def __call__(self, step: int | torch.Tensor) -> Any:
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must override "
                                  "`__call__(self, step)`.")

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must override "
                                  "`get_config()` in order to be serializable.")

    @classmethod
    def from_config(cls: type[_S], config: dict[str, Any]) -> _S:
        return cls(**config)

    def __repr__(self) -> str:
        try:
            arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            arguments = ""
        return f"{type(self).__name__}({arguments})"


class ExponentialDecay(LearningRateSchedule):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)`, as Keras's `ExponentialDecay`.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: a positive int: the rate is multiplied by `decay_rate` every `decay_steps` steps.
        decay_rate: the factor.
        staircase: if True, `step / decay_steps` is floored (the rate changes in steps). Default False.
        name: Keras's name, "ExponentialDecay".

    >>> schedule = kr.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> round(float(schedule(10)), 6)
    0.05
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str = "ExponentialDecay") -> None:
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        _positive_steps(decay_steps, "ExponentialDecay")

    def __call__(self, step: int | torch.Tensor) -> torch.Tensor:
        fraction = _f32(step) / _f32(self.decay_steps)
        if self.staircase:
            fraction = torch.floor(fraction)
        return torch.multiply(_f32(self.initial_learning_rate), torch.pow(_f32(self.decay_rate), fraction))

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """Constant rates between step boundaries, as Keras's `PiecewiseConstantDecay`.

    The rate is `values[0]` while `step <= boundaries[0]`, `values[i]` while
    `boundaries[i-1] < step <= boundaries[i]`, and `values[-1]` after the last boundary.

    Args:
        boundaries: increasing step numbers (Keras casts them to the step's integer type).
        values: one more rate than boundaries.
        name: Keras's name, "PiecewiseConstant".

    >>> schedule = kr.optimizers.schedules.PiecewiseConstantDecay([2], [0.1, 0.01])
    >>> tuple(round(float(schedule(s)), 6) for s in (2, 3))
    (0.1, 0.01)
    """

    def __init__(self, boundaries: list[Any], values: list[float], name: str = "PiecewiseConstant") -> None:
        if len(boundaries) != len(values) - 1:
            raise ValueError("The length of boundaries should be 1 less than the length of values. Received: "
                             f"boundaries={boundaries} of length {len(boundaries)}, and values={values} "
                             f"of length {len(values)}.")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step: int | torch.Tensor) -> torch.Tensor:
        step_t = torch.as_tensor(step)
        bounds = [torch.as_tensor(b).to(step_t.dtype) for b in self.boundaries]
        if not bounds or bool(step_t <= bounds[0]):
            return _f32(self.values[0])
        for low, high, value in zip(bounds[:-1], bounds[1:], self.values[1:-1]):
            if bool(step_t > low) and bool(step_t <= high):
                return _f32(value)
        return _f32(self.values[-1])

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)`, as Keras's `InverseTimeDecay`.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: a positive int.
        decay_rate: the rate of decay.
        staircase: if True, `step / decay_steps` is floored. Default False.
        name: Keras's name, "InverseTimeDecay".

    >>> schedule = kr.optimizers.schedules.InverseTimeDecay(0.1, decay_steps=1, decay_rate=1.0)
    >>> round(float(schedule(1)), 6)
    0.05
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str = "InverseTimeDecay") -> None:
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        _positive_steps(decay_steps, "InverseTimeDecay")

    def __call__(self, step: int | torch.Tensor) -> torch.Tensor:
        fraction = _f32(step) / _f32(self.decay_steps)
        if self.staircase:
            fraction = torch.floor(fraction)
        denominator = torch.add(_f32(1), torch.multiply(_f32(self.decay_rate), fraction))
        return torch.divide(_f32(self.initial_learning_rate), denominator)

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """A polynomial from `initial_learning_rate` to `end_learning_rate` in `decay_steps`, as Keras's.

    `(initial - end) * (1 - min(step, decay_steps) / decay_steps) ** power + end`; with `cycle`,
    `decay_steps` grows to the first multiple of itself at or past `step`.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: a positive int.
        end_learning_rate: the final rate. Default 0.0001.
        power: the polynomial's power. Default 1.0.
        cycle: whether to start again past `decay_steps`. Default False.
        name: Keras's name, "PolynomialDecay".

    >>> schedule = kr.optimizers.schedules.PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0)
    >>> round(float(schedule(5)), 6)
    0.05
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, end_learning_rate: float = 0.0001,
                 power: float = 1.0, cycle: bool = False, name: str = "PolynomialDecay") -> None:
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name
        _positive_steps(decay_steps, "PolynomialDecay")

    def __call__(self, step: int | torch.Tensor) -> torch.Tensor:
        initial = _f32(self.initial_learning_rate)
        end = _f32(self.end_learning_rate)
        now = _f32(step)
        steps = _f32(self.decay_steps)
        if self.cycle:
            multiplier = torch.where(torch.eq(now, 0), _f32(1.0), torch.ceil(now / self.decay_steps))
            steps = torch.multiply(steps, multiplier)
        else:
            now = torch.minimum(now, steps)
        fraction = torch.divide(now, steps)
        return torch.add(torch.multiply(initial - end, torch.pow(1 - fraction, _f32(self.power))), end)

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay, with Keras 3's optional linear warmup first, as Keras's `CosineDecay`.

    Without `warmup_target`: `initial * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)`
    with `s = min(step, decay_steps)`. With it: the rate rises linearly from `initial_learning_rate`
    to `warmup_target` over `warmup_steps`, then decays from `warmup_target` the same way.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: a positive int: the steps of the decay (after the warmup).
        alpha: the final rate as a fraction of the decayed-from rate. Default 0.0.
        name: Keras's name, "CosineDecay".
        warmup_target: the rate the warmup reaches; None (default): no warmup.
        warmup_steps: the warmup's steps. Default 0.

    >>> schedule = kr.optimizers.schedules.CosineDecay(0.0, 10, warmup_target=0.1, warmup_steps=5)
    >>> round(float(schedule(5)), 6)
    0.1
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 name: str = "CosineDecay", warmup_target: float | None = None, warmup_steps: int = 0) -> None:
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target
        _positive_steps(decay_steps, "CosineDecay")

    def _decayed(self, step: torch.Tensor, steps: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
        fraction = torch.divide(step, steps)
        cosine = 0.5 * (1.0 + torch.cos(torch.multiply(_f32(math.pi), fraction)))
        return torch.multiply(start, (1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: int | torch.Tensor) -> torch.Tensor:
        initial = _f32(self.initial_learning_rate)
        steps = _f32(self.decay_steps)
        now = _f32(step)
        if self.warmup_target is None:
            return self._decayed(torch.minimum(now, steps), steps, initial)
        target = _f32(self.warmup_target)
        warmup = _f32(self.warmup_steps)
        now = torch.minimum(now, steps + warmup)
        if bool(now < warmup):
            return (target - initial) * (now / warmup) + initial
        return self._decayed(now - warmup, steps, target)

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


_BY_NAME: dict[str, type[LearningRateSchedule]] = {
    cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay, InverseTimeDecay, PolynomialDecay,
                                  CosineDecay)}


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """Keras's serialized form of a schedule (`keras.optimizers.schedules.deserialize` reads it).

    >>> kr.optimizers.schedules.serialize(kr.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9))["class_name"]
    'ExponentialDecay'
    """
    return {"module": "keras.optimizers.schedules", "class_name": type(schedule).__name__,
            "config": schedule.get_config(), "registered_name": None}


def deserialize(config: dict[str, Any]) -> LearningRateSchedule:
    """The schedule a `serialize()` (ours or Keras's) dict describes; ValueError for an unknown class."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"A serialized schedule is a dict with 'class_name' and 'config', got {config!r}")
    cls = _BY_NAME.get(config["class_name"])
    if cls is None:
        raise ValueError(f"Unknown learning rate schedule {config['class_name']!r}; expected one of: "
                         f"{', '.join(sorted(_BY_NAME))}")
    return cls.from_config(dict(config.get("config", {})))


__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay", "InverseTimeDecay",
           "PolynomialDecay", "CosineDecay", "serialize", "deserialize"]
