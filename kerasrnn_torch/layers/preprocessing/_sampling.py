"""Sampling images at moved or scaled positions, as Keras's torch backend samples them in `affine_transform`
(`map_coordinates` of order 0 or 1) for a transform without rotation or shear (a translation, a zoom): each
axis separately, with Keras's fill modes."""
from __future__ import annotations

import torch

FILL_MODES = ("reflect", "wrap", "constant", "nearest")


def _mirror(index: torch.Tensor, size: int) -> torch.Tensor:
    period = size - 1
    return torch.abs(torch.remainder(index + period, 2 * period) - period) if period else torch.zeros_like(index)


def _inside(index: torch.Tensor, size: int, fill_mode: str) -> torch.Tensor:
    """Indices outside [0, size) brought inside as `fill_mode` says ("constant" clips; the caller fills)."""
    if fill_mode == "wrap":
        return torch.remainder(index, size)
    if fill_mode == "reflect":     # the edge repeated: ... 1 0 | 0 1 2 ... n-1 | n-1 n-2 ...
        return torch.div(_mirror(2 * index + 1, 2 * size + 1) - 1, 2, rounding_mode="floor")
    return index.clamp(0, size - 1)


def sample_axis(images: torch.Tensor, axis: int, scales: torch.Tensor, offsets: torch.Tensor, interpolation: str,
                fill_mode: str, fill_value: float) -> torch.Tensor:
    """`images` (batch first) resampled along `axis`: output position i of image b reads input position
    `i * scales[b] + offsets[b]`, interpolated ("nearest" or "bilinear") and filled beyond the edges by
    `fill_mode`."""
    size = images.shape[axis]
    positions = torch.arange(size, dtype=torch.float32, device=images.device).unsqueeze(0)
    coordinates = positions * scales.to(torch.float32).reshape(-1, 1) + offsets.to(torch.float32).reshape(-1, 1)
    nodes: list[tuple[torch.Tensor, torch.Tensor | None]]
    if interpolation == "nearest":
        nodes = [(torch.round(coordinates).long(), None)]
    else:
        lower = torch.floor(coordinates)
        upper_weight = coordinates - lower
        nodes = [(lower.long(), 1 - upper_weight), (lower.long() + 1, upper_weight)]
    view = [images.shape[0]] + [1] * (images.dim() - 1)
    view[axis] = size
    result = None
    for index, weight in nodes:
        gathered_index = _inside(index, size, fill_mode).reshape(view).expand_as(images)
        values = torch.gather(images, axis, gathered_index)
        if fill_mode == "constant":
            valid = ((index >= 0) & (index < size)).reshape(view)
            values = torch.where(valid, values, torch.as_tensor(fill_value, dtype=values.dtype))
        if weight is not None:
            values = weight.to(values.dtype).reshape(view) * values
        result = values if result is None else result + values
    assert result is not None
    return result
