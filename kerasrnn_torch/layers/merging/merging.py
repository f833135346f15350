"""Merge layers: combine a list of tensors, as `keras.layers.Add`, `Concatenate`, `Dot` and the others.

Each layer is called on a list of tensors, `layer([a, b, ...], mask=None)`,
where `mask` is None or a list with one entry (a bool tensor or None) per
input. The elementwise layers (`Add`, `Subtract`, `Multiply`, `Average`,
`Maximum`, `Minimum`) follow Keras 3's broadcasting: the batch sizes must be
equal, the other axes are aligned from the right and a size of 1 stretches;
an input of lower rank gets new axes after the batch axis.
"""
from __future__ import annotations

import numbers
from typing import ClassVar

import torch

from ..._checks import check_sizes, describe, shape_text, tracing
from ...core.layer import Layer
from ...core.symbolic import shifted
from collections.abc import Sequence
from typing import Any
from ...core.registry import register_keras_class


def _shapes_text(tensors) -> str:
    return "[" + ", ".join(shape_text(t.shape) for t in tensors) + "]"


class _Merge(Layer):
    """What every merge layer shares: the input list checks, masks as a list, and the weightless build."""

    supports_masking = True
    #: The fewest and most inputs the layer takes (None: no upper bound).
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = None

    # ---------------------------------------------------------------- checks
    def _checked_inputs(self, inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        owner = describe(self)
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"{owner} must be called on a list of tensors, got {type(inputs).__name__}")
        count = "exactly" if self.min_inputs == self.max_inputs else "at least"
        if len(inputs) < self.min_inputs or (self.max_inputs is not None and len(inputs) > self.max_inputs):
            raise ValueError(f"{owner}: the layer should be called on {count} {self.min_inputs} "
                             f"input{'s' if self.min_inputs > 1 else ''} (a list of tensors), got {len(inputs)}")
        if not all(isinstance(t, torch.Tensor) for t in inputs):
            raise TypeError(f"{owner} expects a list of tensors, got "
                            f"[{', '.join(type(t).__name__ for t in inputs)}] (convert them with torch.as_tensor)")
        return list(inputs)

    def _checked_masks(self, inputs: Sequence[Any], mask: Sequence[torch.Tensor | None] | None) -> list:
        """One mask (or None) per input; `inputs` may be tensors or kr.Input tensors (KerasTensor)."""
        if mask is None:
            return [None] * len(inputs)
        owner = describe(self)
        if not isinstance(mask, (list, tuple)):
            raise ValueError(f"{owner}: `mask` should be a list with one entry (a tensor or None) per input, "
                             f"got {type(mask).__name__}")
        if len(mask) != len(inputs):
            raise ValueError(f"{owner}: the lists `inputs` and `mask` should have the same length: got "
                             f"{len(mask)} masks for {len(inputs)} inputs")
        return [None if m is None else torch.as_tensor(m) for m in mask]

    def _mask_inputs(self, inputs: Any) -> list:
        """`compute_mask`'s inputs: a list of tensors or of kr.Input tensors, as Keras takes both."""
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"{describe(self)}: `inputs` should be a list of tensors, got {type(inputs).__name__}")
        return list(inputs)

    def _check_batch_sizes(self, inputs: Sequence[torch.Tensor]):
        batched = [t for t in inputs if t.dim() > 0]
        for t in batched[1:]:                 # no set of sizes: a traced size is not hashable
            check_sizes(t.shape[0] == batched[0].shape[0],
                        lambda: f"{describe(self)} cannot merge tensors with different batch sizes: "
                                f"got shapes {_shapes_text(inputs)}")

    # ----------------------------------------------------------------- masks
    def compute_mask(self, inputs: Sequence[torch.Tensor], mask: Sequence[torch.Tensor | None] | None = None) -> Any:
        """Keras's rule: the logical OR of the masks when every input has one, else None."""
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)):
            raise ValueError(f"{describe(self)}: `mask` should be a list with one entry (a tensor or None) per "
                             f"input, got {type(mask).__name__}")
        masks = self._checked_masks(self._mask_inputs(inputs), mask)
        if any(m is None for m in masks):
            return None
        output = masks[0]
        for m in masks[1:]:
            output = torch.logical_or(output, m)
        return output

    def keras_mask_sources(self, inputs: list, masks: list) -> tuple:
        """Keras ORs the masks in a chain: the first two are read deepest."""
        count = len(masks)
        return tuple(source for i, sources in enumerate(masks)
                     for source in shifted(sources or (), count - max(i, 1)))


