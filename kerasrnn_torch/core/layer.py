"""`Layer`: what every kerasrnn_torch module shares with a Keras layer.

Keras-named weights created by `add_weight` (registered as parameters in Keras's
order, so `parameters()` and `get_weights()` agree), a lazy `build` from the
first input or an eager one from `input_shape=` / `input_dim=`, the Keras
weight API (`get_weights`, `set_weights`, `count_params`), `compute_mask`, and
regularization `losses`.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import itertools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch
from torch import nn
from torch.utils import _pytree as pytree

from .. import _dtypes, constraints, initializers, regularizers
from ..weight import Weight
from .._types import DeviceLike, InitializerLike, InputShape, ShapeLike
from .._checks import add_note, describe, positive_int, shape_hint, shape_of, shape_text, weight_tensors
from .symbolic import (bind_arguments, build_shape, call_parameters, first_node, has_symbolic, output_shape_of,
                       spec_shape, symbolic_call)
from .input_spec import InputSpec, check_inputs
from .config import serialize_object
from .docstrings import document_constructor
from .tracking import expanded_children, tracked

_name_counters: defaultdict[str, itertools.count] = defaultdict(itertools.count)
LayerT = TypeVar("LayerT", bound="Layer")


def snake_case(name: str) -> str:
    """Keras's layer-name rule: "SimpleRNN" -> "simple_rnn", "MaxPooling1D" -> "max_pooling1d"."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(?<=.)([A-Z][a-z]+)", r"_\1", name)       # a capitalised word starts a part
    return re.sub(r"(?<=[a-z])([A-Z])", r"_\1", name).lower()  # so does a capital after a lowercase letter


def unique_key(base: str, used: dict) -> str:
    """Keras's per-container numbering of weights-file keys: "lstm", "lstm_1", "lstm_2", ..."""
    if base in used:
        used[base] += 1
        return f"{base}_{used[base]}"
    used[base] = 0
    return base


def unique_name(base: str) -> str:
    """Keras's automatic names: "lstm", "lstm_1", "lstm_2", ..."""
    n = next(_name_counters[base])
    return base if n == 0 else f"{base}_{n}"


def dtype_policy(dtype: torch.dtype) -> dict[str, Any]:
    """Keras's serialized dtype policy for weights of `dtype`."""
    name = _dtypes.NAMES.get(dtype, str(dtype).replace("torch.", ""))
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name}, "registered_name": None}


def dtype_from_policy(policy: dict[str, Any] | str | torch.dtype | None, owner: str) -> torch.dtype | None:
    """The weights' torch dtype for a Keras dtype policy (a dict, a name, a torch dtype or None).

    Mixed policies ("mixed_float16") keep float32 weights, as in Keras; the
    compute dtype is torch.autocast's business.
    """
    if policy is None or isinstance(policy, torch.dtype):
        return policy
    name = policy.get("config", {}).get("name") if isinstance(policy, dict) else str(policy)
    if name is None:
        return None
    if name.startswith("mixed_"):
        name = "float32"
    if name not in _dtypes.FLOATING:
        raise ValueError(f"{owner}: dtype {name!r} is not supported; use one of {', '.join(_dtypes.FLOATING)} or a "
                         "mixed_* policy (float32 weights; use torch.autocast for the compute dtype)")
    return _dtypes.BY_NAME[name]


def weight_labels(module: nn.Module, targets: Sequence[torch.Tensor]) -> list[str]:
    """How messages name each of `targets`: its position and its parameter name in `module` ("2 ('cell.bias')")."""
    names = {id(parameter): name for name, parameter in module.named_parameters()}
    return [f"{i} ('{names[id(t)]}')" if id(t) in names else str(i) for i, t in enumerate(targets)]


def assign_weights(targets: Iterable[torch.Tensor], tensors: Iterable[torch.Tensor]) -> None:
    """Copy already converted and checked tensors into their weights (the only step that writes)."""
    with torch.no_grad():
        for target, tensor in zip(targets, tensors):
            target.copy_(tensor)


@contextlib.contextmanager
def _placeholders_hidden(layer: nn.Module) -> Iterator[None]:
    """The layer's weight placeholders out of `_parameters` for the block (torch passes None over)."""
    hidden = {name: p for name, p in layer._parameters.items() if isinstance(p, nn.UninitializedParameter)}
    for name in hidden:
        layer._parameters[name] = None
    try:
        yield
    finally:
        layer._parameters.update(hidden)


def _column_major(shape: tuple[int, ...], **factory_kwargs: Any) -> torch.Tensor:
    """An uninitialised `shape` matrix whose transpose is contiguous."""
    return torch.empty(shape[::-1], **factory_kwargs).t()


def _moved_placeholder(placeholder: nn.UninitializedParameter,
                       fn: Callable[[torch.Tensor], torch.Tensor]) -> nn.UninitializedParameter:
    """`placeholder` on the device and dtype `fn` gives: the same object where torch can swap its
    storage (optimizers made before the build keep it), a new placeholder otherwise (from or to
    the meta device), as `Module._apply` does with built parameters."""
    target = fn(torch.empty(0, device=placeholder.device, dtype=placeholder.dtype))
    if (target.device, target.dtype) == (placeholder.device, placeholder.dtype):
        return placeholder
    if torch._has_compatible_shallow_copy_type(placeholder, target):
        with torch.no_grad():
            placeholder.data = target
        return placeholder
    # torch's parameter.pyi lacks UninitializedParameter's device and dtype arguments.
    return nn.UninitializedParameter(requires_grad=placeholder.requires_grad,  # type: ignore[call-arg]
                                     device=target.device, dtype=target.dtype)


def _empty_record(name: str) -> list[torch.Tensor] | None:
    """What a call record holds before any call."""
    return [] if name in ("_activity_losses", "_added_losses") else None


# ------------------------------------------------------------ Keras-style layers (`call`, not `forward`)
# Keras's call context: the `training` value the innermost running call resolved (None outside any call that
# had one). A Keras-style call given no `training` takes it, as Keras's inner layers take their caller's.
_training_context: list[bool] = []


@contextlib.contextmanager
def training_context(training: bool | None) -> Iterator[None]:
    """The block runs as inside a call with `training` (None: no change): Keras-style layers called in it
    without `training` take this value."""
    if training is None:
        yield
        return
    _training_context.append(bool(training))
    try:
        yield
    finally:
        _training_context.pop()


# How many Keras-style calls are running now: the outermost one clears the `add_loss` terms of its
# layer and the layers inside it, as Keras clears them at the start of the top-level call.
_keras_call_depth = [0]
_ARRAY_TYPES = (np.ndarray, np.generic)


def _is_keras_call(function: Any) -> bool:
    return getattr(function, "_keras_call", False)


