"""Model: a functional model, the graph of layer calls between `kr.Input`s and outputs, as `keras.Model`.

Building (`Model(inputs, outputs)`) walks the recorded calls (`Node`s, see
`core/symbolic.py`) back from the outputs, orders the layers as Keras
orders `model.layers` (so `get_weights()` matches Keras's order), and
compiles the calls into a `Program`: a flat list of steps whose arguments
and masks are looked up by slot number, so a forward pass does no graph
walking.
"""
from __future__ import annotations

import collections
import copyreg
import inspect
import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, Union

import numpy as np
import torch
from torch import nn
from torch.utils import _pytree as pytree

from .._checks import describe, refuse_legacy_onnx, shape_text
from ..core.layer import Layer, snake_case
from ..core.dry_run import dry_run
from ..core.input_layer import InputLayer
from ..core.input_spec import InputSpec
from ..core.symbolic import KerasTensor, Node, bind_arguments, has_symbolic, output_shape_of
from .call_options import keywords_for, running_in_mode
from . import json_config
from .functional_config import model_config, model_from_config
from .summary import functional_summary, summary as generic_summary
from ..core import registry
from ..core.registry import register_keras_class
from .subclassed import (init_subclassed, subclassed_config, subclassed_from_config,
                         subclassed_layers)
from .training.trainer import Trainer
from ..core.layer import _recording_arguments, _training_context, plain_keywords

ModelT = TypeVar("ModelT", bound="Model")


def _leaf_spec() -> Any:
    """torch's pytree leaf spec, made as torch makes it (unpickling one through its deprecated class warns)."""
    return pytree.tree_flatten(0)[1]


# A functional model's graph holds pytree specs: pickling the model (`pickle`, `copy.deepcopy`) revives their
# leaf specs through _leaf_spec.
copyreg.pickle(type(_leaf_spec()), lambda spec: (_leaf_spec, ()))
# A model's `inputs`: a kr.Input, or a list or dict of them; its `outputs`: a KerasTensor, or a list, tuple or
# dict of them.
Inputs = Union[KerasTensor, Sequence[KerasTensor], Mapping[str, KerasTensor]]
Outputs = Union[KerasTensor, Sequence[Any], Mapping[str, Any]]


@register_keras_class("Functional", module="keras.src.models.functional", registered_name="Functional",
                      aliases=("Model",))
