"""RNN(cell): runs any cell over time, as `keras.layers.RNN`.

It owns what is common to every recurrent layer: input and initial-state
checks, masks, stateful states, the choice of path, and packaging the outputs.
The generic layer always runs the cell loop; `KerasRecurrentLayer` (SimpleRNN,
LSTM, GRU) adds the fused kernel.
"""
from __future__ import annotations

import functools
import logging
from typing import Literal, NamedTuple

import torch
from torch import nn
from torch.utils import _pytree as pytree

from ... import regularizers
from ..._checks import describe, require_weight_dtype, shape_text
from .engine import bptt, dispatch, masks as mask_tools
from .engine.loop import (autocast_dtype, compiled_cell_loop, run_cell_loop, run_outside_autocast, run_sequence,
                           zero_masked_steps)
from ...core.layer import Layer
from .cell import RecurrentCell, follows_step_protocol, step_rank_of
from ...core.config import activity_regularizer, deserialize_layer, serialize_layer
from .stacked_rnn_cells import StackedRNNCells, accepts_training, initial_state_of, state_count_of
from typing import Any
from ..._types import InputShape, RegularizerLike, StatesLike, TensorTree
from ...core.layer import LayerT
from collections.abc import Sequence
from ...core.registry import register_keras_class
from ...core.keras_arguments import read_rnn

logger = logging.getLogger("kerasrnn_torch")


class CheckedInputs(NamedTuple):
    """What `RNN.check_inputs` found: the batch size, the number of timesteps (symbolic while torch.export
    traces a dynamic axis) and the first input tensor (the states' model for device and dtype)."""
    batch: int
    timesteps: int
    first: torch.Tensor


