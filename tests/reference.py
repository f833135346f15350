"""Helpers for comparing kerasrnn_torch with Keras 3 (torch backend).

Keras's default weights (zero biases, and orthogonal matrices) hide gate-order
and transpose bugs, so references use random weights in every slot.
"""
from __future__ import annotations

import os
import re

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402,F401  (imported here so tests share one configured Keras)
import numpy as np  # noqa: E402
import torch  # noqa: E402

OUTPUT_ATOL = 1e-5
GRAD_ATOL = 1e-4


def random_weights(layer, seed: int = 0, scale: float = 0.5) -> list[np.ndarray]:
    """Fill every weight of a built Keras layer with uniform(-scale, scale) values; returns them."""
    rng = np.random.default_rng(seed)
    weights = [rng.uniform(-scale, scale, size=w.shape).astype(np.float32) for w in layer.get_weights()]
    layer.set_weights(weights)
    return weights


def numpy(t) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return np.asarray(t)


def assert_close(actual, expected, atol: float = OUTPUT_ATOL, what: str = "values"):
    a, e = numpy(actual), numpy(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != expected {e.shape}"
    diff = float(np.max(np.abs(a - e))) if a.size else 0.0
    assert diff <= atol, f"{what}: max abs difference {diff:.3g} > {atol}"


def as_list(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


def weighted_sum(outputs, seed: int = 1) -> torch.Tensor:
    """A scalar that depends on every output element with a distinct random weight."""
    generator = torch.Generator().manual_seed(seed)
    total = 0.0
    for out in outputs:
        total = total + (out * torch.rand(out.shape, generator=generator, dtype=out.dtype)).sum()
    return total


def masks_by_name(batch: int, timesteps: int) -> dict[str, torch.Tensor]:
    """Mask patterns every recurrent test runs over (batch >= 3, timesteps >= 4)."""
    right = torch.ones(batch, timesteps, dtype=torch.bool)
    right[0, timesteps - 2:] = False
    right[1, 1:] = False
    left = right.flip(1)
    holes = torch.ones(batch, timesteps, dtype=torch.bool)
    holes[0, 1] = False
    holes[1, ::2] = False
    holes[2, -1] = False
    empty_row = right.clone()
    empty_row[2] = False
    return {"right_padded": right, "left_padded": left, "holes": holes, "fully_masked_row": empty_row,
            "all_true": torch.ones(batch, timesteps, dtype=torch.bool)}


def sparsemax_reference(z, axis=-1):
    """Martins and Astudillo's sparsemax (Algorithm 1), one slice at a time: the reference for
    `sparsemax`, where Keras 3.15's threshold is wrong (keras-team/keras#23469)."""
    z = np.moveaxis(np.asarray(z, dtype="float64"), axis, -1)
    out = np.zeros_like(z)
    for index in np.ndindex(z.shape[:-1]):
        row = z[index]
        ordered = np.sort(row)[::-1]
        running = np.cumsum(ordered)
        k = max(j for j in range(1, len(row) + 1) if 1 + j * ordered[j - 1] > running[j - 1])
        out[index] = np.maximum(row - (running[k - 1] - 1) / k, 0)
    return np.moveaxis(out, -1, axis)


def assert_same_config(ours, theirs) -> None:
    """A layer's `get_config()` equals the Keras layer's (names aside, up to their counters), and each
    config rebuilds ours through `from_config`."""
    config, ref = ours.get_config(), theirs.get_config()
    assert {k: v for k, v in config.items() if k != "name"} == {k: v for k, v in ref.items() if k != "name"}
    assert re.sub(r"_\d+$", "", ours.name) == re.sub(r"_\d+$", "", theirs.name)
    assert type(ours).from_config(config).get_config() == config
    assert type(ours).from_config(ref).get_config() == {**config, "name": ref["name"]}