class Model(Trainer, Layer):
    """A functional model over the layers between `inputs` and `outputs`, as `keras.Model(inputs, outputs)`.

    Args:
        inputs: a `kr.Input`, or a list or dict of them.
        outputs: what layers returned when called on them: a KerasTensor,
            or a list, tuple or dict of them.
        name: the model's name (default "functional", "functional_1", ...).

    It is a `torch.nn.Module`: called as Keras calls it (`model(x)`,
    `model([a, b])`, `model({"name": a, ...})`) or as modules are called
    (`model(a, b)`), with optional `mask=` (one per input) and `training=`;
    it returns the structure of `outputs` (a tensor, list, tuple or dict).
    Layers used several times share their weights, and models built from
    the same layers (an inference encoder and decoder beside the training
    model) share them too. Masks travel between layers as in Keras.

    Each layer is a submodule under a name fixed by the model's own layer
    order and the layer's class (`lstm`, `lstm_1`, `dense`, ...), so the
    same building code gives the same `state_dict()` keys in any process.

    >>> inputs = Input(shape=(None, 8))
    >>> outputs = Dense(1)(LSTM(16)(inputs))
    >>> model = Model(inputs, outputs)
    >>> model(torch.randn(4, 10, 8)).shape
    torch.Size([4, 1])
    """

    call_records = (*Layer.call_records, "_mask_cache")
    # Used as a layer, a Keras model's outputs carry no mask while the outer graph is built (though
    # they do when it runs): later calls are wired as Keras wires them (see KerasTensor.keras_masked).
    passes_masks_while_building = False
    # False for a subclassed model (constructed without inputs and outputs, see models/subclassed.py).
    is_functional: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = vars(cls).get("__init__")
        if init is not None and cls.get_config is Model.get_config:
            cls.__init__ = _recording_arguments(init)  # type: ignore[method-assign]
        if cls.keras_style and cls.compute_mask is Model.compute_mask and not any(
                "supports_masking" in vars(k) for k in cls.__mro__[:cls.__mro__.index(Model)]):
            cls.supports_masking = False        # as Keras's: a model without compute_mask passes no mask on

    def __init__(self, inputs: Inputs | None = None, outputs: Outputs | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        if inputs is None and outputs is None and type(self) is not Model:
            # Keras's subclassed model: layers assigned in __init__, `call` says what it computes.
            init_subclassed(self, name, kwargs)
            return
        if inputs is None or outputs is None:
            raise TypeError(f"{type(self).__name__}(inputs, outputs): a functional model needs both `inputs` (kr.Input "
                            "tensors) and `outputs` (what layers returned on them); a model without them is a "
                            "subclass of kr.Model that defines `call`")
        trainable = kwargs.pop("trainable", True)
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(kwargs)} (a functional model takes "
                            "inputs, outputs, name and trainable)")
        super().__init__(name=name or _model_name())
        self.is_functional = True
        owner = describe(self)
        _check_symbolic(inputs, "inputs", owner)
        _check_symbolic(outputs, "outputs", owner)
        self._inputs_given = inputs         # as given: `model.input`, and the dict's own key order
        # Keras orders a dict's entries by key wherever it flattens one (inputs, outputs, weights).
        inputs, outputs = _sorted_dicts(inputs), _sorted_dicts(outputs)
        self._inputs_structure = inputs
        self._outputs_structure = outputs
        self.inputs = _keras_tensors(inputs, "inputs", owner)
        self.outputs = _keras_tensors(outputs, "outputs", owner)
        try:
            graph = _Graph(self.inputs, self.outputs, owner)
        except ValueError as error:
            path = _disconnected_output(self.inputs, outputs)
            if path is None:
                raise
            raise ValueError(f"Output with path `{path}` is not connected to `inputs`: {error}") from None
        # Keras lists its operations (kr.ops calls, `x + y`, `x[:, -1]`) in `operations`, not in `layers`:
        # they hold no weights and are no submodules, so `state_dict()` and `get_weights()` skip them.
        self._operations = graph.layers
        self._layers = [layer for layer in graph.layers if not getattr(layer, "is_operation", False)]
        # An input that is a layer's output (a model sliced from the middle of another) gets an InputLayer in
        # `layers`, first, as Keras gives it.
        sliced = [InputLayer(input_tensor=t, name=t.name) for t in self.inputs if not t.node.is_input]
        if sliced:
            self._layers = sliced + self._layers
        self._nodes = graph.nodes
        for key, layer in _attribute_names(self, self._layers):
            if not isinstance(layer, InputLayer):
                self.add_module(key, layer)
        self._program = _Program(graph, self.inputs, self.outputs, pytree.tree_flatten(outputs)[1])
        self._input_names = [t.name for t in self.inputs]
        self._input_paths = [".".join(str(k) for k in path) for path in _leaf_paths(inputs)]
        self._input_optional = [bool(getattr(t.node.layer, "optional", False)) for t in self.inputs]
        self._mask_cache: tuple[weakref.ref[Any], list[Any]] | None = None     # (first input, output masks)
        self.built = True
        if not trainable:
            self.trainable = False

    # ------------------------------------------------------------- structure
    def __setattr__(self, name: str, value: Any) -> None:
        if name == "layers":            # a list of layers would otherwise become a tracked submodule
            Model.layers.fset(self, value)  # type: ignore[attr-defined]
        super().__setattr__(name, value)

    @property
    def layers(self) -> list:
        """The layers in Keras's order (inputs first, then by depth): the order of `get_weights()`; a subclassed
        model's are the layers assigned to it, in order."""
        if not self.is_functional:
            return subclassed_layers(self)
        return list(self._layers)

    @layers.setter
    def layers(self, value: Any) -> None:
        raise AttributeError("`Model.layers` attribute is reserved and should not be used. Please use another "
                             f"name (got an assignment of {type(value).__name__} to {describe(self)}.layers)")

    @property
    def input(self) -> Any:
        """Keras's `model.input`: the `inputs` given to the constructor (a KerasTensor, or their list or dict); a
        subclassed model's: what its first call took, as any layer's."""
        if not self.is_functional:
            return Layer.input.fget(self)  # type: ignore[attr-defined]
        return self._inputs_given

    @property
    def output(self) -> Any:
        """Keras's `model.output`: the `outputs` given to the constructor."""
        if not self.is_functional:
            return Layer.output.fget(self)  # type: ignore[attr-defined]
        return self._outputs_structure

    @property
    def input_spec(self) -> Any:
        """What the model accepts: the `InputSpec` assigned to it (checked at each call, as any layer's), else,
        for a functional model, one per input made from its `kr.Input`s (which the model's own input checks
        apply), as Keras's."""
        if self._input_spec is not None or not self.is_functional:
            return self._input_spec
        if isinstance(self._inputs_given, dict):
            if not all(isinstance(t, KerasTensor) for t in self._inputs_given.values()):
                return None             # a nested dict: Keras checks nothing
            return [_input_spec_of(self._inputs_given[key], name=key) for key in sorted(self._inputs_given)]
        return [_input_spec_of(t) for t in self.inputs]

    @input_spec.setter
    def input_spec(self, value: Any) -> None:
        Layer.input_spec.fset(self, value)  # type: ignore[attr-defined]

    @property
    def operations(self) -> list:
        """The layers and the operations (`kr.ops` calls) in Keras's order, as Keras's `model.operations`."""
        return list(self._operations)

    def _apply(self, fn: Any, recurse: bool = True) -> Any:
        # The operations are no submodules (see __init__), but the tensor and NumPy constants of their
        # calls are their buffers: `.to(device)`, `.double()` and the like move them with the weights.
        super()._apply(fn, recurse)
        if recurse:
            for operation in self.__dict__.get("_operations", ()):
                if getattr(operation, "is_operation", False):
                    operation.move_constants(fn)
        return self

    @property
    def nodes(self) -> list:
        """The layer calls of the graph (`Node`s), in the order the model runs them, inputs first."""
        return list(self._nodes)

    @property
    def input_structure(self) -> Inputs:
        """`inputs` as given: a KerasTensor, or a list or dict of them (dicts ordered by key, as Keras)."""
        return self._inputs_structure

    @property
    def output_structure(self) -> Outputs:
        """`outputs` as given: what a call returns the structure of."""
        return self._outputs_structure

    def get_layer(self, name: str | None = None, index: int | None = None) -> nn.Module:
        """A layer by its name or its position in `layers`, as Keras's `get_layer`."""
        if (name is None) == (index is None):
            raise ValueError(f"{describe(self)}.get_layer: give either name= or index=")
        if index is not None:
            if not -len(self._layers) <= index < len(self._layers):
                raise ValueError(f"{describe(self)} has {len(self._layers)} layers, got index {index}")
            return self._layers[index]
        for layer in self._layers:
            if layer.name == name:
                return layer
        raise ValueError(f"{describe(self)} has no layer named {name!r}; its layers are "
                         f"{[layer.name for layer in self._layers]}")

    @property
    def input_shape(self) -> tuple[int | None, ...] | list[tuple[int | None, ...]]:
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def input_dtype(self) -> torch.dtype | None | list[torch.dtype | None]:
        dtypes = [t.dtype for t in self.inputs]
        return dtypes[0] if len(dtypes) == 1 else dtypes

    @property
    def output_shape(self) -> tuple[int | None, ...] | list[tuple[int | None, ...]]:
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    # --------------------------------------------------------------- weights
    @property
    def weights(self) -> list[torch.Tensor]:
        """Every layer's weights in Keras's order (`layers` order), each weight once."""
        if not self.is_functional:
            return Layer.weights.fget(self)  # type: ignore[attr-defined]
        weights, seen = [], set()
        for layer in self._layers:
            for weight in layer.weights:
                if id(weight) not in seen:
                    seen.add(id(weight))
                    weights.append(weight)
        return weights

    # --------------------------------------------------------------- building
    def build(self, input_shape: Any = None) -> None:
        """A subclassed model: build its layers for inputs of `input_shape` (batch axis first, None where unknown)
        by calling it on symbolic inputs of that shape, as Keras's `model.build`. A functional model is built."""
        if self.is_functional or self.built:
            return
        if input_shape is None:
            raise ValueError(f"{describe(self)}.build needs the input's shape, batch axis first: e.g. "
                             "model.build((None, 10))")
        self.built = True          # its layers build inside the symbolic call below
        try:
            output_shape_of(self, input_shape)
        except Exception:
            self.built = False
            raise
        self._build_input_shape = tuple(input_shape) if _is_plain_shape(input_shape) else input_shape

    def _build_for_call(self, args: tuple, kwargs: dict) -> None:
        # A subclassed model's layers build themselves as its call runs; keep the input's shape for summary().
        # A class with its own build gets it called with the input's shape, as Keras calls it.
        if type(self).build is not Model.build:
            super()._build_for_call(args, kwargs)
        first = next((value for value in (*args, *kwargs.values()) if isinstance(value, torch.Tensor)), None)
        if first is not None:
            self._build_input_shape = (None, *first.shape[1:])
        self.built = True

    # ---------------------------------------------------------------- calling
    def forward(self, *inputs: Any, mask: torch.Tensor | Sequence[torch.Tensor | None] | None = None,
                training: bool | None = None) -> Any:     # the structure of `outputs`
        """Run the graph: inputs as a list (`model([a, b])`), a dict by input name, or positional arguments
        (`model(a, b)`); `mask` one entry per input; `training` for the layers that take it (None: their
        own mode). Returns the structure of `outputs`."""
        if not self.is_functional:
            raise NotImplementedError(f"{describe(self)}: {type(self).__name__} does not define `call`: a subclassed "
                                      "model says what it computes in call(self, inputs, training=False)")
        refuse_legacy_onnx(describe(self), "that exporter passes None for the keyword argument `mask` as one more "
                           "input")
        values = self._flat_inputs(inputs)
        masks = self._flat_masks(mask)
        program = self._program
        if training is None:
            outputs, output_masks = program.run(values, masks, training)
        else:
            # training_context(training), without a generator's frames: Keras-style layers inside take it as
            # their caller's.
            _training_context.append(bool(training))
            try:
                outputs, output_masks = program.run(values, masks, training)
            finally:
                _training_context.pop()
        first = next((value for value in values if value is not None), None)
        # A plain attribute, set without Module.__setattr__'s checks (a visible share of a small call).
        self.__dict__["_mask_cache"] = (weakref.ref(first), output_masks) if first is not None else None
        return outputs[0] if program.single_output else pytree.tree_unflatten(outputs, program.output_spec)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if all(type(value) is torch.Tensor for value in args) and plain_keywords(kwargs):
            return super().__call__(*args, **kwargs)    # the hot path: real tensors (and flags) only
        if self.is_functional and has_symbolic(args, kwargs):
            # Called on symbolic tensors: the structure checks warn for the real call only, as Keras's.
            self.__dict__["_symbolic_call"] = True
            try:
                return super().__call__(*args, **kwargs)
            finally:
                self.__dict__["_symbolic_call"] = False
        return super().__call__(*args, **kwargs)

    def _converted_inputs(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        if self.is_functional:
            return args, kwargs         # each input is converted to its kr.Input's dtype in _flat_inputs
        return super()._converted_inputs(args, kwargs)

    def _flat_inputs(self, given) -> list:
        """The inputs as a flat list in `self.inputs` order, as Keras's functional model standardizes them: a
        dict by the keys of the model's dict (or by the Inputs' names for a list of Inputs), a list or tuple
        in order; NumPy arrays and tensors of another kind converted to each Input's dtype; a trailing axis of
        size 1 added or dropped to meet the Input's rank; None only for an `optional` Input."""
        if len(given) == 1:
            given = given[0]
        if type(given) is torch.Tensor and len(self.inputs) == 1 and not isinstance(self._inputs_given, dict):
            return [self._standardized(0, given)]          # the common case, kept cheap
        owner = describe(self)
        values = self._by_structure(given, owner)
        expected = len(self.inputs)
        if len(values) != expected:
            if isinstance(self._inputs_given, dict):
                raise ValueError(f'Layer "{self.name}" expects {expected} named input(s) with keys '
                                 f"{_leaf_keys(self._inputs_given)}, but it received {len(values)} input tensors; "
                                 "pass them as a dict")
            raise ValueError(f'Layer "{self.name}" expects {expected} input(s) {self._input_names}, but it '
                             f"received {len(values)} input tensors")
        return [self._standardized(i, value) for i, value in enumerate(values)]

    def _by_structure(self, given, owner) -> list:
        structure = self._inputs_given
        if isinstance(given, dict):
            if isinstance(structure, dict):
                values, extra = _taken_by_keys(structure, given, owner)
                if extra:
                    self._warn_structure(given)
                return values
            if all(name in given for name in self._input_names):
                return [given[name] for name in self._input_names]
            unknown = [key for key in given if key not in self._input_names]
            missing = [name for name in self._input_names if name not in given]
            raise ValueError(self._structure_message(given) + f"\n{owner}: it takes inputs named {self._input_names}, "
                             f"which key a dict given to it (unknown: {unknown}, missing: {missing})")
        if isinstance(given, (list, tuple)):
            flat = pytree.tree_leaves(given, is_leaf=lambda v: v is None or not isinstance(v, (list, tuple, dict)))
            if isinstance(structure, dict):
                if list(structure) != sorted(structure):
                    raise ValueError(self._structure_message(given))
                self._warn_structure(given)
            elif _tupled(given) != _tupled(structure) and len(flat) == len(self.inputs) \
                    and not isinstance(structure, KerasTensor):
                self._warn_structure(given)
            return flat
        return [given]

    def _structure_message(self, given) -> str:
        expected = pytree.tree_map(lambda t: t.name, self._inputs_given)
        received = pytree.tree_map(lambda v: "None" if v is None else f"Tensor(shape={tuple(v.shape)})", given,
                                   is_leaf=lambda v: v is None or hasattr(v, "shape"))
        return (f"The structure of `inputs` doesn't match the expected structure.\nExpected: {expected}\n"
                f"Received: inputs={received}")

    def _warn_structure(self, given) -> None:
        if not self.__dict__.get("_symbolic_call", False):
            warnings.warn(self._structure_message(given), UserWarning, stacklevel=4)

    def _standardized(self, i, value):
        tensor = self.inputs[i]
        if type(value) is torch.Tensor and value.dtype == tensor.dtype and value.dim() == len(tensor.shape):
            for got, want in zip(value.shape[1:], tensor.shape[1:]):
                if want is not None and got != want:
                    break
            else:
                return value            # already as the Input wants it
        owner = describe(self)
        if value is None:
            if not self._input_optional[i]:
                raise ValueError(f"The input '{tensor.name}' is not optional, but None was passed. Please provide a "
                                 f"valid tensor of shape {shape_text(tensor.shape)} (or make it "
                                 "kr.Input(..., optional=True))")
            return None
        if not isinstance(value, torch.Tensor):
            device = next((p.device for p in self.parameters()), None)
            try:
                value = torch.as_tensor(np.asarray(value), dtype=tensor.dtype, device=device)
            except (TypeError, ValueError, RuntimeError) as error:
                raise TypeError(f"{owner}: input '{tensor.name}' must be a tensor of shape "
                                f"{shape_text(tensor.shape)}, got {type(value).__name__} ({error})") from None
        elif tensor.dtype is not None and value.dtype != tensor.dtype and (
                value.dtype.is_floating_point != tensor.dtype.is_floating_point or not tensor.dtype.is_floating_point):
            value = value.to(tensor.dtype)        # an int Input given floats, or a float Input given ints
        rank, want = value.dim(), len(tensor.shape)
        if rank == want + 1 and value.shape[-1] == 1:
            value = value.squeeze(-1)
        elif rank == want - 1 and want and tensor.shape[-1] == 1:
            value = value.unsqueeze(-1)
        elif rank != want:
            raise ValueError(f"{owner}: Invalid input shape for input with name '{tensor.name}' and path "
                             f"'{self._input_paths[i]}'. Expected shape {shape_text(tensor.shape)}, but input has "
                             f"incompatible shape {shape_text(value.shape)}")
        if any(want is not None and got != want for got, want in zip(value.shape[1:], tensor.shape[1:])):
            raise ValueError(f"{owner}: input '{tensor.name}' expects shape {shape_text(tensor.shape)}, got "
                             f"{shape_text(value.shape)} (Input {i} with name '{tensor.name}' is incompatible with "
                             f"the layer: expected shape={shape_text((None, *tensor.shape[1:]))}, found "
                             f"shape={shape_text(value.shape)})")
        return value

    def _flat_masks(self, mask) -> list:
        if mask is None:
            return [None] * len(self.inputs)
        masks = [mask] if isinstance(mask, torch.Tensor) else list(mask)
        if len(masks) != len(self.inputs):
            raise ValueError(f"{describe(self)}: mask must hold one entry (a tensor or None) per input, "
                             f"{len(self.inputs)} in all; got {len(masks)}")
        return masks

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The outputs' masks for `inputs` (from the latest call when it was on them)."""
        if not self.is_functional:
            return Layer.compute_mask(self, inputs, mask)
        first = next((v for v in pytree.tree_leaves(inputs) if v is not None), None)
        cache = self._mask_cache
        if cache is None or cache[0]() is not first:
            with dry_run(self):         # leaves no trace: read the masks before it restores the call records
                self(inputs, mask=mask)
                cache = self._mask_cache
            if cache is None:
                raise ValueError(f"{describe(self)}.compute_mask needs real input tensors, got {inputs!r}")
        return pytree.tree_unflatten(list(cache[1]), self._program.output_spec)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state["_mask_cache"] = None      # weak references cannot be pickled; it is only a cache
        return state

    # ----------------------------------------------------------------- config
    def get_config(self) -> dict:
        """Keras's functional configuration: layers with their calls (`inbound_nodes`), inputs and outputs; for a
        subclassed model, Keras's automatic one (its constructor's arguments, see models/subclassed.py)."""
        if not self.is_functional:
            return subclassed_config(self)
        return model_config(self)

    @classmethod
    def from_config(cls: type[ModelT], config: dict[str, Any],
                    custom_objects: Mapping[str, Any] | None = None) -> ModelT:
        """A new model (new layers, same graph) from `get_config()` or a Keras functional model's config.

        `custom_objects` (`{"Name": Class}`) names classes of the configuration that are not registered.
        """
        with registry.custom_objects(custom_objects):
            if cls is not Model and not _revivable_as_functional(cls, config):
                return subclassed_from_config(cls, config)
            return model_from_config(cls, config, f"{cls.__name__}.from_config ({config.get('name')!r})")

    def to_json(self, **kwargs: Any) -> str:
        """The model's architecture as Keras's JSON string (`kr.models.model_from_json` and Keras's read it);
        `kwargs` go to `json.dumps`."""
        return json_config.to_json(self, **kwargs)

    # ---------------------------------------------------------------- summary
    def summary(self, print_fn: Callable[[str], object] | None = print, **kwargs: Any) -> str | None:
        """Print Keras's functional summary table (with "Connected to"); `print_fn=None` returns the text. A
        subclassed model lists its layers (output shapes once it was called)."""
        if not self.is_functional:
            shape = self.__dict__.get("_build_input_shape")
            if "input_shape" not in kwargs and isinstance(shape, tuple) and shape:
                kwargs["input_shape"] = shape[1:]
            return generic_summary(self, print_fn=print_fn, **kwargs)
        return functional_summary(self, print_fn=print_fn, **kwargs)

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


# ------------------------------------------------------------------ the graph
def _input_spec_of(tensor: KerasTensor, name: str | None = None) -> InputSpec:
    """Keras's derived spec of a functional model's input: its shape with any batch size, a trailing axis of
    size 1 allowed or not, its name, whether it may be None."""
    return InputSpec(shape=(None, *tensor.shape[1:]), allow_last_axis_squeeze=True,
                     name=tensor.name if name is None else name,
                     optional=bool(getattr(tensor.node.layer, "optional", False)))


class _Graph:
    """The nodes between inputs and outputs, ordered as Keras orders them (ops/function.py's map_graph)."""

    def __init__(self, inputs, outputs, owner):
        self.owner = owner
        input_ids = {id(t) for t in inputs}
        order: list[Node] = []
        first_seen: dict[int, int] = {}
        finished: set[int] = set()
        in_progress: set[int] = set()
        for tensor in outputs:
            self._visit(tensor, input_ids, order, first_seen, finished, in_progress)
        node_depth, layer_depth = self._depths(order, inputs, first_seen)
        by_depth = collections.defaultdict(list)
        for node, depth in node_depth.items():
            by_depth[depth].append(node)
        self.nodes = [node for depth in sorted(by_depth, reverse=True) for node in by_depth[depth]]
        layers_by_depth = collections.defaultdict(list)
        for layer_id, (layer, depth) in layer_depth.items():
            layers_by_depth[depth].append(layer)
        self.layers = []
        for depth in sorted(layers_by_depth, reverse=True):
            self.layers.extend(sorted(layers_by_depth[depth], key=lambda layer: first_seen[id(layer)]))
        self._check(inputs, outputs)

    def _visit(self, tensor, input_ids, order, first_seen, finished, in_progress):
        node = tensor.node
        if id(node) in finished:
            return
        if not node.is_input and id(tensor) in input_ids:
            finished.add(id(node))       # an intermediate tensor given as an input: the graph starts there
            return
        if id(node) in in_progress:
            raise ValueError(f"{self.owner}: the graph has a cycle through {describe(node.layer)}")
        first_seen.setdefault(id(node.layer), len(first_seen))
        in_progress.add(id(node))
        for parent_tensor in node.inputs:
            self._visit(parent_tensor, input_ids, order, first_seen, finished, in_progress)
        finished.add(id(node))
        in_progress.discard(id(node))
        order.append(node)

    @staticmethod
    def _depths(order, inputs, first_seen):
        """Keras's depths: 0 at the outputs, each parent one deeper than its deepest child."""
        node_depth: dict[Node, int] = {}
        layer_depth: dict[int, tuple[Any, int]] = {}
        in_graph = {id(node) for node in order}
        for node in reversed(order):
            depth = node_depth.setdefault(node, 0)
            previous = layer_depth.get(id(node.layer), (None, 0))[1]
            depth = max(depth, previous)
            layer_depth[id(node.layer)] = (node.layer, depth)
            node_depth[node] = depth
            for parent in node.parents():
                if id(parent) in in_graph:
                    node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
            # Keras's graph also holds the operations that make the masks this call takes.
            for source, distance in node.mask_sources:
                if id(source) in in_graph:
                    node_depth[source] = max(depth + distance, node_depth.get(source, 0))
        for tensor in inputs:
            node = tensor.node
            if node.is_input and id(node.layer) not in layer_depth:
                layer_depth[id(node.layer)] = (node.layer, 0)       # an input no output uses
                first_seen[id(node.layer)] = -1
                node_depth[node] = 0
        return node_depth, layer_depth

    def _check(self, inputs, outputs):
        available = {id(t) for t in inputs}
        for node in self.nodes:
            if node.is_input and id(node.outputs[0]) not in available:
                used_by = next(n for n in self.nodes if any(t is node.outputs[0] for t in n.inputs))
                raise ValueError(f"{self.owner}: {describe(used_by.layer)} takes the input "
                                 f"'{node.layer.name}', which is not among the model's inputs "
                                 f"{[t.name for t in inputs]}; pass it in `inputs` (the graph is disconnected)")
            missing = [t for t in node.inputs if id(t) not in available]
            if not node.is_input and missing:
                raise ValueError(f"{self.owner}: {describe(node.layer)} takes {missing[0].name}, which the model "
                                 "cannot compute from its inputs (the graph is disconnected)")
            available.update(id(t) for t in node.outputs)


def _is_plain_shape(value) -> bool:
    return isinstance(value, (list, tuple)) and all(d is None or isinstance(d, int) for d in value)


def _revivable_as_functional(cls, config) -> bool:
    """Keras's rule: a functional config revives a subclass as functional when its constructor takes the functional
    model's arguments (or `*args, **kwargs`); otherwise the config goes to the constructor."""
    if not all(key in config for key in ("name", "layers", "input_layers", "output_layers")):
        return False
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    names = [p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD]
    kinds = {p.kind for p in parameters}
    return names == ["inputs", "outputs", "name"] or {inspect.Parameter.VAR_POSITIONAL,
                                                      inspect.Parameter.VAR_KEYWORD} <= kinds


def _sorted_dicts(structure):
    if isinstance(structure, dict):
        return {key: _sorted_dicts(structure[key]) for key in sorted(structure)}
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):       # a namedtuple
        return type(structure)(*(_sorted_dicts(v) for v in structure))
    if isinstance(structure, (list, tuple)):
        return type(structure)(_sorted_dicts(v) for v in structure)
    return structure


