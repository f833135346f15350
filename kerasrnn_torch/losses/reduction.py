"""Keras's loss reduction: sample weights, output masks and the reduction modes, on per-sample loss values."""
from __future__ import annotations

import torch

# Keras's `backend.epsilon()`: the clipping bound of its crossentropies and the guard of its divisions.
EPSILON = 1e-7
REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


# Where a loss function leaves the mask of its result (Keras's torch backend uses the same attribute name).
_MASK_ATTRIBUTE = "_keras_mask"


def set_output_mask(values: torch.Tensor, mask: torch.Tensor) -> None:
    """Attach `mask` (True: the entry counts) to a loss function's per-sample `values`."""
    setattr(values, _MASK_ATTRIBUTE, mask)


def output_mask(values: torch.Tensor) -> torch.Tensor | None:
    """The mask a loss function attached to its result (`set_output_mask`), or None."""
    return getattr(values, _MASK_ATTRIBUTE, None)


def combine_masks(first: torch.Tensor | None, second: torch.Tensor | None) -> torch.Tensor | None:
    """Both masks and-ed (either alone when the other is None)."""
    if first is None:
        return second
    if second is None:
        return first
    return first.bool() & second.bool()


def check_reduction(reduction: str | None) -> str | None:
    """`reduction` when Keras knows it; a ValueError naming the allowed values otherwise."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {list(REDUCTIONS)}; got {reduction!r}")
    return reduction


def squeeze_or_expand_to_same_rank(x1: torch.Tensor, x2: torch.Tensor,
                                   expand_rank_1: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Keras's rank alignment: where the ranks differ by one and the longer one ends in a size-1 axis,
    that axis is dropped (or, when the other is rank 1, the other gains one)."""
    r1, r2 = x1.dim(), x2.dim()
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def apply_mask(sample_weight: torch.Tensor | None, mask: torch.Tensor | None, dtype: torch.dtype,
               reduction: str | None) -> torch.Tensor | None:
    """Fold an output mask into the sample weights as Keras does: for a mean, the kept entries are
    scaled by total/kept so the mean runs over them only; for a sum, the mask is 0/1."""
    if mask is None:
        return sample_weight
    if reduction in ("mean", "sum_over_batch_size"):
        kept = mask.to(dtype).sum()
        scale = torch.where(kept > 0, mask.numel() / kept.clamp_min(1e-30), torch.zeros((), dtype=dtype,
                                                                                          device=mask.device))
        float_mask = torch.where(mask.bool(), scale, torch.zeros((), dtype=dtype, device=mask.device))
    else:
        float_mask = mask.to(dtype)
    if sample_weight is None:
        return float_mask
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight.to(dtype))
    return sample_weight * float_mask


def reduce_values(values: torch.Tensor, sample_weight: torch.Tensor | None = None,
                  reduction: str | None = "sum_over_batch_size") -> torch.Tensor:
    """Sum the values, and for the means divide by their count (or by the weights' sum)."""
    if reduction is None or reduction == "none" or values.dim() == 0 or tuple(values.shape) == (0,):
        return values
    loss = values.sum()
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = sample_weight.sum().to(loss.dtype)
        return torch.where(divisor != 0, loss / torch.where(divisor != 0, divisor, 1), torch.zeros_like(loss))
    # The count is known here: no tensor made, no division by zero possible (an empty batch returned above).
    return loss / values.numel()


def reduce_weighted_values(values: torch.Tensor, sample_weight: torch.Tensor | None = None,
                           mask: torch.Tensor | None = None,
                           reduction: str | None = "sum_over_batch_size") -> torch.Tensor:
    """Keras's `reduce_weighted_values`: the mask folded into the weights, the weights applied, then reduced."""
    if sample_weight is not None:
        sample_weight = torch.as_tensor(sample_weight, dtype=values.dtype, device=values.device)
    sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)