class _ElementwiseMerge(_Merge):
    """Merge layers that combine their inputs element by element, with Keras's broadcasting."""

    def forward(self, inputs: Sequence[torch.Tensor],
                mask: Sequence[torch.Tensor | None] | None = None) -> torch.Tensor:
        """Merge `inputs`, a list of tensors; `mask` is None or one entry (tensor or None) per input."""
        inputs = self._checked_inputs(inputs)
        masks = self._checked_masks(inputs, mask)
        self._check_batch_sizes(inputs)
        self._check_broadcastable(inputs)
        ranks = {t.dim() for t in inputs}
        if len(ranks) > 1:
            # Keras gives the lower-rank inputs new axes after the batch axis; those new tensors carry no mask,
            # so the mask-aware layers (Multiply, Maximum, Minimum) ignore the masks of the lower-rank inputs.
            top = max(ranks)
            masks = [m if t.dim() == top else None for t, m in zip(inputs, masks)]
            inputs = [t.reshape(t.shape[:1] + (1,) * (top - t.dim()) + t.shape[1:]) for t in inputs]
        return self._merge(inputs, masks)

    def _merge(self, inputs: Sequence[torch.Tensor], masks):
        raise NotImplementedError

    def _check_broadcastable(self, inputs: Sequence[torch.Tensor]):
        if tracing():              # torch's own broadcasting checks the symbolic sizes of a traced call
            return
        shape = tuple(inputs[0].shape[1:])
        for other in inputs[1:]:
            shape = self._broadcast(shape, tuple(other.shape[1:]), inputs)

    def _broadcast(self, a, b, inputs: Sequence[torch.Tensor]):
        if len(a) < len(b):
            a, b = b, a
        lead = list(a[:len(a) - len(b)])
        for i, j in zip(a[len(a) - len(b):], b):
            if i != j and 1 not in (i, j):
                raise ValueError(f"{describe(self)}: inputs have incompatible shapes {_shapes_text(inputs)}; "
                                 "apart from the batch axis, sizes aligned from the right must be equal or 1")
            lead.append(j if i == 1 else i)
        return tuple(lead)

    def _expanded_mask(self, mask: torch.Tensor, x):
        """A `(batch, ..., steps)` mask given a feature axis and stretched to `x`'s shape."""
        mask = mask.to(torch.bool).unsqueeze(-1)
        try:
            return mask.expand(x.shape)
        except RuntimeError:
            raise ValueError(f"{describe(self)}: a mask of shape {shape_text(mask.shape[:-1])} does not fit an "
                             f"input of shape {shape_text(x.shape)}; expected the input's shape without its "
                             "last axis") from None

    def _combine_or_keep(self, op, inputs: Sequence[torch.Tensor], masks):
        """Keras's Maximum/Minimum rule: a masked entry takes the other operand's value, so it changes nothing.

        The running output keeps a mask while every input so far had one (their OR).
        """
        output = output_mask = None
        for x, mask in zip(inputs, masks):
            if mask is not None:
                mask = self._expanded_mask(mask, x)
            if output is None:
                output, output_mask = x, mask
                continue
            if mask is not None:
                x = torch.where(mask, x, output)
            if output_mask is not None:
                output = torch.where(output_mask, output, x)
            output_mask = torch.logical_or(output_mask, mask) if mask is not None and output_mask is not None \
                else None
            output = op(output, x)
        return output


@register_keras_class("Add")
class Add(_ElementwiseMerge):
    """Adds a list of tensors element by element, as `keras.layers.Add`.

    The inputs broadcast as Keras's merge layers do (see the module
    docstring). The output mask is the OR of the input masks when every input
    has one, else None; the masks do not change the sum.

    Args:
        name, device, dtype: see `Layer`.

    >>> Add()([torch.ones(2, 3), torch.ones(2, 3)])
    tensor([[2., 2., 2.],
            [2., 2., 2.]])
    """

    def _merge(self, inputs: Sequence[torch.Tensor], masks):
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output