def _keras_tensors(structure, argument, owner) -> list:
    leaves = pytree.tree_leaves(structure)
    if not leaves:
        raise ValueError(f"{owner}: `{argument}` is empty")
    for leaf in leaves:
        if not isinstance(leaf, KerasTensor):
            got = f"a tensor of shape {shape_text(leaf.shape)}" if isinstance(leaf, torch.Tensor) else \
                type(leaf).__name__
            raise TypeError(f"{owner}: `{argument}` must hold symbolic tensors (kr.Input(...) and what layers "
                            f"return when called on them), got {got}")
    if argument == "inputs":
        names = [t.name for t in leaves]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"{owner}: input names must be unique (they key a dict of inputs), got {repeated} "
                             "more than once")
    return leaves


def _check_symbolic(structure, argument, owner) -> None:
    for leaf in pytree.tree_leaves(structure):
        if not isinstance(leaf, KerasTensor):
            got = f"a tensor of shape {shape_text(leaf.shape)}" if isinstance(leaf, torch.Tensor) else repr(leaf)
            raise ValueError(f"{owner}: All `{argument}` values must be KerasTensors (kr.Input(...) and what layers "
                             f"return when called on them). Received: {got}")


def _disconnected_output(inputs, outputs) -> str | None:
    """The path (Keras's, as "0.key") of the first output that does not depend on the inputs only, or None."""
    given = {id(t) for t in inputs}
    for path, tensor in zip(_leaf_paths(outputs), pytree.tree_leaves(outputs)):
        stack, seen = [tensor], set()
        while stack:
            current = stack.pop()
            if id(current) in given or id(current) in seen:
                continue
            seen.add(id(current))
            if current.node.is_input:
                return ".".join(str(k) for k in path)
            stack.extend(current.node.inputs)
    return None


