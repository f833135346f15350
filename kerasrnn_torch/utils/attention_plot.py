"""Heat maps of attention scores with matplotlib (the `plot` extra); loaded only when
`kr.utils.plot_attention_scores` is called, so `import kerasrnn_torch` never imports matplotlib."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

try:
    import matplotlib
    import matplotlib.pyplot as plt
except ImportError as error:      # pragma: no cover - depends on the environment
    raise ImportError("plotting attention scores needs matplotlib: pip install kerasrnn_torch[plot]") from error


def _as_array(scores: Any) -> np.ndarray:
    if isinstance(scores, (tuple, list)) and len(scores) == 2 and not np.isscalar(scores[0]):
        scores = scores[1]          # the (outputs, scores) pair the layers return
    if isinstance(scores, torch.Tensor):
        scores = scores.detach().float().cpu().numpy()
    array = np.asarray(scores, dtype=np.float64)
    if array.ndim not in (2, 3, 4):
        raise ValueError("attention scores must be (query_steps, key_steps), (batch, query_steps, key_steps) or "
                         f"(batch, heads, query_steps, key_steps); got shape {array.shape}")
    return array


def _pick(selection: int | Sequence[int] | None, size: int, what: str) -> list[int]:
    chosen = list(range(size)) if selection is None else \
        [selection] if isinstance(selection, (int, np.integer)) else list(selection)
    bad = [index for index in chosen if not -size <= int(index) < size]
    if bad or not chosen:
        raise ValueError(f"{what} {bad or chosen} out of range: the scores have {size} {what}")
    return [int(index) % size for index in chosen]


def plot_attention_scores(scores: Any, samples: int | Sequence[int] | None = None,
                          heads: int | Sequence[int] | None = None, query_labels: Sequence[str] | None = None,
                          key_labels: Sequence[str] | None = None, cmap: str = "viridis",
                          colorbar: bool = True, ax: Any = None) -> Any:
    """Draw attention scores as heat maps (query steps down, key steps across); returns the Figure.

    One panel per sample for `(batch, query_steps, key_steps)` scores (Attention, AdditiveAttention),
    a row per sample and a column per head for `(batch, heads, query_steps, key_steps)`
    (MultiHeadAttention); a single panel for `(query_steps, key_steps)`. The layers' `(outputs, scores)`
    pair may be passed as it is.
    """
    array = _as_array(scores)
    multi_head = array.ndim == 4
    if heads is not None and not multi_head:
        raise ValueError(f"heads= needs (batch, heads, query_steps, key_steps) scores; got shape {array.shape}")
    if samples is not None and array.ndim == 2:
        raise ValueError(f"samples= needs scores with a batch axis; got shape {array.shape}")
    if array.ndim == 2:
        array = array[None, None]
    elif array.ndim == 3:
        array = array[:, None]
    rows = _pick(samples, array.shape[0], "samples")
    columns = _pick(heads, array.shape[1], "heads")
    query_steps, key_steps = array.shape[2:]
    for labels, steps, what in ((query_labels, query_steps, "query_labels"), (key_labels, key_steps, "key_labels")):
        if labels is not None and len(labels) != steps:
            raise ValueError(f"{what} has {len(labels)} labels for {steps} steps")
    if ax is None:
        figure, grid = plt.subplots(len(rows), len(columns), squeeze=False,
                                    figsize=(3.2 * len(columns) + 0.8, 3.0 * len(rows)))
        panels = [list(row) for row in grid]
    else:
        flat = list(np.ravel(ax)) if isinstance(ax, (list, tuple, np.ndarray)) else [ax]
        if len(flat) != len(rows) * len(columns):
            raise ValueError(f"{len(rows) * len(columns)} panels to draw on {len(flat)} axes")
        panels = [flat[r * len(columns):(r + 1) * len(columns)] for r in range(len(rows))]
        figure = flat[0].figure
    low, high = float(array[rows][:, columns].min()), float(array[rows][:, columns].max())
    image = None
    for r, sample in enumerate(rows):
        for c, head in enumerate(columns):
            panel = panels[r][c]
            image = panel.imshow(array[sample, head], cmap=cmap, vmin=low, vmax=high, aspect="auto",
                                 interpolation="nearest")
            panel.set_title(f"sample {sample}, head {head}" if multi_head else f"sample {sample}")
            panel.set_xlabel("key step")
            panel.set_ylabel("query step")
            if key_labels is not None:
                panel.set_xticks(range(key_steps), list(key_labels), rotation=90)
            if query_labels is not None:
                panel.set_yticks(range(query_steps), list(query_labels))
    if colorbar and image is not None:
        figure.colorbar(image, ax=[panel for row in panels for panel in row], shrink=0.8)
    return figure


__all__ = ["plot_attention_scores", "matplotlib"]
