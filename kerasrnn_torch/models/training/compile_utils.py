"""What `compile` resolves: the optimizer, the loss per output (with weights) and the metrics per output.

`CompileLoss` and `CompileMetrics` follow Keras 3's `trainers/compile_utils.py` rules: one loss for every
output or one per output (list, or dict by output name), `loss_weights` alike, per-output loss trackers
named `<output>_loss` when several losses count, "accuracy"/"crossentropy" resolved from the shapes,
metric names prefixed with the output's name on multi-output models.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ... import losses as losses_module
from ... import metrics as metrics_module
from ... import optimizers
from ...losses.loss import Loss, LossFunctionWrapper
from ...losses.reduction import squeeze_or_expand_to_same_rank
from ...metrics.metric import Mean, MeanMetricWrapper, Metric
from .structured_loss import StructuredLoss, flatten, is_nested, needs_structure



def resolve_optimizer(identifier: Any) -> Any:
    """The optimizer `compile` keeps: a `torch.optim.Optimizer` as is (already bound to its parameters),
    an object with Keras's optimizer interface (`build`, `step`, `zero_grad`, `learning_rate`) as is,
    and a Keras name or config dict through `kr.optimizers.get`."""
    if isinstance(identifier, torch.optim.Optimizer):
        return identifier
    if isinstance(identifier, (str, dict)):
        return optimizers.get(identifier)
    if all(callable(getattr(identifier, name, None)) for name in ("step", "zero_grad")):
        return identifier
    raise ValueError(f"optimizer must be a Keras optimizer name, a torch.optim.Optimizer or an object with "
                     f"step() and zero_grad(); got {type(identifier).__name__} {identifier!r}")


def needs_build(optimizer: Any) -> bool:
    """Whether a Keras-style optimizer still has to be bound to the model's parameters (`build`)."""
    return callable(getattr(optimizer, "build", None)) and not getattr(optimizer, "built", False)


def _kind(y_true: torch.Tensor, y_pred: torch.Tensor) -> tuple[bool, bool]:
    """Keras's (is_binary, is_sparse_categorical) from the shapes."""
    is_binary = y_pred.shape[-1] == 1 if y_pred.dim() else True
    is_sparse = y_true.dim() < y_pred.dim() or (y_true.dim() > 0 and y_true.shape[-1] == 1 and y_pred.shape[-1] > 1)
    return is_binary, is_sparse


class TorchLoss(Loss):
    """A torch loss module (`nn.MSELoss()`, ...) called as PyTorch calls it, `module(y_pred, y_true)`."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__(name=type(module).__name__)
        self.module = module

    def __call__(self, y_true: Any, y_pred: torch.Tensor, sample_weight: Any = None,
                 mask: torch.Tensor | None = None) -> torch.Tensor:
        if sample_weight is not None or mask is not None:
            raise ValueError(f"the torch loss module {self.name} reduces by itself and cannot take sample weights, "
                             "class weights or an output mask; use a kr.losses loss")
        target = torch.as_tensor(y_true, device=y_pred.device)
        if target.is_floating_point():
            target = target.to(y_pred.dtype)
        return self.module(y_pred, target)


def get_loss(identifier: Any, y_true: torch.Tensor, y_pred: torch.Tensor) -> Loss | None:
    """A `Loss` for one output, from anything `compile` takes."""
    if identifier is None:
        return None
    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce"):
        is_binary, is_sparse = _kind(y_true, y_pred)
        fn = losses_module.binary_crossentropy if is_binary else \
            losses_module.sparse_categorical_crossentropy if is_sparse else losses_module.categorical_crossentropy
        return LossFunctionWrapper(fn, name=identifier)
    if isinstance(identifier, nn.Module) and not isinstance(identifier, Loss):
        return TorchLoss(identifier)
    found = losses_module.get(identifier)
    if isinstance(found, Loss):
        return found
    name = identifier if isinstance(identifier, str) else getattr(found, "__name__", type(found).__name__)
    return LossFunctionWrapper(found, name=name)


def get_metric(identifier: Any, y_true: torch.Tensor, y_pred: torch.Tensor, loss: Loss | None) -> Metric:
    """A metric for one output; "accuracy"/"acc" chosen from the shapes as Keras chooses it."""
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        is_binary, is_sparse = _kind(y_true, y_pred)
        cls = metrics_module.BinaryAccuracy if is_binary else \
            metrics_module.SparseCategoricalAccuracy if is_sparse else metrics_module.CategoricalAccuracy
        return cls(name=identifier)
    metric = metrics_module.get(identifier)
    if not isinstance(metric, Metric):
        metric = MeanMetricWrapper(metric)
    return metric


def _per_output(value: Any, names: Sequence[str], what: str) -> list[Any]:
    """One entry per output from a single value, a list/tuple (one per output) or a dict by output name."""
    count = len(names)
    if isinstance(value, dict):
        unknown = [key for key in value if key not in names]
        if unknown:
            prefix = f"Invalid `{what}` argument: " if what != "loss" else ""
            raise UnknownOutputKey(
                f"{prefix}Expected keys {list(names)} in {what} dict, but found {what}.keys()={list(value)}: the "
                f"key(s) {unknown}, given in the `{what}` argument, can't be found in either the model's output "
                "names or the labels")
        return [_single(value.get(name)) for name in names]
    if isinstance(value, (list, tuple)) and count > 1:
        if len(value) != count:
            raise ValueError(f"{what} has {len(value)} entries but the model has {count} outputs {list(names)}")
        return [_single(entry) for entry in value]
    return [_single(value)] * count


def _is_config(value: Any) -> bool:
    return isinstance(value, dict) and "class_name" in value


def _leaves(value: Any) -> list[Any]:
    """The loss identifiers of a (nested) loss structure; a Keras config dict is one identifier."""
    if isinstance(value, (list, tuple)):
        return [leaf for entry in value for leaf in _leaves(entry)]
    if isinstance(value, dict) and not _is_config(value):
        return [leaf for entry in value.values() for leaf in _leaves(entry)]
    return [value]


def _deep(value: Any) -> bool:
    """Whether a loss (or weights) structure nests containers: a dict inside, or a container in a container
    other than one output's plain list of losses."""
    if not isinstance(value, (list, tuple, dict)) or _is_config(value):
        return False
    entries = list(value.values()) if isinstance(value, dict) else list(value)
    for entry in entries:
        if isinstance(entry, dict) and not _is_config(entry):
            return True
        if isinstance(entry, (list, tuple)) and (type(entry) is not list or any(
                isinstance(inner, (list, tuple)) or (isinstance(inner, dict) and not _is_config(inner))
                for inner in entry)):
            return True
    return False