def _leaf_paths(structure) -> list:
    """The path of each leaf (keys and positions), in flattening order."""
    if isinstance(structure, dict):
        return [(key, *rest) for key, value in structure.items() for rest in _leaf_paths(value)]
    if isinstance(structure, (list, tuple)):
        return [(i, *rest) for i, value in enumerate(structure) for rest in _leaf_paths(value)]
    return [()]


def _leaf_keys(structure) -> list:
    return [".".join(str(k) for k in path) for path in _leaf_paths(structure)]


def _tupled(structure):
    if isinstance(structure, (list, tuple)):
        return tuple(_tupled(v) for v in structure)
    if isinstance(structure, dict):
        return {k: _tupled(v) for k, v in structure.items()}
    return None


def _taken_by_keys(structure, given, owner) -> tuple[list, bool]:
    """The values of a (nested) dict of inputs in the order of the model's (sorted) dict; whether it held more."""
    if isinstance(structure, dict):
        if not isinstance(given, dict):
            raise ValueError(f"{owner}: expected a dict with keys {sorted(structure)}, got {type(given).__name__}")
        missing = [key for key in structure if key not in given]
        if missing:
            raise ValueError(f'Missing data for input "{missing[0]}". You passed a data dictionary with keys '
                             f"{list(given)}. Expected the following keys: {list(structure)}")
        values, extra = [], any(key not in structure for key in given)
        for key in sorted(structure):
            taken, more = _taken_by_keys(structure[key], given[key], owner)
            values.extend(taken)
            extra = extra or more
        return values, extra
    if isinstance(structure, (list, tuple)):
        values, extra = [], False
        for sub, value in zip(structure, given):
            taken, more = _taken_by_keys(sub, value, owner)
            values.extend(taken)
            extra = extra or more
        return values, extra
    return [given], False


