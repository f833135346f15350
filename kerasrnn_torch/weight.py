"""`Weight`: the parameter type of every layer weight and metric variable (Keras's variable methods on a
`torch.nn.Parameter`). A module of its own, so that layers and metrics both use it without importing
each other."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn


class Weight(nn.Parameter):
    """A weight of a layer (or a metric's variable): a `torch.nn.Parameter` with Keras's variable methods.

    `assign`, `assign_add` and `assign_sub` write in place outside autograd (as Keras's variables
    update), `numpy()` gives a copy of the values whether or not the weight trains, and `value` is the
    weight itself.
    """

    def assign(self, value: Any) -> Weight:
        with torch.no_grad():
            self.copy_(torch.as_tensor(value, dtype=self.dtype, device=self.device))
        return self

    def assign_add(self, value: Any) -> Weight:
        with torch.no_grad():
            self.add_(torch.as_tensor(value, dtype=self.dtype, device=self.device))
        return self

    def assign_sub(self, value: Any) -> Weight:
        with torch.no_grad():
            self.sub_(torch.as_tensor(value, dtype=self.dtype, device=self.device))
        return self

    def numpy(self, *, force: bool = False) -> np.ndarray:
        return self.detach().cpu().numpy().copy()

    @property
    def value(self) -> Weight:
        """The weight itself (Keras's `variable.value`, the tensor under the variable): `w.value.grad` is
        its gradient, as a model's own `train_step` reads it on Keras's torch backend."""
        return self

    def __reduce_ex__(self, protocol: Any) -> Any:
        # torch.nn.Parameter pickles as a plain Parameter (its rebuild function makes one), which would
        # drop Keras's methods from a pickled or `torch.save`d model's weights.
        return _rebuild_weight, (self.data, self.requires_grad, dict(self.__dict__))

    @property
    def trainable(self) -> bool:
        """Keras's name for whether the weight trains: `requires_grad`."""
        return self.requires_grad


def _rebuild_weight(data: torch.Tensor, requires_grad: bool, state: dict[str, Any] | None = None) -> Weight:
    """A pickled `Weight` again: its values, whether it trains, and its attributes."""
    weight = Weight(data, requires_grad=requires_grad)
    weight.__dict__.update(state or {})
    return weight


__all__ = ["Weight"]
