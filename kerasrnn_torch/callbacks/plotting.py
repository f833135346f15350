"""Training curves with matplotlib (the `plot` extra); loaded only when `History.plot` or
`kr.callbacks.plot_history` is called, so `import kerasrnn_torch` never imports matplotlib."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

try:
    import matplotlib
    import matplotlib.pyplot as plt
except ImportError as error:      # pragma: no cover - depends on the environment
    raise ImportError("plotting training curves needs matplotlib: pip install kerasrnn_torch[plot]") from error


def plot_history(history: Any, metrics: Sequence[str] | None = None, ax: Any = None) -> Any:
    """Draw `history` (a `History`, or its `.history` dict) with matplotlib; returns the Figure.

    Each metric gets a panel with its training curve and, when present, its `val_` curve; x is the
    epoch (1-based, as Keras's progress bar counts them).
    """
    logs: Mapping[str, Sequence[float]] = history.history if hasattr(history, "history") else history
    names = list(metrics) if metrics is not None else [k for k in logs if not k.startswith("val_")]
    if not names:
        raise ValueError(f"nothing to plot: the history holds {sorted(logs)}")
    unknown = [name for name in names if name not in logs]
    if unknown:
        raise ValueError(f"the history has no {unknown}; it holds {sorted(logs)}")
    if ax is None:
        figure, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5), squeeze=False)
        panels = list(axes[0])
    else:
        panels = list(ax) if isinstance(ax, (list, tuple)) else [ax]
        figure = panels[0].figure
    if len(panels) != len(names):
        raise ValueError(f"{len(names)} metrics to draw on {len(panels)} axes")
    for panel, name in zip(panels, names):
        values = logs[name]
        panel.plot(range(1, len(values) + 1), values, label=name)
        if f"val_{name}" in logs:
            panel.plot(range(1, len(logs[f"val_{name}"]) + 1), logs[f"val_{name}"], label=f"val_{name}")
        panel.set_xlabel("epoch")
        panel.set_title(name)
        panel.legend()
    return figure


__all__ = ["plot_history", "matplotlib"]
