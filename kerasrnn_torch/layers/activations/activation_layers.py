"""ReLU, LeakyReLU, PReLU, ELU and Softmax as layers, as their `keras.layers` namesakes.

All pass the incoming mask on (Keras's layers support masking); Softmax also
uses it, as Keras's does: masked positions get no probability.
"""
from __future__ import annotations

import numbers
from typing import Any
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ... import constraints, regularizers
from ..._checks import describe, require_static_axes, require_tensor, shape_text
from ..._types import ConstraintLike, InitializerLike, InputShape, RegularizerLike
from ...core.layer import Layer
from ...core.registry import register_keras_class


def _non_negative(value: Any, argument: str, owner: str, layer_kind: str) -> Any:
    if value is None or isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
        if value is None and layer_kind == "LeakyReLU":
            raise ValueError(f"{owner}: The negative_slope value of a Leaky ReLU layer cannot be None, expected a "
                             "number >= 0")
        raise ValueError(f"{owner}: {argument} of a {layer_kind} layer cannot be None or a negative value, "
                         f"got {value!r}")
    return value


def keras_relu(x: torch.Tensor, negative_slope: float = 0.0, max_value: float | None = None,
               threshold: float = 0.0) -> torch.Tensor:
    """Keras's `activations.relu` with all three arguments (the same operations, in the same order)."""
    if negative_slope != 0.0 and max_value is None and threshold == 0:
        return F.leaky_relu(x, negative_slope)
    if negative_slope != 0.0:
        negative_part = torch.relu(threshold - x) if threshold != 0 else torch.relu(-x)
    if threshold != 0:
        y = torch.where(x > threshold, x, torch.zeros((), dtype=x.dtype, device=x.device))
    elif max_value == 6:
        y, max_value = F.relu6(x), None
    else:
        y = torch.relu(x)
    if max_value is not None:
        y = torch.clamp(y, 0.0, max_value)
    if negative_slope != 0.0:
        y = y - negative_slope * negative_part
    return y


class _ElementwiseActivation(Layer):
    """A weightless activation layer: any shape in, the same shape out, the mask passed on."""

    supports_masking = True

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        return tuple(input_shape)

    def _tensor(self, inputs: torch.Tensor) -> torch.Tensor:
        return require_tensor(inputs, describe(self))


@register_keras_class("ReLU")
class ReLU(_ElementwiseActivation):
    """Rectified linear unit, as `keras.layers.ReLU`.

    `f(x) = max_value` for `x >= max_value`, `x` for `threshold < x <
    max_value`, `negative_slope * (x - threshold)` otherwise (Keras's rule;
    with `threshold` above 0, inputs equal to it give 0).

    Args:
        max_value: the largest output (None: no cap); not negative.
        negative_slope: the slope below the threshold (default 0); not negative.
        threshold: where the unit starts to pass inputs (default 0); not negative.
        name, device, dtype: see `Layer`.

    >>> ReLU(max_value=2.0)(torch.tensor([-1.0, 1.0, 3.0]))
    tensor([0., 1., 2.])
    """

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0,
                 **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        if max_value is not None:
            if isinstance(max_value, bool) or not isinstance(max_value, numbers.Real) or max_value < 0:
                raise ValueError(f"{owner}: max_value of a ReLU layer cannot be a negative value, "
                                 f"got {max_value!r}")
        self.max_value = max_value
        self.negative_slope = _non_negative(negative_slope, "negative_slope", owner, "ReLU")
        self.threshold = _non_negative(threshold, "threshold", owner, "ReLU")

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Keras's relu of `inputs` (any shape)."""
        return keras_relu(self._tensor(inputs), self.negative_slope, self.max_value, self.threshold)

    def get_config(self) -> dict:
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, max_value={self.max_value}, negative_slope={self.negative_slope}, "
                f"threshold={self.threshold}")