@register_keras_class("Subtract")
class Subtract(_ElementwiseMerge):
    """Subtracts the second of two tensors from the first, as `keras.layers.Subtract`.

    Called on exactly two inputs `[a, b]`, returns `a - b` (broadcasting as
    Keras's merge layers). Masks: as `Add`.

    Args:
        name, device, dtype: see `Layer`.

    >>> Subtract()([torch.full((1, 2), 5.0), torch.ones(1, 2)])
    tensor([[4., 4.]])
    """

    min_inputs, max_inputs = 2, 2

    def _merge(self, inputs: Sequence[torch.Tensor], masks):
        return inputs[0] - inputs[1]


@register_keras_class("Multiply")
class Multiply(_ElementwiseMerge):
    """Multiplies a list of tensors element by element, as `keras.layers.Multiply`.

    Masks follow Keras 3: a masked entry counts as 1 in the product, and when
    every input has a mask the entries masked in all of them come out as 0.
    The output mask is the OR of the input masks when every input has one.

    Args:
        name, device, dtype: see `Layer`.

    >>> Multiply()([torch.full((1, 2), 3.0), torch.full((1, 2), 2.0)])
    tensor([[6., 6.]])
    """

    def _merge(self, inputs: Sequence[torch.Tensor], masks):
        every_input_masked = all(m is not None for m in masks)
        output: torch.Tensor | None = None
        output_mask: torch.Tensor | None = None
        for x, mask in zip(inputs, masks):
            if mask is not None:
                mask = self._expanded_mask(mask, x)
                x = torch.where(mask, x, torch.ones((), dtype=x.dtype, device=x.device))
                if every_input_masked:
                    output_mask = mask if output_mask is None else torch.logical_or(output_mask, mask)
            output = x if output is None else output * x
        assert output is not None      # _checked_inputs: two inputs at least
        if every_input_masked:
            assert output_mask is not None
            output = torch.where(output_mask, output, torch.zeros((), dtype=output.dtype, device=output.device))
        return output


@register_keras_class("Average")
class Average(_ElementwiseMerge):
    """Averages a list of tensors element by element, as `keras.layers.Average`.

    The sum of the inputs divided by their number (broadcasting as Keras's
    merge layers). Masks: as `Add`.

    Args:
        name, device, dtype: see `Layer`.

    >>> Average()([torch.zeros(1, 2), torch.full((1, 2), 4.0)])
    tensor([[2., 2.]])
    """

    def _merge(self, inputs: Sequence[torch.Tensor], masks):
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output / len(inputs)


@register_keras_class("Maximum")
class Maximum(_ElementwiseMerge):
    """Element-wise maximum of a list of tensors, as `keras.layers.Maximum`.

    Masks follow Keras 3: a masked entry of one input takes the other
    operand's value, so only unmasked entries compete. The output mask is the
    OR of the input masks when every input has one.

    Args:
        name, device, dtype: see `Layer`.

    >>> Maximum()([torch.tensor([[1.0, 5.0]]), torch.tensor([[3.0, 2.0]])])
    tensor([[3., 5.]])
    """

    def _merge(self, inputs: Sequence[torch.Tensor], masks):
        return self._combine_or_keep(torch.maximum, inputs, masks)


@register_keras_class("Minimum")
class Minimum(_ElementwiseMerge):
    """Element-wise minimum of a list of tensors, as `keras.layers.Minimum`.

    Masks: as `Maximum` (a masked entry takes the other operand's value).

    Args:
        name, device, dtype: see `Layer`.

    >>> Minimum()([torch.tensor([[1.0, 5.0]]), torch.tensor([[3.0, 2.0]])])
    tensor([[1., 2.]])
    """

    def _merge(self, inputs: Sequence[torch.Tensor], masks):
        return self._combine_or_keep(torch.minimum, inputs, masks)