def _check_input(value, tensor, owner):
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{owner}: input '{tensor.name}' must be a tensor of shape {shape_text(tensor.shape)}, got "
                        f"{type(value).__name__} (convert it with torch.as_tensor)")
    if value.dim() != len(tensor.shape) or any(
            want is not None and got != want for got, want in zip(value.shape, tensor.shape)):
        raise ValueError(f"{owner}: input '{tensor.name}' expects shape {shape_text(tensor.shape)}, got "
                         f"{shape_text(value.shape)}")


def _attribute_names(model, layers):
    """Submodule names from each layer's class, numbered in model order: lstm, lstm_1, dense, ..."""
    used: dict[str, int] = {}
    for layer in layers:
        base = snake_case(type(layer).__name__)
        while True:
            count = used.get(base, 0)
            used[base] = count + 1
            key = base if count == 0 else f"{base}_{count}"
            if not hasattr(type(model), key) and key not in model.__dict__:
                break
        yield key, layer


_model_numbers: collections.Counter[str] = collections.Counter()


def _model_name() -> str:
    n = _model_numbers["functional"]
    _model_numbers["functional"] += 1
    return "functional" if n == 0 else f"functional_{n}"


# ---------------------------------------------------------------- running it
class _Slot:
    """A placeholder in a step's arguments: the value computed into slot `index`."""
    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


