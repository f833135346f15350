"""`Operation`: a `keras.ops` call recorded in a functional graph, as Keras 3 records one.

Called on torch tensors (or NumPy arrays, Python numbers) a `kr.ops`
function computes at once. Called on KerasTensors (`kr.Input` and what
layers return on it) it makes an `Operation`, a small layer with Keras's
class name (`"Add"`, `"GetItem"`, `"Mean"`) and its constructor arguments
as config (`{"axis": 1, "keepdims": False}`), and records its call with
`symbolic_call`, so `kr.Model` runs it like a layer. As in Keras, an
operation holds no weights, drops masks, and is listed in
`model.operations` but not in `model.layers`.

`@operation("Mean", config=("axis", "keepdims"))` on the eager function
declares which of its arguments are the operation's config (Keras's
constructor arguments); the others are the call's arguments (tensors,
numbers, a `GetItem` key).
"""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numpy as np
import torch
from torch.utils import _pytree as pytree

from ..core.layer import Layer, snake_case, unique_name
from ..core.symbolic import KerasTensor, has_symbolic

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class OperationSpec:
    """One `keras.ops` operation: its Keras class name and module, and how its function is split."""
    keras_name: str          # "Add", "GetItem", ...
    module: str              # "keras.src.ops.numpy", "keras.src.ops.nn", ...
    function: Callable[..., Any]   # the eager function (torch tensors in, torch tensors out)
    config: tuple[str, ...]  # the function's arguments that are Keras's constructor arguments
    call: tuple[str, ...]    # the others, in order: the call's arguments
    # For an operation whose output sizes depend on the values (`unique`), where the probes cannot tell them:
    # (config, the shapes of its symbolic inputs) -> the shapes of its outputs, as Keras's symbolic call gives.
    symbolic_shapes: Callable[[dict[str, Any], list[tuple]], list[tuple]] | None = None
    # For an operation whose outputs' first axis is not the batch axis (`logspace`'s `num`, `correlate`'s lags):
    # its symbolic outputs keep the sizes the two probes agree on there, as Keras's symbolic call knows them.
    first_axis_probed: bool = False

    @property
    def public_name(self) -> str:
        """The `kr.ops` name (an operation whose public function standardizes arguments first is `_name`)."""
        return self.function.__name__.lstrip("_")

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # Pickled by Keras name: the module's attribute of the function's name is its dispatching wrapper.
        return spec_named, (self.keras_name,)


def spec_named(keras_name: str) -> OperationSpec:
    """The registered operation of a Keras class name (how a pickled model finds its operations again)."""
    return OPERATIONS[keras_name]


OPERATIONS: dict[str, OperationSpec] = {}
"""Keras class name -> the operation, for every operation a file may hold."""

MODULES = {"numpy": "keras.src.ops.numpy", "nn": "keras.src.ops.nn", "core": "keras.src.ops.core",
           "math": "keras.src.ops.math", "linalg": "keras.src.ops.linalg", "einops": "keras.src.ops.einops",
           "image": "keras.src.ops.image"}


def operation(keras_name: str, *, config: tuple[str, ...] = (), module: str = "numpy",
              symbolic_shapes: Callable[[dict[str, Any], list[tuple]], list[tuple]] | None = None,
              first_axis_probed: bool = False) -> Callable[[F], F]:
    """Declare an eager function as the `kr.ops` function of Keras's operation `keras_name`
    (`symbolic_shapes`, `first_axis_probed`: see `OperationSpec`)."""
    def decorate(function: F) -> F:
        parameters = list(inspect.signature(function).parameters.values())
        call = tuple(p.name for p in parameters if p.name not in config)
        spec = OperationSpec(keras_name, MODULES[module], function, config, call, symbolic_shapes,
                             first_axis_probed)
        OPERATIONS[keras_name] = spec
        signature = inspect.signature(function)

        @functools.wraps(function)
        def dispatch(*args: Any, **kwargs: Any) -> Any:
            if has_symbolic(args, kwargs):
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                values = bound.arguments
                settings = {name: _plain(values[name]) for name in config}
                call_args = []
                for name in call:
                    kind = signature.parameters[name].kind
                    if kind is inspect.Parameter.VAR_POSITIONAL:
                        call_args.extend(values.get(name, ()))
                    else:
                        call_args.append(values[name])
                return Operation(spec, settings)(*call_args)
            return function(*args, **kwargs)
        dispatch.spec = spec            # type: ignore[attr-defined]
        return cast(F, dispatch)
    return decorate


