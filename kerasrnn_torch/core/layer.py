"""`Layer`: what every kerasrnn_torch module shares with a Keras layer.

Keras-named weights created by `add_weight` (registered as parameters in Keras's
order, so `parameters()` and `get_weights()` agree), a lazy `build` from the
first input or an eager one from `input_shape=` / `input_dim=`, the Keras
weight API (`get_weights`, `set_weights`, `count_params`), `compute_mask`, and
regularization `losses`.
"""
from __future__ import annotations

import contextlib
import itertools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch
from torch import nn
from torch.utils import _pytree as pytree

from .. import _dtypes, initializers
from .._types import DeviceLike, InitializerLike, InputShape, ShapeLike
from .._checks import describe, positive_int, shape_hint, shape_of, shape_text, weight_tensors
from .symbolic import has_symbolic, output_shape_of, symbolic_call

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
    return [] if name == "_activity_losses" else None


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

    def __init__(self, *, name: str | None = None, input_shape: ShapeLike | None = None, input_dim: int | None = None,
                 device: DeviceLike = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.factory_kwargs: dict[str, Any] = {"device": torch.device(device) if device is not None else None,
                               "dtype": dtype if dtype is not None else torch.get_default_dtype()}
        # As Keras: a layer whose class keeps the default `build` has nothing to build; one that
        # overrides it (a subclass of Masking, say) is built at its first call.
        self.built = type(self).build is Layer.build
        self._regularized: list[tuple[str, Callable[[torch.Tensor], torch.Tensor]]] = []
        self._constraints: list[tuple[str, Callable[[torch.Tensor], torch.Tensor]]] = []
        self.activity_regularizer: Callable[[torch.Tensor], torch.Tensor] | None = None
        self._activity_losses: list[torch.Tensor] = []
        self.input_shape_hint = self.hint_from(input_shape, input_dim)

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
        # Called on kr.Input tensors (the functional API), a layer records the call instead of running it.
        if has_symbolic(args, kwargs):
            return symbolic_call(self, args, kwargs)
        return super().__call__(*args, **kwargs)

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        """The output's shape for inputs of `input_shape` (batch axis first, None where unknown).

        Found by calling the layer on symbolic inputs of that shape (which
        builds it, as Keras's `build` would); several outputs give a tuple
        of shapes, several inputs take a list of shapes. Layers with integer
        inputs (Embedding) say it directly.
        """
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
    # ask for them (the weights appear in both once built).
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        with _placeholders_hidden(self):
            super()._save_to_state_dict(destination, prefix, keep_vars)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        with _placeholders_hidden(self):
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                          unexpected_keys, error_msgs)

    # ----------------------------------------------------------- call records
    # Attributes a forward call writes about itself (its path, its activity losses, ...): what a
    # dry run puts back and a fresh copy clears. Subclasses add theirs.
    call_records: tuple = ("_activity_losses",)

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
        return {"name": self.name, "trainable": self.trainable,
                "dtype": dtype_policy(self.factory_kwargs["dtype"])}

    @classmethod
    def from_config(cls: type[LayerT], config: dict[str, Any]) -> LayerT:
        """A new layer from `get_config()`'s dictionary (or a Keras layer's `get_config()`)."""
        config = dict(config)
        trainable = config.pop("trainable", True)
        dtype = dtype_from_policy(config.pop("dtype", None), f"{cls.__name__} {config.get('name')!r}")
        if dtype is not None:
            config["dtype"] = dtype
        layer = cls(**config)
        if not trainable:
            layer.trainable = False
        return layer

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

    def add_weight(self, name: str, shape: Sequence[int], initializer: InitializerLike = "zeros", *,
                   regularizer: Callable[[torch.Tensor], torch.Tensor] | None = None,
                   constraint: Callable[[torch.Tensor], torch.Tensor] | None = None,
                   trainable: bool = True, column_major: bool = False) -> nn.Parameter:
        """Create, initialise and register a Keras-layout weight called `name` (filling its placeholder, if any).

        `column_major=True` (a matrix) keeps Keras's shape with the transposed memory order: its `.t()`
        is contiguous, as PyTorch's kernels take their weights, and gradients computed in that form
        accumulate without a transposing copy.
        """
        shape = tuple(int(d) for d in shape)
        if column_major and len(shape) != 2:
            raise ValueError(f"{describe(self)}: a column-major weight is a matrix, got shape {shape}")
        self.__dict__.setdefault("_initializers", {})[name] = initializer
        if not trainable:
            self.__dict__.setdefault("_frozen_weights", set()).add(name)   # stays frozen when trainable turns True
        placeholder = self._parameters.get(name)
        if isinstance(placeholder, nn.UninitializedParameter):
            # The same object, so optimizers made before the build hold it; `.to()` may have moved it.
            placeholder.materialize(shape, device=placeholder.device, dtype=placeholder.dtype)
            parameter = placeholder
            if column_major:
                parameter.data = _column_major(shape, device=parameter.device, dtype=parameter.dtype)
            with torch.no_grad():
                initializers.apply(initializers.get(initializer), parameter)
            parameter.requires_grad = trainable and self.trainable
        else:
            tensor = _column_major(shape, **self.factory_kwargs) if column_major \
                else torch.empty(shape, **self.factory_kwargs)
            initializers.apply(initializers.get(initializer), tensor)
            parameter = nn.Parameter(tensor, requires_grad=trainable and self.trainable)
            self.register_parameter(name, parameter)
        if regularizer is not None:
            self._regularized.append((name, regularizer))
        if constraint is not None:
            self._constraints.append((name, constraint))
        return parameter

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
        params: list[torch.Tensor] = list(self.parameters())
        return [p for p in params if p.requires_grad] + [p for p in params if not p.requires_grad]

    @property
    def trainable_weights(self) -> list[torch.Tensor]:
        return [w for w in self.weights if w.requires_grad]

    @property
    def non_trainable_weights(self) -> list[torch.Tensor]:
        return [w for w in self.weights if not w.requires_grad]

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
        """The mask this layer passes on; by default the incoming one."""
        return mask

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