class UnknownOutputKey(KeyError, ValueError):
    """A dict of losses or metrics keyed by a name that is no output's (a KeyError, as Keras's, and a
    ValueError)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _single(entry: Any) -> Any:
    """A loss given in a one-element list (`{"out": ["mse"]}`, `["mse", ["bce"]]`) is that loss, as Keras reads it."""
    if isinstance(entry, (list, tuple)) and len(entry) == 1:
        return entry[0]
    return entry


class CompileLoss:
    """The loss of a compiled model: one `Loss` per output, weighted and summed."""

    def __init__(self, loss: Any, loss_weights: Any, output_names: Sequence[str],
                 leaf_names: Sequence[str] | None = None) -> None:
        if loss_weights is not None and not isinstance(loss_weights, (list, tuple, dict, float, int)):
            raise ValueError("Expected `loss_weights` argument to be a float (single output case) or a list, tuple, "
                             f"or dict (multiple output case). Received instead: loss_weights={loss_weights} of "
                             f"type {type(loss_weights)}")
        self.user_loss = loss
        self.user_weights = loss_weights
        self.output_names = list(output_names)
        self.deferred_error: Exception | None = None
        # As Keras: a key that names no output is reported when fit/evaluate first builds the loss; so is a
        # structure of losses that fits the outputs only as a nested structure (`StructuredLoss` may take it).
        deep = self.deep = _deep(loss) or _deep(loss_weights)
        try:
            self.losses_per_output = _per_output(loss, self.output_names, "loss")
            self.weights = _per_output(loss_weights, self.output_names, "loss_weights") \
                if loss_weights is not None else [None] * len(self.output_names)
        except UnknownOutputKey as error:
            self.deferred_error, self.losses_per_output = error, [None] * len(self.output_names)
            self.weights = [None] * len(self.output_names)
        except ValueError as error:
            if not deep:
                raise
            self.deferred_error, self.losses_per_output = error, [None] * len(self.output_names)
            self.weights = [None] * len(self.output_names)
        for identifier in _leaves(loss):        # unknown names fail at compile, as Keras's
            if isinstance(identifier, (str, dict)) and not (isinstance(identifier, str)
                                                            and identifier.lower() in ("crossentropy", "ce")):
                losses_module.get(identifier)
        self.flat: list[tuple[int, Loss, float | None]] | None = None
        self.flat_trackers: list[Mean] = []
        # Nested outputs, or a loss laid over the outputs as a structure: Keras's walk (decided on the first batch).
        self.leaf_names = list(leaf_names) if leaf_names is not None else self.output_names
        self.structured: StructuredLoss | None = None
        self.decided = False

    @property
    def trackers(self) -> list[Mean]:
        """The per-loss `Mean` trackers (`<name>_loss`), when several losses count."""
        return self.structured.trackers if self.structured is not None else self.flat_trackers

    def structured_for(self, y: Any, outputs: Any) -> StructuredLoss | None:
        """The structured layout when the outputs or the loss need one (decided once, on the first batch)."""
        if not self.decided:
            self.decided = True
            if is_nested(outputs) and len(flatten(outputs)) != len(self.leaf_names):
                # Predictions of another structure than the model's outputs (a `compute_loss` override that
                # splits them, as Keras's tests do): laid out as Keras lays unnamed outputs.
                self.structured = StructuredLoss(self.user_loss, self.user_weights, [], get_loss)
            elif needs_structure(self.user_loss, outputs, self.leaf_names, self.deep):
                self.structured = StructuredLoss(self.user_loss, self.user_weights, self.leaf_names, get_loss)
        return self.structured

    def build(self, y_true: list[torch.Tensor], y_pred: list[torch.Tensor]) -> None:
        """Resolve each output's loss from the first batch's shapes."""
        if self.deferred_error is not None:
            raise self.deferred_error
        self.flat = []
        for index, entry in enumerate(self.losses_per_output):
            # Several losses for one output (["mse", ["mse", "bce"]]) are all added, as Keras adds them.
            for identifier in (entry if isinstance(entry, (list, tuple)) else [entry]):
                loss = get_loss(identifier, y_true[index], y_pred[index])
                if loss is not None:
                    self.flat.append((index, loss, self.weights[index]))
        if not self.flat:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        if len(self.flat) > 1:
            self.flat_trackers = [Mean(name=f"{self.output_names[index]}_loss") for index, _, _ in self.flat]

    def __call__(self, y_true: list[torch.Tensor], y_pred: list[torch.Tensor], sample_weight: list[Any],
                 masks: list[torch.Tensor | None], batch_size: int) -> torch.Tensor:
        if self.flat is None:
            self.build(y_true, y_pred)
        assert self.flat is not None
        total: torch.Tensor | None = None
        for position, (index, loss, weight) in enumerate(self.flat):
            try:
                value = loss(y_true[index], y_pred[index], sample_weight[index], mask=masks[index])
            except (RuntimeError, ValueError) as error:
                raise ValueError(f"the loss {loss.name!r} of output {self.output_names[index]!r} does not fit: "
                                 f"targets of shape {tuple(torch.as_tensor(y_true[index]).shape)}, predictions of "
                                 f"shape {tuple(y_pred[index].shape)}: {error}") from error
            if self.flat_trackers:
                self.flat_trackers[position].update_state(value.detach(), sample_weight=batch_size)
            if weight is not None:
                value = value * weight
            total = value if total is None else total + value
        assert total is not None
        return total


class CompileMetrics:
    """The metrics of a compiled model, per output; `result()` gives them by Keras's names."""

    def __init__(self, metrics: Any, weighted_metrics: Any, output_names: Sequence[str],
                 prefix: bool | None = None, structure: Any = None, named: bool = True) -> None:
        """`structure`: the model's outputs (a list, tuple or dict; None: a list), `named`: whether its outputs
        have names of their own (a functional model's); both only shape the message for a mismatched list."""
        for value, name in ((metrics, "metrics"), (weighted_metrics, "weighted_metrics")):
            if value and not isinstance(value, (list, tuple, dict)):
                raise ValueError(f"Expected `{name}` argument to be a list, tuple, or dict. Received instead: "
                                 f"{name}={value} of type {type(value)}")
        self.output_names = list(output_names)
        self.user_args = (metrics, weighted_metrics)
        # Names prefixed with the output's (default: with several outputs); outputs without names (a subclassed
        # model's list) are not prefixed, as Keras's.
        self.prefix = len(self.output_names) > 1 if prefix is None else prefix
        self.structure, self.named = structure, named
        self.deferred_error: ValueError | None = None
        try:
            self.user = [self._split(metrics, "metrics"), self._split(weighted_metrics, "weighted_metrics")]
        except ValueError as error:        # an unknown output key or a mismatched list: at the first build, as Keras
            self.deferred_error = error
            self.user = [[[] for _ in self.output_names], [[] for _ in self.output_names]]
        for per_output in self.user:            # unknown names fail at compile, as Keras's
            for identifiers in per_output:
                for identifier in identifiers:
                    if isinstance(identifier, str) and identifier.lower() not in ("accuracy", "acc"):
                        metrics_module.get(identifier)
        self.built: list[list[list[Metric]]] | None = None
        self.names: list[tuple[Metric, str]] = []

    def _split(self, value: Any, argument: str) -> list[list[Any]]:
        count = len(self.output_names)
        if not value:
            return [[] for _ in range(count)]
        if count == 1:
            flat = list(value.values()) if isinstance(value, dict) else list(value)
            return [[m for entry in flat for m in (entry if isinstance(entry, (list, tuple)) else [entry])]]
        if isinstance(value, dict):
            per = _per_output(value, self.output_names, "metrics")
        elif len(value) == count:
            per = list(value)               # one entry per output: ["mae", ["mse", "accuracy"], None]
        else:
            raise ValueError(self._mismatch(value, argument))
        return [list(entry) if isinstance(entry, (list, tuple)) else ([] if entry is None else [entry])
                for entry in per]

    def _mismatch(self, value: Any, argument: str) -> str:
        """Keras 3's message for a list of metrics that is not one entry per output (Keras 2 put each on every
        output; Keras 3 refuses it)."""
        count, structure = len(self.output_names), self.structure
        shown: Any
        if isinstance(structure, dict):
            mismatch = f"Node type mismatch; expected {dict}, but got {tuple}."
            shown = {key: "X" for key in sorted(structure)}
        else:
            mismatch = f"Node arity mismatch; expected {count}, but got {len(value)}."
            shown = ("X",) * count if isinstance(structure, tuple) else ["X"] * count
        names = (f"either be a dict or a list matching the output names of the functional model "
                 f"{self.output_names} or ") if self.named else ""
        return (f"{mismatch}\nInvalid `{argument}`. `{argument}` should contain metrics objects and {names}match "
                f"the output structure of the model: {shown}.\nReceived: {argument}={value}")

    def wants_outputs(self) -> bool:
        """Whether any metric was asked for (the outputs are then split per top-level output for them)."""
        return self.deferred_error is not None or any(kind[i] for kind in self.user for i in range(len(kind)))

    @property
    def metrics(self) -> list[Metric]:
        """Every metric object, in result order."""
        return [metric for metric, _ in self.names]

    def build(self, y_true: list[torch.Tensor], y_pred: list[torch.Tensor], loss: CompileLoss | None) -> None:
        """Resolve the metrics from the first batch's shapes."""
        if self.deferred_error is not None:
            raise self.deferred_error
        self.built = [[[get_metric(m, y_true[i], y_pred[i], None) for m in kind[i]]
                       for i in range(len(self.output_names))] for kind in self.user]
        prefix = self.prefix
        seen: dict[str, int] = {}
        self.names = []
        for weighted, kind in enumerate(self.built):
            for index, metrics in enumerate(kind):
                for metric in metrics:
                    base = f"{self.output_names[index]}_{metric.name}" if prefix else metric.name
                    name = base
                    if name in seen:
                        if weighted:
                            name = f"{self.output_names[index]}_weighted_{metric.name}" if prefix \
                                else f"weighted_{metric.name}"
                        if name in seen:
                            seen[name] += 1
                            name = f"{name}_{seen[name] - 1}"
                    seen.setdefault(name, 1)
                    seen.setdefault(base, 1)
                    self.names.append((metric, name))

    def update_state(self, y_true: list[torch.Tensor], y_pred: list[torch.Tensor], sample_weight: list[Any],
                     masks: list[torch.Tensor | None]) -> None:
        assert self.built is not None
        plain, weighted = self.built
        for index in range(len(self.output_names)):
            for metric in plain[index]:
                _update(metric, y_true[index], y_pred[index], None, masks[index])
            for metric in weighted[index]:
                _update(metric, y_true[index], y_pred[index], sample_weight[index], masks[index])

    def reset_state(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    def result(self) -> dict[str, torch.Tensor]:
        return {name: metric.result() for metric, name in self.names}


def _update(metric: Metric, y_true: torch.Tensor, y_pred: torch.Tensor, sample_weight: Any,
            mask: torch.Tensor | None) -> None:
    if isinstance(metric, MeanMetricWrapper):
        metric.update_state(y_true, y_pred, sample_weight=sample_weight, mask=mask)
    else:
        metric.update_state(y_true, y_pred, sample_weight=sample_weight)


__all__ = ["resolve_optimizer", "needs_build", "CompileLoss", "CompileMetrics", "get_loss", "get_metric",
           "squeeze_or_expand_to_same_rank"]