def _template(value, slot_of):
    """A call argument with each KerasTensor replaced by the `_Slot` its value will be in."""
    if isinstance(value, KerasTensor):
        return _Slot(slot_of[id(value)])
    if isinstance(value, (list, tuple)):
        return type(value)(_template(v, slot_of) for v in value)
    if isinstance(value, dict):
        return {k: _template(v, slot_of) for k, v in value.items()}
    return value


def _fill(template, table, constants=True):
    """The argument for this call: slots looked up in `table` (constants kept, or None for masks)."""
    if isinstance(template, _Slot):
        return table[template.index]
    if isinstance(template, (list, tuple)):
        return type(template)(_fill(v, table, constants) for v in template)
    if isinstance(template, dict):
        return {k: _fill(v, table, constants) for k, v in template.items()}
    return template if constants else None


def _flat_outputs(result) -> list:
    if isinstance(result, torch.Tensor):
        return [result]
    if isinstance(result, (list, tuple)) and all(isinstance(t, torch.Tensor) for t in result):
        return list(result)
    return pytree.tree_leaves(result)


class _Step:
    """One layer call of the program, its arguments and masks as slot lookups prepared once."""

    def __init__(self, node, slot_of):
        self.layer = node.layer
        args, kwargs = pytree.tree_unflatten(list(node.arguments), node.argument_spec)
        self.args = [_template(a, slot_of) for a in args]
        self.kwargs = {k: _template(v, slot_of) for k, v in kwargs.items()}
        self.outputs = [slot_of[id(t)] for t in node.outputs]
        keywords = keywords_for(node.layer)
        self.passes_training = "training" in keywords
        bound = bind_arguments(node.layer, self.args, self.kwargs)
        rule = node.mask_rule
        self.mask_routes = [(parameter, bound[name]) for name, parameter in rule.routes]
        self.records_mask = node.records_mask
        self.passes_keras_masks = node.layer.passes_masks_while_building
        self.first_argument = bound[rule.first_argument]
        self.explicit_mask = bound.get("mask")
        self.takes_mask = rule.takes_mask
        # Whether a mask exists depends on the graph, not on the data: a call whose inputs and outputs
        # had none while building has none at run time either, unless the model is given masks.
        self.sees_masks = any(t.has_mask for t in node.inputs) or any(t.has_mask for t in node.outputs)

    def run(self, values, masks, keras_masks, training, masked):
        """`masks`: each value's mask as the model runs; `keras_masks`: the masks Keras's graph computes
        (the same table unless the model holds a nested model, see KerasTensor.keras_masked)."""
        args = [_fill(a, values) for a in self.args]
        kwargs = {k: _fill(v, values) for k, v in self.kwargs.items()} if self.kwargs else {}
        with_masks = masked or self.sees_masks
        given = {}
        if with_masks and self.mask_routes:
            # A recorded mask is Keras's graph's; a call that recorded none takes its input's mask as it runs.
            given = (self.records_mask and self._masks_in(keras_masks)) or self._masks_in(masks)
        if training is not None:
            if self.passes_training:
                kwargs["training"] = training
            elif self.layer.training != training or self.layer._modules:   # a leaf layer in that mode: as is
                with running_in_mode(self.layer, training):
                    result = self.layer(*args, **kwargs, **given)
                return self._store(result, values, masks, keras_masks, given, with_masks)
        result = self.layer(*args, **kwargs, **given)
        return self._store(result, values, masks, keras_masks, given, with_masks)

    def _masks_in(self, masks) -> dict:
        given = {}
        for parameter, template in self.mask_routes:
            routed = _fill(template, masks, constants=False)
            if routed is not None and not all(m is None for m in pytree.tree_leaves(routed)):
                given[parameter] = routed
        return given

    def _store(self, result, values, masks, keras_masks, given, with_masks):
        flat = _flat_outputs(result)
        for slot, value in zip(self.outputs, flat):
            values[slot] = value
        if with_masks and self.takes_mask:
            self._store_masks(masks, self._output_masks(values, masks, given))
            if keras_masks is not masks:
                keras_given = self._masks_in(keras_masks) if self.mask_routes else {}
                out = self._output_masks(values, keras_masks, keras_given) if self.passes_keras_masks else []
                self._store_masks(keras_masks, out)
        elif keras_masks is not masks:
            self._store_masks(keras_masks, [])

    def _output_masks(self, values, masks, given) -> list:
        previous = given.get("mask")
        if previous is None:
            previous = _fill(self.explicit_mask, values) if self.explicit_mask is not None else \
                _fill(self.first_argument, masks, constants=False)
        out = self.layer.compute_mask(_fill(self.first_argument, values), previous)
        return pytree.tree_leaves(out, is_leaf=lambda m: m is None) if out is not None else []

    def _store_masks(self, masks, out_masks) -> None:
        for i, slot in enumerate(self.outputs):
            masks[slot] = out_masks[i] if i < len(out_masks) else None