def _own_call_function(cls: type) -> Callable[..., Any] | None:
    """The `call` a Keras-style class runs, or None where a `forward` comes first in the MRO.

    The nearest class (below `Layer`) that defines `call` or `forward` decides; a class defining both
    runs its `forward`. The wrappers installed here count as that class's `call`.
    """
    for klass in cls.__mro__:
        if klass is Layer:
            return None
        forward = vars(klass).get("forward")
        if forward is not None and not _is_keras_call(forward):
            return None
        if "call" in vars(klass):
            return vars(klass)["call"]
        if forward is not None:              # an inherited wrapper: the call it wraps
            return forward.__wrapped__
    return None


def _keras_forward(call: Callable[..., Any]) -> Callable[..., Any]:
    """A `forward` that runs a Keras layer's `call` as Keras's `Layer.__call__` does (see `Layer.run_call`).

    It carries `call`'s signature (`__wrapped__`), which the functional API and the containers read.
    """
    signature = inspect.signature(call)
    names = [n for n in signature.parameters if n != "self"]
    training_index = names.index("training") if "training" in names else None
    if training_index is not None and signature.parameters["training"].kind not in (
            inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.POSITIONAL_ONLY):
        training_index = -1                  # keyword-only

    default = signature.parameters["training"].default if training_index is not None else None
    training_default = None if default is inspect.Parameter.empty or default is None else bool(default)

    @functools.wraps(call)
    def forward(self: Layer, *args: Any, **kwargs: Any) -> Any:
        return self.run_call(call, training_index, args, kwargs, training_default)
    forward._keras_call = True  # type: ignore[attr-defined]
    return forward


def _keras_build(build: Callable[..., Any]) -> Callable[..., Any]:
    """A Keras-style `build` that marks the layer built, and names the layer and shape when it fails."""
    @functools.wraps(build)
    def wrapped(self: Layer, *args: Any, **kwargs: Any) -> None:
        try:
            build(self, *args, **kwargs)
        except Exception as error:
            shapes = ", ".join(repr(a) for a in (*args, *kwargs.values()))
            raise _renamed(error, f"{describe(self)}: build({shapes}) failed: {error}") from error
        self.built = True
    wrapped._keras_build = True  # type: ignore[attr-defined]
    return wrapped


def _weightless_forward(cls: type) -> bool:
    """Whether the `forward` `cls` inherits belongs to a layer without a `build` of its own (a weightless
    built-in layer, built at construction), so nothing in it builds a subclass that adds one."""
    for klass in cls.__mro__[1:]:
        if "forward" in vars(klass):
            own_build = getattr(klass, "build", None)
            return own_build is Layer.build or bool(getattr(vars(klass)["forward"], "_builds_first", False))
    return False


def _building_forward(forward: Callable[..., Any]) -> Callable[..., Any]:
    """The inherited `forward` of a weightless layer, for a subclass that overrides `build`: as Keras's
    `__call__`, the first call builds it (from its tensor arguments' shapes) before computing."""
    forward = getattr(forward, "__wrapped__", forward) if getattr(forward, "_builds_first", False) else forward

    @functools.wraps(forward)
    def building(self: Layer, *args: Any, **kwargs: Any) -> Any:
        if not self.built:
            self._build_for_call(args, kwargs)
        return forward(self, *args, **kwargs)
    building._builds_first = True  # type: ignore[attr-defined]
    return building


def _renamed(error: Exception, message: str) -> Exception:
    """`error`'s type with `message` (the error itself, with `message` as a note, where the type cannot be made so)."""
    try:
        renamed = type(error)(message)
    except Exception:
        add_note(error, message)
        return error
    return renamed if str(renamed) == message else error


def _shapes(value: Any) -> Any:
    """Keras's `build` argument for one call argument: a tensor's shape as a tuple, lists of them as lists."""
    if isinstance(value, torch.Tensor):
        return build_shape(value)
    if isinstance(value, (list, tuple)):
        return [_shapes(v) for v in value]
    if isinstance(value, dict):
        return {k: _shapes(v) for k, v in value.items()}
    return None


def _holds_tensor(value: Any) -> bool:
    return any(isinstance(leaf, torch.Tensor) for leaf in pytree.tree_leaves(value))


_CONFIG_TYPES = (str, int, float, bool, type(None))


def _recording_arguments(init: Callable[..., None]) -> Callable[..., None]:
    """A Keras-style `__init__` that keeps its arguments for Keras's automatic `get_config` (the outermost
    constructor's, where every value is a plain one: see `_auto_config`)."""
    @functools.wraps(init)
    def recording(self: Layer, *args: Any, **kwargs: Any) -> None:
        if "_auto_config" not in self.__dict__:
            self.__dict__["_auto_config"] = _auto_config(type(self), args, kwargs)
        init(self, *args, **kwargs)
    return recording


def _accepts(cls: type, argument: str) -> bool:
    """Whether `cls(argument=...)` is a valid call: a parameter of that name, or `**kwargs`."""
    parameters = inspect.signature(getattr(cls, "__init__")).parameters
    return argument in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def _auto_config(cls: type, args: tuple, kwargs: dict) -> dict[str, Any] | None:
    """Keras's automatic config: the constructor's arguments (defaults included), where all are plain values."""
    try:
        signature = inspect.signature(getattr(cls, "__init__"))
        bound = signature.bind(None, *args, **kwargs)
    except (TypeError, ValueError):
        return None
    bound.apply_defaults()
    config: dict[str, Any] = {}
    for index, (name, value) in enumerate(bound.arguments.items()):
        kind = signature.parameters[name].kind
        if index == 0:
            continue                            # self
        if kind is inspect.Parameter.POSITIONAL_ONLY or (kind is inspect.Parameter.VAR_POSITIONAL and value):
            return None
        if kind is inspect.Parameter.VAR_KEYWORD:
            config.update(value)
        elif kind is not inspect.Parameter.VAR_POSITIONAL:
            config[name] = value
    config.pop("name", None)
    if not all(isinstance(leaf, _CONFIG_TYPES) for leaf in pytree.tree_leaves(config)):
        return None
    return config


def _tracking_setattr(original: Callable[[Any, str, Any], None]) -> Callable[[Any, str, Any], None]:
    """A Keras-style layer's attribute assignment: lists and dicts of layers are tracked (core/tracking.py),
    then `original` (the class's inherited `__setattr__`) assigns."""
    def __setattr__(self: nn.Module, name: str, value: Any) -> None:
        if isinstance(value, (list, tuple, dict)) and not name.startswith("_"):
            value = tracked(value, describe(self), name)
        if isinstance(value, nn.Module) and not self.__dict__.get("_trainable", True):
            # A frozen layer's trainable weights are none (Keras's rule): the layers it takes on are frozen too.
            for inner in [value, *expanded_children(value)] if not isinstance(value, Layer) else [value]:
                if isinstance(inner, Layer):
                    inner.trainable = False
        original(self, name, value)
    __setattr__.tracks_sublayers = True  # type: ignore[attr-defined]
    return __setattr__


