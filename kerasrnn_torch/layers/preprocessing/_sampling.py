"""Sampling images at moved or scaled positions, as Keras's torch backend samples them in `affine_transform`
(`map_coordinates` of order 0 or 1) for a transform without rotation or shear (a translation, a zoom): each
axis separately, with Keras's fill modes."""
from __future__ import annotations

import torch

# How positions beyond the edges are brought inside: kr.ops.image's rule, shared with map_coordinates.
from ...ops.image import fold_index

FILL_MODES = ("reflect", "wrap", "constant", "nearest")


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
        gathered_index = fold_index(index, size, fill_mode).reshape(view).expand_as(images)
        values = torch.gather(images, axis, gathered_index)
        if fill_mode == "constant":
            valid = ((index >= 0) & (index < size)).reshape(view)
            values = torch.where(valid, values, torch.as_tensor(fill_value, dtype=values.dtype))
        if weight is not None:
            values = weight.to(values.dtype).reshape(view) * values
        result = values if result is None else result + values
    assert result is not None
    return result


def sample_plane(images: torch.Tensor, rows_axis: int, row_coordinates: torch.Tensor,
                 col_coordinates: torch.Tensor, interpolation: str, fill_mode: str, fill_value: float) -> torch.Tensor:
    """`images` (batch first, rows then columns at `rows_axis`, `rows_axis + 1`) resampled: output pixel (i, j) of
    image b reads input position (`row_coordinates[b, i, j]`, `col_coordinates[b, i, j]`), interpolated
    ("nearest" or "bilinear", the four neighbours) and filled beyond the edges by `fill_mode`."""
    height, width = images.shape[rows_axis], images.shape[rows_axis + 1]
    x = images.movedim((rows_axis, rows_axis + 1), (1, 2))                  # (batch, rows, cols, ...)
    flat = x.reshape(x.shape[0], height * width, -1)                       # (batch, rows * cols, rest)
    row_nodes: list[tuple[torch.Tensor, torch.Tensor | None]]
    col_nodes: list[tuple[torch.Tensor, torch.Tensor | None]]
    if interpolation == "nearest":
        row_nodes = [(torch.round(row_coordinates).long(), None)]
        col_nodes = [(torch.round(col_coordinates).long(), None)]
    else:
        row_low, col_low = torch.floor(row_coordinates), torch.floor(col_coordinates)
        row_up, col_up = row_coordinates - row_low, col_coordinates - col_low
        row_nodes = [(row_low.long(), 1 - row_up), (row_low.long() + 1, row_up)]
        col_nodes = [(col_low.long(), 1 - col_up), (col_low.long() + 1, col_up)]
    result = None
    for row_index, row_weight in row_nodes:
        for col_index, col_weight in col_nodes:
            position = fold_index(row_index, height, fill_mode) * width + fold_index(col_index, width, fill_mode)
            gathered = torch.gather(flat, 1, position.reshape(x.shape[0], -1, 1).expand(-1, -1, flat.shape[2]))
            values = gathered.reshape(x.shape)
            extra = [1] * (x.dim() - 3)
            if fill_mode == "constant":
                valid = (row_index >= 0) & (row_index < height) & (col_index >= 0) & (col_index < width)
                values = torch.where(valid.reshape(*valid.shape, *extra), values,
                                     torch.as_tensor(fill_value, dtype=values.dtype))
            if row_weight is not None and col_weight is not None:
                values = (row_weight * col_weight).to(values.dtype).reshape(*row_weight.shape, *extra) * values
            result = values if result is None else result + values
    assert result is not None
    return result.movedim((1, 2), (rows_axis, rows_axis + 1))
