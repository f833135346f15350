"""LayerNormalization and BatchNormalization, as their `keras.layers` namesakes.

Both pass the incoming mask on unchanged; BatchNormalization also uses it, in
training, to leave padded steps out of the batch statistics (Keras 3).
"""
from __future__ import annotations

import numbers
import warnings

import torch
import torch.nn.functional as F

from ... import constraints, regularizers
from ..._checks import describe, require_float_input, require_tensor, require_weight_dtype, shape_text
from ...core.layer import Layer
from collections.abc import Sequence
from typing import Any
from ..._types import ConstraintLike, InitializerLike, InputShape, RegularizerLike, TensorFn
from ...core.registry import register_keras_class

_KERAS_EPSILON = 1e-7   # keras.backend.epsilon(), which guards the masked moments' division


def _beta_gamma_options(layer, beta_regularizer: RegularizerLike, gamma_regularizer: RegularizerLike,
                        beta_constraint: ConstraintLike, gamma_constraint: ConstraintLike) -> dict:
    """Set the norms' regularizers and constraints on `beta` and `gamma`; returns them as given (for the config)."""
    layer.beta_regularizer = regularizers.get(beta_regularizer)
    layer.gamma_regularizer = regularizers.get(gamma_regularizer)
    layer.beta_constraint = constraints.get(beta_constraint)
    layer.gamma_constraint = constraints.get(gamma_constraint)
    return {"beta_regularizer": beta_regularizer, "gamma_regularizer": gamma_regularizer,
            "beta_constraint": beta_constraint, "gamma_constraint": gamma_constraint}


def _check_float_input(layer, inputs: torch.Tensor, weight):
    require_float_input(inputs, describe(layer))
    if weight is not None:
        require_weight_dtype(inputs, weight.dtype, describe(layer))


def _positive_axis(axis: int, rank: int, layer, argument="axis") -> int:
    if not -rank <= axis < rank:
        raise ValueError(f"{describe(layer)}: `{argument}` {axis} is out of range for a {rank}-D input "
                         f"(expected -{rank} <= axis < {rank})")
    return axis % rank


def _real(value: Any, argument: str, owner: str, *, low=0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value) >= low:
        raise ValueError(f"{owner}: `{argument}` must be a number >= {low}, got {value!r}")
    return float(value)


def _checked_renorm_clipping(clipping: Any, owner: str) -> dict:
    """Keras's checks of `renorm_clipping`: keys among rmax, rmin, dmax; rmax >= rmin; dmax >= 0."""
    clipping = {} if clipping is None else clipping
    if not isinstance(clipping, dict):
        raise ValueError(f"{owner}: `renorm_clipping` must be a dict with keys among rmax, rmin and dmax, "
                         f"got {clipping!r}")
    unknown = set(clipping) - {"rmax", "rmin", "dmax"}
    if unknown:
        raise ValueError(f"{owner}: Received invalid keys for `renorm_clipping`: {sorted(unknown)} (expected "
                         "keys among rmax, rmin and dmax)")
    rmax, rmin, dmax = clipping.get("rmax"), clipping.get("rmin"), clipping.get("dmax")
    if rmax is not None and rmin is not None and rmax < rmin:
        raise ValueError(f"{owner}: in `renorm_clipping`, rmax should be greater than rmin, got rmax={rmax}, "
                         f"rmin={rmin}")
    if dmax is not None and dmax < 0:
        raise ValueError(f"{owner}: in `renorm_clipping`, dmax should be non-negative, got dmax={dmax}")
    return clipping