@contextlib.contextmanager
def _in_mode(module: nn.Module, training: bool) -> Iterator[None]:
    """`module` and everything inside it in train (True) or eval (False) mode for the block."""
    flags = [(m, m.training) for m in module.modules()]
    if all(flag == training for _, flag in flags):
        yield
        return
    module.train(training)
    try:
        yield
    finally:
        for m, flag in flags:
            m.training = flag


def plain_keywords(kwargs: dict) -> bool:
    """Whether a call's keyword arguments are only tensors, flags and None (a container's `training` and
    `mask`): nothing symbolic to record and no array to convert, so the call may take the hot path."""
    for value in kwargs.values():
        if value is not None and type(value) is not torch.Tensor and type(value) is not bool:
            return False
    return True


def _is_number_list(value: Any) -> bool:
    """A non-empty (nested) list or tuple of Python numbers: data Keras turns into a tensor."""
    if not isinstance(value, (list, tuple)) or not value:
        return False
    return all(isinstance(v, (int, float)) or _is_number_list(v) for v in value)


def _holds_array(values: Iterable[Any]) -> bool:
    """Whether call arguments hold a NumPy array or a list of numbers (in a list, tuple or dict too)."""
    for value in values:
        if type(value) is torch.Tensor:
            continue
        if isinstance(value, _ARRAY_TYPES) or _is_number_list(value):
            return True
        if isinstance(value, (list, tuple)) and _holds_array(value):
            return True
        if isinstance(value, dict) and _holds_array(value.values()):
            return True
    return False


def _to_tensor(value: Any, dtype: torch.dtype, device: torch.device | None, keep_bool: bool = False) -> Any:
    """Call data as Keras converts it: NumPy arrays and lists of numbers to tensors, floating-point
    and boolean ones in `dtype`, integer ones int64 (ids); lists of tensors stay lists."""
    if isinstance(value, _ARRAY_TYPES) or _is_number_list(value):
        array = np.asarray(value)
        if array.dtype.kind == "b" and keep_bool:
            return torch.as_tensor(array, device=device)
        if array.dtype.kind in "fb":
            return torch.as_tensor(array, device=device).to(dtype)
        if array.dtype.kind in "iu":
            return torch.as_tensor(array.astype(np.int64, copy=False), device=device)
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_to_tensor(v, dtype, device, keep_bool) for v in value)
    if isinstance(value, dict):
        return {k: _to_tensor(v, dtype, device, keep_bool) for k, v in value.items()}
    return value


