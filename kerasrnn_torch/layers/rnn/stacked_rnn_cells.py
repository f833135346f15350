"""StackedRNNCells: several cells run as one, each feeding the next within a step."""
from __future__ import annotations

import inspect
from dataclasses import dataclass

import torch
from torch import nn

from ..._checks import describe
from ...core.layer import Layer
from .cell import NO_DROPOUT, follows_step_protocol, step_rank_of
from ...core.config import deserialize_layer, serialize_layer
from collections.abc import Iterable, Sequence
from typing import Any
from ..._types import InputShape, Step
from ...core.layer import LayerT
from ...core.registry import register_keras_class
from ...core.keras_arguments import read_stacked_cells


def accepts_training(cell) -> bool:
    """Whether `cell(inputs, states, training=...)` is allowed."""
    try:
        parameters = inspect.signature(cell.forward).parameters
    except (TypeError, ValueError):
        return False
    return "training" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def zero_state(size, batch_size: int, like: torch.Tensor):
    """Zeros for one state entry: an int `n` -> (batch, n); a shape -> (batch, *shape)."""
    shape = (size,) if isinstance(size, int) else tuple(size)
    return torch.zeros((batch_size, *shape), device=like.device, dtype=like.dtype)


def initial_state_of(cell, batch_size: int, like: torch.Tensor) -> list:
    """A cell's initial states as a list: its own `get_initial_state`, else zeros from `state_size`.

    `state_size` follows Keras: an int is one state; a list or tuple holds one
    entry per state, each an int or a shape (`torch.Size` or tuple of ints).
    """
    get_initial_state = getattr(cell, "get_initial_state", None)
    if callable(get_initial_state):
        states = get_initial_state(batch_size)
        return [states] if isinstance(states, torch.Tensor) else list(states)
    size = cell.state_size
    if isinstance(size, int):
        return [zero_state(size, batch_size, like)]
    if isinstance(size, torch.Size):
        return [zero_state(size, batch_size, like)]
    return [zero_state(entry, batch_size, like) for entry in size]


def output_size_of(cell):
    size = getattr(cell, "output_size", None)
    if size is not None:
        return size
    state_size = cell.state_size
    return state_size if isinstance(state_size, int) else state_size[0]


def state_count_of(cell) -> int:
    """How many states a cell holds: one for an int `state_size`, one per entry of a list."""
    size = cell.state_size
    return 1 if isinstance(size, (int, torch.Size)) else len(size)


def _single_state(cell) -> bool:
    """A cell whose `state_size` is an int holds one state (a list, even of one entry, holds several)."""
    return isinstance(cell.state_size, int)


@dataclass(frozen=True)
class StackedDropout:
    per_cell: tuple
    training: bool