@register_keras_class("LeakyReLU")
class LeakyReLU(_ElementwiseActivation):
    """Leaky rectified linear unit, as `keras.layers.LeakyReLU`: `x` if `x >= 0`, else `negative_slope * x`.

    Args:
        negative_slope: the slope for negative inputs (Keras's default 0.3);
            not negative. Keras 2's `alpha=` is read as `negative_slope`.
        name, device, dtype: see `Layer`.

    >>> LeakyReLU(0.5)(torch.tensor([-2.0, 3.0]))
    tensor([-1.,  3.])
    """

    def __init__(self, negative_slope: float = 0.3, **layer_kwargs: Any) -> None:
        if "alpha" in layer_kwargs:                       # Keras 2's name, which Keras 3 still reads
            negative_slope = layer_kwargs.pop("alpha")
        super().__init__(**layer_kwargs)
        self.negative_slope = _non_negative(negative_slope, "negative_slope", describe(self), "LeakyReLU")

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """`leaky_relu(inputs)`, any shape."""
        return F.leaky_relu(self._tensor(inputs), self.negative_slope)

    def get_config(self) -> dict:
        return {**super().get_config(), "negative_slope": self.negative_slope}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, negative_slope={self.negative_slope}"


@register_keras_class("ELU")
class ELU(_ElementwiseActivation):
    """Exponential linear unit, as `keras.layers.ELU`: `x` if `x > 0`, else `alpha * (exp(x) - 1)`.

    Args:
        alpha: the scale for negative inputs (default 1.0).
        name, device, dtype: see `Layer`.

    >>> ELU()(torch.tensor([0.0, 2.0]))
    tensor([0., 2.])
    """

    alpha: float

    def __init__(self, alpha: float = 1.0, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
            raise ValueError(f"{describe(self)}: `alpha` must be a number, got {alpha!r}")
        self.alpha = float(alpha)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """`elu(inputs, alpha)`, any shape."""
        return F.elu(self._tensor(inputs), self.alpha)

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha": self.alpha}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, alpha={self.alpha}"


@register_keras_class("Softmax")
class Softmax(_ElementwiseActivation):
    """Softmax over `axis`, as `keras.layers.Softmax`, with Keras's use of a mask.

    With `mask` (broadcastable to the input from the right; True, or above
    0.5, keeps a position) the masked positions are left out of the softmax
    and their outputs are 0 (so a row with every position masked gives 0s).
    The mask passes on.

    Args:
        axis: an axis, or a list of axes normalized together (default -1).
        name, device, dtype: see `Layer`.

    >>> Softmax()(torch.zeros(1, 3), mask=torch.tensor([[True, True, False]]))
    tensor([[0.5000, 0.5000, 0.0000]])
    """

    def __init__(self, axis: int | Sequence[int] = -1, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        if isinstance(axis, (list, tuple)):
            if not axis or not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axis):
                raise ValueError(f"{describe(self)}: `axis` must be an integer or a list of integers, got {axis!r}")
            self.axis: int | list[int] = [int(a) for a in axis]
        elif isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
            self.axis = int(axis)
        else:
            raise ValueError(f"{describe(self)}: `axis` must be an integer or a list of integers, got {axis!r}")

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Softmax of `inputs` over `axis`; masked positions (mask False) are left out and output 0."""
        inputs = self._tensor(inputs)
        if mask is not None:
            mask = self._checked_mask(inputs, mask)
            large_negative = -3e4 if inputs.dtype == torch.float16 else -1e9
            inputs = torch.where(mask, inputs, torch.tensor(large_negative, dtype=inputs.dtype,
                                                            device=inputs.device))
        if isinstance(self.axis, list) and len(self.axis) > 1:
            outputs = torch.exp(inputs - torch.logsumexp(inputs, dim=self.axis, keepdim=True))
        else:
            outputs = torch.softmax(inputs, dim=self.axis[0] if isinstance(self.axis, list) else self.axis)
        if mask is not None:
            outputs = torch.where(mask, outputs, torch.zeros((), dtype=outputs.dtype, device=outputs.device))
        return outputs

    def _checked_mask(self, inputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        mask = torch.as_tensor(mask, device=inputs.device)
        if mask.dim() > inputs.dim():
            raise ValueError(f"{describe(self)}: the mask must not have more dimensions than the inputs; inputs "
                             f"{shape_text(inputs.shape)}, mask {shape_text(mask.shape)}")
        fits = all(m == 1 or m == i for m, i in zip(reversed(mask.shape), reversed(inputs.shape)))
        if not fits:
            raise ValueError(f"{describe(self)}: the mask must be broadcastable to the inputs (each mask axis 1 or "
                             f"the input's size, counted from the right); inputs {shape_text(inputs.shape)}, "
                             f"mask {shape_text(mask.shape)}")
        return mask if mask.dtype == torch.bool else mask > 0.5

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, axis={self.axis}"


@register_keras_class("PReLU")
class PReLU(Layer):
    """Parametric ReLU, as `keras.layers.PReLU`: `max(x, 0) - alpha * relu(-x)`, with learned `alpha`.

    `alpha` has the input's shape without the batch axis, with size 1 on the
    `shared_axes` (axes counted with the batch axis as 0, as Keras counts
    them); it is created from the first input or `input_shape=`.

    Args:
        alpha_initializer: Keras's default "Zeros".
        alpha_regularizer, alpha_constraint: as Keras.
        shared_axes: an axis or a list of axes sharing one alpha, e.g. `[1, 2]`
            for images `(batch, rows, cols, channels)`: one alpha per channel.
        name, input_shape, device, dtype: see `Layer`.

    The mask passes on.

    >>> PReLU(alpha_initializer="ones")(torch.tensor([[-2.0, 3.0]]))
    tensor([[-2.,  3.]], grad_fn=<SubBackward0>)
    """

    supports_masking = True
    alpha: torch.Tensor

    def __init__(self, alpha_initializer: InitializerLike = "Zeros", alpha_regularizer: RegularizerLike = None,
                 alpha_constraint: ConstraintLike = None, shared_axes: int | Sequence[int] | None = None,
                 **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        self.alpha_initializer = alpha_initializer
        self._given = {"alpha_regularizer": alpha_regularizer, "alpha_constraint": alpha_constraint}
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes: list[int] | None = None
        else:
            axes: list[Any] = list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]
            if not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) and int(a) >= 1 for a in axes):
                raise ValueError(f"{owner}: `shared_axes` must be axes >= 1 (axis 0 is the batch), got "
                                 f"{shared_axes!r}")
            self.shared_axes = [int(a) for a in axes]
        self.build_from_hint()

    def expected_weights(self) -> list[tuple[str, bool]]:
        return [("alpha", True)]

    def build(self, input_shape: InputShape) -> None:
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if axis > len(shape):
                raise ValueError(f"{describe(self)}: shared axis {axis} is out of range for inputs of shape "
                                 f"{shape_text(input_shape)}")
            shape[axis - 1] = 1
        if any(size is None for size in shape):
            raise ValueError(f"{describe(self)}: input shape {shape_text(input_shape)} has unknown sizes on axes "
                             "that are not shared; give them sizes or list them in `shared_axes`")
        self.add_weight("alpha", tuple(int(s) for s in shape), self.alpha_initializer,
                        regularizer=self.alpha_regularizer, constraint=self.alpha_constraint)
        self.built = True

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """`relu(x) - alpha * relu(-x)`; alpha broadcasts over the batch and the shared axes."""
        require_tensor(inputs, describe(self))
        if not self.built:
            self.build(tuple(inputs.shape))
        if inputs.dim() == self.alpha.dim() + 1:
            require_static_axes(self, inputs, [i + 1 for i, a in enumerate(self.alpha.shape) if a != 1],
                                "alpha holds one value per position there (shared_axes makes an axis dynamic)")
        if inputs.dim() != self.alpha.dim() + 1 or any(
                a != 1 and a != i for a, i in zip(self.alpha.shape, inputs.shape[1:])):
            raise ValueError(f"{describe(self)} was built for inputs (batch, {shape_text(self.alpha.shape)[1:-1]}) "
                             f"(1 on shared axes), got input of shape {shape_text(inputs.shape)}")
        return torch.relu(inputs) - self.alpha * torch.relu(-inputs)

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha_initializer": self.alpha_initializer, **self._given,
                "shared_axes": self.shared_axes}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, shared_axes={self.shared_axes}"