@register_keras_class("LayerNormalization")
class LayerNormalization(Layer):
    """Normalizes each example over `axis`, as `keras.layers.LayerNormalization`.

    `output = (x - mean) / sqrt(variance + epsilon) * gamma + beta`, with the
    mean and (biased) variance taken over the `axis` axes of each example.
    Weights `gamma` and `beta` have the shape of those axes (in `axis`'s sorted
    order) and are created from the first input or from `input_shape=`.

    Args:
        axis: an axis or a list of axes to normalize over (default -1). The
            trailing axes use `torch.nn.functional.layer_norm`, as Keras's
            torch backend does; other axes use the same formula directly.
        epsilon: added to the variance (default 1e-3, Keras's, not PyTorch's).
        center: whether to add the learned offset `beta`.
        scale: whether to multiply by the learned `gamma`.
        rms_scaling: Keras 3's deprecated switch: divide by
            `sqrt(variance + epsilon)` without subtracting the mean, times
            `gamma`, with no `beta` (it warns, as Keras does).
        beta_initializer, gamma_initializer: as Keras.
        beta_regularizer, gamma_regularizer: as Keras.
        beta_constraint, gamma_constraint: as Keras.
        name, input_shape, input_dim, device, dtype: see `Layer`.

    >>> LayerNormalization()(torch.randn(2, 5, 8)).shape
    torch.Size([2, 5, 8])
    """

    axis: int | list[int]
    gamma: torch.Tensor | None
    beta: torch.Tensor | None
    beta_regularizer: TensorFn | None
    gamma_regularizer: TensorFn | None
    beta_constraint: TensorFn | None
    gamma_constraint: TensorFn | None

    def __init__(self, axis: int | Sequence[int] = -1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 rms_scaling: bool = False, beta_initializer: InitializerLike = "zeros",
                 gamma_initializer: InitializerLike = "ones", beta_regularizer: RegularizerLike = None,
                 gamma_regularizer: RegularizerLike = None, beta_constraint: ConstraintLike = None,
                 gamma_constraint: ConstraintLike = None, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        if isinstance(axis, (list, tuple)) and axis and all(
                isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axis):
            self.axis = [int(a) for a in axis]
        elif isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
            self.axis = int(axis)
        else:
            raise TypeError(f"{owner}: Expected an int or a list/tuple of ints for the argument 'axis', got {axis!r}")
        self.epsilon = _real(epsilon, "epsilon", owner)
        self.center, self.scale, self.rms_scaling = bool(center), bool(scale), bool(rms_scaling)
        if self.rms_scaling:
            warnings.warn(f"{owner}: rms_scaling=True is deprecated in Keras 3 (it divides by the standard "
                          "deviation, not the root mean square); kept for Keras compatibility", stacklevel=2)
        self.beta_initializer, self.gamma_initializer = beta_initializer, gamma_initializer
        self._given = _beta_gamma_options(self, beta_regularizer, gamma_regularizer, beta_constraint,
                                          gamma_constraint)
        self._axes: tuple[int, ...] | None = None    # sorted non-negative axes, known once built
        self.build_from_hint()

    def _normalized_axes(self, rank: int) -> tuple[int, ...]:
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        positive = sorted(_positive_axis(a, rank, self) for a in axes)
        if 0 in positive:
            raise ValueError(f"{describe(self)}: `axis` {self.axis} includes the batch axis 0")
        if len(set(positive)) != len(positive):
            raise ValueError(f"{describe(self)}: `axis` {self.axis} names an axis twice")
        return tuple(positive)

    def expected_weights(self) -> list[tuple[str, bool]]:
        return ([("gamma", True)] if self.scale or self.rms_scaling else []) + \
            ([("beta", True)] if self.center and not self.rms_scaling else [])

    def build(self, input_shape: InputShape) -> None:
        self._axes = axes = self._normalized_axes(len(input_shape))
        shape = tuple(input_shape[a] for a in axes)
        if any(d is None for d in shape):
            raise ValueError(f"{describe(self)}: the normalized axes {list(axes)} of input shape "
                             f"{shape_text(input_shape)} must have known sizes")
        if self.scale or self.rms_scaling:
            self.add_weight("gamma", shape, self.gamma_initializer, regularizer=self.gamma_regularizer,
                            constraint=self.gamma_constraint)
        else:
            self.register_parameter("gamma", None)
        if self.center and not self.rms_scaling:
            self.add_weight("beta", shape, self.beta_initializer, regularizer=self.beta_regularizer,
                            constraint=self.beta_constraint)
        else:
            self.register_parameter("beta", None)
        self._input_rank = len(input_shape)
        self._normalized_shape = shape
        self.built = True

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Normalize `inputs` over `axis`, then scale by `gamma` and shift by `beta`."""
        require_tensor(inputs, describe(self))
        if not self.built:
            self.build(tuple(inputs.shape))
        _check_float_input(self, inputs, self.gamma if self.gamma is not None else self.beta)
        axes = self._axes
        assert axes is not None     # built above
        if inputs.dim() != self._input_rank:    # as Keras: any rank whose normalized axes have the built sizes
            axes = self._normalized_axes(inputs.dim())
        if tuple(inputs.shape[a] for a in axes) != self._normalized_shape:
            raise ValueError(f"{describe(self)} was built for sizes {self._normalized_shape} on axes "
                             f"{self.axis}, got input of shape {shape_text(inputs.shape)}")
        rank = inputs.dim()
        broadcast = [1] * rank
        for a in axes:
            broadcast[a] = inputs.shape[a]
        gamma = None if self.gamma is None else self.gamma.reshape(broadcast)
        beta = None if self.beta is None else self.beta.reshape(broadcast)
        if self.rms_scaling:
            variance = torch.var(inputs, dim=axes, correction=0, keepdim=True)
            outputs = inputs * torch.rsqrt(variance + self.epsilon)
            return outputs * gamma if gamma is not None else outputs
        if axes == tuple(range(rank - len(axes), rank)):
            return F.layer_norm(inputs, self._normalized_shape, self.gamma, self.beta, self.epsilon)
        mean = inputs.mean(dim=axes, keepdim=True)
        variance = inputs.square().mean(dim=axes, keepdim=True) - mean.square()
        inverse = torch.rsqrt(variance + self.epsilon)
        if gamma is not None:
            inverse = inverse * gamma
        shift = -mean * inverse
        if beta is not None:
            shift = shift + beta
        return inputs * inverse + shift

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale, "rms_scaling": self.rms_scaling, "beta_initializer": self.beta_initializer,
                "gamma_initializer": self.gamma_initializer, **self._given}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, axis={self.axis}, epsilon={self.epsilon}"


@register_keras_class("BatchNormalization")
class BatchNormalization(Layer):
    """Normalizes with batch statistics while training, moving ones otherwise, as `keras.layers.BatchNormalization`.

    In training (`training=True`, or `training=None` with the module in
    `train()` mode) and while the layer is trainable, each channel on `axis`
    is normalized with the batch's mean and biased variance over all other
    axes, and the moving statistics move towards them:
    `moving = moving * momentum + batch * (1 - momentum)`. Otherwise (in
    `eval()` mode, with `training=False`, or when the layer is frozen with
    `trainable = False`, as in Keras) the moving statistics are used.
    `output = (x - mean) / sqrt(variance + epsilon) * gamma + beta`.

    Weights, in Keras's order: `gamma`, `beta` (trainable), `moving_mean`,
    `moving_variance` (Parameters with `requires_grad=False`, updated in place).

    Args:
        axis: the channel axis (default -1).
        momentum: weight of the old moving statistics (default 0.99; PyTorch's
            `BatchNorm` momentum is `1 - momentum`).
        epsilon: added to the variance (default 1e-3).
        center, scale: whether to use `beta` and `gamma`.
        beta_initializer, gamma_initializer: as Keras.
        moving_mean_initializer, moving_variance_initializer: as Keras.
        beta_regularizer, gamma_regularizer: as Keras.
        beta_constraint, gamma_constraint: as Keras.
        synchronized: accepted for Keras compatibility; only False (Keras's
            torch backend refuses True as well).
        renorm: batch renormalization (Ioffe, 2017), as Keras 3: in training the
            batch-normalized values become `x_hat * r + d` with
            `r = batch_stddev / renorm_stddev` and
            `d = (batch_mean - renorm_mean) / renorm_stddev` (no gradient
            through r and d); three more non-trainable weights follow the
            moving statistics: `moving_stddev`, `renorm_mean`, `renorm_stddev`
            (`renorm_*` move with `renorm_momentum`; `moving_variance` is
            derived as `moving_stddev**2 - epsilon`). Inference is unchanged.
        renorm_clipping: with renorm, a dict with any of "rmin", "rmax" (bounds
            of r) and "dmax" (|d| <= dmax).
        renorm_momentum: the momentum of `renorm_mean` and `renorm_stddev`.
        name, input_shape, input_dim, device, dtype: see `Layer`.

    Call: `layer(inputs, training=None, mask=None)`. A `mask` with one axis
    fewer than the inputs (e.g. `(batch, steps)`, or any shape that broadcasts
    to the inputs' shape without their last axis, such as `(batch, steps, 1)`
    for `(batch, steps, h, channels)`; non-zero keeps) leaves the masked
    positions out of the training statistics, as Keras 3 does; the mask is
    passed on unchanged.

    >>> layer = BatchNormalization()
    >>> layer(torch.randn(8, 5, 3)).shape, layer.count_params()
    (torch.Size([8, 5, 3]), 12)
    """

    gamma: torch.Tensor | None
    beta: torch.Tensor | None
    moving_mean: torch.Tensor
    moving_variance: torch.Tensor
    moving_stddev: torch.Tensor      # these three with renorm=True only
    renorm_mean: torch.Tensor
    renorm_stddev: torch.Tensor
    beta_regularizer: TensorFn | None
    gamma_regularizer: TensorFn | None
    beta_constraint: TensorFn | None
    gamma_constraint: TensorFn | None

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True,
                 beta_initializer: InitializerLike = "zeros", gamma_initializer: InitializerLike = "ones",
                 moving_mean_initializer: InitializerLike = "zeros",
                 moving_variance_initializer: InitializerLike = "ones", beta_regularizer: RegularizerLike = None,
                 gamma_regularizer: RegularizerLike = None, beta_constraint: ConstraintLike = None,
                 gamma_constraint: ConstraintLike = None, renorm: bool = False,
                 renorm_clipping: dict[str, float] | None = None,
                 renorm_momentum: float = 0.99, synchronized: bool = False, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        if isinstance(axis, bool) or not isinstance(axis, (int, numbers.Integral)):
            raise TypeError(f"{owner}: `axis` must be an int, got {axis!r}")
        self.axis = int(axis)
        self.momentum = _real(momentum, "momentum", owner)
        self.epsilon = _real(epsilon, "epsilon", owner)
        if synchronized:
            raise ValueError(f"{owner}: synchronized=True (cross-replica statistics) is not supported; "
                             "expected synchronized=False")
        self.synchronized, self.renorm = False, bool(renorm)
        if self.renorm:
            renorm_clipping = _checked_renorm_clipping(renorm_clipping, owner)
        self.renorm_clipping, self.renorm_momentum = renorm_clipping, _real(renorm_momentum, "renorm_momentum",
                                                                            owner)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer, self.gamma_initializer = beta_initializer, gamma_initializer
        self.moving_mean_initializer, self.moving_variance_initializer = (moving_mean_initializer,
                                                                          moving_variance_initializer)
        self._given = _beta_gamma_options(self, beta_regularizer, gamma_regularizer, beta_constraint,
                                          gamma_constraint)
        self._channel_axis: int | None = None
        self.build_from_hint()

    def expected_weights(self) -> list[tuple[str, bool]]:
        return ([("gamma", True)] if self.scale else []) + ([("beta", True)] if self.center else []) + \
            [("moving_mean", False), ("moving_variance", False)] + \
            ([("moving_stddev", False), ("renorm_mean", False), ("renorm_stddev", False)] if self.renorm else [])

    def build(self, input_shape: InputShape) -> None:
        self._input_rank = len(input_shape)
        self._channel_axis = channel_axis = _positive_axis(self.axis, self._input_rank, self)
        channels = input_shape[channel_axis]
        if channels is None:
            raise ValueError(f"{describe(self)}: the channel axis {self.axis} of input shape "
                             f"{shape_text(input_shape)} must have a known size")
        shape = (int(channels),)
        if self.scale:
            self.add_weight("gamma", shape, self.gamma_initializer, regularizer=self.gamma_regularizer,
                            constraint=self.gamma_constraint)
        else:
            self.register_parameter("gamma", None)
        if self.center:
            self.add_weight("beta", shape, self.beta_initializer, regularizer=self.beta_regularizer,
                            constraint=self.beta_constraint)
        else:
            self.register_parameter("beta", None)
        self.add_weight("moving_mean", shape, self.moving_mean_initializer, trainable=False)
        self.add_weight("moving_variance", shape, self.moving_variance_initializer, trainable=False)
        if self.renorm:
            # The standard deviations start at the square root of moving_variance_initializer's values.
            self.add_weight("moving_stddev", shape, self.moving_variance_initializer, trainable=False)
            self.add_weight("renorm_mean", shape, self.moving_mean_initializer, trainable=False)
            self.add_weight("renorm_stddev", shape, self.moving_variance_initializer, trainable=False)
            with torch.no_grad():
                self.moving_stddev.sqrt_()
                self.renorm_stddev.sqrt_()
        self.built = True

    def _check(self, inputs: torch.Tensor, mask: torch.Tensor | None):
        owner = describe(self)
        require_tensor(inputs, owner)
        if not self.built:
            self.build(tuple(inputs.shape))
        _check_float_input(self, inputs, self.moving_mean)
        channels = self.moving_mean.shape[0]
        channel_axis = self._channel_axis
        assert channel_axis is not None     # built above
        if inputs.dim() != self._input_rank or inputs.shape[channel_axis] != channels:
            raise ValueError(f"{owner} was built for {self._input_rank}-D inputs with {channels} channels on axis "
                             f"{self.axis}, got input of shape {shape_text(inputs.shape)}")
        if mask is not None:
            if not isinstance(mask, torch.Tensor) or mask.dim() != inputs.dim() - 1:
                got = shape_text(mask.shape) if isinstance(mask, torch.Tensor) else type(mask).__name__
                raise ValueError(f"{owner}: the mask must have one axis fewer than the inputs "
                                 f"{shape_text(inputs.shape)}, got {got}")
            if any(m != 1 and m != i for m, i in zip(mask.shape, inputs.shape[:-1])):
                raise ValueError(f"{owner}: the mask must broadcast to {shape_text(inputs.shape[:-1])} "
                                 f"(the input's shape without its last axis), got {shape_text(mask.shape)}")

    def _moments(self, inputs: torch.Tensor, mask: torch.Tensor | None):
        """The batch's mean and biased variance per channel, each `(channels,)`."""
        axes = [a for a in range(inputs.dim()) if a != self._channel_axis]
        if mask is None:
            mean = inputs.mean(dim=axes)
            variance = inputs.square().mean(dim=axes) - mean.square()    # Keras's torch formula
            return mean, variance
        keep = mask.bool().unsqueeze(-1).expand(inputs.shape)   # Keras broadcasts a mask with size-1 axes
        zero = torch.zeros((), dtype=inputs.dtype, device=inputs.device)
        count = keep.to(inputs.dtype).sum(dim=axes, keepdim=True) + _KERAS_EPSILON
        mean = torch.where(keep, inputs, zero).sum(dim=axes, keepdim=True) / count
        variance = torch.where(keep, inputs - mean, zero).square().sum(dim=axes, keepdim=True) / count
        return mean.reshape(-1), variance.reshape(-1)

    def forward(self, inputs: torch.Tensor, training: bool | None = None,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """Normalize with the batch's statistics while training (updating the moving ones) and the moving
        statistics otherwise; `training=None` means `self.training`; `mask` leaves masked steps out of the
        batch statistics."""
        self._check(inputs, mask)
        training = self.training if training is None else bool(training)
        gamma, beta = self.gamma, self.beta
        if training and self.trainable:
            mean, variance = self._moments(inputs, mask)
            if self.renorm:
                gamma, beta = self._renormalized(mean, variance)
            else:
                with torch.no_grad():
                    self.moving_mean.mul_(self.momentum).add_(mean.detach() * (1.0 - self.momentum))
                    self.moving_variance.mul_(self.momentum).add_(variance.detach() * (1.0 - self.momentum))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        broadcast = [1] * inputs.dim()
        assert self._channel_axis is not None     # built by _check
        broadcast[self._channel_axis] = -1
        multiplier = torch.rsqrt(variance + self.epsilon)
        if gamma is not None:
            multiplier = multiplier * gamma
        outputs = (inputs - mean.reshape(broadcast)) * multiplier.reshape(broadcast)
        return outputs + beta.reshape(broadcast) if beta is not None else outputs

    def _renormalized(self, mean: torch.Tensor, variance: torch.Tensor):
        """Batch renormalization's scale and offset (`r * gamma`, `d * gamma + beta`) for the batch's
        moments, and the renorm and moving statistics' update, as Keras 3 computes them."""
        stddev = torch.sqrt(variance + self.epsilon)
        floor = torch.sqrt(torch.tensor(self.epsilon, dtype=mean.dtype, device=mean.device))
        renorm_stddev = torch.maximum(self.renorm_stddev, floor)
        with torch.no_grad():       # r and d carry no gradient
            r = stddev / renorm_stddev
            d = (mean - self.renorm_mean) / renorm_stddev
            clipping = self.renorm_clipping or {}
            if clipping.get("rmin") is not None:
                r = torch.clamp(r, min=float(clipping["rmin"]))
            if clipping.get("rmax") is not None:
                r = torch.clamp(r, max=float(clipping["rmax"]))
            if clipping.get("dmax") is not None:
                d = torch.clamp(d, -float(clipping["dmax"]), float(clipping["dmax"]))
            r, d = r.detach(), d.detach()
        gamma = r if self.gamma is None else r * self.gamma
        beta = d if self.gamma is None else d * self.gamma
        if self.beta is not None:
            beta = beta + self.beta
        with torch.no_grad():
            mean, stddev = mean.detach(), stddev.detach()
            self.renorm_mean.mul_(self.renorm_momentum).add_(mean * (1.0 - self.renorm_momentum))
            self.renorm_stddev.mul_(self.renorm_momentum).add_(stddev * (1.0 - self.renorm_momentum))
            self.moving_mean.mul_(self.momentum).add_(mean * (1.0 - self.momentum))
            self.moving_stddev.mul_(self.momentum).add_(stddev * (1.0 - self.momentum))
            self.moving_variance.copy_(torch.relu(self.moving_stddev * self.moving_stddev - self.epsilon))
        return gamma, beta

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "beta_initializer": self.beta_initializer,
                "gamma_initializer": self.gamma_initializer,
                "moving_mean_initializer": self.moving_mean_initializer,
                "moving_variance_initializer": self.moving_variance_initializer, **self._given,
                "synchronized": self.synchronized, "renorm": self.renorm, "renorm_clipping": self.renorm_clipping,
                "renorm_momentum": self.renorm_momentum}

    def extra_repr(self) -> str:
        return f"name={self.name!r}, axis={self.axis}, momentum={self.momentum}, epsilon={self.epsilon}"
