"""InputLayer: where a functional model's data comes in (`kr.Input` makes one)."""
from __future__ import annotations

from collections.abc import Sequence

import numbers


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
                 dtype: torch.dtype | str | None = None, name: str | None = None) -> None:
        super().__init__(name=name)
        owner = describe(self)
        self.input_dtype = resolve_dtype(dtype, owner)
        self.batch_shape = (_size(batch_size, "batch_size", owner), *_checked_shape(shape, owner))
        examples = probe_values(self.batch_shape, self.input_dtype)
        node = Node(self, [], None, [], [], None, None, next_call_index(self))
        self.output = KerasTensor(self.batch_shape, self.input_dtype, node=node, index=0, examples=examples,
                                  masks=(None, None), name=self.name)
        node.outputs.append(self.output)
        self.built = True

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """The input itself (a functional model feeds its data here)."""
        return inputs

    def get_config(self) -> dict:
        return input_layer_config(self.batch_shape, self.input_dtype, self.name)

    @classmethod
    def from_config(cls: type[LayerT], config: dict[str, Any]) -> LayerT:
        config = dict(config)
        batch_shape = config.pop("batch_shape", None) or config.pop("batch_input_shape", None)
        for unused in ("sparse", "ragged", "optional"):
            config.pop(unused, None)
        if batch_shape is not None:
            config["batch_size"], config["shape"] = batch_shape[0], tuple(batch_shape[1:])
        return cls(**config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, batch_shape={shape_text(self.batch_shape)}"


# ------------------------------------------------------------------ Input
def Input(shape: ShapeLike | None = None, batch_size: int | None = None,  # noqa: N802 (Keras's name)
          dtype: torch.dtype | str | None = None, name: str | None = None, *,
          batch_shape: ShapeLike | None = None) -> KerasTensor:
    """A symbolic input of a functional model, as `keras.Input`.

    Args:
        shape: the shape without the batch axis; None for a size that varies
            (`(None, 8)`: sequences of any length with 8 features).
        batch_size: a fixed batch size (default: any).
        dtype: a torch dtype or Keras's name ("float32", "int32", ...);
            default the torch default float dtype.
        name: the input's name (default "input_layer", "input_layer_1", ...):
            the key of a dict passed to the model.
        batch_shape: the whole shape, batch axis first (`(16, 10, 5)`), instead of
            `shape` and `batch_size`.

    >>> tokens = Input(shape=(None,), dtype="int32")
    >>> tokens.shape
    (None, None)
    """
    if batch_shape is not None:
        if shape is not None or batch_size is not None:
            raise ValueError(f"Input: pass either `batch_shape` ({batch_shape!r}) or `shape`/`batch_size` "
                             f"({shape!r}, {batch_size!r}), not both")
        if isinstance(batch_shape, (str, bytes)) or not hasattr(batch_shape, "__len__") or len(batch_shape) < 1:
            raise ValueError(f"Input: `batch_shape` must be a tuple with the batch axis first, e.g. (16, 10, 5), "
                             f"got {batch_shape!r}")
        batch_size, shape = batch_shape[0], tuple(batch_shape[1:])
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name).output


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