@register_keras_class("Concatenate")
class Concatenate(_Merge):
    """Joins a list of tensors along one axis, as `keras.layers.Concatenate`.

    All inputs must have the same rank and the same sizes except on `axis`.
    The output mask follows Keras 3's rule: each input without a mask counts
    as unmasked everywhere, a mask lacking the feature axis is stretched over
    it, the masks are joined along `axis`, and the result is reduced with an
    OR over the last axis. So joining features (`axis=-1`) gives a
    `(batch, steps)` mask that is True wherever any input is unmasked, and
    joining steps (`axis=1`) gives the joined `(batch, steps)` masks.

    Args:
        axis: the axis to join along (default -1, the features).
        name, device, dtype: see `Layer`.

    >>> Concatenate()([torch.zeros(2, 3), torch.ones(2, 4)]).shape
    torch.Size([2, 7])
    """

    def __init__(self, axis: int = -1, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, numbers.Integral)):
            raise TypeError(f"{describe(self)}: `axis` must be an integer, got {axis!r}")
        self.axis = int(axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}

    def _check_shapes(self, inputs: Sequence[torch.Tensor]):
        owner = describe(self)
        rank = inputs[0].dim()
        if any(t.dim() != rank for t in inputs) or not -rank <= self.axis < rank:
            raise ValueError(f"{owner} (axis={self.axis}) expects inputs of one rank that have that axis, got "
                             f"shapes {_shapes_text(inputs)}")
        if tracing():              # torch.cat checks the symbolic sizes of a traced call
            return
        axis = self.axis % rank
        others = [tuple(s for i, s in enumerate(t.shape) if i != axis) for t in inputs]
        if any(other != others[0] for other in others[1:]):
            raise ValueError(f"{owner} (axis={self.axis}) requires inputs with matching shapes except for the "
                             f"concatenation axis, got shapes {_shapes_text(inputs)}")

    def forward(self, inputs: Sequence[torch.Tensor],
                mask: Sequence[torch.Tensor | None] | None = None) -> torch.Tensor:
        """Concatenate `inputs`, a list of tensors, along `axis`; `mask` is None or one entry per input."""
        inputs = self._checked_inputs(inputs)
        self._checked_masks(inputs, mask)
        self._check_shapes(inputs)
        return torch.cat(inputs, dim=self.axis)

    def compute_mask(self, inputs: Sequence[torch.Tensor], mask: Sequence[torch.Tensor | None] | None = None) -> Any:
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)):
            raise ValueError(f"{describe(self)}: `mask` should be a list with one entry (a tensor or None) per "
                             f"input, got {type(mask).__name__}")
        inputs = self._mask_inputs(inputs)
        masks = self._checked_masks(inputs, mask)
        if all(m is None for m in masks):
            return None
        known = next(m for m in masks if m is not None)
        full = []
        for x, m in zip(inputs, masks):
            # A kr.Input tensor's unknown sizes (its batch axis) are the given masks' sizes.
            shape = tuple(known.shape[i] if size is None and i < known.dim() else size
                          for i, size in enumerate(x.shape))
            if m is None:
                full.append(torch.ones(shape, dtype=torch.bool, device=known.device))
            elif m.dim() < len(shape):
                full.append(torch.logical_or(m.unsqueeze(-1).to(torch.bool),
                                             torch.zeros(shape, dtype=torch.bool, device=m.device)))
            else:
                full.append(m.to(torch.bool))
        return torch.cat(full, dim=self.axis).any(dim=-1)

    def keras_mask_sources(self, inputs: list, masks: list) -> tuple:
        """Keras's mask is `any(concatenate(parts))`; an unmasked input's part is `ones_like(input)`,
        a mask of lower rank is broadcast as `logical_or(expand_dims(mask), zeros_like(input))`."""
        sources: list = []
        for tensor, mask in zip(inputs, masks):
            if mask is None:
                sources.append((tensor.node, 4))
            elif tensor.masks[0].dim() < tensor.ndim:
                sources.extend(((tensor.node, 5), *shifted(mask, 4)))
            else:
                sources.extend(shifted(mask, 2))
        return tuple(sources)


