"""Keras's meaning of a masked step in a recurrent layer's results: the one place it is written down.

At a masked step the states stay as they were. The output there repeats the
previous output, so a returned sequence shows the *held* state (the state
after the latest used step), except where no step has been used yet (zeros),
and, with `zero_output_for_mask=True`, at every masked step (zeros). The last
output follows the same rule at the last step read. A fully masked row keeps
its initial states and outputs zeros.

Every path makes its results this way: the cell loop (engine/loop.py) from
the states it held step by step, the fused kernel (engine/fused.py) from the
kernel's outputs over each row's valid steps, and the two-way kernel
(engine/bidirectional_glue.py). The masks here are in reading order: flipped
when the layer reads backwards.
"""
from __future__ import annotations

import torch


def shown_steps(reading_mask: torch.Tensor, zero_output_for_mask: bool) -> torch.Tensor:
    """`(batch, time)`: where a returned sequence shows the held state (elsewhere zeros)."""
    return reading_mask if zero_output_for_mask else reading_mask.cumsum(dim=1) > 0


def last_step_shown(reading_mask: torch.Tensor, zero_output_for_mask: bool) -> torch.Tensor:
    """`(batch,)`: whether the last output is the held state (else zeros)."""
    return reading_mask[:, -1] if zero_output_for_mask else reading_mask.any(dim=1)


def hide(values: torch.Tensor, shown: torch.Tensor, in_place: bool = False) -> torch.Tensor:
    """Zeros where `shown` is False; `shown` has `values`' leading axes. In place for a tensor the caller owns."""
    hidden = ~shown.view(*shown.shape, *(1,) * (values.dim() - shown.dim()))
    return values.masked_fill_(hidden, 0.0) if in_place else values.masked_fill(hidden, 0.0)


def sequence_from_held(held: torch.Tensor, reading_mask: torch.Tensor, zero_output_for_mask: bool, *,
                       in_place: bool = False) -> torch.Tensor:
    """Keras's returned sequence from the held-state sequence `(batch, time, ...)`."""
    return hide(held, shown_steps(reading_mask, zero_output_for_mask), in_place)


def last_from_held(last_held: torch.Tensor, reading_mask: torch.Tensor, zero_output_for_mask: bool) -> torch.Tensor:
    """Keras's last output from the state held after the last step read."""
    return hide(last_held, last_step_shown(reading_mask, zero_output_for_mask))


def keep_initial_states(final: list, initial: list, empty: torch.Tensor, batch_axis: int = 0) -> list:
    """A fully masked row keeps its initial states; `batch_axis` 1 for the kernel's `(directions, batch, units)`.
    The states stay in the kernel's dtype (autocast's, under autocast), as the other rows'."""
    shape = (1, -1, 1) if batch_axis == 1 else (-1, 1)
    where = empty.view(*shape)
    return [torch.where(where, s0.to(s.dtype), s) if s is not None else None for s0, s in zip(initial, final)]
