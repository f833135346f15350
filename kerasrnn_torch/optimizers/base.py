"""The optimizer base class: Keras 3's optimizer arguments and step order on a `torch.optim.Optimizer`.

One step does what Keras 3's `apply_gradients` does, in its order: skip parameters whose gradient is
None, divide by `loss_scale_factor`, clip (`clipnorm`, `global_clipnorm` or `clipvalue`), decay the
weights (`weight_decay`), apply the optimizer's own rule, then count the iteration. The scalars of a
rule (the learning rate, bias corrections) are computed as Keras computes them, as host float32
tensors, so the updates are Keras's bit for bit in float32; the tensors of the update go through
`torch._foreach_*` over all parameters at once.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import torch
import torch.optim.optimizer as _torch_optimizer

from .schedules import LearningRateSchedule
from .schedules import deserialize as deserialize_schedule
from .schedules import serialize as serialize_schedule

_O = TypeVar("_O", bound="Optimizer")
TensorList = list[torch.Tensor] | tuple[torch.Tensor, ...]  # what torch._foreach_* take and give

# Keras's arguments this package accepts at their default only: (argument, default).
_NOT_IMPLEMENTED = (("use_ema", False), ("ema_momentum", 0.99), ("ema_overwrite_frequency", None),
                    ("gradient_accumulation_steps", None))


def _host(value: float | torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A 0-d host tensor: the scalar math of a step runs in the parameters' dtype, as Keras's does."""
    return torch.as_tensor(value).to(dtype) if isinstance(value, torch.Tensor) else torch.tensor(value, dtype=dtype)