@register_keras_class("StackedRNNCells", reader=read_stacked_cells, sublayers=("cells",))
class StackedRNNCells(Layer):
    """Wraps a list of cells so `RNN` runs them as one, as `keras.layers.StackedRNNCells`.

    States are nested per cell: a tensor for a cell with one state, a list
    for a cell with several (`[[h1, c1], h2]` for an LSTMCell then a
    GRUCell), as Keras 3 returns them; `initial_state` may also come flat
    (`[h1, c1, h2]`). The output is the last cell's output.

    Args:
        cells: the cells, in order (built-in cells or any `nn.Module` with
            `state_size`); each feeds its output to the next within a step.
        name, device, dtype: see `Layer`.

    >>> rnn = RNN(StackedRNNCells([LSTMCell(16), GRUCell(8)]), return_state=True)
    """

    # Cells that follow the cell protocol (any module, as RNN's cell), so their attributes are not checked.
    cells: Any

    def __init__(self, cells: Iterable[nn.Module], **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        cells = list(cells)
        if not cells:
            raise ValueError(f"{describe(self)} needs at least one cell, got an empty list")
        for cell in cells:
            if not isinstance(cell, nn.Module) or not hasattr(cell, "state_size"):
                raise TypeError(f"{describe(self)}: every cell must be an nn.Module with `state_size`, "
                                f"got {type(cell).__name__}")
        self.cells = nn.ModuleList(cells)
        self._takes_training = [accepts_training(c) for c in cells]
        self._protocol = [follows_step_protocol(c) for c in cells]
        self.built = all(getattr(c, "built", True) for c in cells)

    def get_config(self) -> dict:
        return {**super().get_config(), "cells": [serialize_layer(cell) for cell in self.cells]}

    @classmethod
    def from_config(cls: type[LayerT], config: dict[str, Any]) -> LayerT:
        config = dict(config)
        owner = f"{cls.__name__} {config.get('name')!r}"
        config["cells"] = [deserialize_layer(cell, owner) for cell in config.get("cells", ())]
        return super().from_config(config)

    @property
    def state_size(self) -> list[Any]:
        return [cell.state_size for cell in self.cells]

    @property
    def step_rank(self) -> int:
        return step_rank_of(self.cells[0])

    @property
    def output_size(self) -> int | Sequence[Any]:     # the last cell's: an int or a shape
        return output_size_of(self.cells[-1])

    @property
    def input_dim(self) -> int | None:
        return getattr(self.cells[0], "input_dim", None)

    def build(self, input_shape: InputShape) -> None:
        batch = input_shape[0]
        for cell in self.cells:
            if isinstance(cell, Layer):
                cell.maybe_build(input_shape)
            input_shape = (batch, output_size_of(cell))
        self.built = True

    def get_initial_state(self, batch_size: int) -> list[Any]:
        """Each cell's states: a tensor for a one-state cell, a list otherwise (`[h, [h, c]]`), as Keras 3
        returns them with `return_state=True` (`(output, h1, [h2, c2])`)."""
        like = next(self.parameters(), torch.zeros((), **self.factory_kwargs))
        states = [initial_state_of(cell, batch_size, like) for cell in self.cells]
        return [s[0] if _single_state(cell) else s for s, cell in zip(states, self.cells)]

    # --------------------------------------------------------- step protocol
    def dropout_masks(self, batch: int, training: bool, like: torch.Tensor) -> StackedDropout:
        return StackedDropout(
            tuple(c.dropout_masks(batch, training, like) if p else NO_DROPOUT for c, p in zip(self.cells, self._protocol)),
            training)

    def project(self, inputs: torch.Tensor, masks: StackedDropout) -> torch.Tensor:
        first = self.cells[0]
        return first.project(inputs, masks.per_cell[0]) if self._protocol[0] else inputs

    def make_step(self, masks: StackedDropout) -> Step:
        layers = []
        for i, cell in enumerate(self.cells):
            if self._protocol[i]:
                # The first cell receives its projection from `project`; later ones project per step.
                projector = None if i == 0 else (lambda x, c=cell, m=masks.per_cell[i]: c.project(x, m))
                layers.append((cell.make_step(masks.per_cell[i]), projector))
            else:
                kwargs = {"training": masks.training} if self._takes_training[i] else {}
                layers.append(((lambda x, s, c=cell, kw=kwargs: c(x, s, **kw)), None))

        def step(inputs, states):
            new_states = []
            for (cell_step, projector), cell_states in zip(layers, states):
                single = isinstance(cell_states, torch.Tensor)
                x = inputs if projector is None else projector(inputs)
                inputs, out_states = cell_step(x, [cell_states] if single else list(cell_states))
                if single:
                    out_states = out_states[0] if not isinstance(out_states, torch.Tensor) else out_states
                new_states.append(out_states)
            return inputs, new_states

        return step

    def forward(self, inputs: torch.Tensor, states: list[Any], training: bool | None = None
                ) -> tuple[torch.Tensor, list[Any]]:
        """One step of every cell in turn: `(inputs_t, states) -> (output_t, new_states)`."""
        if not self.built:
            self.build(tuple(inputs.shape))
        training = self.training if training is None else training
        masks = self.dropout_masks(inputs.shape[0], training, inputs)
        return self.make_step(masks)(self.project(inputs, masks), states)