def _plain(value: Any) -> Any:
    """A config value in the form Keras's JSON holds: tuples as lists, dtypes by Keras's name."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, torch.dtype):
        return str(value).replace("torch.", "")
    return value


class Constant:
    """A torch tensor or NumPy array among an operation's recorded call arguments: the value is the
    operation's (non-persistent) buffer `key`, so `model.to(device)` and `.to(dtype)` move it as they
    move weights. `numpy` says which it was, for the config Keras writes."""

    __slots__ = ("key", "numpy")

    def __init__(self, key: str, numpy: bool) -> None:
        self.key, self.numpy = key, numpy

    def __repr__(self) -> str:
        return f"Constant({self.key!r})"

    def __getstate__(self) -> tuple[str, bool]:
        return self.key, self.numpy

    def __setstate__(self, state: tuple[str, bool]) -> None:
        self.key, self.numpy = state


def _is_keras_tensor(value: Any) -> bool:
    return isinstance(value, KerasTensor)


def _is_constant_value(value: Any) -> bool:
    return isinstance(value, (torch.Tensor, np.ndarray)) and not has_symbolic((value,), {})


class Operation(Layer):
    """A `kr.ops` call in a functional graph: Keras's operation `spec.keras_name` with `config`.

    Made by the `kr.ops` functions and KerasTensor's operators when they meet
    symbolic tensors, and by `kr.Model.from_config` / `kr.from_keras` for a
    file's operation entries; not by hand.
    """

    is_operation = True

    def __init__(self, spec: OperationSpec, config: dict[str, Any] | None = None, name: str | None = None) -> None:
        super().__init__(name=name or unique_name(snake_case(spec.keras_name)))
        self.spec = spec
        self.config = dict(config or {})

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        symbolic = has_symbolic(args, kwargs)
        inputs = pytree.tree_leaves((args, kwargs), is_leaf=_is_keras_tensor)
        if symbolic:
            # Recorded in a graph: each tensor or NumPy constant becomes a buffer of this operation.
            args, kwargs = pytree.tree_map(self._hold, (args, kwargs), is_leaf=_is_constant_value)
        outputs = super().__call__(*args, **kwargs)
        if symbolic and self.spec.symbolic_shapes is not None:
            shapes = self.spec.symbolic_shapes(self.config, [t.shape for t in inputs if _is_keras_tensor(t)])
            for t, shape in zip(pytree.tree_leaves(outputs, is_leaf=_is_keras_tensor), shapes):
                t.shape = tuple(shape)
        elif symbolic and self.spec.first_axis_probed:
            for t in pytree.tree_leaves(outputs, is_leaf=_is_keras_tensor):
                first, second = t.examples
                if t.shape and first.dim() == second.dim() and first.shape[0] == second.shape[0]:
                    t.shape = (int(first.shape[0]), *t.shape[1:])
        return outputs

    def _hold(self, value: Any) -> Any:
        if not _is_constant_value(value):
            return value
        key = f"constant_{sum(1 for name in self._buffers if name.startswith('constant_'))}"
        if isinstance(value, np.ndarray):        # as kr.ops converts NumPy (uint32, which torch lacks, as int64)
            value_tensor = torch.from_numpy(np.ascontiguousarray(value.astype(np.int64) if value.dtype == np.uint32
                                                                 else value))
        else:
            value_tensor = value
        self.register_buffer(key, value_tensor, persistent=False)
        return Constant(key, isinstance(value, np.ndarray))

    def move_constants(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
        """Apply a module move (`.to()`, `.double()`, ...) to the recorded constants: the owning model calls
        it, as an operation is no submodule of it."""
        if self._buffers:
            self._apply(fn)

    def constant_value(self, constant: Constant) -> torch.Tensor | np.ndarray:
        """A recorded constant's value now (on the operation's device and dtype), as it was given: a
        tensor, or a NumPy array (on the CPU) for one given as NumPy."""
        value = self._buffers[constant.key]
        assert value is not None            # registered by `_hold`
        return value.detach().cpu().numpy() if constant.numpy else value

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        # keyword arguments: a call's own, as Keras records them (`Rearrange`'s axis sizes)
        if self._buffers:
            args, kwargs = pytree.tree_map(lambda v: self._buffers[v.key] if isinstance(v, Constant) else v,
                                           (args, kwargs))
        return self.spec.function(*args, **kwargs, **self.config)

    def get_config(self) -> dict[str, Any]:
        """Keras's config of the operation: its name and constructor arguments."""
        return {"name": self.name, **self.config}

    def keras_entry(self) -> dict[str, Any]:
        """The operation's entry in a functional config, as Keras 3 writes it (without `inbound_nodes`)."""
        return {"module": self.spec.module, "class_name": self.spec.keras_name, "config": self.get_config(),
                "registered_name": self.spec.keras_name, "name": self.name}

    @classmethod
    def from_keras_entry(cls, entry: dict[str, Any], owner: str) -> "Operation":
        """The operation of a Keras functional config's entry (`{"class_name": "Add", "config": ...}`)."""
        name = str(entry.get("class_name"))
        spec = OPERATIONS.get(name)
        if spec is None:
            known = ", ".join(sorted(OPERATIONS))
            raise ValueError(f"{owner}: the model uses the keras.ops operation '{name}' "
                             f"({entry.get('name') or name}), which kr.ops does not implement; kr.ops has {known}. "
                             "Compute it inside a kr.Lambda or a kr.Layer subclass instead, and save the model again")
        config = dict(entry.get("config") or {})
        layer_name = config.pop("name", None) or entry.get("name")
        unknown = sorted(set(config) - set(spec.config))
        if unknown:
            raise ValueError(f"{owner}: the keras.ops operation '{name}' has arguments {unknown} that kr.ops."
                             f"{spec.public_name} does not take (it takes {list(spec.config)})")
        return cls(spec, config, name=layer_name)

    def extra_repr(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.config.items())
        return f"{self.spec.keras_name}({settings}), name={self.name!r}"


def is_operation(layer: Any) -> bool:
    """Whether a node's callable is a `kr.ops` operation (not a layer)."""
    return getattr(layer, "is_operation", False) is True
