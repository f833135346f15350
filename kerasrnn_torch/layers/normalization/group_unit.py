"""GroupNormalization and UnitNormalization, as their `keras.layers` namesakes. Both pass the mask on."""
from __future__ import annotations

import numbers
from typing import Any
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ... import constraints, regularizers
from ..._checks import describe, refuse_legacy_onnx, require_float_input, require_tensor, shape_text
from ..._types import ConstraintLike, InitializerLike, InputShape, RegularizerLike
from ...core.layer import Layer
from ...core.registry import register_keras_class


def _axis_list(axis: Any, owner: str) -> int | list[int]:
    if isinstance(axis, (list, tuple)) and all(isinstance(a, numbers.Integral) and not isinstance(a, bool)
                                               for a in axis):
        return [int(a) for a in axis]
    if isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
        return int(axis)
    raise TypeError(f"{owner}: Invalid value for `axis` argument: expected an int or a list/tuple of ints. "
                    f"Received: axis={axis!r}")


@register_keras_class("UnitNormalization")
class UnitNormalization(Layer):
    """Scales each example to unit L2 norm over `axis`, as `keras.layers.UnitNormalization`.

    `x * min(1 / sqrt(sum(x ** 2)), 1e12)` (Keras's formula: an all-zero
    vector stays zero).

    Args:
        axis: an axis or a list of axes to take the norm over (default -1).
        name, device, dtype: see `Layer`.

    >>> UnitNormalization()(torch.tensor([[3.0, 4.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929]]
    """

    supports_masking = True
    axis: int | list[int]

    def __init__(self, axis: int | Sequence[int] = -1, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        self.axis = _axis_list(axis, describe(self))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """`inputs` divided by their L2 norm over `axis`."""
        require_tensor(inputs, describe(self))
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        for axis in axes:
            if not -inputs.dim() <= axis < inputs.dim():
                raise ValueError(f"{describe(self)}: axis {self.axis} is out of range for input of shape "
                                 f"{shape_text(inputs.shape)}")
        square_sum = inputs.square().sum(dim=axes, keepdim=True)
        return inputs * torch.clamp(torch.rsqrt(square_sum), max=1e12)

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, axis={self.axis}"


@register_keras_class("GroupNormalization")
class GroupNormalization(Layer):
    """Normalizes groups of channels, as `keras.layers.GroupNormalization`.

    The channels on `axis` split into `groups`; each example's group is
    normalized by its mean and (biased) variance over the group's channels and
    every other axis, then scaled by `gamma` and shifted by `beta` (one per
    channel; Keras's weight order: gamma, beta). Runs
    `torch.nn.functional.group_norm`.

    Args:
        groups: the number of groups (default 32); -1 means one per channel
            (instance normalization). Must divide the channels.
        axis: the channel axis (default -1).
        epsilon: added to the variance (default 1e-3).
        center, scale: whether to learn `beta` and `gamma`.
        beta_initializer, gamma_initializer: as Keras.
        beta_regularizer, gamma_regularizer: as Keras.
        beta_constraint, gamma_constraint: as Keras.
        name, input_shape, device, dtype: see `Layer`.

    The mask passes on (unused, as in Keras).

    >>> GroupNormalization(groups=2)(torch.randn(3, 5, 4)).shape
    torch.Size([3, 5, 4])
    """

    supports_masking = True
    gamma: torch.Tensor | None
    beta: torch.Tensor | None
    groups: int
    axis: int
    epsilon: float
    center: bool
    scale: bool
    beta_initializer: InitializerLike
    gamma_initializer: InitializerLike
    _given: dict[str, Any]
    beta_regularizer: Any
    gamma_regularizer: Any
    beta_constraint: Any
    gamma_constraint: Any

    def __init__(self, groups: int = 32, axis: int = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: InitializerLike = "zeros",
                 gamma_initializer: InitializerLike = "ones", beta_regularizer: RegularizerLike = None,
                 gamma_regularizer: RegularizerLike = None, beta_constraint: ConstraintLike = None,
                 gamma_constraint: ConstraintLike = None, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        if not isinstance(groups, int) or isinstance(groups, bool) or (groups <= 0 and groups != -1):
            raise ValueError(f"{owner}: the argument `groups` must be a positive integer (or -1 for instance "
                             f"normalization), got {groups!r}")
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise TypeError(f"{owner}: `axis` must be an integer, got {axis!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or epsilon < 0:
            raise ValueError(f"{owner}: `epsilon` must be a number >= 0, got {epsilon!r}")
        self.groups, self.axis, self.epsilon = groups, axis, float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer, self.gamma_initializer = beta_initializer, gamma_initializer
        self._given = {"beta_regularizer": beta_regularizer, "gamma_regularizer": gamma_regularizer,
                       "beta_constraint": beta_constraint, "gamma_constraint": gamma_constraint}
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.build_from_hint()

    def expected_weights(self) -> list[tuple[str, bool]]:
        return [(name, True) for name, used in (("gamma", self.scale), ("beta", self.center)) if used]

    def check_symbolic_shapes(self, shapes: list) -> None:
        """On kr.Input tensors: the channel axis must have a known size (Keras's check before building)."""
        shape = shapes[0]
        if not self.built and -len(shape) <= self.axis < len(shape) and shape[self.axis] is None:
            raise ValueError(f"{describe(self)}: axis {self.axis} of the input tensor should have a defined "
                             f"dimension but the layer received an input with shape {shape_text(shape)}")

    def build(self, input_shape: InputShape) -> None:
        owner = describe(self)
        if not -len(input_shape) <= self.axis < len(input_shape) or self.axis % len(input_shape) == 0:
            raise ValueError(f"{owner}: `axis` {self.axis} is not a feature axis of input shape "
                             f"{shape_text(input_shape)}")
        channels = input_shape[self.axis]
        if channels is None:
            raise ValueError(f"{owner}: axis {self.axis} of input shape {shape_text(input_shape)} must have a "
                             "known size")
        if self.groups == -1:
            self.groups = int(channels)
        if channels < self.groups:
            raise ValueError(f"{owner}: the number of groups ({self.groups}) cannot be more than the number of "
                             f"channels ({channels})")
        if channels % self.groups:
            raise ValueError(f"{owner}: the number of groups ({self.groups}) must divide the number of channels "
                             f"({channels}) (in Keras's words, it must be a multiple of the number of channels)")
        if self.scale:
            self.add_weight("gamma", (int(channels),), self.gamma_initializer, regularizer=self.gamma_regularizer,
                            constraint=self.gamma_constraint)
        else:
            self.register_parameter("gamma", None)
        if self.center:
            self.add_weight("beta", (int(channels),), self.beta_initializer, regularizer=self.beta_regularizer,
                            constraint=self.beta_constraint)
        else:
            self.register_parameter("beta", None)
        self.built = True

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Group-normalize `inputs` over their channel axis `axis`."""
        refuse_legacy_onnx(describe(self), "its group_norm conversion misreads the channel count")
        require_tensor(inputs, describe(self))
        require_float_input(inputs, describe(self))
        if not self.built:
            self.build(tuple(inputs.shape))
        weight = self.gamma if self.gamma is not None else self.beta
        channels = weight.shape[0] if weight is not None else None
        if inputs.dim() < 2 or (channels is not None and inputs.shape[self.axis] != channels):
            raise ValueError(f"{describe(self)} was built for {channels} channels on axis {self.axis}, got input "
                             f"of shape {shape_text(inputs.shape)}")
        x = inputs.movedim(self.axis, 1)
        if (self.gamma is None) == (self.beta is None):
            outputs = F.group_norm(x, self.groups, self.gamma, self.beta, self.epsilon)
        else:   # one affine weight: PyTorch's group_norm backward needs both or neither
            outputs = F.group_norm(x, self.groups, None, None, self.epsilon)
            per_channel = (-1,) + (1,) * (x.dim() - 2)
            if self.gamma is not None:
                outputs = outputs * self.gamma.view(per_channel)
            if self.beta is not None:
                outputs = outputs + self.beta.view(per_channel)
        return outputs.movedim(1, self.axis)

    def compute_output_shape(self, input_shape: InputShape) -> Any:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "groups": self.groups, "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "beta_initializer": self.beta_initializer,
                "gamma_initializer": self.gamma_initializer, **self._given}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, groups={self.groups}, axis={self.axis}, epsilon={self.epsilon}"