class Layer(nn.Module):
    """Base class: Keras weight API and lazy build on a `torch.nn.Module`.

    Subclasses implement `build(input_shape)` (creating weights with
    `add_weight`) and `forward`. `input_shape` excludes the batch axis, as in
    Keras 2's `input_shape=` argument; `input_dim` is the feature size alone.

    Args:
        name: the layer's name (default: Keras's automatic one from the class
            name, "lstm", "lstm_1", ...).
        input_shape: the input's shape without the batch axis; with it (or
            `input_dim`) the weights are created at construction, without it
            at the first call. Give one or the other, not both.
        input_dim: the size of the input's last axis.
        device, dtype: where and in which dtype the weights are created
            (PyTorch's factory arguments; default: PyTorch's defaults).

    >>> class Scale(Layer):
    ...     def build(self, input_shape):
    ...         self.add_weight("scale", (input_shape[-1],), "ones")
    ...         self.built = True
    ...     def forward(self, inputs):
    ...         self.maybe_build(inputs.shape)
    ...         return inputs * self.scale
    >>> layer = Scale()
    >>> layer(torch.randn(2, 3)).shape, layer.count_params()
    (torch.Size([2, 3]), 3)
    """

    # The attributes holding the inner layers a Keras file keeps under those names (set by
    # `register_keras_class(..., sublayers=...)`); empty: the weight-holding child layers.
    keras_sublayer_attributes: ClassVar[tuple[str, ...]] = ()

    # Whether this class runs a Keras layer's `call` (see `__init_subclass__`); built-in layers define `forward`.
    keras_style: ClassVar[bool] = False
    # Keras's switch: whether `compute_mask`'s default passes the incoming mask on (else: no mask).
    supports_masking: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass that defines Keras's `call(self, inputs, training=None, mask=None)` and no `forward`
        runs it through `run_call` (build from the first input's shape, `training`, `add_loss`), and its
        `build` marks it built; one that defines `forward` runs as a `torch.nn.Module`, unchanged."""
        super().__init_subclass__(**kwargs)
        document_constructor(cls)
        spec = vars(cls).get("input_spec")
        if spec is not None and not isinstance(spec, property):
            # `input_spec = InputSpec(...)` in the class body: every instance's spec, which each call checks.
            delattr(cls, "input_spec")
            Layer.input_spec.fset(cls, spec)  # type: ignore[attr-defined]
        call = _own_call_function(cls)
        cls.keras_style = call is not None
        if call is None:
            if "build" in vars(cls) and "forward" not in vars(cls) and _weightless_forward(cls):
                cls.forward = _building_forward(cls.forward)   # type: ignore[method-assign]
            return
        if "call" in vars(cls):
            cls.forward = _keras_forward(call)      # type: ignore[method-assign]
        if not getattr(cls.__setattr__, "tracks_sublayers", False):
            cls.__setattr__ = _tracking_setattr(cls.__setattr__)   # type: ignore[method-assign,assignment]
        build = vars(cls).get("build")
        if build is not None and not getattr(build, "_keras_build", False):
            cls.build = _keras_build(build)         # type: ignore[method-assign]
        init = vars(cls).get("__init__")
        if init is not None and cls.get_config is Layer.get_config:
            cls.__init__ = _recording_arguments(init)  # type: ignore[method-assign]
        if "supports_masking" not in vars(cls) and cls.compute_mask is Layer.compute_mask and not any(
                "supports_masking" in vars(k) for k in cls.__mro__[1:cls.__mro__.index(Layer)]):
            cls.supports_masking = False            # Keras: masking is supported where compute_mask is defined

    def __init__(self, *, name: str | None = None, input_shape: ShapeLike | None = None, input_dim: int | None = None,
                 device: DeviceLike = None, dtype: torch.dtype | str | dict[str, Any] | None = None,
                 trainable: bool = True, activity_regularizer: Any = None) -> None:
        super().__init__()
        self.name = name or unique_name(snake_case(type(self).__name__))
        if not isinstance(trainable, (bool, np.bool_)):
            raise ValueError(f"{describe(self)}: Expected `trainable` to be a boolean. Received: trainable={trainable!r} "
                             f"(of type {type(trainable).__name__})")
        if dtype is not None and not isinstance(dtype, torch.dtype):
            dtype = dtype_from_policy(dtype, describe(self))
        self.factory_kwargs: dict[str, Any] = {"device": torch.device(device) if device is not None else None,
                               "dtype": dtype if dtype is not None else torch.get_default_dtype()}
        # As Keras: a layer whose class keeps the default `build` has nothing to build (weightless layers
        # leave `built` to this rule); one that overrides it (a subclass of Masking or Activation, say)
        # is built at its first call (see `_building_forward`).
        self.built = type(self).build is Layer.build
        self._regularized: list[tuple[str, Callable[[torch.Tensor], torch.Tensor]]] = []
        self._constraints: list[tuple[str, Callable[[torch.Tensor], torch.Tensor]]] = []
        self.activity_regularizer: Callable[[torch.Tensor], torch.Tensor] | None = None
        if activity_regularizer is not None:
            if not type(self).keras_style:
                # A built-in layer that has one takes it as its own argument; the others would ignore it.
                raise TypeError(f"{describe(self)}: {type(self).__name__} takes no `activity_regularizer` (a layer "
                                "written Keras's way, with `call`, does)")
            self.activity_regularizer = regularizers.get(activity_regularizer)
        self._activity_losses: list[torch.Tensor] = []
        self._added_losses: list[torch.Tensor] = []
        self.input_shape_hint = self.hint_from(input_shape, input_dim)
        if not trainable:
            self.trainable = False

    # Layers over sequences read `input_dim=n` as the input shape (None, n): any number of timesteps.
    sequence_input = False

    def hint_from(self, input_shape: ShapeLike | None = None,
                  input_dim: int | None = None) -> tuple[int | None, ...] | None:
        """The checked input-shape hint (no batch axis) from `input_shape=` or `input_dim=`, or None."""
        if input_shape is not None and input_dim is not None:
            raise ValueError(f"{describe(self)}: pass either input_shape or input_dim, not both")
        if input_dim is not None:
            features = positive_int(input_dim, "input_dim", describe(self))
            return (None, features) if self.sequence_input else (features,)
        return shape_hint(input_shape, "input_shape", describe(self))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # The hot path: tensors (and keyword flags, see plain_keywords) cost one type check each.
        for value in args:
            if type(value) is not torch.Tensor:
                break
        else:
            if self._input_spec is None and (not kwargs or plain_keywords(kwargs)):
                return super().__call__(*args, **kwargs)
        # Called on kr.Input tensors (the functional API), a layer records the call instead of running it.
        if has_symbolic(args, kwargs):
            if self._input_spec is not None:
                self.check_input_spec(args, kwargs)
            return symbolic_call(self, args, kwargs)
        if self._input_spec is not None:
            self.check_input_spec(args, kwargs)
        if _holds_array(args) or _holds_array(kwargs.values()):
            args, kwargs = self._converted_inputs(args, kwargs)
        return super().__call__(*args, **kwargs)

    # ---------------------------------------------------------------- input_spec
    # None (no checks) unless the layer sets one: the call's hot path reads this class attribute.
    _input_spec: Any = None

    @property
    def input_spec(self) -> Any:
        """What the layer accepts as its first call argument: an `InputSpec`, a list (or nested structure)
        of them, one per input tensor, or None (no check). Each call checks its first argument against it,
        as Keras's layers do, with a ValueError naming the layer, what was expected and what came."""
        return self._input_spec

    @input_spec.setter
    def input_spec(self, value: Any) -> None:
        leaves = pytree.tree_leaves(value, is_leaf=lambda v: v is None or isinstance(v, InputSpec))
        if not all(leaf is None or isinstance(leaf, InputSpec) for leaf in leaves):
            owner = describe(self) if isinstance(self, Layer) else getattr(self, "__name__", "?")
            raise TypeError(f"{owner}: `input_spec` must be an InputSpec, a list of them (one per input tensor) or "
                            f"None, got {value!r}")
        if isinstance(self, type):
            setattr(self, "_input_spec", value if leaves else None)     # a class's spec (see __init_subclass__)
        else:
            self.__dict__["_input_spec"] = value if leaves else None

    def check_input_spec(self, args: tuple, kwargs: dict) -> None:
        """Check the call's first argument against `input_spec` (a ValueError where it does not fit)."""
        spec = self.input_spec
        if spec is None:
            return
        if args:
            first = args[0]
        else:
            try:
                arguments = bind_arguments(self, args, kwargs)
            except TypeError:
                arguments = kwargs          # the call itself will name what does not fit
            first = next(iter(arguments.values()), None)
        dtype = self.factory_kwargs["dtype"]
        check_inputs(spec, first, self.name, float_dtype=dtype if dtype.is_floating_point else None,
                     shape_of=spec_shape)

    def _converted_inputs(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        """NumPy arrays among the call's arguments as tensors, as Keras converts them: floating-point
        and boolean ones in the weights' dtype, integer ones int64 (ids), on the weights' device."""
        dtype, device = self.factory_kwargs["dtype"], self.factory_kwargs["device"]
        if not dtype.is_floating_point:
            dtype = torch.get_default_dtype()
        return (tuple(_to_tensor(v, dtype, device) for v in args),
                {k: v if k == "training" else _to_tensor(v, dtype, device, keep_bool=k.endswith("mask"))
                 for k, v in kwargs.items()})

    def call(self, *args: Any, **kwargs: Any) -> Any:
        """Keras's `call` of a built-in layer: what its `forward` computes. A subclass that defines its own
        `call` (which then runs instead) reaches the built-in computation with `super().call(...)`, as in Keras."""
        for klass in type(self).__mro__:
            if klass is Layer:
                break
            forward = vars(klass).get("forward")
            if forward is not None and not _is_keras_call(forward):
                return forward(self, *args, **kwargs)
        if type(self) is Layer:
            raise NotImplementedError("Layer Layer does not have a `call` method implemented: a subclass defines "
                                      "`call(self, inputs)` (Keras's way) or `forward` (PyTorch's)")
        raise NotImplementedError(f"{describe(self)}: no built-in layer above {type(self).__name__} computes "
                                  "anything for super().call(...) to run; define call() without it")

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """What a layer computes: a subclass defines `call` (Keras's way) or `forward` (PyTorch's)."""
        raise NotImplementedError(
            f"Layer {type(self).__name__} does not have a `call` method implemented: "
            f"{type(self).__name__} defines neither `call` nor `forward`: define "
            f"`call(self, inputs)` (Keras's way; `training=None` and `mask=None` may follow) to say what "
            f"{describe(self)} computes")

    def run_call(self, call: Callable[..., Any], training_index: int | None, args: tuple, kwargs: dict,
                 training_default: bool | None = None) -> Any:
        """Run a Keras layer's `call` as Keras's `Layer.__call__` runs it.

        Builds the layer first if need be (`build` gets the first input's shape as a tuple, batch axis
        first, or a list of shapes for a list of inputs; several `<argument>_shape` parameters get theirs).
        `training`, as Keras resolves it: the value passed; else the enclosing call's (an outer layer's or
        model's `training`, `fit`'s True, `evaluate`/`predict`'s False); else the default of `call`'s
        signature when it is True or False (`call(self, x, training=False)`); else the module's mode
        (`self.training`: `model.train()` / `model.eval()`). The layers inside run in that mode. The
        outermost call clears the `add_loss` terms of the previous call; the activity regularizer, if
        any, applies to the outputs.
        """
        if not self.built:
            self._build_for_call(args, kwargs)
        given: Any = None
        if training_index is not None:
            if 0 <= training_index < len(args):
                given = args[training_index]
            else:
                given = kwargs.get("training")
        else:
            given = kwargs.pop("training", None) if "training" in kwargs else None
        if given is not None:
            training = bool(given)
        elif _training_context:
            training = _training_context[-1]
        elif training_default is not None:
            training = training_default
        else:
            training = self.training
        if training_index is not None:
            if 0 <= training_index < len(args):
                args = (*args[:training_index], training, *args[training_index + 1:])
            else:
                kwargs = {**kwargs, "training": training}
        if _keras_call_depth[0] == 0:
            for module in self.modules():
                if isinstance(module, Layer) and module._added_losses:
                    module._added_losses = []
        _keras_call_depth[0] += 1
        _training_context.append(training)
        state = self.__dict__
        calling = state.get("_in_call", False)
        state["_in_call"] = True            # add_weight refuses to run now, as Keras's locked state does
        try:
            if training == self.training:
                outputs = call(self, *args, **kwargs)
            else:
                with _in_mode(self, training):
                    outputs = call(self, *args, **kwargs)
        finally:
            state["_in_call"] = calling
            _training_context.pop()
            _keras_call_depth[0] -= 1
        if self.activity_regularizer is not None:
            self.record_activity(outputs)
        return outputs

    def _build_for_call(self, args: tuple, kwargs: dict) -> None:
        """Keras's build at the first call: `build(input_shape)` from the call's tensor arguments."""
        if "training" in kwargs and "training" not in call_parameters(self):
            kwargs = {k: v for k, v in kwargs.items() if k != "training"}    # the call context's, not call's
        arguments = bind_arguments(self, args, kwargs)
        shapes = {f"{name}_shape": _shapes(value) for name, value in arguments.items() if _holds_tensor(value)}
        build: Callable[..., None] = self.build
        parameters = [p for p in inspect.signature(build).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if len(parameters) == 1 and shapes:
            build(next(iter(shapes.values())))
        elif parameters:
            call_names = call_parameters(self)
            for p in parameters:         # Keras's rule: several build arguments are named after call's, "<name>_shape"
                rule = (f"a `build()` with more than one argument names each after an argument of `call()` with "
                        f"a `_shape` suffix, e.g. `build(self, foo_shape, bar_shape)` for `call(self, foo, bar)`. "
                        f"For layer '{type(self).__name__}', received `build()` argument `{p.name}`")
                if not p.name.endswith("_shape"):
                    raise ValueError(f"{rule}, which does not end in `_shape`.")
                if p.name[:-len("_shape")] not in call_names:
                    raise ValueError(f"{rule}, but `call()` does not have argument `{p.name[:-len('_shape')]}`.")
            build(**{p.name: shapes.get(p.name) for p in parameters})
        else:
            build()
        self.built = True
        if self._input_spec is not None:        # `build` may set it, as Keras's layers do: the call checks it
            self.check_input_spec(args, kwargs)

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        """The output's shape for inputs of `input_shape` (batch axis first, None where unknown).

        Found by calling the layer on symbolic inputs of that shape (which
        builds it, as Keras's `build` would); several outputs give a tuple
        of shapes, several inputs take a list of shapes. Layers with integer
        inputs (Embedding) say it directly.
        """
        if type(self).forward is Layer.forward:
            raise NotImplementedError(f"Layer {type(self).__name__} does not have a `compute_output_shape` method "
                                      "implemented. Should implement `def compute_output_shape(self, input_shape)` "
                                      "(or `call`, from which it is worked out)")
        return output_shape_of(self, input_shape)

    def _apply(self, fn, recurse=True):
        # `fn` (.to(), .double(), to_empty()'s empty_like, ...) cannot run on a placeholder, which has no
        # values: a placeholder goes where `fn` sends an empty tensor of its device and dtype.
        placeholders: dict[str, Any] = {
            name: p for name, p in self._parameters.items() if isinstance(p, nn.UninitializedParameter)}
        if not placeholders:
            return super()._apply(fn, recurse)
        with _placeholders_hidden(self):
            super()._apply(fn, recurse)
        for name, placeholder in placeholders.items():
            # torch's parameter.pyi does not make UninitializedParameter a Parameter, as it is.
            self._parameters[name] = _moved_placeholder(placeholder, fn)  # type: ignore[assignment]
        return self

    # The placeholders hold no values: state_dict() leaves them out, and load_state_dict() does not
    # ask for them (the weights appear in both once built). A state_dict that holds a placeholder's
    # weight gives it its stored shape and values before the first call, as PyTorch's lazy modules
    # do: the same object (optimizers made before keep it), which the build then keeps.
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        with _placeholders_hidden(self):
            super()._save_to_state_dict(destination, prefix, keep_vars)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        for name, placeholder in list(self._parameters.items()):
            stored = state_dict.get(prefix + name)
            if isinstance(placeholder, nn.UninitializedParameter) and isinstance(stored, torch.Tensor):
                placeholder.materialize(stored.shape, device=placeholder.device, dtype=placeholder.dtype)
                self.__dict__.setdefault("_loaded_before_build", set()).add(name)
        with _placeholders_hidden(self):
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                          unexpected_keys, error_msgs)

    # ----------------------------------------------------------- call records
    # Attributes a forward call writes about itself (its path, its activity losses, ...): what a
    # dry run puts back and a fresh copy clears. Subclasses add theirs.
    call_records: tuple = ("_activity_losses", "_added_losses")

    def save_call_records(self) -> dict[str, Any]:
        """This layer's call records as they are now (see `restore_call_records`)."""
        return {name: self.__dict__[name] for name in self.call_records if name in self.__dict__}

    def restore_call_records(self, records: dict[str, Any]) -> None:
        """Put back what `save_call_records` returned."""
        self.__dict__.update(records)

    def clear_call_records(self) -> None:
        """Forget every call: what a new layer of the same configuration would hold."""
        self.__dict__.update((name, _empty_record(name)) for name in self.call_records if name in self.__dict__)

    # ---------------------------------------------------------------- config
    def get_config(self) -> dict[str, Any]:
        """This layer's configuration under Keras's keys and values.

        The base gives `name`, `trainable` and `dtype` (Keras's dtype-policy
        dictionary); each layer adds its constructor arguments, so that
        `type(layer).from_config(layer.get_config())` makes an equal, new layer.
        """
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": dtype_policy(self.factory_kwargs["dtype"])}
        auto = self.__dict__.get("_auto_config")
        if auto is not None:       # a Keras-style class without its own get_config: its constructor's arguments
            config.update(auto)
            if not _accepts(type(self), "name"):
                del config["name"]
        if self.keras_style and self.activity_regularizer is not None and "activity_regularizer" not in config:
            config["activity_regularizer"] = serialize_object(self.activity_regularizer, "keras.regularizers",
                                                              describe(self), "activity_regularizer")
        return config

    @classmethod
    def from_config(cls: type[LayerT], config: dict[str, Any]) -> LayerT:
        """A new layer from `get_config()`'s dictionary (or a Keras layer's `get_config()`)."""
        config = dict(config)
        trainable = config.pop("trainable", True)
        dtype = dtype_from_policy(config.pop("dtype", None), f"{cls.__name__} {config.get('name')!r}")
        if dtype is not None and _accepts(cls, "dtype"):
            config["dtype"] = dtype
        layer = cls(**config)
        if not trainable:
            layer.trainable = False
        return layer

    @property
    def input(self) -> Any:
        """Keras's `layer.input`: the symbolic tensor(s) of the layer's first call on `kr.Input` tensors (one
        tensor, or a list). A ValueError when it has not been called on them."""
        node = first_node(self)
        if node is None:
            raise ValueError(f"The layer {self.name} has never been called on symbolic tensors (kr.Input and what "
                             "layers return on them) and thus has no defined input")
        return node.inputs[0] if len(node.inputs) == 1 else list(node.inputs)

    @property
    def output(self) -> Any:
        """Keras's `layer.output`: the symbolic tensor(s) its first call on `kr.Input` tensors returned."""
        node = first_node(self)
        if node is None:
            raise ValueError(f"The layer {self.name} has never been called on symbolic tensors (kr.Input and what "
                             "layers return on them) and thus has no defined output")
        return node.outputs[0] if len(node.outputs) == 1 else list(node.outputs)

    @property
    def trainable(self) -> bool:
        """Keras's switch: False freezes every weight of this layer and the layers inside it."""
        return self.__dict__.get("_trainable", True)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        value = bool(value)
        for module in self.modules():
            if isinstance(module, Layer):
                module.__dict__["_trainable"] = value
                frozen = module.__dict__.get("_frozen_weights", ())
                for name, parameter in module.named_parameters(recurse=False):
                    parameter.requires_grad = value and name not in frozen     # placeholders take it too

    # ----------------------------------------------------------------- build
    def build_from_hint(self) -> None:
        """Create the weights now when a shape hint was given (call at the end of __init__); without one,
        register placeholders for them (see `expected_weights`)."""
        if self.input_shape_hint is not None and not self.built:
            self.build((None, *self.input_shape_hint))
        if not self.built:
            self.declare_weights(self.expected_weights())

    def expected_weights(self) -> list[tuple[str, bool]]:
        """`(name, trainable)` of each weight `build` will create, in order; layers with weights say so."""
        return []

    def declare_weights(self, names: Iterable[tuple[str, bool]]) -> None:
        """Register a placeholder (`torch.nn.UninitializedParameter`) for each weight a later build makes.

        An optimizer made before the first call holds these very objects, which `add_weight`
        fills in place: every weight trains, as PyTorch's lazy modules do (`nn.LazyLinear`).
        """
        factory = self.factory_kwargs
        for name, trainable in names:
            if name not in self._parameters:
                # torch's parameter.pyi lacks device/dtype and makes UninitializedParameter no Parameter.
                self.register_parameter(name, nn.UninitializedParameter(  # type: ignore[call-arg, arg-type]
                    requires_grad=trainable and self.trainable, device=factory["device"], dtype=factory["dtype"]))

    def build(self, input_shape: InputShape) -> None:
        """Create weights for inputs of `input_shape` (batch axis first, may be None)."""
        self.built = True

    def maybe_build(self, input_shape: InputShape) -> None:
        if not self.built:
            self.build(tuple(input_shape))

    def add_weight(self, *args: Any, shape: Sequence[int] | int | None = None,
                   initializer: InitializerLike | None = None, dtype: torch.dtype | str | None = None,
                   trainable: bool = True,
                   regularizer: Callable[[torch.Tensor], torch.Tensor] | str | dict | None = None,
                   constraint: Callable[[torch.Tensor], torch.Tensor] | str | dict | None = None,
                   name: str | None = None, column_major: bool = False, **keras_options: Any) -> nn.Parameter:
        """Create, initialise and register a Keras-layout weight (filling its placeholder, if any).

        Both spellings work: ours, `add_weight("kernel", (3, 4), "zeros")` (name first), and Keras's,
        `add_weight(shape=(3, 4), initializer="zeros", trainable=False, name="kernel")` or
        `add_weight((3, 4), "zeros")` (shape first). As in Keras, `shape=None` is a scalar and the
        default initializer is "glorot_uniform" ("zeros" for a non-float `dtype`); a weight without a
        name is called "variable", "variable_1", ...; a weight assigned to an attribute
        (`self.w = self.add_weight(...)`) takes the attribute's name: its `state_dict` key. Weights
        come in creation order, which is Keras's `get_weights()` order; `trainable=False` weights keep
        `requires_grad=False` and still count among the weights. Keras's `autocast`, `aggregation` and
        `overwrite_with_gradient` are accepted and have no effect here.

        `column_major=True` (a matrix) keeps Keras's shape with the transposed memory order: its `.t()`
        is contiguous, as PyTorch's kernels take their weights, and gradients computed in that form
        accumulate without a transposing copy.
        """
        if self.__dict__.get("_in_call", False):
            raise ValueError(f"{describe(self)}: You cannot add new elements of state (variables or sub-layers) to "
                             "a layer while its `call` runs: create the weights in `__init__()` or in `build()`, "
                             "which runs before the first call")
        unknown = set(keras_options) - {"autocast", "aggregation", "overwrite_with_gradient"}
        if unknown:
            raise TypeError(f"{describe(self)}.add_weight got unexpected arguments {sorted(unknown)}")
        if args:
            # Positional: ours is (name, shape, initializer), Keras's (shape, initializer, dtype).
            order = ("name", "shape", "initializer") if isinstance(args[0], str) else ("shape", "initializer", "dtype")
            if len(args) > 3:
                raise TypeError(f"{describe(self)}.add_weight takes at most 3 positional arguments ({', '.join(order)})")
            given: dict[str, Any] = {"name": name, "shape": shape, "initializer": initializer, "dtype": dtype}
            for argument, value in zip(order, args):
                if given[argument] is not None:
                    raise TypeError(f"{describe(self)}.add_weight got `{argument}` both positionally and as a keyword")
                given[argument] = value
            name, shape, initializer, dtype = given["name"], given["shape"], given["initializer"], given["dtype"]
        shape = () if shape is None else shape
        if not isinstance(shape, (int, Sequence)) or isinstance(shape, str):
            raise TypeError(f"{describe(self)}.add_weight: `shape` must be a tuple of ints, got {shape!r}")
        shape = (shape,) if isinstance(shape, int) else shape
        factory = self.factory_kwargs
        if dtype is not None:
            factory = {**factory, "dtype": _dtypes.from_name(dtype, describe(self))}
        if initializer is None:
            initializer = "glorot_uniform" if factory["dtype"].is_floating_point else "zeros"
        if regularizer is not None and not callable(regularizer):
            regularizer = regularizers.get(regularizer)
        if constraint is not None and not callable(constraint):
            constraint = constraints.get(constraint)
        renamable = name is None or self.keras_style        # built-in layers keep the names they give
        if name is None:
            name = unique_key("variable", self.__dict__.setdefault("_unnamed_weights", {}))
            while name in self._parameters:
                name = unique_key("variable", self.__dict__["_unnamed_weights"])
        if renamable:
            self.__dict__.setdefault("_renamable", set()).add(name)
        return self._add_weight(name, shape, initializer, factory, regularizer, constraint, trainable, column_major)

    def _add_weight(self, name: str, shape: Any, initializer: InitializerLike, factory_kwargs: dict[str, Any],
                    regularizer: Callable[[torch.Tensor], torch.Tensor] | None,
                    constraint: Callable[[torch.Tensor], torch.Tensor] | None,
                    trainable: bool, column_major: bool) -> nn.Parameter:
        shape = tuple(int(d) for d in shape)
        if column_major and len(shape) != 2:
            raise ValueError(f"{describe(self)}: a column-major weight is a matrix, got shape {shape}")
        self.__dict__.setdefault("_initializers", {})[name] = initializer
        if not trainable:
            self.__dict__.setdefault("_frozen_weights", set()).add(name)   # stays frozen when trainable turns True
        placeholder = self._parameters.get(name)
        loaded = self.__dict__.get("_loaded_before_build", set())
        if name in loaded and placeholder is not None:
            loaded.discard(name)
            parameter = self._keep_loaded_weight(name, placeholder, shape, column_major)
            parameter.requires_grad = trainable and self.trainable
        elif isinstance(placeholder, nn.UninitializedParameter):
            # The same object, so optimizers made before the build hold it; `.to()` may have moved it.
            placeholder.materialize(shape, device=placeholder.device, dtype=placeholder.dtype)
            placeholder.__class__ = Weight      # materialize made it a plain Parameter
            parameter = placeholder
            if column_major:
                parameter.data = _column_major(shape, device=parameter.device, dtype=parameter.dtype)
            with torch.no_grad():
                initializers.apply(initializers.get(initializer), parameter)
            parameter.requires_grad = trainable and self.trainable
        else:
            tensor = _column_major(shape, **factory_kwargs) if column_major \
                else torch.empty(shape, **factory_kwargs)
            initializers.apply(initializers.get(initializer), tensor)
            parameter = Weight(tensor, requires_grad=trainable and self.trainable)
            self.register_parameter(name, parameter)
        if regularizer is not None:
            self._regularized.append((name, regularizer))
        if constraint is not None:
            self._constraints.append((name, constraint))
        return parameter

    def _keep_loaded_weight(self, name: str, parameter: nn.Parameter, shape: tuple[int, ...],
                            column_major: bool) -> nn.Parameter:
        """A weight a state_dict filled before the build: checked against the build's shape, kept as it is."""
        if tuple(parameter.shape) != shape:
            raise ValueError(f"{describe(self)}: the state_dict loaded before the first call gave weight "
                             f"{name!r} the shape {tuple(parameter.shape)}, but this input needs {shape}: "
                             "the state_dict comes from a layer built for other inputs")
        if column_major and not parameter.t().is_contiguous():
            with torch.no_grad():
                parameter.data = _column_major(shape, device=parameter.device, dtype=parameter.dtype).copy_(parameter)
        if not isinstance(parameter, Weight):
            parameter.__class__ = Weight
        return parameter

    def register_parameter(self, name: str, param: nn.Parameter | None) -> None:
        """torch's registration; a weight `add_weight` named automatically ("variable") takes the name of
        the attribute it is assigned to, in place (its position, hence Keras's order, stays)."""
        renamable = self.__dict__.get("_renamable")
        if renamable and param is not None and name not in self._parameters:
            old = next((key for key in renamable if self._parameters.get(key) is param), None)
            if old is not None:
                renamable.discard(old)
                self.__dict__["_parameters"] = {name if key == old else key: value
                                                for key, value in self._parameters.items()}
                self._rename_weight_records(old, name)
                return
        super().register_parameter(name, param)

    def _rename_weight_records(self, old: str, new: str) -> None:
        initializers_ = self.__dict__.get("_initializers", {})
        if old in initializers_:
            initializers_[new] = initializers_.pop(old)
        frozen = self.__dict__.get("_frozen_weights")
        if frozen and old in frozen:
            frozen.discard(old)
            frozen.add(new)
        self._regularized = [(new if n == old else n, f) for n, f in self._regularized]
        self._constraints = [(new if n == old else n, f) for n, f in self._constraints]

    def add_loss(self, loss: Any) -> None:
        """Keras's `add_loss`: keep a scalar term (a tensor or a number) for `losses`, from inside `call`.

        The terms of a call replace those of the previous one: the outermost Keras-style call clears
        them for its layer and every layer inside it, so `layer.losses` (and `model.losses`) hold the
        latest forward pass's terms, to add to the training loss.
        """
        if has_symbolic((loss,), None):
            # Keras 3 refuses it too (Keras 2 kept a symbolic term and computed it in each forward pass).
            raise ValueError(f"{describe(self)}: `add_loss()` can only be called from inside `build()` or `call()`, on "
                             f"a tensor, not on a symbolic tensor of a functional graph (received {loss!r}). Compute "
                             "the term inside a layer's `call` and add it there with `self.add_loss(...)`")
        term = loss if isinstance(loss, torch.Tensor) else torch.as_tensor(loss, dtype=self.factory_kwargs["dtype"])
        self._added_losses = [*self._added_losses, term]      # a new list: a saved call record stays as it was

    def reset_weights(self) -> None:
        """Draw this layer's own weights afresh from their initializers, as its build does.

        Layers inside it reset their own: call it on each of `modules()` to
        renew everything (as `Bidirectional` does for its backward copy).
        Layers whose build does more than `add_weight` extend it.
        """
        with torch.no_grad():
            for name, initializer in self.__dict__.get("_initializers", {}).items():
                weight = self._parameters.get(name)
                if weight is not None:
                    initializers.apply(initializers.get(initializer), weight)

    # --------------------------------------------------------------- weights
    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(
                f"{describe(self)} has no weights yet, so {what} is not available: call it on an input "
                "first, or construct it with input_shape=... or input_dim=... (Keras's build)")

    @property
    def weights(self) -> list[torch.Tensor]:
        """All weights in Keras's `get_weights()` order (trainable ones first)."""
        self._require_built("weights")
        if self.keras_style:
            return self._keras_weights()
        params: list[torch.Tensor] = list(self.parameters())
        return [p for p in params if p.requires_grad] + [p for p in params if not p.requires_grad]

    def _keras_weights(self) -> list[torch.Tensor]:
        """Keras's order for a layer with sublayers: its own trainable, then own frozen weights, then each
        sublayer's `weights` in the order they were assigned, each weight once."""
        own: list[torch.Tensor] = [p for p in self._parameters.values() if p is not None]
        weights = [p for p in own if p.requires_grad] + [p for p in own if not p.requires_grad]
        for module in expanded_children(self):
            if isinstance(module, Layer):
                weights.extend(module.weights)
            else:
                params = list(module.parameters())
                weights.extend([p for p in params if p.requires_grad] + [p for p in params if not p.requires_grad])
        seen: set[int] = set()
        return [w for w in weights if not (id(w) in seen or seen.add(id(w)))]  # type: ignore[func-returns-value]

    @property
    def trainable_weights(self) -> list[torch.Tensor]:
        return [w for w in self.weights if w.requires_grad]

    @property
    def non_trainable_weights(self) -> list[torch.Tensor]:
        return [w for w in self.weights if not w.requires_grad]

    # Keras's names for the same lists (its variables also hold seed-generator and metric state, which kr
    # layers keep outside their weights).
    @property
    def variables(self) -> list[torch.Tensor]:
        return self.weights

    @property
    def trainable_variables(self) -> list[torch.Tensor]:
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list[torch.Tensor]:
        return self.non_trainable_weights

    def get_weights(self) -> list[np.ndarray]:
        """The weights as numpy arrays, in the order and shapes Keras uses."""
        return [w.detach().cpu().numpy().copy() for w in self.weights]

    def set_weights(self, weights: Iterable[Any]) -> None:
        """Load arrays in Keras's order and shapes (e.g. `keras_layer.get_weights()`): all of them, or none.

        Counts, shapes and dtypes are checked and every array converted before
        any weight changes; arrays of text, bytes, Python objects or complex
        numbers are refused with a TypeError naming the weight.
        """
        targets = self.weights
        weights = list(weights)
        expected = ", ".join(shape_text(t.shape) for t in targets)
        if len(weights) != len(targets):
            raise ValueError(
                f"{describe(self)} expects {len(targets)} weight arrays with shapes [{expected}], "
                f"got {len(weights)} arrays")
        for i, (target, array) in enumerate(zip(targets, weights)):
            if shape_of(array) != tuple(target.shape):
                received = ", ".join(shape_text(shape_of(a)) for a in weights)
                raise ValueError(
                    f"{describe(self)}: weight {i} must have shape {shape_text(target.shape)}; "
                    f"expected shapes [{expected}], got [{received}]")
        assign_weights(targets, weight_tensors(weights, targets, weight_labels(self, targets), describe(self)))

    def count_params(self) -> int:
        """Number of scalars in all weights, as Keras counts them."""
        return sum(w.numel() for w in self.weights)

    # ----------------------------------------------------------------- masks
    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The mask this layer passes on; by default the incoming one (None where `supports_masking` is False)."""
        return mask if self.supports_masking else None

    # Whether Keras's symbolic call of this layer gives its outputs masks (see KerasTensor.keras_masked).
    passes_masks_while_building = True

    def keras_mask_sources(self, inputs: list, masks: list) -> tuple:
        """Which nodes the operations of Keras's output mask read, at which distance (see `MaskSources`).

        `inputs` are the call's input KerasTensors, `masks` their masks'
        sources (None where unmasked). By default the incoming masks pass on
        unchanged, as Keras's `compute_mask` does without operations. Only
        files care: Keras orders a model's layers, and the weights in its
        files, by depths that count these operations.
        """
        return tuple(source for sources in masks if sources for source in sources)

    # ---------------------------------------------------- regularizers/losses
    def weight_regularization_losses(self) -> list[torch.Tensor]:
        """This layer's own weight penalties, from the current weights.

        As in Keras, only trainable weights count: a frozen weight
        (`requires_grad=False`) adds nothing.
        """
        terms = []
        for name, regularizer in self._regularized:
            weight = getattr(self, name)
            if weight is not None and weight.requires_grad:
                terms.append(regularizer(weight))
        return terms

    @property
    def losses(self) -> list[torch.Tensor]:
        """Regularization terms of this layer and every layer inside it.

        Weight terms are recomputed from the current weights; activity terms
        come from the latest forward call.
        """
        out = []
        for module in self.modules():
            if isinstance(module, Layer):
                out.extend(module.weight_regularization_losses())
                out.extend(module.activity_losses)
                out.extend(module.__dict__.get("_added_losses", ()))
        return out

    @property
    def activity_losses(self) -> list[torch.Tensor]:
        """This layer's own activity-regularization terms from its latest call (see `record_activity`)."""
        return list(self._activity_losses)

    def record_activity(self, outputs: Any) -> None:
        """Keep the activity-regularization terms of a call's outputs for `losses`, replacing the last call's.

        Keras 3's rule (Layer.__call__): the regularizer is applied to every
        tensor the call returns (with return_state, the output and each
        state), and each term is divided by that tensor's batch size (its
        first axis; zero for an empty batch, as Keras's divide_no_nan).
        """
        terms = []
        if self.activity_regularizer is not None:
            for tensor in pytree.tree_leaves(outputs):
                if not isinstance(tensor, torch.Tensor):
                    continue
                term = torch.as_tensor(self.activity_regularizer(tensor))
                if tensor.dim() > 0:
                    batch = tensor.shape[0]
                    term = term / batch if batch else torch.zeros_like(term)
                terms.append(term)
        if terms or self._activity_losses:
            self._activity_losses = terms

    def apply_constraints(self) -> None:
        """Project each constrained weight back onto its constraint (after an optimizer step)."""
        with torch.no_grad():
            for name, constraint in self._constraints:
                weight = getattr(self, name)
                weight.copy_(constraint(weight))

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


document_constructor(Layer)
