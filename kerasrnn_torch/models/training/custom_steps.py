"""Keras's overridable steps: what a model's own `train_step`, `test_step`, `predict_step`, `compute_loss`
and `compute_metrics` see and give.

`fit`/`evaluate`/`predict` run a lean built-in step unless the model's class overrides one of those methods
(`overrides`); then each batch goes to the model's method as Keras hands it over (`pack_x_y_sample_weight`),
and the logs come back as Keras reads them (`flatten_logs`, `metrics_result_or_logs`). The objects of
`model.metrics` are Keras's: a loss tracker named "loss" (`LossTracker`, a view on the built-in step's running
loss, so both kinds of step count into the same place) and the compiled metrics as one container named
"compile_metrics" (`CompiledMetrics`) that takes Keras's `update_state(y, y_pred, sample_weight)`.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.utils._pytree as pytree

from ...metrics.metric import Metric
from ...utils.packing import pack_x_y_sample_weight, unpack_x_y_sample_weight


def overrides(model: Any, base: type, *names: str) -> bool:
    """Whether `model`'s class replaces any of `base`'s methods `names`."""
    cls = type(model)
    return any(getattr(cls, name) is not getattr(base, name) for name in names)


def batch_size_of(x: Any) -> int:
    leaves = [leaf for leaf in pytree.tree_leaves(x) if isinstance(leaf, torch.Tensor) and leaf.dim()]
    return int(leaves[0].shape[0]) if leaves else 1


def flatten_logs(logs: Any) -> dict[str, Any]:
    """A step's returned logs as Keras passes them to callbacks: nested dicts merged into one level,
    scalar tensors and NumPy scalars as Python floats."""
    if logs is None:
        return {}
    if not isinstance(logs, dict):
        raise TypeError(f"a train_step/test_step must return a dict of metric names to values; got "
                        f"{type(logs).__name__}")
    flat: dict[str, Any] = {}
    for key, value in logs.items():
        if isinstance(value, dict):
            flat.update(flatten_logs(value))
        else:
            flat[key] = _python_value(value)
    return flat


def _python_value(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return float(value.detach()) if value.numel() == 1 else value.detach().cpu().numpy()
    if hasattr(value, "item") and getattr(value, "size", None) == 1:
        return float(value.item())
    return value


def metrics_result(metrics: list[Any]) -> dict[str, Any]:
    """Keras's `get_metrics_result`: each metric's result by its name, a container's dict merged in."""
    results: dict[str, Any] = {}
    for metric in metrics:
        value = metric.result()
        if isinstance(value, dict):
            results.update(value)
        else:
            results[metric.name] = value
    return flatten_logs(results)


def metrics_result_or_logs(metrics: list[Any], logs: dict[str, Any]) -> dict[str, Any]:
    """Keras's end-of-epoch logs after a model's own step: the metrics' results where they carry the same
    names as the step's last logs, else those logs."""
    results = metrics_result(metrics)
    return results if set(results) == set(logs) else dict(logs)


def update_compiled_metrics(state: Any, y_true: list[Any], y_pred: list[torch.Tensor], weights: list[Any],
                            masks: list[Any]) -> None:
    """Fold a batch (flat, one entry per output) into the compiled metrics, resolving them on the first."""
    metrics = state.metrics
    if metrics.built is None:
        metrics.build(y_true, y_pred, state.loss)
    if metrics.names:
        with torch.no_grad():
            metrics.update_state(y_true, [p.detach() for p in y_pred], weights, masks)


class LossTracker(Metric):
    """The metric named "loss" in `model.metrics`: the mean of the losses given, weighted by
    `sample_weight` (the built-in step gives the batch size, as Keras's does).

    It reads and writes the compiled model's running sum, so the built-in step and a model's own step
    count into the same place.
    """

    direction = "down"

    def __init__(self, compiled: Any) -> None:
        super().__init__(name="loss")
        self._compiled = compiled

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        values = torch.as_tensor(values).detach().float()
        state = self._compiled
        if sample_weight is None:
            total, count = values.sum(), values.numel()
        elif isinstance(sample_weight, (int, float)):       # a batch size, as the default step gives: no sync
            total, count = values.sum() * sample_weight, sample_weight * values.numel()
        else:
            weight = torch.broadcast_to(torch.as_tensor(sample_weight, dtype=torch.float32, device=values.device),
                                        values.shape)
            total, count = (values * weight).sum(), float(weight.sum())
        if state.total is None or state.total.device != total.device:
            state.total = torch.zeros((), device=total.device)
        state.total.add_(total)
        state.count += count

    def result(self) -> torch.Tensor:
        state = self._compiled
        total = state.total if state.total is not None else torch.zeros(())
        return total / state.count if state.count else total

    def reset_state(self) -> None:
        self._compiled.total, self._compiled.count = None, 0


class CompiledMetrics(Metric):
    """`compile(metrics=...)` as one metric named "compile_metrics", as Keras's `model.metrics` holds it:
    `update_state(y, y_pred, sample_weight=None)` with the outputs' structure, `result()` a dict by name.
    The metrics are resolved from the first batch it sees (or the built-in step's)."""

    def __init__(self, model: Any, compiled: Any) -> None:
        super().__init__(name="compile_metrics")
        self._model = model
        self._compiled = compiled

    @property
    def metrics(self) -> list[Metric]:
        return self._compiled.metrics.metrics

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        model, state = self._model, self._compiled
        names = state.output_names or model.output_names
        flat_pred = model._flat_outputs(y_pred, names)
        y_list = [y_true] if len(names) == 1 and isinstance(y_true, torch.Tensor) \
            else model._per_output(y_true, "y", names)
        y_list = [torch.as_tensor(t, device=p.device) if t is not None and not isinstance(t, torch.Tensor) else t
                  for t, p in zip(y_list, flat_pred)]
        weights = model._per_output(sample_weight, "sample_weight", names)
        update_compiled_metrics(state, y_list, flat_pred, weights, [None] * len(flat_pred))

    def result(self) -> dict[str, torch.Tensor]:       # type: ignore[override]
        metrics = self._compiled.metrics
        return metrics.result() if metrics.built is not None else {}

    def reset_state(self) -> None:
        self._compiled.metrics.reset_state()


__all__ = ["CompiledMetrics", "LossTracker", "batch_size_of", "flatten_logs", "metrics_result", "update_compiled_metrics",
           "metrics_result_or_logs", "overrides", "pack_x_y_sample_weight", "unpack_x_y_sample_weight"]
