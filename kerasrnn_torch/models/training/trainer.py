"""`Trainer`: Keras's `compile`, `fit`, `evaluate`, `predict` and the `*_on_batch` calls on `Model` and
`Sequential` (torch's own `nn.Module.compile` stays reachable as `torch.nn.Module.compile(model, ...)`)."""
from __future__ import annotations

import os
import signal
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
import torch.utils._pytree as pytree
from torch import nn

from ...callbacks.callback import Callback, CallbackList, LazyLogs
from ...callbacks.history import History
from ...callbacks.progbar import ProgbarLogger
from ..._types import PathLike
from ...core import registry
from ...core.layer import Layer
from ..regularization import apply_constraints, regularization_loss, regularization_terms
from ...metrics.metric import Metric
from ...optimizers.base import Optimizer
from .compile_utils import CompileLoss, CompileMetrics, get_loss, needs_build, resolve_optimizer
from .custom_steps import (CompiledMetrics, LossTracker, batch_size_of, flatten_logs, metrics_result,
                           metrics_result_or_logs, overrides, pack_x_y_sample_weight, unpack_x_y_sample_weight,
                           update_compiled_metrics)
from .data import Batches, structure, taken_as_is, to_tensor
from .structured_loss import StructuredLoss, flatten, shape_text

# Keras's methods a model may override; overriding one sends every batch through the model's own step.
# An overridden `metrics` property counts too: Keras's default step logs what it lists.
_TRAIN_HOOKS = ("train_step", "compute_loss", "compute_metrics", "metrics")
_TEST_HOOKS = ("test_step", "compute_loss", "compute_metrics", "metrics")
_MODULE_TRAIN = nn.Module.train


class _Compiled:
    """What `compile` set up (kept apart from the module's attributes: nothing here is a submodule)."""

    def __init__(self, optimizer: Any, loss: CompileLoss | None, metrics: CompileMetrics, jit_compile: bool) -> None:
        self.optimizer = optimizer
        self.loss = loss                        # None: compiled without a loss (a model's own step may need none)
        self.metrics = metrics
        self.jit_compile = jit_compile
        self.total: torch.Tensor | None = None      # the loss tracker: sum of loss * batch size
        self.count = 0
        self.scale: torch.Tensor | None = None      # `batch size` as a float32 tensor (`Trainer._record`)
        self.scale_of = 0
        self.regularized: bool | None = None
        self.constrained: bool | None = None
        self.step_fn: Callable[..., Any] | None = None
        self.test_fn: Callable[..., Any] | None = None
        self.predict_fn: Callable[..., Any] | None = None
        self.output_names: list[str] = []       # refreshed when a run starts (`Trainer._begin`)
        self.names_from_outputs = False         # a subclassed model's outputs named from its first batch
        self.maskless = False                   # the outputs carried no mask on this run's first batch
        self.optimizer_built = False
        self.trains_weights = True          # whether the model has trainable weights (read at its first step)
        self.loss_tracker = LossTracker(self)   # `model.metrics[0]`, a view on total/count
        self.compiled_metrics: CompiledMetrics | None = None     # made on first use (it needs the model)
        self.step_logs: dict[str, Any] | None = None    # the last logs of a model's own step (None: built-in step)


class _Interrupts:
    """Ctrl-C during `fit`: raised between steps, never inside an optimizer update (the weights stay those of
    the last finished step)."""

    def __init__(self) -> None:
        self.in_update = False
        self.pending = False
        self.previous: Any = None

    def __enter__(self) -> _Interrupts:
        if threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.in_update:
            self.pending = True
        else:
            raise KeyboardInterrupt

    def __exit__(self, *exc: Any) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None


def _check_overwrite(filepath: PathLike, overwrite: bool) -> None:
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{os.fspath(filepath)} exists and overwrite=False")