@register_keras_class("RNN", reader=read_rnn, sublayers=("cell",))
class RNN(Layer):
    """Base recurrent layer over any cell, as `keras.layers.RNN`.

    Args:
        cell: a cell (`LSTMCell`, a custom `nn.Module` with `state_size` and
            `forward(inputs_t, states[, training]) -> (output_t, new_states)`),
            or a list of cells (wrapped in `StackedRNNCells`).
        return_sequences, return_state, go_backwards, stateful: as Keras.
        unroll: as Keras; it changes nothing numerically in eager PyTorch, it
            only keeps a layer on the loop path.
        zero_output_for_mask: as Keras.

    Always runs the cell loop, even over a built-in cell: that is how to ask
    for the loop explicitly (`RNN(LSTMCell(32))`), as in Keras.

    >>> layer = RNN(LSTMCell(32), return_sequences=True)
    >>> layer(torch.randn(4, 10, 8)).shape
    torch.Size([4, 10, 32])
    """

    # Any module that follows the cell protocol (see above), so its attributes are not checked.
    cell: Any

    use_cudnn: bool | Literal["auto"] = "auto"
    sequence_input = True
    call_records = (*Layer.call_records, "last_path", "_fallback_logged")
    # Opt-in (not a Keras argument): run the cell loop under torch.compile. Worth it for
    # training on fixed shapes; each new input shape compiles first (tens of seconds).
    compile_loop = False
    # Opt-in (not a Keras argument), fused path only: on the CPU, run right-padded batches through
    # PyTorch's packed kernel instead of the whole padded batch: lower peak memory (notably for
    # LSTM training), but much slower with gradients (docs/benchmarks.md has the numbers). Set on
    # `RNN` itself (`kr.RNN.pack_on_cpu = True`) it changes every layer that does not set its own.
    pack_on_cpu = False
    # Opt-in (not a Keras argument): with gradients, run a built-in cell's loop (LSTM, GRU,
    # SimpleRNN with tanh, sigmoid, relu, hard_sigmoid or linear) as one autograd node with a
    # hand-written backward through time (engine/bptt.py): the same numbers, 1.0x to 1.3x faster
    # to train on the CPU sizes measured (docs/benchmarks.md), not enough to be the default. Its
    # backward cannot be differentiated again (no create_graph=True gradient penalties). Set on
    # `RNN` itself (`kr.RNN.handwritten_backward = True`) it changes every layer that does not set its own.
    handwritten_backward = False

    def __init__(self, cell: nn.Module | Sequence[nn.Module], return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, *, activity_regularizer: RegularizerLike = None,
                 **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not isinstance(cell, nn.Module):
            raise TypeError(f"{describe(self)}: `cell` must be an nn.Module (a cell or a list of cells), "
                            f"got {type(cell).__name__}")
        if not hasattr(cell, "state_size"):
            raise ValueError(f"{describe(self)}: the cell {type(cell).__name__} has no `state_size` attribute "
                             "(an int, or a list with one size per state)")
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.last_path: str | None = None
        self._fallback_logged = False
        self._state_spec: pytree.TreeSpec | None = None    # pytree spec of stateful states, once there are some
        self._state_leaves: list[torch.Tensor] | None = None    # ... and their tensors, flattened
        self._cell_takes_training = accepts_training(cell)
        self._cell_follows_protocol = follows_step_protocol(cell)
        self.built = bool(getattr(cell, "built", True))
        self.build_from_hint()

    # ----------------------------------------------------------------- build
    def build(self, input_shape: InputShape) -> None:
        step_shape = (input_shape[0], *input_shape[2:])
        self.build_cell(step_shape)
        self.built = True

    def build_cell(self, step_shape: Any) -> None:   # a shape, or a structure of shapes
        """Build the cell for per-step inputs of `step_shape` (batch first; a structure for nested inputs)."""
        cell = self.cell
        if isinstance(cell, Layer):
            cell.maybe_build(step_shape)
        elif callable(getattr(cell, "build", None)) and not getattr(cell, "built", True):
            cell.build(step_shape)
            cell.built = True

    @property
    def input_dim(self) -> int | None:
        return getattr(self.cell, "input_dim", None)

    # ---------------------------------------------------------------- config
    def recurrent_flags(self) -> dict:
        return {name: getattr(self, name) for name in
                ("return_sequences", "return_state", "go_backwards", "stateful", "unroll", "zero_output_for_mask")}

    def get_config(self) -> dict:
        """Keras's configuration, with the cell serialized as Keras serializes a layer."""
        config = {**super().get_config(), **self.recurrent_flags(), "cell": serialize_layer(self.cell)}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = activity_regularizer(self)
        return config

    @classmethod
    def from_config(cls: type[LayerT], config: dict[str, Any]) -> LayerT:
        config = dict(config)
        if "cell" in config:
            cell = config["cell"]
            owner = f"{cls.__name__} {config.get('name')!r}"
            config["cell"] = [deserialize_layer(c, owner) for c in cell] if isinstance(cell, list) \
                else deserialize_layer(cell, owner)
        return super().from_config(config)

    # ---------------------------------------------------------------- checks
    def check_inputs(self, inputs: TensorTree) -> CheckedInputs:
        """Validate a call's sequence (a tensor, or a structure for a custom cell); returns
        `CheckedInputs(batch, timesteps, first input tensor)`, or raises naming this layer and what came."""
        if isinstance(inputs, torch.Tensor):
            leaves = [inputs]
            rank = step_rank_of(self.cell) + 1
            if self._cell_follows_protocol and inputs.dim() != rank:
                expected = "(batch, timesteps, features)" if rank == 3 else f"a {rank}-D (batch, timesteps, ...)"
                raise ValueError(f"{describe(self)} expects input of shape {expected}, "
                                 f"got a {inputs.dim()}-D input of shape {shape_text(inputs.shape)}")
        elif self._cell_follows_protocol:
            raise TypeError(f"{describe(self)} expects a tensor of shape (batch, timesteps, features), got "
                            f"{type(inputs).__name__} (nested inputs need a custom cell in RNN(cell))")
        else:
            leaves = pytree.tree_leaves(inputs)
            if not leaves or not all(isinstance(t, torch.Tensor) for t in leaves):
                raise TypeError(f"{describe(self)} expects a tensor or a nested structure of tensors, "
                                f"got {type(inputs).__name__}")
        for leaf in leaves:
            if leaf.dim() < 3:
                raise ValueError(f"{describe(self)} expects inputs of shape (batch, timesteps, ...), "
                                 f"got a {leaf.dim()}-D input of shape {shape_text(leaf.shape)}")
            if not leaf.is_floating_point():
                raise TypeError(f"{describe(self)} expects floating-point inputs, got dtype {leaf.dtype} "
                                "(integer ids go through an Embedding first)")
        batch, timesteps = leaves[0].shape[:2]
        for leaf in leaves[1:]:
            if tuple(leaf.shape[:2]) != (batch, timesteps):
                raise ValueError(f"{describe(self)}: every input must share (batch, timesteps) = "
                                 f"({batch}, {timesteps}), got an input of shape {shape_text(leaf.shape)}")
        if timesteps == 0:
            raise ValueError(f"{describe(self)} needs at least one timestep, "
                             f"got input of shape {shape_text(leaves[0].shape)}")
        return CheckedInputs(batch, timesteps, leaves[0])     # not int(): symbolic sizes stay symbolic under export

    def check_built_inputs(self, inputs: TensorTree) -> None:
        """Check a sequence against the built weights: feature size, device, dtype."""
        if not isinstance(inputs, torch.Tensor):
            return
        input_dim = self.input_dim
        if input_dim is not None and inputs.shape[-1] != input_dim:
            raise ValueError(f"{describe(self)} was built for {input_dim} input features, "
                             f"got input of shape {shape_text(inputs.shape)}")
        weight = getattr(self.cell, "kernel", None)   # the built-in cells' first weight, found without a scan
        if not isinstance(weight, torch.Tensor):
            weight = next(self.cell.parameters(), None)
        if weight is None:
            return
        if inputs.device != weight.device:
            raise ValueError(f"{describe(self)} has its weights on {weight.device}, got input on {inputs.device}; "
                             "move one with .to(device)")
        require_weight_dtype(inputs, weight.dtype, describe(self))

    # ---------------------------------------------------------------- states
    def zero_states(self, batch: int, like: torch.Tensor) -> list[Any]:
        """The cell's zero initial states for `batch` rows (a list, as `initial_state`)."""
        if not like.is_floating_point():
            like = torch.zeros((), device=like.device)
        sized = getattr(self.cell, "initial_state_for", None)     # states sized from the input (ConvLSTMCell)
        states = sized(batch, like) if callable(sized) else None
        return states if states is not None else initial_state_of(self.cell, batch, like)

    def initial_states(self, initial_state: StatesLike, batch: int, like: torch.Tensor) -> list[Any]:
        """The states a call starts from: `initial_state` checked and converted, else a stateful layer's
        held states, else zeros; raises naming the expected shapes."""
        if self.stateful and self._state_spec is not None:
            expected_batch = pytree.tree_leaves(self.states)[0].shape[0]
            if batch != expected_batch:
                raise ValueError(
                    f"stateful {describe(self)} holds states for batch size {expected_batch}, got input of batch size "
                    f"{batch}; feed batches of {expected_batch}, or call reset_state(states) with states for "
                    "the new batch size")
        if initial_state is None:
            held = self.states if self.stateful else None
            return held if held is not None else self.zero_states(batch, like)
        given = [initial_state] if isinstance(initial_state, torch.Tensor) else list(initial_state)
        expected = self.zero_states(batch, like)
        expected_leaves, expected_spec = pytree.tree_flatten(expected)
        given_leaves, given_spec = pytree.tree_flatten(given)
        def expected_text() -> str:       # only when raising: formatting reads (and would fix) symbolic sizes
            return ", ".join(shape_text(t.shape) for t in expected_leaves)
        if len(given_leaves) != len(expected_leaves) or not all(isinstance(t, torch.Tensor) for t in given_leaves):
            raise ValueError(f"{describe(self)} expects initial_state as {len(expected_leaves)} state tensor(s) with shapes "
                             f"[{expected_text()}], got {len(given_leaves)}")
        for got, want in zip(given_leaves, expected_leaves):
            if tuple(got.shape) != tuple(want.shape):
                got_text = ", ".join(shape_text(t.shape) for t in given_leaves)
                raise ValueError(f"{describe(self)} expects initial_state shapes [{expected_text()}], got [{got_text}]")
            if got.device != want.device:
                raise ValueError(f"{describe(self)}: initial_state is on {got.device}, the layer on {want.device}")
            if got.is_complex():
                raise TypeError(f"{describe(self)}: initial_state must hold real numbers, got a tensor of dtype "
                                f"{got.dtype} (complex numbers)")
        return pytree.tree_unflatten([g.to(w.dtype) for g, w in zip(given_leaves, expected_leaves)], expected_spec)

    @property
    def states(self) -> list[Any] | None:
        """The stateful layer's current states (a list, as `initial_state`), or None before the first call."""
        if self._state_spec is None or self._state_leaves is None:     # both are set, or neither
            return None
        return pytree.tree_unflatten(list(self._state_leaves), self._state_spec)

    # The states are plain attributes, neither parameters nor buffers: state_dict leaves them out and
    # DistributedDataParallel does not broadcast rank 0's to the other ranks (each keeps its own rows'
    # states). `_apply` moves them with .to(device), .double(), .cuda() and the like.
    def store_states(self, states: Sequence[Any]) -> None:
        """Keep `states` (detached) as a stateful layer's states, as a call does at its end.

        Kept in the weights' dtype, as Keras keeps its state variables: a call under autocast
        returns lower-precision states, which must not leak into the next call.
        """
        if all(type(leaf) is torch.Tensor for leaf in states):     # the built-in cells' flat states
            leaves, spec = list(states), _flat_spec(len(states))
        else:
            leaves, spec = pytree.tree_flatten(list(states))
        dtype = self._weights_dtype()
        stored = [leaf.detach().to(dtype) if dtype is not None and leaf.is_floating_point() else leaf.detach()
                  for leaf in leaves]
        if torch.compiler.is_compiling():
            self._state_spec, self._state_leaves = spec, stored
        else:       # plain attributes (see above): set directly, as a stateful decoding step does this every call
            self.__dict__.update(_state_spec=spec, _state_leaves=stored)

    def _weights_dtype(self) -> torch.dtype | None:
        """The dtype of the cell's floating-point weights (None before the build or without weights)."""
        kernel = getattr(self.cell, "_parameters", {}).get("kernel")      # the built-in cells' first weight
        if type(kernel) is nn.Parameter and kernel.is_floating_point():
            return kernel.dtype
        return next((p.dtype for p in self.cell.parameters()
                     if p.is_floating_point() and not isinstance(p, nn.UninitializedParameter)), None)

    def _apply(self, fn, *args: Any, **kwargs: Any):
        super()._apply(fn, *args, **kwargs)
        if self._state_leaves is not None:
            self._state_leaves = [fn(leaf) for leaf in self._state_leaves]
        return self

    def snapshot_states(self) -> tuple[pytree.TreeSpec, list[torch.Tensor]] | None:
        """The stored states as they are now (tensors are replaced, never modified, so references suffice)."""
        if self._state_spec is None or self._state_leaves is None:     # both are set, or neither
            return None
        return self._state_spec, list(self._state_leaves)

    def restore_states(self, snapshot: tuple[pytree.TreeSpec, list[torch.Tensor]] | None) -> None:
        """Put back what `snapshot_states` returned (a wrapper undoing a half-finished call); None: no states."""
        self._state_spec, self._state_leaves = snapshot if snapshot is not None else (None, None)

    # Pickling (torch.save, copy.deepcopy): the states' structure travels as a nested list of leaf
    # numbers rather than a pytree TreeSpec, whose pickling PyTorch deprecates.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        spec = state.pop("_state_spec")
        state["_state_structure"] = None if spec is None else pytree.tree_unflatten(
            list(range(spec.num_leaves)), spec)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        structure = state.pop("_state_structure", None)
        super().__setstate__(state)
        self._state_spec = None if structure is None else pytree.tree_flatten(structure)[1]

    def reset_state(self, states: StatesLike = None) -> None:
        """Reset a stateful layer's states to zeros, or to the given list of tensors."""
        if not self.stateful:
            raise ValueError(f"{describe(self)} is not stateful; reset_state applies to stateful=True layers")
        if states is None:
            if self._state_spec is not None:
                self.store_states(pytree.tree_map(torch.zeros_like, self.states))
            return
        given = [states] if isinstance(states, torch.Tensor) else list(states)
        batch = pytree.tree_leaves(given)[0].shape[0]
        like = next(self.parameters(), None)
        like = like if like is not None else pytree.tree_leaves(given)[0]
        self.store_states(self._initial_states_unchecked(given, batch, like))

    def _initial_states_unchecked(self, given, batch: int, like: torch.Tensor):
        spec, self._state_spec = self._state_spec, None     # skip the batch check: this sets the batch
        try:
            return self.initial_states(given, batch, like)
        except Exception:
            self._state_spec = spec
            raise

    reset_states = reset_state

    # ------------------------------------------------------------------ path
    def fused_config(self) -> dispatch.FusedConfig | None:
        """What the dispatcher needs to know; None where no fused kernel exists."""
        return None

    def decide(self) -> dispatch.Plan:
        """The fused-or-loop decision for a call now: `dispatch.plan` on this layer's `fused_config()`, its
        `use_cudnn` and `force_path`. The one hook every recurrent call consults, once: `forward`, the
        recurrent layers' lean route and `Bidirectional` (for each of its layers) ask it first and pass
        the `Plan` on (`run_checked(plan=...)`). Pure: it never raises (`Plan.enforce` does, after the
        inputs' checks). `KerasRecurrentLayer` keeps the answer per configuration."""
        return dispatch.plan(self.fused_config(), use_cudnn=self.use_cudnn)

    def dispatch_reason(self, mask: torch.Tensor | None = None) -> str | None:
        """None when the fused kernel would run (with any mask), else why not (a sentence)."""
        return self.decide().reason

    def _log_fallback(self, plan: dispatch.Plan) -> None:
        """Say once, at INFO, why a layer with a fused kernel left at "auto" runs the loop."""
        if plan.config is not None and not self._fallback_logged and self.use_cudnn == "auto" \
                and dispatch.forced_path() == "auto":
            self._fallback_logged = True
            logger.info("%s runs the cell loop instead of the fused kernel: %s", describe(self), plan.reason)

    # --------------------------------------------------------------- forward
    def forward(self, inputs: TensorTree, initial_state: StatesLike = None, mask: torch.Tensor | None = None,
                training: bool | None = None) -> Any:     # the output, or (output, *states)
        """Run the cell over time: `inputs` `(batch, timesteps, ...)` (a structure for a custom cell);
        `initial_state` a list with one tensor per state; `mask` bool `(batch, timesteps)`, any pattern;
        `training` (None: `self.training`). Returns the output, or `(output, *states)` with `return_state=True`."""
        return self._forward_checked(inputs, initial_state, mask, training, None)

    def _forward_checked(self, inputs: TensorTree, initial_state: StatesLike, mask: torch.Tensor | None,
                         training: bool | None, plan: dispatch.Plan | None) -> Any:
        """`forward` with every check; `plan`: the call's decision where the caller has made it (None:
        decided here, after the checks)."""
        training = self.training if training is None else bool(training)
        batch, timesteps, first = self.check_inputs(inputs)
        if not self.built:
            self.build_cell(pytree.tree_map(lambda t: (t.shape[0], *t.shape[2:]), inputs)
                             if not isinstance(inputs, torch.Tensor) else (batch, *inputs.shape[2:]))
            self.built = True
        self.check_built_inputs(inputs)
        if mask is not None:
            mask = mask_tools.check_mask(mask, batch, timesteps, describe(self))
        states = self.initial_states(initial_state, batch, first)
        return self.run_checked(inputs, states, mask, training, plan=plan)

    def run_checked(self, inputs: TensorTree, states: list[Any], mask: torch.Tensor | None, training: bool,
                    layout: mask_tools.MaskLayout | None = None, plan: dispatch.Plan | None = None) -> Any:
        """A call whose inputs, mask and states are already checked (`check_inputs`, `initial_states`):
        run it on the path `plan` chose (None: `decide()` now), record and package the result as
        `forward` does.

        For wrappers that have checked and decided once for several layers (`Bidirectional`); `layout`
        is the mask's analysis where the caller has made it.
        """
        if plan is None:
            plan = self.decide()
        # Under torch.compile a masked fused call is one opaque operator (masks.analyse defers the layout).
        output, final_states, path = self._run_planned(plan, inputs, states, mask, training, layout)
        return self._finish_call(output, final_states, path)

    def _finish_call(self, output, final_states, path):
        """Record the path and the stateful states, package the result as Keras does."""
        if self.last_path != path:
            self.last_path = path
        if self.stateful:
            self.store_states(final_states)
        result = (output, *final_states) if self.return_state else output
        self.record_activity(result)
        return result

    def _run_planned(self, plan: dispatch.Plan, inputs: TensorTree, states: list[Any], mask: torch.Tensor | None,
                     training: bool | None, layout: mask_tools.MaskLayout | None = None):
        """`(output, final states, path)` on the path `plan` chose, as torch.export allows it
        (`dispatch.for_export`); the mask is analysed only for the fused path, and only where the caller
        has not (`layout`)."""
        plan = dispatch.for_export(plan, masked=mask is not None, timesteps=pytree.tree_leaves(inputs)[0].shape[1])
        if plan.fused_required:
            plan.enforce(describe(self))
        # Only built-in cells have a fused kernel, and they take a tensor; the loop takes any structure
        # (its annotation, which says a tensor, is to be widened with the loop's rework).
        if plan.path == "fused":
            if mask is None:
                layout = mask_tools.NO_MASK
            elif layout is None:
                layout = mask_tools.analyse(mask)
            output, final_states = self._run_fused(plan, inputs, states, layout, training)  # type: ignore[arg-type]
        else:
            self._log_fallback(plan)
            output, final_states = self._run_loop(inputs, states, mask, training)  # type: ignore[arg-type]
        return output, final_states, plan.path

    def _run_fused(self, plan: dispatch.Plan, inputs: torch.Tensor, states, layout, training: bool | None):
        raise NotImplementedError  # only layers with a fused_config() reach this

    def _run_loop(self, inputs: torch.Tensor, states, mask: torch.Tensor | None, training: bool | None):
        low_dtype = autocast_dtype(inputs)
        if low_dtype is not None and self._weights_dtype() in (torch.float32, None):
            return run_outside_autocast(self._run_cells, low_dtype, inputs, states, mask, training)
        return self._run_cells(inputs, states, mask, training)

    def _run_cells(self, inputs: torch.Tensor, states, mask: torch.Tensor | None, training: bool | None):
        cell = self.cell
        if self._cell_follows_protocol:
            masks = cell.dropout_masks(inputs.shape[0], training, inputs)
            if self.handwritten_backward and not self.compile_loop and isinstance(cell, RecurrentCell):
                spec = cell.loop_spec()
                tensors = [inputs, cell.kernel, cell.recurrent_kernel, *pytree.tree_leaves(states)]
                if cell.bias is not None:
                    tensors.append(cell.bias)
                if spec is not None and bptt.usable(spec, tensors):
                    return bptt.run_cell_loop(spec, cell, masks, inputs, states, mask,
                                              go_backwards=self.go_backwards,
                                              return_sequences=self.return_sequences,
                                              zero_output_for_mask=self.zero_output_for_mask)
            run = compiled_cell_loop if self.compile_loop else run_cell_loop
            return run(cell, masks, inputs, states, mask, go_backwards=self.go_backwards,
                       return_sequences=self.return_sequences, zero_output_for_mask=self.zero_output_for_mask,
                       output_is_first_state=isinstance(cell, RecurrentCell))
        kwargs = {"training": training} if self._cell_takes_training else {}
        if mask is not None:
            inputs = zero_masked_steps(inputs, mask)

        def step(x_t, step_states):
            output, new_states = cell(x_t, step_states, **kwargs)
            return output, ([new_states] if isinstance(new_states, torch.Tensor) else new_states)
        return run_sequence(step, inputs, states, mask=mask, go_backwards=self.go_backwards,
                            return_sequences=self.return_sequences, zero_output_for_mask=self.zero_output_for_mask)

    # ----------------------------------------------------------------- masks
    def compute_mask(self, inputs: TensorTree, mask: torch.Tensor | None = None) -> Any:
        """Keras: the mask passes on with return_sequences and is dropped otherwise."""
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * state_count_of(self.cell)
        return output_mask

    def extra_repr(self) -> str:
        flags = [name for name in ("return_sequences", "return_state", "go_backwards", "stateful", "unroll")
                 if getattr(self, name)]
        return f"name={self.name!r}" + "".join(f", {f}=True" for f in flags)


@functools.lru_cache(maxsize=None)
def _flat_spec(count: int) -> pytree.TreeSpec:
    """The pytree spec of a flat list of `count` tensors."""
    return pytree.tree_flatten(list(range(count)))[1]