class _Program:
    """The model's calls in Keras's execution order, over numbered slots."""

    def __init__(self, graph, inputs, outputs, output_spec):
        slot_of = {id(t): i for i, t in enumerate(inputs)}
        # Input layers compute nothing, nor do calls whose outputs the model is given as inputs.
        computed = [node for node in graph.nodes
                    if not node.is_input and not any(id(t) in slot_of for t in node.outputs)]
        for node in computed:
            for tensor in node.outputs:
                slot_of[id(tensor)] = len(slot_of)
        self.size = len(slot_of)
        self.input_slots = [slot_of[id(t)] for t in inputs]
        self.steps = [_Step(node, slot_of) for node in computed]
        self.output_slots = [slot_of[id(t)] for t in outputs]
        self.output_spec = output_spec
        self.single_output = output_spec.is_leaf()          # the outputs are one tensor, not a structure
        # Keras's graph and its run disagree on masks only past a nested model: then both are kept.
        self.keeps_keras_masks = any(not step.passes_keras_masks for step in self.steps)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("single_output", self.output_spec.is_leaf())    # pickled before it existed

    def run(self, inputs, input_masks, training):
        values = [None] * self.size
        masks = [None] * self.size
        for slot, value, mask in zip(self.input_slots, inputs, input_masks):
            values[slot] = value
            masks[slot] = mask
        masked = any(m is not None for m in input_masks)
        keras_masks = list(masks) if self.keeps_keras_masks else masks
        for step in self.steps:
            step.run(values, masks, keras_masks, training, masked)
        return [values[s] for s in self.output_slots], [masks[s] for s in self.output_slots]