@register_keras_class("Dot")
class Dot(_Merge):
    """Dot products between the samples of two tensors, as `keras.layers.Dot`.

    Called on `[x, y]` (rank >= 2, equal batch sizes), sums `x` along
    `axes[0]` against `y` along `axes[1]` for each sample; the output's shape
    is `x`'s without the summed axis, then `y`'s without its batch and summed
    axes, and `(batch, 1)` when nothing else is left. So `(b, 3, 5)` and
    `(b, 10, 3)` with `axes=(1, 2)` give `(b, 5, 10)`. No output mask (as in
    Keras).

    Args:
        axes: an axis for both inputs, or a pair `(axis_of_x, axis_of_y)`;
            negative values count from the end; the batch axis 0 is not
            allowed.
        normalize: L2-normalize each sample along its axis first, so the
            output is the cosine similarity (Keras's `x * min(rsqrt(sum(x^2)),
            1e7)`).
        name, device, dtype: see `Layer`.

    >>> Dot(axes=1)([torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 4.0]])])
    tensor([[11.]])
    """

    min_inputs, max_inputs = 2, 2

    def __init__(self, axes: int | Sequence[int], normalize: bool = False, **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2:
                raise ValueError(f"{owner}: `axes` must be an integer or a pair of integers, got {axes!r}")
            if not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axes):
                raise ValueError(f"{owner}: `axes` must be an integer or a pair of integers, got {axes!r}")
        elif isinstance(axes, bool) or not isinstance(axes, numbers.Integral):
            raise TypeError(f"{owner}: `axes` must be an integer or a pair of integers, got {axes!r}")
        self.axes = axes
        self.normalize = bool(normalize)

    def get_config(self) -> dict:
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}

    def compute_mask(self, inputs: Sequence[torch.Tensor], mask: Sequence[torch.Tensor | None] | None = None) -> Any:
        """Always None: Keras's Dot passes no mask on."""
        return None

    def _resolved_axes(self, x, y):
        owner = describe(self)
        if x.dim() < 2 or y.dim() < 2:
            raise ValueError(f"{owner} expects two inputs of rank >= 2 (batch first), got shapes "
                             f"{_shapes_text([x, y])}")
        pair = (self.axes, self.axes) if isinstance(self.axes, numbers.Integral) else tuple(self.axes)
        axes = []
        for a, t in zip(pair, (x, y)):
            if not -t.dim() <= a < t.dim():
                raise ValueError(f"{owner}: axes {self.axes!r} do not fit inputs of shapes {_shapes_text([x, y])}")
            axes.append(int(a) % t.dim())
        if 0 in axes:
            raise ValueError(f"{owner}: `axes` cannot include the batch axis 0, got axes={self.axes!r}")
        check_sizes(x.shape[axes[0]] == y.shape[axes[1]],
                    lambda: f"{owner}: the summed axes differ in size: axis {axes[0]} of x has "
                            f"{x.shape[axes[0]]}, axis {axes[1]} of y has {y.shape[axes[1]]} "
                            f"(shapes {_shapes_text([x, y])})")
        return axes

    def forward(self, inputs: Sequence[torch.Tensor],
                mask: Sequence[torch.Tensor | None] | None = None) -> torch.Tensor:
        """Dot products of the two tensors in `inputs` along `axes`; `mask` is accepted and not passed on."""
        x, y = self._checked_inputs(inputs)
        self._checked_masks([x, y], mask)
        self._check_batch_sizes([x, y])
        ax, ay = self._resolved_axes(x, y)
        if self.normalize:
            x, y = _l2_normalize(x, ax), _l2_normalize(y, ay)
        x_rest = [s for i, s in enumerate(x.shape) if i not in (0, ax)]
        y_rest = [s for i, s in enumerate(y.shape) if i not in (0, ay)]
        batch, size = x.shape[0], x.shape[ax]
        left = x.movedim(ax, -1).reshape(batch, -1, size)      # (batch, rest of x, summed)
        right = y.movedim(ay, 1).reshape(batch, size, -1)      # (batch, summed, rest of y)
        output = torch.bmm(left, right).reshape(batch, *x_rest, *y_rest)
        return output.reshape(batch, 1) if output.dim() == 1 else output


def _l2_normalize(x, axis, epsilon: float = 1e-7):
    """Keras's `normalize(x, axis)`: `x * min(rsqrt(sum(x^2)), 1 / epsilon)`."""
    inverse_norm = torch.rsqrt(x.square().sum(dim=axis, keepdim=True))
    return x * torch.minimum(inverse_norm, torch.tensor(1.0 / epsilon, dtype=x.dtype, device=x.device))