class Trainer(nn.Module):
    """Keras's training methods, mixed into `kr.Model` and `kr.Sequential`."""

    stop_training: bool = False
    history: History | None = None
    optimizer: Any = None

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None,
                loss_weights: Any = None, metrics: Any = None, weighted_metrics: Any = None,
                run_eagerly: bool = False, steps_per_execution: int = 1, jit_compile: bool | str = "auto") -> None:
        """Configure training, as Keras's `model.compile` (this replaces `nn.Module.compile`: call
        `torch.nn.Module.compile(model, ...)` for torch's in-place compilation).

        Args:
            optimizer: a `torch.optim.Optimizer` bound to the model's parameters (used as is), an
                object with Keras's optimizer interface, or a Keras name ("sgd", "adam", ...,
                through `kr.optimizers`; default "rmsprop").
            loss: a Keras loss name ("mse", "binary_crossentropy", "crossentropy" picked from the
                shapes, ...), a `kr.losses` object, a torch loss module (called `module(y_pred, y_true)`),
                or a function `(y_true, y_pred)`; for several outputs one for all, a list, or a dict by
                output name.
            loss_weights: a float, or one per output (list or dict): the total loss is the weighted sum.
            metrics: metric names or objects ("accuracy" resolved from the loss and shapes as Keras
                does), a list, or per output (list of lists, or a dict by output name).
            weighted_metrics: as `metrics`, computed with the sample (and class) weights.
            run_eagerly: accepted for Keras's code (PyTorch runs eagerly); True turns `jit_compile` off
                (with a warning when `jit_compile=True` was asked for, as Keras warns).
            steps_per_execution: must be 1 (as on Keras's torch backend).
            jit_compile: True runs the train, test and predict steps (`fit`, `evaluate`, `predict` and
                the `*_on_batch` calls) through `torch.compile` (its default inductor backend), as
                Keras's torch backend does; "auto" resolves to False there, and so it does here.
        """
        if steps_per_execution != 1:
            raise ValueError("`steps_per_execution` must be 1 with the PyTorch backend. "
                             f"Received: steps_per_execution={steps_per_execution}")
        # As Keras, a loss may be left out: the model predicts, and a model's own `train_step` may compute
        # its loss itself; the built-in step then asks for one.
        jit = _resolve_jit_compile(jit_compile, run_eagerly)
        names = self.output_names
        self.optimizer = resolve_optimizer(optimizer)
        self._compiled = _Compiled(self.optimizer, None if loss is None
                                   else CompileLoss(loss, loss_weights, names, self._leaf_output_names()),
                                   CompileMetrics(metrics, weighted_metrics, names,
                                                  structure=getattr(self, "output_structure", None)), jit)
        self.stop_training = False

    # ------------------------------------------------------------------ files
    def save(self, filepath: PathLike, overwrite: bool = True) -> None:
        """Save the model as a Keras 3 `.keras` archive, as Keras's `model.save` (`kr.save_keras`)."""
        _check_overwrite(filepath, overwrite)
        registry.provided("save_keras")(self, filepath)

    def save_weights(self, filepath: PathLike, overwrite: bool = True) -> None:
        """Save the weights as a Keras 3 `.weights.h5` file, as Keras's `model.save_weights`
        (`kr.save_keras_weights`)."""
        _check_overwrite(filepath, overwrite)
        registry.provided("save_keras_weights")(self, filepath)

    def load_weights(self, filepath: PathLike, skip_mismatch: bool = False) -> Any:
        """Load the weights of a Keras file (`.weights.h5`, `.keras`, legacy `.h5`), as Keras's
        `model.load_weights` (`kr.load_keras_weights`); returns its report."""
        return registry.provided("load_keras_weights")(self, filepath, skip_mismatch=skip_mismatch)

    @property
    def compiled(self) -> bool:
        """Whether `compile` was called."""
        return getattr(self, "_compiled", None) is not None

    @property
    def jit_compile(self) -> bool:
        """Whether the steps run through `torch.compile` (`compile(jit_compile=...)`; False before `compile`)."""
        state = getattr(self, "_compiled", None)
        return bool(state is not None and state.jit_compile)

    @jit_compile.setter
    def jit_compile(self, value: bool) -> None:
        state = self._state("jit_compile")
        state.jit_compile = _resolve_jit_compile(value, False)
        state.step_fn = state.test_fn = state.predict_fn = None

    @property
    def output_names(self) -> list[str]:
        """The outputs' names: a dict's keys, else each output's layer name (Keras's names for per-output losses)."""
        structure_ = getattr(self, "output_structure", None)
        if structure_ is None:
            layers = list(self.children())
            return [getattr(layers[-1], "name", "output") if layers else "output"]
        if isinstance(structure_, dict):
            return list(structure_)
        tensors = structure_ if isinstance(structure_, (list, tuple)) else [structure_]
        return [str(getattr(getattr(getattr(t, "node", None), "layer", None), "name", None)
                    or getattr(t, "name", "output")) for t in tensors]

    def _leaf_output_names(self) -> list[str]:
        """Keras's `output_names`: the layer name of every output tensor, nested structures flattened (dict keys
        sorted); the names per-loss trackers of nested outputs take."""
        structure_ = getattr(self, "output_structure", None)
        if structure_ is None:
            return self.output_names
        return [str(getattr(getattr(getattr(t, "node", None), "layer", None), "name", None)
                    or getattr(t, "name", "output")) for t in flatten(structure_)]

    @property
    def metrics(self) -> list[Any]:
        """Keras's `model.metrics`: once compiled, the loss tracker (named "loss") and the compiled metrics
        as one object named "compile_metrics" (when `compile` was given metrics), then the per-output loss
        trackers; then the `kr.metrics` objects assigned to the model as attributes. `reset_metrics` and the
        start of each epoch reset them all; a model's own `train_step` may update and read them."""
        found: list[Any] = []
        state = getattr(self, "_compiled", None)
        if state is not None:
            found.append(state.loss_tracker)
            if any(state.metrics.user[0]) or any(state.metrics.user[1]):
                found.append(self._compiled_metrics(state))
            if state.loss is not None:
                found.extend(state.loss.trackers)
        found.extend(value for value in vars(self).values() if isinstance(value, Metric))
        return found

    @property
    def metrics_names(self) -> list[str]:
        """The names of `model.metrics`, as Keras's."""
        return [metric.name for metric in self.metrics]

    def _compiled_metrics(self, state: _Compiled) -> CompiledMetrics:
        if state.compiled_metrics is None:
            state.compiled_metrics = CompiledMetrics(self, state)
        return state.compiled_metrics

    def _begin(self, method: str, builtin: bool = True) -> _Compiled:
        """The compiled state, readied for a run of `method` (the outputs' names read once, not per batch);
        `builtin`: the run's steps are the built-in ones, which need the compiled loss."""
        state = self._state(method)
        if builtin:
            self._require_loss(state, method)
        if not state.names_from_outputs:
            state.output_names = self.output_names
        state.maskless = False
        state.step_logs = None if builtin else {}
        return state

    @staticmethod
    def _require_loss(state: _Compiled, method: str) -> None:
        if state.loss is None:
            raise ValueError(f"No loss to compute for `{method}()`: the model was compiled without one. Provide a "
                             "`loss` argument in `compile()` (a Keras loss name, a kr.losses object, a torch loss "
                             "module or a function (y_true, y_pred)), or override the model's train_step/test_step")

    def _state(self, method: str) -> _Compiled:
        state = getattr(self, "_compiled", None)
        if state is None:
            raise RuntimeError(f"You must call `compile()` before using the model's `{method}()`: e.g. "
                               "model.compile(optimizer=torch.optim.SGD(model.parameters(), lr=0.01), loss='mse')")
        return state

    def _enter_mode(self, training: bool) -> None:
        """`self.train(training)`, skipped where every module is in that mode already and none overrides
        `train`: reading each module's flag costs a fraction of setting it (a visible share of a small
        model's `predict_on_batch`)."""
        # A walk of its own: `modules()` builds every module's qualified name on the way.
        seen: set[int] = set()
        pending: list[nn.Module] = [self]
        while pending:
            module = pending.pop()
            if module.training != training or type(module).train is not _MODULE_TRAIN:
                self.train(training)
                return
            for child in module._modules.values():
                if child is not None and id(child) not in seen:
                    seen.add(id(child))
                    pending.append(child)

    # ------------------------------------------------------------------ data
    def _float_dtype(self) -> torch.dtype:
        for parameter in self.parameters():
            if parameter.is_floating_point():
                return parameter.dtype
        return torch.float32

    def _device(self) -> torch.device:
        for parameter in self.parameters():
            return parameter.device
        return torch.device("cpu")

    def _dtype_and_device(self) -> tuple[torch.dtype, torch.device]:
        """`(_float_dtype(), _device())` from one walk over the parameters (in `parameters()`'s order, without
        the qualified names it builds on the way: a share of a small model's `train_on_batch`)."""
        device = None
        for parameter in _parameters_in_order(self):
            if device is None:
                device = parameter.device
            if parameter.is_floating_point():
                return parameter.dtype, device
        return torch.float32, device if device is not None else torch.device("cpu")

    def _batches(self, x: Any, y: Any = None, sample_weight: Any = None, batch_size: int | None = None,
                 shuffle: bool = False, steps: int | None = None, class_weight: Any = None) -> Batches:
        dtype, device = self._dtype_and_device()
        return Batches(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle, steps=steps,
                       class_weight=class_weight, float_dtype=dtype, device=device)

    def _one_batch(self, x: Any, y: Any, sample_weight: Any, class_weight: Any = None) -> Any:
        """The `(x, y, sample_weight)` batches of a `*_on_batch` call: one. Two tensors with as many samples
        go as they are (`to_tensor`'s conversions, on the model's device); anything else through `Batches`,
        which checks and explains (its per-call work is a visible share of a small model's step)."""
        if type(x) is torch.Tensor and type(y) is torch.Tensor and sample_weight is None and class_weight is None \
                and x.dim() and y.dim() and x.shape[0] == y.shape[0] and x.shape[0]:
            dtype, device = self._dtype_and_device()
            x, y = to_tensor(x, dtype), to_tensor(y, dtype)
            if device.type != "cpu":
                x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            return ((x, y, None),)
        batches = self._batches(x, y, sample_weight, None, False, None, class_weight)
        batches.batch_size = batches.num_samples or 1
        batches.num_batches = 1
        return batches.epoch()

    def _model_inputs(self, x: Any) -> Any:
        """x as the model takes it: as given. A functional model takes a dict by its own dict's keys or by its
        inputs' names (and says which are missing), a subclassed model's `call` takes the dict itself."""
        return x

    def _per_output(self, value: Any, what: str, names: list[str] | None = None) -> list[Any]:
        if names is None:
            names = self.output_names
        if len(names) == 1:
            if value is None or isinstance(value, torch.Tensor):
                return [value]
            if isinstance(value, dict) and list(value) == names:
                return [value[names[0]]]
            if isinstance(value, (list, tuple)) and len(value) == 1:
                return [value[0]]
            return [value]
        if value is None:
            return [None] * len(names)
        if isinstance(value, dict):
            unknown = [key for key in value if key not in names]
            if unknown:
                raise ValueError(f"{what} has keys {unknown}; the model's outputs are {names}")
            return [value.get(name) for name in names]
        if isinstance(value, (list, tuple)):
            if len(value) != len(names):
                raise ValueError(f"{what} has {len(value)} entries for the model's {len(names)} outputs {names}")
            return list(value)
        if what == "sample_weight":
            return [value] * len(names)
        raise ValueError(f"{what} must hold one entry per output {names} (a list or a dict by output name); got one "
                         f"{type(value).__name__}")

    def _split_outputs(self, state: _Compiled, x: Any, outputs: Any
                       ) -> tuple[list[torch.Tensor], list[torch.Tensor | None]]:
        flat = self._flat_outputs(outputs, state.output_names)
        if state.maskless:
            return flat, [None] * len(flat)
        masks = self._output_masks(x, len(flat))
        return flat, masks

    @staticmethod
    def _flat_outputs(outputs: Any, names: list[str]) -> list[torch.Tensor]:
        if isinstance(outputs, torch.Tensor):
            return [outputs]
        if isinstance(outputs, dict):
            return [outputs[name] for name in names]
        if isinstance(outputs, (list, tuple)):
            return list(outputs)
        return [outputs]

    def _output_mask_tree(self, x: Any) -> Any:
        """The outputs' masks for the batch `x` in the outputs' structure (`compute_mask`), or None where the
        model cannot say (not a layer, or inputs given as a dict)."""
        if not isinstance(self, Layer) or not isinstance(x, (torch.Tensor, list)):
            return None
        return self.compute_mask(x, None)

    def _output_masks(self, x: Any, count: int) -> list[torch.Tensor | None]:
        """One mask (or None) per top-level output: `_output_mask_tree`'s, by the outputs' names or order."""
        masks = self._output_mask_tree(x)
        if masks is not None:
            if isinstance(masks, dict):
                return [masks.get(name) for name in self.output_names]
            if isinstance(masks, (list, tuple)):
                return list(masks) if len(masks) == count else [None] * count
            return [masks] + [None] * (count - 1)
        return [None] * count

    # ------------------------------------------------------------------ steps
    def _loss(self, state: _Compiled, x: Any, y: Any, sample_weight: Any, training: bool
              ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor], list[Any], list[Any], int]:
        return self._loss_of(state, x, y, sample_weight, self(x, training=training))

    def _loss_of(self, state: _Compiled, x: Any, y: Any, sample_weight: Any, outputs: Any
                 ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor], list[Any], list[Any], int]:
        """The compiled loss (plus the regularization and `add_loss` terms) of a batch's outputs, with the flat
        targets, predictions, weights and masks the metrics take. `x` may be None (`compute_loss`)."""
        assert state.loss is not None
        batch = int(x.shape[0]) if isinstance(x, torch.Tensor) else batch_size_of(outputs if x is None else x)
        if isinstance(outputs, (list, tuple, dict)) and not state.names_from_outputs \
                and getattr(self, "output_structure", None) is None:
            self._name_outputs(state, outputs)
        compile_loss = state.loss
        structured = compile_loss.structured if compile_loss.decided else compile_loss.structured_for(y, outputs)
        if structured is not None:
            return self._structured_loss(state, structured, x, y, sample_weight, outputs, batch)
        y_pred, masks = self._split_outputs(state, x, outputs)
        names = state.output_names
        if len(names) == 1 and isinstance(y, torch.Tensor):        # the common case, without the general checks
            y_true: list[Any] = [y]
        else:
            y_true = self._per_output(y, "y", names)
            for target in y_true:
                if target is None:
                    raise ValueError("the data gives no targets (y) for the loss: pass y=, or (x, y) batches")
        weights = [None] if sample_weight is None and len(names) == 1 \
            else self._per_output(sample_weight, "sample_weight", names)
        loss = state.loss(y_true, y_pred, weights, masks, batch)
        if state.regularized is None:
            state.regularized = bool(regularization_terms(self))   # evaluate (no grad) counts them too
        if state.regularized:
            loss = loss + regularization_loss(self)
        return loss, y_true, y_pred, weights, masks, batch

    def _name_outputs(self, state: _Compiled, outputs: Any) -> None:
        """A subclassed model's several outputs, seen on its first batch, named as Keras names them: a dict's
        keys; a list's or tuple's outputs have no names (their losses' trackers take the losses' names, their
        metrics no prefix). The losses are then laid over the outputs as Keras's `CompileLoss` lays them."""
        names = sorted(outputs) if isinstance(outputs, dict) else [f"output_{i + 1}" for i in range(len(outputs))]
        state.names_from_outputs = True
        state.output_names = [str(name) for name in names]
        loss = state.loss
        assert loss is not None         # `_loss_of` runs only with a compiled loss
        loss.output_names = state.output_names
        loss.structured = StructuredLoss(loss.user_loss, loss.user_weights, [], get_loss)
        loss.decided = True
        metrics, weighted = state.metrics.user_args
        state.metrics = CompileMetrics(metrics, weighted, state.output_names, prefix=isinstance(outputs, dict),
                                       structure=outputs, named=False)

    def _structured_loss(self, state: _Compiled, structured: StructuredLoss, x: Any, y: Any, sample_weight: Any,
                         outputs: Any, batch: int
                         ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor], list[Any], list[Any], int]:
        """`_loss` for losses laid over nested outputs (Keras's structures); metrics stay per top-level output."""
        if y is None:
            raise ValueError("the data gives no targets (y) for the loss: pass y=, or (x, y) batches")
        mask_tree = None if state.maskless else self._output_mask_tree(x)
        loss = structured(y, outputs, sample_weight, batch, mask_tree)
        if state.regularized is None:
            state.regularized = bool(regularization_terms(self))   # evaluate (no grad) counts them too
        if state.regularized:
            loss = loss + regularization_loss(self)
        if not state.metrics.wants_outputs():
            # The masks' leaves (for `_record`: whether the outputs carry masks at all).
            return loss, [], [], [], flatten(mask_tree) if mask_tree is not None else [], batch
        y_pred, masks = self._split_outputs(state, x, outputs)
        if not all(isinstance(p, torch.Tensor) for p in y_pred):
            raise ValueError("Invalid `metrics`: metrics take one output tensor each, but this model's outputs nest "
                             f"containers ({shape_text(outputs)}); compile the metrics on a model whose outputs are "
                             "a tensor, a list, a tuple or a dict of tensors")
        y_true = self._per_output(y, "y", state.output_names)
        weights = self._per_output(sample_weight, "sample_weight", state.output_names)
        return loss, y_true, y_pred, weights, masks, batch

    def _record(self, state: _Compiled, loss: torch.Tensor, y_true: list[Any], y_pred: list[torch.Tensor],
                weights: list[Any], masks: list[Any], batch: int) -> None:
        value = loss.detach()
        if value.dtype != torch.float32:
            value = value.float()
        total = state.total
        scale = state.scale         # the batch size as a tensor: multiplying by it is faster than by an int
        if scale is None or state.scale_of != batch or scale.device != value.device:
            scale = state.scale = torch.tensor(float(batch), device=value.device)
            state.scale_of = batch
        if total is None or total.device != value.device:
            state.total = value * scale         # a new tensor: the first batch's sum, added to in place after
        else:
            total.add_(value * scale)
        state.count += batch
        if not state.maskless and all(mask is None for mask in masks):
            state.maskless = True
        update_compiled_metrics(state, y_true, y_pred, weights, masks)

    def _train_step(self, x: Any, y: Any, sample_weight: Any, guard: _Interrupts | None = None) -> None:
        state = self._compiled
        loss, y_true, y_pred, weights, masks, batch = self._loss(state, x, y, sample_weight, True)
        self._update(state, loss, guard)
        self._record(state, loss, y_true, y_pred, weights, masks, batch)

    def _update(self, state: _Compiled, loss: torch.Tensor, guard: _Interrupts | None) -> None:
        """One optimizer update from `loss` (constraints applied after it); none where the model has no
        trainable weights (warned, as Keras warns)."""
        optimizer = state.optimizer
        if not state.optimizer_built:
            trainable = [p for p in self.parameters() if p.requires_grad]
            state.trains_weights = bool(trainable)
            if needs_build(optimizer) and trainable:
                optimizer.build(trainable)
            state.optimizer_built = True
        if not state.trains_weights:
            # As Keras: nothing to update; the loss and metrics are still computed and logged.
            warnings.warn("The model does not have any trainable weights.", stacklevel=3)
            return
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if guard is not None:
            guard.in_update = True
        if isinstance(optimizer, Optimizer):
            optimizer._step_unwrapped()
        else:
            optimizer.step()
        if state.constrained is None:
            state.constrained = any(name.endswith("_constraint") and value is not None
                                    for module in self.modules() for name, value in vars(module).items())
        if state.constrained:
            apply_constraints(self)
        if guard is not None:
            guard.in_update = False
            if guard.pending:
                guard.pending = False
                raise KeyboardInterrupt

    def _test_step(self, x: Any, y: Any, sample_weight: Any) -> None:
        state = self._compiled
        with torch.no_grad():
            loss, y_true, y_pred, weights, masks, batch = self._loss(state, x, y, sample_weight, False)
        self._record(state, loss, y_true, y_pred, weights, masks, batch)

    # ------------------------------------------------------------------ Keras's overridable steps
    # `fit`, `evaluate` and `predict` call these only where a subclass overrides one of them (or
    # `compute_loss`/`compute_metrics`); otherwise they run the lean built-in steps above, which compute
    # the same numbers.
    def train_step(self, data: Any) -> dict[str, Any]:
        """One training step on a batch, as Keras's default: forward, `compute_loss`, backward, one
        optimizer update, then `compute_metrics`. `data` is `x`, `(x, y)` or `(x, y, sample_weight)`.
        Override it for a custom training algorithm: `fit` then calls the override on every batch and
        logs the dict it returns."""
        state = self._state("train_step")
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
        state.loss_tracker.update_state(loss.detach(), sample_weight=batch_size_of(x))
        self._update(state, loss, None)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, data: Any) -> dict[str, Any]:
        """One evaluation step, as Keras's default: forward in inference mode, `compute_loss`,
        `compute_metrics`. `evaluate` (and `fit`'s validation) call an override on every batch."""
        state = self._state("test_step")
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False)
        state.loss_tracker.update_state(loss.detach(), sample_weight=batch_size_of(x))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def predict_step(self, data: Any) -> Any:
        """The outputs for one batch, as Keras's default; `predict` calls an override on every batch
        (under `torch.no_grad()`) and concatenates what it returns."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None, sample_weight: Any = None,
                     training: bool = True) -> torch.Tensor:
        """The total loss of a batch, as Keras's: the compiled loss of `y` and `y_pred` (weighted by
        `sample_weight`), plus the regularization and `add_loss` terms of the latest call. Without a
        compiled loss, those terms alone."""
        state = self._state("compute_loss")
        if state.loss is None:
            return regularization_loss(self)
        if not state.output_names:          # called outside fit/evaluate
            state.output_names = self.output_names
        if y is not None and not isinstance(y, (torch.Tensor, list, tuple, dict)):
            y = torch.as_tensor(y)
        return self._loss_of(state, x, y, sample_weight, y_pred)[0]

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> dict[str, Any]:
        """Update the compiled metrics with a batch and return every metric's result, as Keras's."""
        state = self._state("compute_metrics")
        if any(state.metrics.user[0]) or any(state.metrics.user[1]):
            self._compiled_metrics(state).update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def _own_step(self, state: _Compiled | None, method: str) -> Callable[[Any], Any]:
        """A step that hands each batch to the model's `method` and keeps the logs it returns (under
        `torch.no_grad()` for evaluation and prediction, as Keras's torch backend runs them)."""
        function = getattr(self, method)
        if state is not None and state.jit_compile:
            compiled = state.__dict__.setdefault("own_steps", {})
            if method not in compiled:
                compiled[method] = torch.compile(function)
            function = self._once_built(compiled[method], function)
        grad = method == "train_step"

        def step(data: Any) -> Any:
            with torch.set_grad_enabled(grad and torch.is_grad_enabled()):
                result = function(data)
            if state is not None and method != "predict_step":
                state.step_logs = result if result is not None else {}
            return result
        return step

    def reset_metrics(self) -> None:
        """Reset the loss tracker and every metric of `model.metrics`, as Keras's `reset_metrics`."""
        state = self._state("reset_metrics")
        state.total, state.count = None, 0
        state.metrics.reset_state()
        for metric in self.metrics:
            metric.reset_state()

    def _results(self) -> dict[str, torch.Tensor]:
        state = self._compiled
        total = state.total if state.total is not None else torch.zeros(())
        logs = {"loss": total / max(state.count, 1)}
        if state.metrics.built is not None:
            logs.update(state.metrics.result())
        for tracker in state.loss.trackers if state.loss is not None else ():
            logs[tracker.name] = tracker.result()
        return logs

    def _logs(self) -> dict[str, Any]:
        """The current batch's logs as Python floats (one device sync): the built-in step's results, or
        what the model's own step returned."""
        state = self._compiled
        if state.step_logs is not None:
            return flatten_logs(state.step_logs)
        results = self._results()
        if len(results) == 1:       # the loss alone: no stacking
            (name, value), = results.items()
            if value.dim() == 0:
                return {name: float(value)}
        if all(v.dim() == 0 for v in results.values()):
            values = torch.stack([v.float().to(results["loss"].device) for v in results.values()]).tolist()
            return dict(zip(results, values))
        # A metric with several thresholds gives one value per threshold: a NumPy array, as Keras logs it.
        return {key: float(v) if v.dim() == 0 else v.detach().float().cpu().numpy() for key, v in results.items()}

    def _final_logs(self) -> dict[str, float]:
        """The logs at the end of an epoch or evaluation: after a model's own step, as Keras, the metrics'
        results where their names are those of the step's last logs, else those logs."""
        state = self._compiled
        if state.step_logs is not None:
            return metrics_result_or_logs(self.metrics, flatten_logs(state.step_logs))
        return self._logs()

    def get_metrics_result(self) -> dict[str, Any]:
        """Keras's `get_metrics_result`: every metric of `model.metrics` by name, as Python floats."""
        return metrics_result(self.metrics)

    def _ordered(self, logs: dict[str, float]) -> float | list[float]:
        """Keras's list order for `evaluate`: loss, the metrics' own names, the per-output losses, the rest sorted."""
        if len(logs) == 1:
            return next(iter(logs.values()))
        state = self._compiled
        order: list[str] = []
        for metric in self.metrics:
            # As Keras: the compiled metrics' own names (a weighted twin repeats its plain twin's value).
            order += [m.name for m in state.metrics.metrics] if isinstance(metric, CompiledMetrics) else [metric.name]
        values = [logs[name] for name in order if name in logs]
        values += [logs[key] for key in sorted(logs) if key not in order]
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------------ callbacks
    def _callbacks(self, callbacks: Any, verbose: Any, epochs: int, steps: int | None,
                   history: bool) -> CallbackList:
        if isinstance(callbacks, CallbackList):
            callbacks.set_model(self)
            return callbacks
        found = list(callbacks or [])
        for callback in found:
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks must be kr.callbacks.Callback objects; got {type(callback).__name__}")
        # Keras's places: the progress bar first, History last (it sees what other callbacks add to the logs).
        if verbose != 0 and not any(isinstance(c, ProgbarLogger) for c in found):
            found.insert(0, ProgbarLogger())
        if history:
            self.history = History()
            found.append(self.history)
        return CallbackList(found, model=self, verbose=1 if verbose == "auto" else verbose, epochs=epochs,
                            steps=steps)

    # ------------------------------------------------------------------ fit
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: int | str = "auto", callbacks: Sequence[Callback] | CallbackList | None = None,
            validation_split: float = 0.0, validation_data: Any = None, shuffle: bool = True,
            class_weight: dict[int, float] | None = None, sample_weight: Any = None, initial_epoch: int = 0,
            steps_per_epoch: int | None = None, validation_steps: int | None = None,
            validation_batch_size: int | None = None, validation_freq: int | Sequence[int] = 1) -> History:
        """Train for `epochs` epochs, as Keras's `model.fit`; returns the `History` (also `model.history`).

        Args:
            x: inputs: a NumPy array or tensor, a list of them (several inputs) or a dict by input
                name; or a torch `Dataset`/`DataLoader` or a generator yielding `(x, y)` or
                `(x, y, sample_weight)` batches (then y is None).
            y: targets, in the structure of the outputs (one array, a list, or a dict by output name).
            batch_size: samples per batch (default 32; the last, partial batch is kept).
            epochs: the epoch to stop at (counting from 0, so `initial_epoch` is skipped over).
            verbose: 0 silent, 1 a progress bar, 2 one line per epoch; "auto" is 1.
            callbacks: `kr.callbacks` objects.
            validation_split: the last fraction of the arrays (taken before shuffling) held out for
                validation each epoch.
            validation_data: `(x_val, y_val)` or `(x_val, y_val, sample_weight)`, or a DataLoader.
            shuffle: reshuffle the arrays each epoch (torch's random generator; default True).
            class_weight: `{class id: weight}` turned into per-sample weights (one output only).
            sample_weight: per-sample weights (array of length n).
            initial_epoch: the epoch to start from (to resume a run).
            steps_per_epoch: batches per epoch (default: all; needed for an endless generator).
            validation_steps: batches per validation (default: all).
            validation_batch_size: batch size of the validation (default: batch_size).
            validation_freq: validate every this many epochs, or at the epochs (1-based) of a list.

        The weights move only through finished steps: bad data raises before the first update, and
        Ctrl-C stops between steps. Logs and history hold Python floats.
        """
        custom = overrides(self, Trainer, *_TRAIN_HOOKS)
        state = self._begin("fit", builtin=not custom)
        if validation_split and validation_data is None:
            batches = self._batches(x, y, sample_weight, batch_size, shuffle, steps_per_epoch, class_weight)
            (x, y, sample_weight), validation_data = batches.split(validation_split)
            class_weight = None
        batches = self._batches(x, y, sample_weight, batch_size, shuffle, steps_per_epoch, class_weight)
        validation: Batches | None = None
        if validation_data is not None:
            if isinstance(validation_data, (tuple, list)):
                if len(validation_data) not in (2, 3):
                    raise ValueError("validation_data must be (x_val, y_val) or (x_val, y_val, val_sample_weight); "
                                     f"got a sequence of {len(validation_data)}")
                vx, vy, vsw = (*validation_data, None)[:3]
                validation = self._batches(vx, vy, vsw, validation_batch_size or batch_size, False, validation_steps)
            else:
                validation = self._batches(validation_data, None, None, validation_batch_size or batch_size, False,
                                           validation_steps)
        callback_list = self._callbacks(callbacks, verbose, epochs, batches.num_batches, history=True)
        self.stop_training = False
        step = self._make_train_function(state) if not custom else self._own_train_function(state)
        guard = _Interrupts()
        epoch_logs: dict[str, Any] = {}
        with guard:
            callback_list.on_train_begin()
            resumed = callback_list.resume_epoch()
            start = resumed if resumed is not None else initial_epoch
            wants_batches = callback_list.wants_train_batches
            for epoch in range(start, epochs):
                self.reset_metrics()
                callback_list.on_epoch_begin(epoch)
                self._enter_mode(True)
                index = -1
                for index, (bx, by, bsw) in enumerate(batches.epoch()):
                    if wants_batches:
                        callback_list.on_train_batch_begin(index)
                    if isinstance(bx, dict):
                        bx = self._model_inputs(bx)
                    step(bx, by, bsw, guard)
                    if wants_batches:
                        callback_list.on_train_batch_end(index, LazyLogs(self._logs))
                    if self.stop_training:
                        break
                if index < 0:       # an exhausted generator
                    self.stop_training = True
                    break
                epoch_logs = self._final_logs()
                self._enter_mode(False)
                if validation is not None and _should_validate(epoch, validation_freq):
                    val_logs = self._evaluate_batches(validation, callback_list)
                    epoch_logs.update({f"val_{key}": value for key, value in val_logs.items()})
                callback_list.on_epoch_end(epoch, epoch_logs)
                if self.stop_training:
                    break
            callback_list.on_train_end(epoch_logs)
        assert self.history is not None
        return self.history

    # Keras's torch backend runs its steps through torch.compile when jit_compile is True. A model whose
    # weights are still lazy builds them on its first call; that call runs eagerly (torch.compile cannot
    # trace the weights' creation), the ones after it compiled.
    def _make_train_function(self, state: _Compiled) -> Callable[..., None]:
        if not state.jit_compile:
            return self._train_step
        if state.step_fn is None:
            state.step_fn = torch.compile(self._train_step)
        return self._once_built(state.step_fn, self._train_step)

    # `fit`/`evaluate` hand a model's own step the batch packed (`x`, `(x, y)` or `(x, y, sample_weight)`);
    # the `*_on_batch` calls hand it `(x, y, sample_weight)` whatever is None, as Keras's do.
    def _own_train_function(self, state: _Compiled, triple: bool = False) -> Callable[..., None]:
        own = self._own_step(state, "train_step")

        def step(x: Any, y: Any, sample_weight: Any, guard: _Interrupts | None = None) -> None:
            own((x, y, sample_weight) if triple else pack_x_y_sample_weight(x, y, sample_weight))
        return step

    def _own_test_function(self, state: _Compiled, triple: bool = False) -> Callable[..., None]:
        own = self._own_step(state, "test_step")

        def step(x: Any, y: Any, sample_weight: Any) -> None:
            own((x, y, sample_weight) if triple else pack_x_y_sample_weight(x, y, sample_weight))
        return step

    def _make_test_function(self, state: _Compiled) -> Callable[..., None]:
        if not state.jit_compile:
            return self._test_step
        if state.test_fn is None:
            state.test_fn = torch.compile(self._test_step)
        return self._once_built(state.test_fn, self._test_step)

    def _predict_step(self, x: Any) -> Any:
        with torch.no_grad():
            return self(x, training=False)

    def _make_predict_function(self, wrapped: bool = False) -> Callable[[Any], Any]:
        """`wrapped`: a model's own `predict_step` gets `(x,)`, as Keras's `predict_on_batch` hands it over
        (`predict` hands over the batch itself)."""
        state = getattr(self, "_compiled", None)
        if overrides(self, Trainer, "predict_step"):
            own = self._own_step(state, "predict_step")
            return lambda x: own((x,) if wrapped else pack_x_y_sample_weight(x))
        if state is None or not state.jit_compile:
            return self._predict_step
        if state.predict_fn is None:
            state.predict_fn = torch.compile(self._predict_step)
        return self._once_built(state.predict_fn, self._predict_step)

    def _lazy(self) -> bool:
        return any(isinstance(p, nn.parameter.UninitializedParameter) for p in self.parameters())

    def _once_built(self, compiled: Callable[..., Any], eager: Callable[..., Any]) -> Callable[..., Any]:
        if not self._lazy():
            return compiled

        def step(*args: Any) -> Any:
            return eager(*args) if self._lazy() else compiled(*args)
        return step

    # ------------------------------------------------------------------ evaluate
    def _evaluate_batches(self, batches: Batches, callback_list: CallbackList) -> dict[str, float]:
        self._enter_mode(False)
        state = self._compiled
        custom = overrides(self, Trainer, *_TEST_HOOKS)
        if not custom:
            self._require_loss(state, "evaluate")
        training_logs, state.step_logs = state.step_logs, ({} if custom else None)
        self.reset_metrics()
        step = self._own_test_function(state) if custom else self._make_test_function(state)
        callback_list.on_test_begin()
        for index, (bx, by, bsw) in enumerate(batches.epoch()):
            callback_list.on_test_batch_begin(index)
            step(self._model_inputs(bx), by, bsw)
            callback_list.on_test_batch_end(index, LazyLogs(self._logs))
        logs = self._final_logs()
        state.step_logs = training_logs
        callback_list.on_test_end(logs)
        return logs

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None, verbose: int | str = "auto",
                 sample_weight: Any = None, steps: int | None = None,
                 callbacks: Sequence[Callback] | CallbackList | None = None,
                 return_dict: bool = False) -> float | list[float] | dict[str, float]:
        """The loss and metrics over the data, as Keras's `model.evaluate`.

        Args:
            x, y, sample_weight: as `fit`.
            batch_size: samples per batch (default 32).
            verbose: 0 silent, 1 a progress bar, 2 a line; "auto" is 1.
            steps: batches to run (default: all).
            callbacks: `kr.callbacks` objects (their `on_test_*` hooks run).
            return_dict: a dict by name instead of Keras's list.

        Returns the loss alone when there are no metrics, else the list `[loss, metrics...]`
        (Keras's order), or the dict.
        """
        self._begin("evaluate", builtin=False)
        batches = self._batches(x, y, sample_weight, batch_size, False, steps)
        callback_list = self._callbacks(callbacks, verbose, 1, batches.num_batches, history=False)
        logs = self._evaluate_batches(batches, callback_list)
        return logs if return_dict else self._ordered(logs)

    # ------------------------------------------------------------------ predict
    def predict(self, x: Any, batch_size: int | None = None, verbose: int | str = "auto", steps: int | None = None,
                callbacks: Sequence[Callback] | CallbackList | None = None) -> Any:
        """The outputs over the data as NumPy arrays (the outputs' structure), as Keras's `model.predict`.

        Args:
            x: inputs as `fit` takes them (a Dataset/DataLoader/generator yielding x or (x, ...)).
            batch_size: samples per batch (default 32).
            verbose: 0 silent, 1 a progress bar, 2 a line; "auto" is 1.
            steps: batches to run (default: all).
            callbacks: `kr.callbacks` objects (their `on_predict_*` hooks run).
        """
        batches = self._batches(x, None, None, batch_size, False, steps)
        callback_list = self._callbacks(callbacks, verbose, 1, batches.num_batches, history=False)
        self._enter_mode(False)
        callback_list.on_predict_begin()
        collected: list[Any] = []
        spec = None
        step = self._make_predict_function()
        for index, (bx, _, _) in enumerate(batches.epoch()):
            callback_list.on_predict_batch_begin(index)
            outputs = step(self._model_inputs(bx))
            leaves, spec = pytree.tree_flatten(outputs)
            collected.append([leaf.detach() for leaf in leaves])
            callback_list.on_predict_batch_end(index, {"outputs": outputs})
        callback_list.on_predict_end()
        if not collected or spec is None:
            raise ValueError("predict() got no data: x yielded no batch")
        merged = [torch.cat([batch[i] for batch in collected]).cpu().numpy() for i in range(len(collected[0]))]
        return pytree.tree_unflatten(merged, spec)

    # ------------------------------------------------------------------ single batches
    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: dict[int, float] | None = None,
                       return_dict: bool = False) -> float | list[float] | dict[str, float]:
        """One training step on one batch, as Keras's `train_on_batch`: the metrics are reset first, so the
        loss (and metrics) returned are this batch's."""
        custom = overrides(self, Trainer, *_TRAIN_HOOKS)
        state = self._begin("train_on_batch", builtin=not custom)
        batches = self._one_batch(x, y, sample_weight, class_weight)
        self._enter_mode(True)
        self.reset_metrics()
        step = self._own_train_function(state, triple=True) if custom else self._make_train_function(state)
        for bx, by, bsw in batches:
            step(self._model_inputs(bx), by, bsw, None)
        logs = self._logs()
        return logs if return_dict else self._ordered(logs)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      return_dict: bool = False) -> float | list[float] | dict[str, float]:
        """The loss (and metrics) on one batch, as Keras's `test_on_batch` (the metrics reset first)."""
        custom = overrides(self, Trainer, *_TEST_HOOKS)
        state = self._begin("test_on_batch", builtin=not custom)
        batches = self._one_batch(x, y, sample_weight)
        self._enter_mode(False)
        self.reset_metrics()
        step = self._own_test_function(state, triple=True) if custom else self._make_test_function(state)
        for bx, by, bsw in batches:
            step(self._model_inputs(bx), by, bsw)
        logs = self._logs()
        return logs if return_dict else self._ordered(logs)

    def predict_on_batch(self, x: Any) -> Any:
        """The outputs for one batch as NumPy arrays, as Keras's `predict_on_batch`."""
        self._enter_mode(False)
        if not taken_as_is(x):
            x = structure(x, self._float_dtype())
        outputs = self._make_predict_function(wrapped=True)(self._model_inputs(x))
        if type(outputs) is torch.Tensor:
            return outputs.detach().cpu().numpy()
        return pytree.tree_map(lambda t: t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t, outputs)


def _parameters_in_order(module: nn.Module) -> Iterator[torch.Tensor]:
    """`module.parameters()`'s order (a module's own, then each child's), a shared one possibly more than once."""
    for parameter in module._parameters.values():
        if parameter is not None:
            yield parameter
    for child in module._modules.values():
        if child is not None:
            yield from _parameters_in_order(child)


def _resolve_jit_compile(value: Any, run_eagerly: bool) -> bool:
    """Keras's rule on its torch backend: "auto" is eager; `run_eagerly` wins over True (with a warning)."""
    if value == "auto":
        return False
    if not isinstance(value, (bool, int)) or isinstance(value, str):
        raise ValueError(f'jit_compile must be True, False or "auto"; got {value!r}')
    value = bool(value)
    if value and run_eagerly:
        warnings.warn("If `run_eagerly` is True, then `jit_compile` cannot also be True. Disabling `jit_compile`.",
                      stacklevel=3)
        return False
    return value


def _should_validate(epoch: int, frequency: int | Sequence[int]) -> bool:
    if isinstance(frequency, int):
        return (epoch + 1) % frequency == 0
    return epoch + 1 in frequency


__all__ = ["Trainer"]
