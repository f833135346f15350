"""Masks: validation, right-padding analysis and sequence lengths.

A mask is a bool tensor `(batch, timesteps)`, True where a step is used.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .._checks import shape_text


def check_mask(mask, batch: int, timesteps: int, owner: str) -> torch.Tensor | None:
    """Validate a user mask against the inputs; returns it on the inputs' terms."""
    if mask is None:
        return None
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"{owner}: mask must be a bool tensor of shape ({batch}, {timesteps}), got {type(mask).__name__}")
    if mask.dtype != torch.bool:
        raise TypeError(
            f"{owner}: mask must be a bool tensor (True = use the step), got dtype {mask.dtype}; "
            "convert it with mask.bool()")
    if tuple(mask.shape) != (batch, timesteps):
        raise ValueError(
            f"{owner}: mask must have shape (batch, timesteps) = ({batch}, {timesteps}), got {shape_text(mask.shape)}")
    return mask


@dataclass(frozen=True)
class MaskLayout:
    """What the fused kernel needs to know about a mask.

    `kind` is "none" (no mask, or every step used), "right_padded" (each row is
    a run of True then a run of False, possibly empty) or "other".
    `lengths` (CPU int64) is set for "right_padded".
    """
    kind: str
    lengths: torch.Tensor | None = None
    has_empty_rows: bool = False
    mask: torch.Tensor | None = None    # the mask itself, on the inputs' device ("right_padded" only)


NO_MASK = MaskLayout("none")


def analyse(mask: torch.Tensor | None) -> MaskLayout:
    """Classify a mask; one device-to-host transfer, a handful of small ops."""
    if mask is None:
        return NO_MASK
    batch, timesteps = mask.shape
    if batch == 0 or timesteps == 0:
        return NO_MASK
    lengths = mask.sum(dim=1)
    # A True right after a False anywhere breaks right padding.
    reopened = (mask[:, 1:] > mask[:, :-1]).any().view(1)
    if mask.device.type == "cpu":
        lengths_cpu, is_reopened = lengths, bool(reopened)
    else:
        summary = torch.cat([lengths, reopened.to(lengths.dtype)]).cpu()
        lengths_cpu, is_reopened = summary[:-1], bool(summary[-1])
    if is_reopened:
        return MaskLayout("other")
    shortest, longest = lengths_cpu.aminmax()
    if int(shortest) == timesteps:
        return NO_MASK
    return MaskLayout("right_padded", lengths_cpu, int(shortest) == 0, mask)
