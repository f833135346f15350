"""Type aliases for the arguments the public API accepts (for annotations only)."""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, Union

import torch

if TYPE_CHECKING:
    from .constraints import Constraint
    from .initializers import Initializer
    from .regularizers import Regularizer

TensorFn: TypeAlias = "Callable[[torch.Tensor], torch.Tensor]"
# A Keras activation name, a function on tensors, or None (linear).
ActivationLike: TypeAlias = "Union[str, Callable[[torch.Tensor], torch.Tensor], None]"
# A Keras name, a serialized initializer, an Initializer (class or object), or a callable that fills a tensor.
InitializerLike: TypeAlias = "Union[str, dict[str, Any], type[Initializer], Initializer, Callable[..., Any]]"
# None, a Keras name, a serialized regularizer, a Regularizer class, or a callable tensor -> scalar tensor.
RegularizerLike: TypeAlias = "Union[str, dict[str, Any], type[Regularizer], Callable[[torch.Tensor], torch.Tensor], None]"
# None, a Keras name, a serialized constraint, a Constraint class, or a callable weight -> weight.
ConstraintLike: TypeAlias = "Union[str, dict[str, Any], type[Constraint], Callable[[torch.Tensor], torch.Tensor], None]"
# A shape without the batch axis, as Keras takes it (None for an axis of any size).
ShapeLike: TypeAlias = "Sequence[Union[int, None]]"
# A file path.
PathLike: TypeAlias = "Union[str, os.PathLike[str]]"
DeviceLike: TypeAlias = "Union[torch.device, str, int, None]"
# The `input_shape` a layer's `build` takes: a shape with the batch axis (None where unknown), or for a
# layer of several inputs a list of such shapes.
InputShape: TypeAlias = "Sequence[Any]"
# One step of a cell's loop: (projected inputs_t, states) -> (output_t, new states).
Step: TypeAlias = "Callable[[torch.Tensor, list[torch.Tensor]], tuple[torch.Tensor, list[torch.Tensor]]]"
# A tensor, or a nested structure (lists, tuples, dicts) of tensors: a custom cell's inputs, a stacked or
# custom cell's states.
TensorTree: TypeAlias = "Union[torch.Tensor, Sequence[Any], Mapping[Any, Any]]"
# `initial_state` / `reset_state(states)`: a tensor for a one-state cell, else a list with one entry per
# state (a stacked or custom cell's entries may themselves be lists), or None.
StatesLike: TypeAlias = "Union[torch.Tensor, Sequence[Any], None]"
