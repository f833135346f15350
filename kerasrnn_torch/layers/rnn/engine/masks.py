"""Masks: validation, right-padding analysis and sequence lengths.

A mask is a bool tensor `(batch, timesteps)`, True where a step is used.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ...._checks import shape_text


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
    a run of True then a run of False, possibly empty), "other" (any other
    pattern: left padding, holes) or, while torch.compile traces, "deferred"
    (only `mask` set: the values are read when the compiled graph runs).
    For "right_padded" and "other", `lengths` (CPU int64) is
    each row's number of used steps, `mask` the mask itself, and
    `first_step_used` / `last_step_used` whether every row uses its first /
    last step.
    """
    kind: str
    lengths: torch.Tensor | None = None
    has_empty_rows: bool = False
    mask: torch.Tensor | None = None
    first_step_used: bool = True
    last_step_used: bool = True


NO_MASK = MaskLayout("none")


def analyse(mask: torch.Tensor | None) -> MaskLayout:
    """Classify a mask; one device-to-host transfer, a handful of small ops (a CPU mask: one `tolist`)."""
    if mask is None:
        return NO_MASK
    if torch.compiler.is_compiling() and not torch.compiler.is_exporting():
        # The layout depends on the mask's values, which a compiled graph cannot read: the fused call runs
        # as one operator that analyses the mask when the graph runs (engine/compiled_ops.py).
        return MaskLayout("deferred", mask=mask)
    batch, timesteps = mask.shape
    if batch == 0 or timesteps == 0:
        return NO_MASK
    lengths = mask.sum(dim=1)
    # A True right after a False anywhere breaks right padding.
    summary = torch.stack([(mask[:, 1:] > mask[:, :-1]).any(), mask[:, 0].all(), mask[:, -1].all()]).to(lengths.dtype)
    summary = torch.cat([summary, lengths.min().unsqueeze(0)])
    if mask.device.type == "cpu":
        lengths_cpu = lengths
    else:
        both = torch.cat([lengths, summary]).cpu()
        lengths_cpu, summary = both[:-4], both[-4:]
    reopened, first_used, last_used, shortest = summary.tolist()
    if shortest == timesteps:
        return NO_MASK
    kind = "other" if reopened else "right_padded"
    return MaskLayout(kind, lengths_cpu, shortest == 0, mask, bool(first_used), bool(last_used))
