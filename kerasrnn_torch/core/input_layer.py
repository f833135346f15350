"""InputLayer: where a functional model's data comes in (`kr.Input` makes one)."""
from __future__ import annotations

from collections.abc import Sequence

import numbers
import warnings


from .._checks import describe, shape_text
from .layer import Layer
from .symbolic import KerasTensor, Node, next_call_index, probe_values, resolve_dtype
import torch
from typing import Any
from .layer import LayerT
from .._types import ShapeLike
from .registry import register_keras_class

@register_keras_class("InputLayer")
class InputLayer(Layer):
    """The layer behind `kr.Input`, as `keras.layers.InputLayer`: no weights, its output is the input.

    Args:
        shape: the shape without the batch axis (None for a size that varies).
        batch_size: a fixed batch size, or None.
        dtype: a torch dtype or Keras's name ("float32", "int32", ...).
        name: the input's name (default "input_layer", "input_layer_1", ...).

    >>> InputLayer(shape=(None, 8)).output.shape
    (None, None, 8)
    """

    def __init__(self, shape: ShapeLike | None = None, batch_size: int | None = None,
                 dtype: torch.dtype | str | None = None, sparse: bool | None = None,
                 batch_shape: ShapeLike | None = None, input_tensor: Any = None, optional: bool = False,
                 name: str | None = None, ragged: bool | None = None, *, input_shape: ShapeLike | None = None,
                 **kwargs: Any) -> None:
        super().__init__(name=name)
        owner = describe(self)
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        if kwargs:
            raise TypeError(f"{owner}: unexpected arguments {sorted(kwargs)} (InputLayer takes shape, batch_size, "
                            "dtype, batch_shape, input_tensor, optional and name)")
        if input_shape is not None:
            warnings.warn("Argument `input_shape` is deprecated. Use `shape` instead.", UserWarning, stacklevel=2)
            shape = input_shape if shape is None else shape
        self.sparse, self.ragged, self.optional = False, False, bool(optional)
        if input_tensor is not None:
            if sparse:
                raise ValueError(f"{owner}: when providing the `input_tensor` argument, you cannot provide an "
                                 "incompatible `sparse` argument (kr's symbolic tensors are dense)")
            self._wrap(input_tensor, shape, batch_size, batch_shape, dtype, owner)
            return
        for flag, value in (("sparse", sparse), ("ragged", ragged)):
            if value:
                raise ValueError(f"{owner}: `{flag}=True` is not supported with kerasrnn_torch (as with Keras's "
                                 "torch backend): pass dense tensors")
        if shape is not None and batch_shape is not None:
            raise ValueError(f"{owner}: you cannot pass both `shape` and `batch_shape` at the same time "
                             f"(got shape={shape!r}, batch_shape={batch_shape!r})")
        if batch_size is not None and batch_shape is not None:
            raise ValueError(f"{owner}: you cannot pass both `batch_size` and `batch_shape` at the same time "
                             f"(got batch_size={batch_size!r}, batch_shape={batch_shape!r})")
        if shape is None and batch_shape is None:
            raise ValueError(f"{owner}: you must pass a `shape` argument (`shape` is required): the input's shape without the batch axis, "
                             "e.g. (None, 8)")
        if batch_shape is not None:
            batch_shape = _checked_batch_shape(batch_shape, owner)
            batch_size, shape = batch_shape[0], tuple(batch_shape[1:])
        self.input_dtype = resolve_dtype(dtype, owner)
        self.batch_shape = (_size(batch_size, "batch_size", owner), *_checked_shape(shape, owner))
        examples = probe_values(self.batch_shape, self.input_dtype)
        node = Node(self, [], None, [], [], None, None, next_call_index(self))
        self._output = KerasTensor(self.batch_shape, self.input_dtype, node=node, index=0, examples=examples,
                                   masks=(None, None), name=self.name)
        node.outputs.append(self._output)
        self.built = True

    def _wrap(self, tensor: Any, shape: Any, batch_size: Any, batch_shape: Any, dtype: Any, owner: str) -> None:
        """Keras's `input_tensor=`: the layer stands for an existing symbolic tensor, which must agree with the
        other arguments given."""
        if not isinstance(tensor, KerasTensor):
            raise ValueError(f"{owner}: Argument `input_tensor` must be a KerasTensor (what kr.Input or a layer "
                             f"called on one returns), got {type(tensor).__name__}")
        if shape is not None and tuple(_checked_shape(shape, owner)) != tuple(tensor.shape[1:]):
            raise ValueError(f"{owner}: you cannot provide an incompatible `shape` {tuple(shape)!r} with "
                             f"`input_tensor` of shape {shape_text(tensor.shape)}")
        if batch_shape is not None and tuple(batch_shape) != tuple(tensor.shape):
            raise ValueError(f"{owner}: you cannot provide an incompatible `batch_shape` {tuple(batch_shape)!r} "
                             f"with `input_tensor` of shape {shape_text(tensor.shape)}")
        if batch_size is not None and batch_size != tensor.shape[0]:
            raise ValueError(f"{owner}: you cannot provide an incompatible `batch_size` {batch_size!r} with "
                             f"`input_tensor` of shape {shape_text(tensor.shape)}")
        if dtype is not None and resolve_dtype(dtype, owner) != tensor.dtype:
            raise ValueError(f"{owner}: you cannot provide an incompatible `dtype` {dtype!r} with `input_tensor` "
                             f"of dtype {tensor.dtype}")
        self.input_dtype = tensor.dtype if tensor.dtype is not None else torch.get_default_dtype()
        self.batch_shape = tuple(tensor.shape)
        self._output = tensor
        self.built = True

    @property
    def output(self) -> KerasTensor:
        """The symbolic tensor this layer makes (what `kr.Input` returns)."""
        return self._output

    @property
    def dtype(self) -> torch.dtype:
        """The input's dtype (Keras's `InputLayer.dtype`, here a torch dtype)."""
        return self.input_dtype

    def forward(self, inputs: torch.Tensor | None = None) -> torch.Tensor | None:
        """The input itself (a functional model feeds its data here); None without one, as Keras's `call()`."""
        return inputs

    def get_config(self) -> dict:
        config = input_layer_config(self.batch_shape, self.input_dtype, self.name)
        if self.optional:
            config["optional"] = True
        return config

    @classmethod
    def from_config(cls: type[LayerT], config: dict[str, Any]) -> LayerT:
        config = dict(config)
        batch_shape = config.pop("batch_shape", None) or config.pop("batch_input_shape", None)
        for unused in ("sparse", "ragged"):
            if not config.pop(unused, None):
                continue
            raise ValueError(f"InputLayer {config.get('name')!r}: `{unused}=True` is not supported")
        if batch_shape is not None:
            config["batch_size"], config["shape"] = batch_shape[0], tuple(batch_shape[1:])
        return cls(**config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, batch_shape={shape_text(self.batch_shape)}"


# ------------------------------------------------------------------ Input
def Input(shape: ShapeLike | None = None, batch_size: int | None = None,  # noqa: N802 (Keras's name)
          dtype: torch.dtype | str | None = None, sparse: bool | None = None, batch_shape: ShapeLike | None = None,
          name: str | None = None, tensor: Any = None, optional: bool = False, ragged: bool | None = None
          ) -> KerasTensor:
    """A symbolic input of a functional model, as `keras.Input`.

    Args:
        shape: the shape without the batch axis; None for a size that varies
            (`(None, 8)`: sequences of any length with 8 features).
        batch_size: a fixed batch size (default: any).
        dtype: a torch dtype or Keras's name ("float32", "int32", ...);
            default the torch default float dtype.
        sparse, ragged: False (dense tensors only, as on Keras's torch backend).
        batch_shape: the whole shape, batch axis first (`(16, 10, 5)`), instead of
            `shape` and `batch_size`.
        name: the input's name (default "input_layer", "input_layer_1", ...):
            the key of a dict passed to the model.
        tensor: an existing symbolic tensor this input stands for.
        optional: whether the model may be given None for it (a layer then
            gets None for that argument).

    >>> tokens = Input(shape=(None,), dtype="int32")
    >>> tokens.shape
    (None, None)
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse, batch_shape=batch_shape,
                       input_tensor=tensor, optional=optional, name=name, ragged=ragged)
    return layer.output


def _checked_batch_shape(batch_shape: Any, owner: str) -> tuple:
    if isinstance(batch_shape, (str, bytes)) or not hasattr(batch_shape, "__len__") or len(batch_shape) < 1:
        raise ValueError(f"{owner}: `batch_shape` must be a tuple with the batch axis first, e.g. (16, 10, 5), "
                         f"got {batch_shape!r}")
    return tuple(batch_shape)


def _size(value: Any, argument, owner):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{owner}: `{argument}` must be a positive integer or None, got {value!r}")
    return int(value)


def _checked_shape(shape, owner) -> tuple:
    if shape is None:
        raise ValueError(f"{owner}: `shape` is required: the input's shape without the batch axis, e.g. (None, 8)")
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise ValueError(f"{owner}: `shape` must be a tuple of positive integers or None, got {shape!r}")
    shape = tuple(shape)
    for size in shape:
        if size is not None and (isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 0):
            raise ValueError(f"{owner}: `shape` must hold non-negative integers or None (without the batch axis), "
                             f"got {shape!r}")
    return tuple(None if size is None else int(size) for size in shape)


def input_layer_config(batch_shape: Sequence[int | None], dtype: torch.dtype, name: str) -> dict:
    """What Keras's InputLayer writes in its configuration."""
    return {"batch_shape": tuple(batch_shape), "dtype": str(dtype).replace("torch.", ""), "sparse": False,
            "ragged": False, "name": name}