def _optional_positive(value: Any, argument: str, owner: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{owner}: `{argument}` must be a float or None, got {value!r}")
    return float(value)


class Optimizer(torch.optim.Optimizer):
    """Base class of Keras's optimizers: Keras's arguments, a `torch.optim.Optimizer` underneath.

    Created without parameters, as in Keras (`opt = kr.optimizers.Adam()` before the model
    exists), then bound with `opt.build(parameters)`; or given them by keyword, as torch users do:
    `kr.optimizers.Adam(params=model.parameters())` (the first positional argument stays Keras's
    `learning_rate`). `opt.step()` applies one update from each parameter's `.grad` and counts
    `opt.iterations`. It is a `torch.optim.Optimizer`: `param_groups`, `zero_grad`, `state_dict`,
    hooks and torch's LR schedulers work on a float learning rate (they set `param_groups[i]["lr"]`,
    which is what `learning_rate` reads and sets). Each parameter group takes its own `"lr"`; the
    other arguments are the optimizer's.

    Args:
        learning_rate: a float, or a `kr.optimizers.schedules.LearningRateSchedule` (called on
            `iterations`), or a callable of no argument returning the rate.
        weight_decay: if set, each step first multiplies every weight that has a gradient by
            `1 - weight_decay * learning_rate` (Keras's decoupled decay). Default None.
        clipnorm: if set, each gradient is scaled so that its L2 norm is at most this value.
        clipvalue: if set, each gradient is clipped to `[-clipvalue, clipvalue]`.
        global_clipnorm: if set, all gradients are scaled together so that their joint L2 norm is at
            most this value. At most one of the three clipping arguments may be set (as Keras).
        use_ema, ema_momentum, ema_overwrite_frequency, gradient_accumulation_steps: accepted at
            Keras's defaults (False, 0.99, None, None) only: another value raises NotImplementedError.
        loss_scale_factor: if set, gradients are divided by it before clipping (as Keras).
        name: Keras's name (default: the class's snake-case name, e.g. "adam"; Keras adds a
            uniquifying suffix, this package does not).
        params: keyword only: the parameters (or torch parameter groups) to build on now.

    >>> layer = kr.Dense(2)
    >>> _ = layer(torch.ones(1, 3))
    >>> opt = kr.optimizers.SGD(0.1)
    >>> opt.build(list(layer.parameters()))
    >>> layer(torch.ones(1, 3)).sum().backward()
    >>> opt.step()
    >>> opt.iterations
    1
    """

    #: Keras's names of the per-parameter slots this optimizer keeps (in `state[p]`).
    slot_names: tuple[str, ...] = ()
    _default_name = "optimizer"

    def __init__(self, learning_rate: float | LearningRateSchedule | Callable[[], Any],
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None, gradient_accumulation_steps: int | None = None,
                 name: str | None = None, *, params: Iterable[Any] | None = None) -> None:
        owner = type(self).__name__
        given = {"use_ema": use_ema, "ema_momentum": ema_momentum,
                 "ema_overwrite_frequency": ema_overwrite_frequency,
                 "gradient_accumulation_steps": gradient_accumulation_steps}
        for argument, default in _NOT_IMPLEMENTED:
            if given[argument] != default:
                raise NotImplementedError(
                    f"{owner}: `{argument}={given[argument]!r}` is not implemented in kerasrnn_torch "
                    f"(only Keras's default, {argument}={default!r})")
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.weight_decay = _optional_positive(weight_decay, "weight_decay", owner)
        self.clipnorm = _optional_positive(clipnorm, "clipnorm", owner)
        self.clipvalue = _optional_positive(clipvalue, "clipvalue", owner)
        self.global_clipnorm = _optional_positive(global_clipnorm, "global_clipnorm", owner)
        self.loss_scale_factor = _optional_positive(loss_scale_factor, "loss_scale_factor", owner)
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"{owner}: only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                             f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}")
        self.name = name if name is not None else self._default_name
        self._schedule: Callable[..., Any] | None = None
        if isinstance(learning_rate, dict):
            learning_rate = deserialize_schedule(learning_rate)
        if isinstance(learning_rate, LearningRateSchedule) or (
                callable(learning_rate) and not isinstance(learning_rate, numbers.Real)):
            self._schedule = learning_rate
            initial = 0.0
        elif isinstance(learning_rate, numbers.Real) and not isinstance(learning_rate, bool):
            initial = float(learning_rate)
        else:
            raise ValueError(f"{owner}: `learning_rate` should be a float, a LearningRateSchedule or a "
                             f"callable, got {learning_rate!r}")
        self._iterations = 0
        self.built = False
        self._extra_state: dict[str, Any] = {}
        # torch's bookkeeping (hooks, state, the step wrapper) without parameters yet: build() adds them.
        super().__init__([{"params": []}], {"lr": initial})
        self.param_groups = []
        if self._schedule is not None:
            self.defaults["lr"] = self._current_learning_rate()
        if params is not None:
            self.build(params)

    # -- binding -------------------------------------------------------------------------------
    def build(self, parameters: Iterable[Any]) -> None:
        """Binds the optimizer to `parameters` (those with `requires_grad`) and creates its slots.

        `parameters` is a list of tensors, or torch parameter groups (dicts with "params" and an
        optional "lr"). Building again on the same parameters does nothing (as Keras); on others
        it raises ValueError.
        """
        items = list(parameters)
        groups = items if items and isinstance(items[0], dict) else [{"params": items}]
        groups = [{**g, "params": [p for p in (list(g["params"]) if not isinstance(g["params"], torch.Tensor)
                                                else [g["params"]]) if p.requires_grad]} for g in groups]
        if self.built:
            if [[id(p) for p in g["params"]] for g in groups] != [[id(p) for p in g["params"]]
                                                                   for g in self.param_groups]:
                raise ValueError(f"{type(self).__name__} is already built on other parameters; "
                                 "create a new optimizer for these.")
            return
        for group in groups:
            self.add_param_group(group)
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    self.state[p].update(self._new_slots(p))
        self.built = True

    def _new_slots(self, param: torch.Tensor) -> dict[str, torch.Tensor]:
        return {slot: torch.zeros_like(param, memory_format=torch.preserve_format) for slot in self.slot_names}

    # -- Keras's properties --------------------------------------------------------------------
    @property
    def iterations(self) -> int:
        """The number of steps applied (Keras's `optimizer.iterations`); settable."""
        return self._iterations

    @iterations.setter
    def iterations(self, value: int) -> None:
        self._iterations = int(value)

    @property
    def learning_rate(self) -> float:
        """The learning rate now: the float, or the schedule's value at `iterations`.

        Setting a float changes every parameter group's `"lr"`; an optimizer created with a
        schedule raises TypeError, as Keras does.
        """
        return self._current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        if self._schedule is not None:
            raise TypeError("This optimizer was created with a `LearningRateSchedule` object (or a callable) as its "
                            "`learning_rate` constructor argument, hence its learning rate is not settable. If you "
                            "need the learning rate to be settable, create the optimizer with a float "
                            "`learning_rate` argument.")
        if isinstance(value, torch.Tensor):
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"learning_rate must be a float, got {value!r}")
        self.defaults["lr"] = float(value)
        for group in self.param_groups:
            group["lr"] = float(value)

    def _current_learning_rate(self) -> float:
        if self._schedule is None:
            return float(self.param_groups[0]["lr"] if self.param_groups else self.defaults["lr"])
        if isinstance(self._schedule, LearningRateSchedule):
            return float(self._schedule(self._iterations))
        return float(self._schedule())

    @property
    def variables(self) -> list[torch.Tensor]:
        """The slot tensors, slot by slot (in `slot_names` order), parameter by parameter."""
        params = [p for g in self.param_groups for p in g["params"]]
        return [self.state[p][slot] for slot in self.slot_names for p in params if slot in self.state[p]]

    # -- the step ------------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """torch's `zero_grad`. With `set_to_none` (the default), outside the profiler and compiled code, a plain
        loop: torch's own opens a profiler range and leaves dynamo's guard on every call, a visible share of a
        small model's training step."""
        if not set_to_none or torch.autograd._profiler_enabled() or torch.compiler.is_compiling():
            super().zero_grad(set_to_none)
            return
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def _step_unwrapped(self) -> None:
        """`step()`, as the built-in training step calls it: without torch's wrapper where the wrapper would
        do nothing (no step hook, no profiler, `step` not overridden by a subclass nor wrapped on this
        instance, as torch's LR schedulers wrap it). The wrapper costs about as much as an SGD update of a
        small model."""
        if (getattr(type(self).step, "__wrapped__", None) is not _PLAIN_STEP or "step" in vars(self)
                or self._optimizer_step_pre_hooks or self._optimizer_step_post_hooks
                or _torch_optimizer._global_optimizer_pre_hooks or _torch_optimizer._global_optimizer_post_hooks
                or torch.autograd._profiler_enabled()):
            self.step()
            return
        _PLAIN_STEP(self)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """Applies one update from each parameter's `.grad` (None gradients skipped), then counts it.

        `closure`, as in torch, re-evaluates the loss first (with gradients) and its value is
        returned.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if not self.built:
            raise RuntimeError(f"{type(self).__name__}.step(): call build(parameters) first (or pass params=...)")
        if self._schedule is not None:
            rate = self._current_learning_rate()
            for group in self.param_groups:
                group["lr"] = rate
        selected = []
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if params:
                selected.append((group, params))
        if not selected:
            raise ValueError("No gradients provided for any variable (every parameter's .grad is None).")
        grads: TensorList = [p.grad for _, params in selected for p in params]
        grads = self._scaled_and_clipped(grads)
        start = 0
        for group, params in selected:
            group_grads = grads[start:start + len(params)]
            start += len(params)
            dtype = params[0].dtype
            lr, lr_in_dtype = self._rate_tensors(float(group["lr"]), dtype)
            if self.weight_decay is not None:
                factor = 1 - self.weight_decay * lr
                torch._foreach_mul_(params, float(factor))
            slots: dict[str, TensorList] = {slot: [self.state[p][slot] for p in params]
                                            for slot in self.slot_names}
            self._update(params, group_grads, slots, lr_in_dtype, dtype)
        self._after_step()
        self._iterations += 1
        return loss

    def _rate_tensors(self, rate: float, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """The learning rate as Keras keeps it (a float32 variable), and that value in the parameters' dtype.
        The last pair is kept for the next step (the rules only read them): making them was a visible share
        of a small model's step."""
        kept = self.__dict__.get("_kept_rate")
        if kept is not None and kept[0] == rate and kept[1] == dtype:
            return kept[2], kept[3]
        lr = _host(rate, torch.float32)
        pair = (lr, lr.to(dtype))
        self._kept_rate = (rate, dtype, *pair, float(pair[1]))
        return pair

    def _rate_float(self, lr: torch.Tensor) -> float:
        """`float(lr)` for the rate tensor a rule was given, kept with it."""
        kept = self.__dict__.get("_kept_rate")
        return kept[4] if kept is not None and kept[3] is lr else float(lr)

    def apply(self, grads: Iterable[Any], trainable_variables: Iterable[Any] | None = None) -> None:
        """Keras's `optimizer.apply(grads, trainable_variables)`: one update of `trainable_variables` from
        `grads` (in the same order; a None gradient leaves its variable as it is), as a model's own
        `train_step` calls it. Builds the optimizer on those variables first when it is not built; without
        them, the variables it was built on. Only the variables given move, whatever `.grad` the others
        hold; the `.grad` of each is left as it was.
        """
        grads = list(grads)
        if trainable_variables is None:
            if not self.built:
                raise ValueError(f"{type(self).__name__}.apply(grads) before the optimizer is built: pass "
                                 "trainable_variables (the weights the gradients belong to)")
            variables = [p for group in self.param_groups for p in group["params"]]
        else:
            variables = list(trainable_variables)
            if not self.built:
                self.build(variables)
        if len(grads) != len(variables):
            raise ValueError(f"{type(self).__name__}.apply: got {len(grads)} gradients for {len(variables)} "
                             "variables; give one gradient (or None) per variable")
        given = {id(v): g for v, g in zip(variables, grads)}
        owned = [p for group in self.param_groups for p in group["params"]]
        owned_ids = {id(p) for p in owned}
        unknown = [i for i, v in enumerate(variables) if given[id(v)] is not None and id(v) not in owned_ids]
        if unknown:
            raise ValueError(f"{type(self).__name__}.apply: the variables at positions {unknown} are not among "
                             "those the optimizer was built on; use one optimizer per set of weights")
        saved = [(p, p.grad) for p in owned]
        try:
            for p in owned:
                grad = given.get(id(p))
                p.grad = None if grad is None else torch.as_tensor(grad, dtype=p.dtype, device=p.device)
            if any(p.grad is not None for p in owned):
                self.step()
        finally:
            for p, grad in saved:
                p.grad = grad

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Any]]) -> None:
        """Keras's `apply_gradients([(grad, variable), ...])`: `apply` on the pairs."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def _scaled_and_clipped(self, grads: TensorList) -> TensorList:
        if self.loss_scale_factor is not None:
            grads = torch._foreach_div(grads, self.loss_scale_factor)
        if self.clipnorm is not None and self.clipnorm > 0:
            clip = self.clipnorm
            norms = torch._foreach_sqrt([torch.sum(square) for square in torch._foreach_mul(grads, grads)])
            return torch._foreach_div(torch._foreach_mul(grads, clip), torch._foreach_clamp_min(norms, clip))
        if self.global_clipnorm is not None and self.global_clipnorm > 0:
            clip = self.global_clipnorm
            norm = torch.sqrt(torch.sum(torch.stack([torch.sum(torch.square(g)) for g in grads])))
            inverse_clip = torch.tensor(1.0 / clip, dtype=norm.dtype, device=norm.device)
            scale = clip * torch.minimum(1.0 / norm, inverse_clip)
            scale = scale + (norm - norm)   # NaN when the norm is not finite, as Keras
            return torch._foreach_mul(grads, scale)
        if self.clipvalue is not None and self.clipvalue > 0:
            value = self.clipvalue
            return torch._foreach_clamp_max(torch._foreach_clamp_min(grads, -value), value)
        return list(grads)

    def _update(self, params: TensorList, grads: TensorList, slots: dict[str, TensorList],
                lr: torch.Tensor, dtype: torch.dtype) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not define its update rule (_update)")

    def _after_step(self) -> None:
        """Optimizer-wide state a rule keeps beyond the per-parameter slots (Nadam's) is committed here."""

    # -- state ---------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """torch's optimizer state (slots under `"state"`, `"param_groups"`) plus `"iterations"`.

        The slot tensors are copies, so the dict is a snapshot that later steps do not change.
        """
        state = super().state_dict()
        state["state"] = {index: {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in slots.items()}
                          for index, slots in state["state"].items()}
        state["iterations"] = self._iterations
        state["extra"] = dict(self._extra_state)
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restores what `state_dict()` saved: the slots, the groups' `"lr"`, `iterations`."""
        state_dict = dict(state_dict)
        iterations = state_dict.pop("iterations", None)
        extra = state_dict.pop("extra", {})
        super().load_state_dict(state_dict)
        for slots in self.state.values():
            for key, value in slots.items():
                if isinstance(value, torch.Tensor):
                    slots[key] = value.clone()   # never alias the caller's tensors
        if iterations is not None:
            self._iterations = int(iterations)
        self._extra_state.update(extra)

    # -- configuration -------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Keras's configuration keys and values (a schedule in Keras's serialized form)."""
        if isinstance(self._schedule, LearningRateSchedule):
            learning_rate: Any = serialize_schedule(self._schedule)
        elif self._schedule is not None:
            learning_rate = self._schedule
        else:
            learning_rate = self._current_learning_rate()
        return {"name": self.name, "learning_rate": learning_rate, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
                "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency,
                "loss_scale_factor": self.loss_scale_factor,
                "gradient_accumulation_steps": self.gradient_accumulation_steps}

    @classmethod
    def from_config(cls: type[_O], config: dict[str, Any]) -> _O:
        """Rebuilds an optimizer from `get_config()` (ours or Keras's)."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = deserialize_schedule(config["learning_rate"])
        return cls(**config)

    def __getstate__(self) -> dict[str, Any]:
        # torch keeps only defaults, state and param_groups; Keras's attributes travel too (copy, pickle).
        state = super().__getstate__()
        state.update({k: v for k, v in self.__dict__.items() if not k.startswith("_optimizer_")})
        return state

    def __repr__(self) -> str:
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({arguments})"


# The base class's `step` as defined above; torch wraps it in each subclass on its first instance.
_PLAIN_STEP = Optimizer.step


def check_unit_interval(value: Any, argument: str, owner: str) -> float:
    """A float in [0, 1] (Keras's momentum and decay-rate arguments)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= float(value) <= 1:
        raise ValueError(f"{owner}: `{argument}` must be a float between [0, 1], got {value!r}")
    return float(value)


def check_float(value: Any, argument: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{owner}: `{argument}` must be a float, got {value!r}")
    return float(value)


def host_scalar(value: float | torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A 0-d host tensor of `dtype` (the rules' scalar math runs on these, never on the device)."""
    return _host(value, dtype)

