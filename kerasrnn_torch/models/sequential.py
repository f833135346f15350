"""Sequential: a stack of layers called in order, with masks passed along as Keras does."""
from __future__ import annotations

import inspect
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar, overload

import numpy as np
import torch
from torch import nn
from torch.utils import _pytree as pytree

from .._checks import add_note, describe, shape_hint, shape_of, shape_text, weight_tensors
from .._types import InputShape, ShapeLike
from ..core.layer import Layer, assign_weights, training_context
from ..core import registry
from ..core.config import deserialize_layer, serialize_layer
from ..core.input_layer import InputLayer, input_layer_config
from ..core.symbolic import KerasTensor
from .call_options import keywords_for, running_in_mode
from .training.trainer import Trainer
from .summary import dry_run, example_input, is_built, known_input, summary, weights_of
from ..core.registry import register_keras_class

SequentialT = TypeVar("SequentialT", bound="Sequential")
# An input the model knows: (shape without the batch axis, dtype or None).
_KnownInput = tuple[tuple[Any, ...], "torch.dtype | None"]


@register_keras_class("Sequential", module="keras")
class Sequential(Trainer, Layer):
    """Layers applied one after the other, as `keras.Sequential`; a `torch.nn.Module` holding them in order.

    Args:
        layers: kerasrnn_torch layers and torch modules, in call order (more
            can be added with `add`).
        name: the model's name (default "sequential", "sequential_1", ...).

    Masks travel as in Keras. After each layer the mask becomes
    `layer.compute_mask(layer_input, mask)`: `Embedding(mask_zero=True)` and
    `Masking` create one, recurrent layers keep it with
    `return_sequences=True` and drop it otherwise, `Dense` and `Dropout`
    pass it on. Each layer whose `forward` has a `mask` parameter receives
    it: every kerasrnn_torch layer, and a torch module of yours when it sets
    `supports_masking = True`. Other torch modules never receive it (their
    `mask` arguments, e.g. `nn.TransformerEncoder`'s, mean something else)
    and, without a `compute_mask` of their own, pass it on when their output
    keeps the (batch, timesteps) axes (per-step modules such as `nn.Linear`
    or `nn.LayerNorm`); otherwise the mask is dropped with a warning, as
    Keras warns when a layer destroys a mask.

    `training=None` leaves each layer to its own `train()`/`eval()` mode;
    `training=True`/`False` is passed to layers that take a `training`
    argument, and the other modules run in that mode for the call (their
    flags are restored afterwards), so `nn.Dropout` follows it too.

    A first layer with an input shape hint (`LSTM(64, input_shape=(10, 5))`,
    Keras 2 style) builds every layer as soon as it is added, by a dry run of
    a batch of one that leaves no other trace (see `summary.dry_run`);
    `build((None, 10, 5))` does the same on demand.

    >>> model = Sequential([Embedding(1000, 64, mask_zero=True), LSTM(32), Dense(10)])
    >>> model(torch.tensor([[4, 8, 15, 0, 0]])).shape     # the LSTM skips the padded steps
    torch.Size([1, 10])
    """

    call_records = (*Layer.call_records, "_last_input", "_mask_cache")
    # Used as a layer, a Keras model's outputs carry no mask while the outer graph is built (though
    # they do when it runs): later calls are wired as Keras wires them (see KerasTensor.keras_masked).
    passes_masks_while_building = False
    # Only `add` fills it, never with None (nn.Module allows None entries; the layer stack has none).
    _modules: dict[str, nn.Module]  # type: ignore[assignment]

    def __init__(self, layers: Iterable[nn.Module | KerasTensor] | None = None, name: str | None = None) -> None:
        super().__init__(name=name)
        self._keywords: dict[str, frozenset] = {}
        self._input: _KnownInput | None = None          # (shape without batch, dtype) given to build()
        self._last_input: _KnownInput | None = None     # the latest call's (shape without batch, dtype)
        # the latest call's output mask, for compute_mask: (input, its mask, output mask)
        self._mask_cache: tuple[weakref.ref[Any], weakref.ref[Any] | None, Any] | None = None
        self._input_layer: InputLayer | None = None     # the Input given first, if any
        self._input_tensor: KerasTensor | None = None
        self._symbolic: tuple[list, list] | None = None  # Keras's `inputs` and `outputs`, made when first asked
        self._called = False
        for layer in layers or ():
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    # ---------------------------------------------------------------- config
    def to_json(self, **kwargs: Any) -> str:
        """The model's Keras configuration as a JSON string, as Keras's `to_json` (`kwargs` go to `json.dumps`);
        `kr.models.model_from_json` (or Keras's) builds the model again from it, with new weights."""
        text: str = registry.provided("model_to_json")(self, **kwargs)
        return text

    def get_config(self) -> dict:
        """Keras's configuration: the layers, each serialized as Keras serializes a layer.

        A known input (an `Input` first, or `build`) is written as Keras writes it: an InputLayer
        entry first, so that the model keeps its input's shape and dtype in a file (a length left
        unknown stays unknown, instead of the length of the first call Keras reads it with).
        """
        layers = [serialize_layer(layer) for layer in self.layers]
        if self._input is not None:
            shape, dtype = self._input
            config = input_layer_config((None, *shape), dtype or torch.get_default_dtype(), f"{self.name}_input")
            entry = {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None, "config": config}
            layers.insert(0, entry)
        return {**super().get_config(), "layers": layers}

    @classmethod
    def from_config(cls: type[SequentialT], config: dict[str, Any],
                    custom_objects: Mapping[str, Any] | None = None) -> SequentialT:
        """A new model from `get_config()` (or a Keras Sequential's: an InputLayer entry gives the input shape).

        `custom_objects` (`{"Name": Class}`) names classes of the configuration that are not registered.
        """
        with registry.custom_objects(custom_objects):
            return cls._from_config(config)

    @classmethod
    def _from_config(cls: type[SequentialT], config: dict[str, Any]) -> SequentialT:
        config = dict(config)
        owner = f"{cls.__name__} {config.get('name')!r}"
        layers: list[Any] = []
        batch_shape = config.pop("build_input_shape", None)
        for entry in config.pop("layers", ()):
            if isinstance(entry, dict) and entry.get("class_name") == "InputLayer":
                layers.append(InputLayer.from_config(dict(entry.get("config") or {})))   # its shape and dtype
                batch_shape = None
                continue
            layers.append(deserialize_layer(entry, owner))
        trainable = config.pop("trainable", True)
        config.pop("dtype", None)          # the layers carry their own dtypes
        model = cls(layers, **config)
        if batch_shape is not None:
            model.build(tuple(batch_shape))
        if not trainable:
            model.trainable = False
        return model

    # ------------------------------------------------------------- the stack
    @property
    def layers(self) -> list[nn.Module]:
        """The layers, in call order (a copy: use `add` and `pop` to change them)."""
        return list(self._modules.values())

    @layers.setter
    def layers(self, value: Any) -> None:
        raise AttributeError("`Sequential.layers` attribute is reserved and should not be used. Use `add()` and "
                             f"`pop()` to change the layers in the model (got an assignment of {type(value).__name__})")

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[nn.Module]:
        return iter(self.layers)

    @overload
    def __getitem__(self, index: int) -> nn.Module: ...
    @overload
    def __getitem__(self, index: slice) -> list[nn.Module]: ...

    def __getitem__(self, index: int | slice) -> nn.Module | list[nn.Module]:
        return self.layers[index]

    def add(self, layer: nn.Module | KerasTensor, rebuild: bool = True) -> None:
        """Append a layer; with a known input shape the new layer is built right away.

        `kr.Input(shape)` as the first entry gives the input shape, as in
        Keras 3's `Sequential([keras.Input(shape), ...])`.
        """
        given = layer
        if isinstance(layer, KerasTensor) and layer.node.is_input:
            layer = layer.node.layer
        if isinstance(layer, InputLayer):
            configured = self.__dict__.get("_input_layer")
            if configured is not None:
                raise ValueError(f"Sequential model '{self.name}' has already been configured to use input shape "
                                 f"{shape_text(configured.batch_shape)}. You cannot add a different Input "
                                 "layer to it")
            if self._modules:
                raise ValueError(f"{describe(self)}: an Input comes first, before any layer; it came after "
                                 f"{len(self._modules)} layer(s)")
            self._input = (tuple(layer.batch_shape[1:]), layer.input_dtype)
            self.__dict__["_input_layer"] = layer      # not a submodule: no weights, and not among `layers`
            self._input_tensor = given if isinstance(given, KerasTensor) else layer.output
            return
        if not isinstance(layer, nn.Module):
            raise ValueError(f"{describe(self)}: Only instances of `kr.layers.Layer` (or other torch.nn.Module) "
                             f"can be added to a Sequential model. Received: {layer!r} (of type "
                             f"{type(layer).__name__})")
        if isinstance(layer, Layer):
            taken = [other for other in self._modules.values() if isinstance(other, Layer) and other.name == layer.name]
            if any(other is layer for other in taken):
                raise ValueError(f"{describe(self)} already holds {describe(layer)}; a layer can be added once")
            if taken:
                raise ValueError(f"{describe(self)} already holds a layer named '{layer.name}': all layers added to a "
                                 "Sequential model should have unique names (pass name=... to the layer)")
        key = str(len(self._modules))
        self._symbolic = None
        self.add_module(key, layer)
        self._keywords[key] = keywords_for(layer)
        if rebuild:
            self._maybe_rebuild()

    def pop(self) -> nn.Module:
        """Remove and return the last layer."""
        if not self._modules:
            raise ValueError(f"{describe(self)} has no layers to pop")
        key = next(reversed(self._modules))
        self._symbolic = None
        self._keywords.pop(key)
        return self._modules.pop(key)

    # ------------------------------------------------------------------ build
    @property
    def built(self) -> bool:
        """True once the input is known (an Input, an input shape hint, `build` or a call) and every layer's
        weights exist, as Keras's."""
        return bool(self._modules) and (self._called or self._known_input() is not None) and all(
            is_built(layer) for layer in self._modules.values())

    @built.setter
    def built(self, value: bool) -> None:
        pass  # derived from the layers; Layer.__init__ assigns it

    @property
    def input_shape(self) -> tuple[int | None, ...]:
        """`(None, *shape)` of the known input (from an Input, a hint, `build` or the latest call); an
        AttributeError before, as Keras's."""
        known = self._known_input()
        if known is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined input shape yet")
        if self._input_layer is not None:
            return tuple(self._input_layer.batch_shape)
        return (None, *known[0])

    @property
    def inputs(self) -> list[KerasTensor]:
        """Keras's `model.inputs`: the symbolic input (the `kr.Input` given, or one of the known input's shape)
        in a list; an AttributeError while the input is unknown."""
        return self._symbolic_graph()[0]

    @property
    def outputs(self) -> list[Any]:
        """Keras's `model.outputs`: the layers' output on `inputs`, in a list."""
        return self._symbolic_graph()[1]

    @property
    def output_shape(self) -> Any:
        """The output's shape, batch axis first, as Keras's (an AttributeError while the input is unknown)."""
        outputs = self._symbolic_graph()[1]
        return outputs[0].shape if len(outputs) == 1 else [t.shape for t in outputs]

    def _symbolic_graph(self) -> tuple[list, list]:
        if self._symbolic is not None:
            return self._symbolic
        known = self._known_input()
        if known is None or not self._modules:
            raise AttributeError(f"Sequential model '{self.name}' has no defined inputs and outputs yet: give it "
                                 "an Input first, or build or call it")
        tensor = self._input_tensor
        if tensor is None:
            tensor = InputLayer(shape=known[0], dtype=known[1], name=f"{self.name}_input").output
        x: Any = tensor
        for layer in self._modules.values():
            x = layer(x)
        self._symbolic = ([tensor], pytree.tree_leaves(x))
        return self._symbolic

    @property
    def input_dtype(self) -> torch.dtype | None:
        known = self._known_input()
        return None if known is None else known[1]

    def _known_input(self):
        if self._input is not None:
            return self._input
        first = known_input(self.layers[0]) if self._modules else None
        return first if first is not None else self._last_input

    def build(self, input_shape: InputShape) -> None:
        """Create every layer's weights for inputs of `input_shape` (batch axis first, as Keras: `(None, 10, 5)`)."""
        if self._input_layer is not None and not _compatible(tuple(input_shape), self._input_layer.batch_shape):
            raise ValueError(f"Sequential model '{self.name}' has already been configured to use input shape "
                             f"{shape_text(self._input_layer.batch_shape)}. You cannot build it with input_shape "
                             f"{tuple(input_shape)}")
        self._build(shape_hint(tuple(input_shape)[1:], "input_shape", describe(self)))

    def _build(self, shape, dtype=None):
        if not self._modules:
            raise ValueError(f"{describe(self)} has no layers to build; add some with .add(layer)")
        self._check_positional()
        example = example_input(self, shape, dtype=dtype)
        try:
            with dry_run(self):
                self(example)
        except Exception as error:
            add_note(error, f"(raised while {describe(self)} built its layers from a dummy input of shape "
                                    f"{shape_text(example.shape)} and dtype {example.dtype})")
            raise
        self._input = (tuple(shape), example.dtype)

    def _check_positional(self) -> None:
        """Keras's rule: each layer takes one positional argument, the previous layer's output."""
        for layer in self._modules.values():
            if not isinstance(layer, Layer) or not layer.keras_style:
                continue
            parameters = list(inspect.signature(layer.call).parameters.values())
            required = [p.name for p in parameters[1:] if p.default is p.empty
                        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            if required:
                raise ValueError(f"Layers added to a Sequential model can only have a single positional argument, "
                                 f"the input tensor. Layer {type(layer).__name__} has multiple positional arguments: "
                                 f"{[parameters[0].name, *required]}")

    def _maybe_rebuild(self):
        if not self._modules or self.built:
            return
        known = self._known_input()
        if known is not None:
            self._build(*known)

    # ---------------------------------------------------------------- forward
    # `inputs`: whatever the first layer takes; the result: whatever the last one returns.
    def forward(self, inputs: Any, mask: torch.Tensor | None = None, training: bool | None = None) -> Any:
        """Run the layers in order on `inputs`, passing masks along; `mask` is the input's mask, `training`
        reaches the layers that take it (None: their own mode)."""
        if not self._modules:
            if self._input is not None:
                return inputs           # only an Input: the model is the identity, as Keras's
            raise ValueError(f"{describe(self)} has no layers; add some with .add(layer)")
        self._called = True
        if training is None:
            output, output_mask = self._run(inputs, mask, training)
        else:
            with training_context(training):     # Keras-style layers inside take it as their caller's
                output, output_mask = self._run(inputs, mask, training)
        if isinstance(inputs, torch.Tensor):
            self._last_input = (tuple(inputs.shape[1:]), inputs.dtype)
            self._mask_cache = (weakref.ref(inputs), _reference(mask), output_mask)
        return output

    def _run(self, x, mask, training):
        for key, layer in self._modules.items():
            keywords = self._keywords[key]
            kwargs = {}
            if mask is not None and "mask" in keywords:
                kwargs["mask"] = mask
            if training is not None and "training" in keywords:
                kwargs["training"] = bool(training)
            with running_in_mode(layer, None if "training" in keywords else training):
                y = layer(x, **kwargs)
            mask = self._next_mask(layer, x, y, mask)
            x = y
        return x, mask

    def _next_mask(self, layer, inputs, outputs, mask):
        compute_mask = getattr(layer, "compute_mask", None)
        if callable(compute_mask):
            return compute_mask(inputs, mask)
        if mask is None:
            return None
        if isinstance(outputs, torch.Tensor) and isinstance(mask, torch.Tensor) \
                and tuple(outputs.shape[:mask.dim()]) == tuple(mask.shape):
            return mask
        warnings.warn(f"{describe(self)}: layer {type(layer).__name__} received a mask of shape "
                      f"{shape_text(mask.shape)} but its output does not keep the (batch, timesteps) axes and it "
                      "has no compute_mask, so the mask stops here; later layers will not see it", stacklevel=3)
        return None

    # ------------------------------------------------------------------ masks
    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The mask the last layer passes on for `inputs` (read from the latest call when it was on them)."""
        cache = self._mask_cache
        if cache is not None and cache[0]() is inputs and _same(cache[1], mask):
            return cache[2]
        with dry_run(self):
            return self._run(inputs, mask, None)[1]

    def __getstate__(self) -> dict[str, Any]:
        # The mask cache holds weak references, which cannot be pickled (torch.save(model)); it is only a cache.
        state = dict(super().__getstate__())
        state["_mask_cache"] = None
        return state

    # ---------------------------------------------------------------- weights
    @property
    def weights(self) -> list[torch.Tensor]:
        """Every layer's weights in Keras's order: the layers' `weights`, concatenated."""
        if not self._modules:
            raise ValueError(f"{describe(self)} has no layers, hence no weights")
        unbuilt = [_label(layer) for layer in self._modules.values() if not is_built(layer)]
        if unbuilt:
            raise ValueError(
                f"{describe(self)} has no weights yet for {', '.join(unbuilt)}: call it on an input first, "
                "give its first layer input_shape=..., or call build((None, *input_shape))")
        weights, seen = [], set()
        for layer in self._modules.values():
            for weight in weights_of(layer):
                if id(weight) not in seen:
                    seen.add(id(weight))
                    weights.append(weight)
        return weights

    def get_weights(self) -> list[np.ndarray]:
        """Every weight as a numpy array in Keras's order: what `keras.Sequential.get_weights()` returns."""
        return [w.detach().cpu().numpy().copy() for w in self.weights]

    def set_weights(self, weights: Iterable[Any]) -> None:
        """Load arrays in Keras's order and shapes (e.g. the same `keras.Sequential`'s `get_weights()`)."""
        weights = list(weights)
        targets = self.weights
        expected = ", ".join(shape_text(t.shape) for t in targets)
        received = ", ".join(shape_text(shape_of(w)) for w in weights)
        if len(weights) != len(targets):
            raise ValueError(f"{describe(self)} expects {len(targets)} weight arrays with shapes [{expected}], "
                             f"got {len(weights)} arrays with shapes [{received}]")
        for i, (target, array) in enumerate(zip(targets, weights)):
            if shape_of(array) != tuple(target.shape):
                raise ValueError(f"{describe(self)}: weight {i} must have shape {shape_text(target.shape)}; "
                                 f"expected shapes [{expected}], got [{received}]")
        assign_weights(targets, weight_tensors(weights, targets, self._weight_labels(targets), describe(self)))

    def _weight_labels(self, targets) -> list[str]:
        """Each weight's position and name with its layer's: "3 ('cell.bias' of LSTM 'lstm')"."""
        names: dict[int, str] = {}
        for layer in self._modules.values():
            for name, parameter in layer.named_parameters():
                names.setdefault(id(parameter), f"'{name}' of {_label(layer)}")
        return [f"{i} ({names[id(t)]})" if id(t) in names else str(i) for i, t in enumerate(targets)]

    # ---------------------------------------------------------------- summary
    def summary(self, input_shape: ShapeLike | None = None, print_fn: Callable[[str], object] | None = print,
                **kwargs: Any) -> str | None:
        """Print Keras's summary table of this model (None is returned, as Keras); `print_fn=None` returns the text."""
        return summary(self, input_shape=input_shape, print_fn=print_fn, **kwargs)

    def extra_repr(self) -> str:
        return f"name={self.name!r}"




def _compatible(shape, batch_shape) -> bool:
    return len(shape) == len(batch_shape) and all(
        a is None or b is None or a == b for a, b in zip(shape, batch_shape))


def _reference(mask):
    return None if mask is None else weakref.ref(mask)


def _same(reference, mask) -> bool:
    return mask is None if reference is None else reference() is mask


def _label(layer) -> str:
    return describe(layer) if isinstance(layer, Layer) else type(layer).__name__
