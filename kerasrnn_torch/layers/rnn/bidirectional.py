"""Bidirectional: a recurrent layer run forwards and backwards, the two outputs merged, as Keras's.

When both directions may run fused, the engine runs them as one two-way
kernel call; otherwise each direction runs through its own layer.
"""
from __future__ import annotations

import copy
from typing import Literal, NamedTuple

import torch
from torch import nn
from torch.utils import _pytree as pytree

from ..._checks import describe, one_of, shape_text
from .engine import dispatch, fused, masks as mask_tools
from .engine.bidirectional_glue import run_two_way, stack_directions
from ...seeding import SeededGenerators
from ...core.layer import Layer
from ...core.config import deserialize_layer, serialize_layer
from .recurrent import KerasRecurrentLayer
from .rnn import RNN
from .stacked_rnn_cells import output_size_of, state_count_of
from typing import Any
from ..._types import DeviceLike, InputShape, StatesLike, TensorTree
from ...core.layer import LayerT
from collections.abc import Sequence
from ...core.registry import register_keras_class
from ...core.keras_arguments import read_bidirectional

MERGE_MODES = ("concat", "sum", "mul", "ave", None)
_SHARED_ATTRIBUTES = ("stateful", "return_sequences", "return_state")
_DIRECTIONS = ("forward", "backward")


class DirectionPlans(NamedTuple):
    """A call's decision for each direction: each layer's `RNN.decide()`, asked once per call."""
    forward: dispatch.Plan
    backward: dispatch.Plan

    @property
    def both_fused(self) -> bool:
        return self.forward.path == "fused" and self.backward.path == "fused"


@register_keras_class("Bidirectional", reader=read_bidirectional,
                      sublayers=("forward_layer", "backward_layer"))
class Bidirectional(Layer):
    """Runs a recurrent layer over the sequence in both directions, as `keras.layers.Bidirectional`.

    Args:
        layer: a recurrent layer (`SimpleRNN`, `LSTM`, `GRU`, `RNN(cell)` or a
            subclass of `RNN`). It becomes `forward_layer` itself, with its
            weights (Keras 3 re-creates it from its configuration instead).
        merge_mode: how the two outputs combine: "concat" (default), "sum",
            "mul", "ave", or None for the pair `(forward, backward)`.
        weights: optional initial weights, forward then backward (Keras order).
        backward_layer: optional layer for the backward direction; by default a
            fresh copy of `layer` (new weights) with `go_backwards=True`. It
            must read in the other direction and share `stateful`,
            `return_sequences` and `return_state` with `layer`.

    As Keras, the inner layers take `layer`'s `use_cudnn`, and output zeros at
    masked steps when returning sequences. Calls take `initial_state` as the
    forward states then the backward ones; with `return_state=True` the result
    is `(output, *forward_states, *backward_states)`.

    >>> bi = Bidirectional(LSTM(16, return_sequences=True), input_shape=(10, 8))
    >>> bi(torch.randn(4, 10, 8)).shape
    torch.Size([4, 10, 32])
    """

    _zero_states_cache: fused.ZeroStates

    call_records = (*Layer.call_records, "last_path")
    sequence_input = True

    # The documented positional order: backward_layer third (Keras 3 puts `weights` there).
    def __init__(self, layer: RNN, merge_mode: str | None = "concat", backward_layer: RNN | None = None,
                 weights: Sequence[Any] | None = None, **layer_kwargs: Any) -> None:
        device, dtype = layer_kwargs.get("device"), layer_kwargs.get("dtype")
        super().__init__(**layer_kwargs)
        owner = describe(self)
        _check_recurrent(layer, "layer", owner)
        if backward_layer is not None:
            _check_recurrent(backward_layer, "backward_layer", owner)
        self.merge_mode = one_of(merge_mode, MERGE_MODES, "merge_mode", owner)
        if weights is not None and (isinstance(weights, nn.Module) or not isinstance(weights, (list, tuple))):
            raise TypeError(f"{owner}: `weights` must be a list of arrays (forward weights, then backward), got "
                            f"{type(weights).__name__}; pass a backward layer as backward_layer=...")

        if backward_layer is None:
            backward_layer = _fresh_copy(layer)
            backward_layer.go_backwards = True
            backward_layer.name = f"backward_{_without_prefix(layer.name, 'backward_')}"
        self._verify_directions(layer, backward_layer)
        self._verify_merge(layer, backward_layer)
        layer.name = f"forward_{_without_prefix(layer.name, 'forward_')}"
        self.forward_layer = layer
        self.backward_layer = backward_layer
        backward_layer.use_cudnn = layer.use_cudnn
        for inner in (self.forward_layer, self.backward_layer):
            # Keras: masked steps output zeros in a returned sequence, whatever the layer said.
            inner.zero_output_for_mask = inner.return_sequences
        if device is not None or dtype is not None:
            self._place(device, dtype)

        self.last_path: str | None = None
        self.__dict__["_zero_states_cache"] = fused.ZeroStates()      # see _lean_two_way_call
        self._pending_weights = list(weights) if weights else None
        self.built = self.forward_layer.built and self.backward_layer.built
        if self.built:
            self._apply_pending_weights()
        self.build_from_hint()

    def _verify_directions(self, forward, backward):
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(
                f"{describe(self)}: the forward and backward layers must read in opposite directions, got "
                f"forward_layer.go_backwards={forward.go_backwards} and "
                f"backward_layer.go_backwards={backward.go_backwards}")
        for attribute in _SHARED_ATTRIBUTES:
            forward_value = getattr(forward, attribute)
            backward_value = getattr(backward, attribute)
            if forward_value != backward_value:
                raise ValueError(
                    f"{describe(self)}: the forward and backward layers must have the same `{attribute}`, got "
                    f"{attribute}={forward_value} for the forward layer and {attribute}={backward_value} "
                    "for the backward layer")

    def _verify_merge(self, forward, backward):
        """sum, mul and ave combine the outputs elementwise: both directions must give the same size."""
        if self.merge_mode not in ("sum", "mul", "ave"):
            return
        sizes = [_output_size(forward), _output_size(backward)]
        if None not in sizes and sizes[0] != sizes[1]:
            raise ValueError(
                f"{describe(self)}: merge_mode={self.merge_mode!r} combines the two outputs elementwise, so both "
                f"directions must output the same size; got {sizes[0]} forward and {sizes[1]} backward "
                "(use merge_mode='concat' or equal units)")

    def _place(self, device: DeviceLike, dtype: torch.dtype | None):
        for inner in (self.forward_layer, self.backward_layer):
            for module in inner.modules():
                if isinstance(module, Layer):
                    if device is not None:
                        module.factory_kwargs["device"] = torch.device(device)
                    if dtype is not None:
                        module.factory_kwargs["dtype"] = dtype
            inner.to(device=device, dtype=dtype)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.__dict__.setdefault("_zero_states_cache", fused.ZeroStates())   # pickles made before it existed

    # -------------------------------------------------------- configuration
    def get_config(self) -> dict:
        return {**super().get_config(), "merge_mode": self.merge_mode, "layer": serialize_layer(self.forward_layer),
                "backward_layer": serialize_layer(self.backward_layer)}

    @classmethod
    def from_config(cls: type[LayerT], config: dict[str, Any]) -> LayerT:
        config = dict(config)
        owner = f"{cls.__name__} {config.get('name')!r}"
        config["layer"] = deserialize_layer(config["layer"], owner)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize_layer(config["backward_layer"], owner)
        return super().from_config(config)

    @property
    def stateful(self) -> bool:
        return self.forward_layer.stateful

    @property
    def return_sequences(self) -> bool:
        return self.forward_layer.return_sequences

    @property
    def return_state(self) -> bool:
        return self.forward_layer.return_state

    @property
    def pack_on_cpu(self) -> bool:
        """The inner layers' `pack_on_cpu` (see `LSTM`); setting it sets both."""
        return self.forward_layer.pack_on_cpu

    @pack_on_cpu.setter
    def pack_on_cpu(self, value: Any) -> None:     # any value, taken as its truth (as the inner layers')
        self.forward_layer.pack_on_cpu = bool(value)
        self.backward_layer.pack_on_cpu = bool(value)

    @property
    def handwritten_backward(self) -> bool:
        """The inner layers' `handwritten_backward` (see `RNN`); setting it sets both."""
        return self.forward_layer.handwritten_backward

    @handwritten_backward.setter
    def handwritten_backward(self, value: Any) -> None:
        self.forward_layer.handwritten_backward = bool(value)
        self.backward_layer.handwritten_backward = bool(value)

    @property
    def use_cudnn(self) -> bool | Literal["auto"]:
        """The inner layers' `use_cudnn` (Keras keeps both equal to the wrapped layer's)."""
        return self.forward_layer.use_cudnn

    @use_cudnn.setter
    def use_cudnn(self, value: bool | Literal["auto"]) -> None:
        value = one_of(value, ("auto", True, False), "use_cudnn", describe(self))
        self.forward_layer.use_cudnn = value
        self.backward_layer.use_cudnn = value

    # ----------------------------------------------------------------- build
    def build(self, input_shape: InputShape) -> None:
        for inner in (self.forward_layer, self.backward_layer):
            if not inner.built:
                inner.build(tuple(input_shape))
        self.built = True
        self._apply_pending_weights()

    def _build_from(self, inputs: TensorTree):
        if self.built:
            return
        if isinstance(inputs, torch.Tensor):
            self.build(tuple(inputs.shape))
            return
        step_shapes = pytree.tree_map(lambda t: (t.shape[0], *t.shape[2:]), inputs)
        for inner in (self.forward_layer, self.backward_layer):
            if not inner.built:
                inner.build_cell(step_shapes)
                inner.built = True
        self.built = True
        self._apply_pending_weights()

    def _apply_pending_weights(self):
        if self._pending_weights is not None:
            weights, self._pending_weights = self._pending_weights, None
            self.set_weights(weights)

    # ---------------------------------------------------------------- states
    def _split_initial_state(self, initial_state: StatesLike, batch: int, like: torch.Tensor):
        if initial_state is None:
            return None, None
        given = [initial_state] if isinstance(initial_state, torch.Tensor) else list(initial_state)
        forward_zeros = self.forward_layer.zero_states(batch, like)
        backward_zeros = self.backward_layer.zero_states(batch, like)
        expected = len(forward_zeros) + len(backward_zeros)
        if len(given) != expected:
            def shapes(states):
                return ", ".join(shape_text(t.shape) for t in pytree.tree_leaves(states))
            raise ValueError(
                f"{describe(self)} expects initial_state as {expected} states: {len(forward_zeros)} for the "
                f"forward layer [{shapes(forward_zeros)}], then {len(backward_zeros)} for the backward layer "
                f"[{shapes(backward_zeros)}]; got {len(given)}")
        return given[:len(forward_zeros)], given[len(forward_zeros):]

    @property
    def states(self) -> list[Any] | None:
        """The stateful inner layers' states, forward then backward, or None before the first call."""
        forward, backward = self.forward_layer.states, self.backward_layer.states
        if forward is None or backward is None:
            return None
        return [*forward, *backward]

    def reset_state(self, states: StatesLike = None) -> None:
        """Reset both stateful layers to zeros, or to the given states (forward ones first)."""
        if not self.stateful:
            raise ValueError(f"{describe(self)} is not stateful; reset_state applies to layers built with "
                             "stateful=True")
        if states is None:
            self.forward_layer.reset_state()
            self.backward_layer.reset_state()
            return
        given = [states] if isinstance(states, torch.Tensor) else list(states)
        first = pytree.tree_leaves(given)[0]
        forward_states, backward_states = self._split_initial_state(given, first.shape[0], first)
        saved = self.forward_layer.snapshot_states()
        self.forward_layer.reset_state(forward_states)
        try:
            self.backward_layer.reset_state(backward_states)
        except BaseException:
            self.forward_layer.restore_states(saved)     # all or nothing
            raise

    reset_states = reset_state

    # ------------------------------------------------------------------ path
    def _decide(self) -> DirectionPlans:
        """This call's decision: each direction's layer decides (`RNN.decide`), once."""
        return DirectionPlans(self.forward_layer.decide(), self.backward_layer.decide())

    def dispatch_reason(self, mask: torch.Tensor | None = None) -> str | None:
        """None when both directions would run fused (any mask), else why not (a sentence per direction)."""
        reasons = [f"{direction} layer {describe(inner)}: {plan.reason}"
                   for direction, inner, plan in zip(_DIRECTIONS, (self.forward_layer, self.backward_layer),
                                                     self._decide())
                   if plan.reason is not None]
        return "; ".join(reasons) or None

    def _two_way_applies(self, plans: DirectionPlans, training: bool | None, layout, inputs: torch.Tensor) -> bool:
        """Whether one two-way kernel call computes both directions (`plans` both fused)."""
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards or not backward.go_backwards:
            return False
        forward_config, backward_config = plans.forward.config, plans.backward.config
        assert forward_config is not None and backward_config is not None and forward_config.kind is not None
        pack = forward.pack_on_cpu or backward.pack_on_cpu
        if layout.kind != "none" and not fused.RightPaddedRun.choose(
                forward_config.kind, inputs, need_cell_state=self.return_state or self.stateful, pack=pack).packed:
            # Where each direction runs its right-padded batch unpacked (whole or in segments, see
            # engine.fused.RightPaddedRun), two such calls beat one packed two-way call.
            return False
        forward_cell, backward_cell = forward.cell, backward.cell
        if forward_config.kind != backward_config.kind or forward_cell.units != backward_cell.units:
            return False
        if forward_config.activation != backward_config.activation:
            return False
        # Input dropout draws a separate mask per direction; one kernel call reads one input.
        return not (training and (forward_cell.dropout or backward_cell.dropout))

    # --------------------------------------------------------------- forward
    def forward(self, inputs: TensorTree, initial_state: StatesLike = None, mask: torch.Tensor | None = None,
                training: bool | None = None) -> Any:    # the merged output, or (output, *states)
        """Run both directions and merge: `inputs` `(batch, timesteps, features)`; `initial_state` the forward
        layer's states then the backward one's; `mask` bool `(batch, timesteps)`, any pattern; `training`
        (None: `self.training`). Returns the merged output, or `(output, *forward_states, *backward_states)`
        with `return_state=True`."""
        training = self.training if training is None else bool(training)
        plans = self._decide()          # this call's one decision per direction, passed on from here
        if initial_state is None and mask is None and not self.stateful and plans.both_fused:
            result = self._lean_two_way_call(plans, inputs, training)
            if result is not None:
                return result
        forward, backward = self.forward_layer, self.backward_layer
        batch, timesteps, first = self._with_context(forward.check_inputs, inputs)
        self._build_from(inputs)
        for inner in (forward, backward):
            self._with_context(inner.check_built_inputs, inputs)
        mask = mask_tools.check_mask(mask, batch, timesteps, describe(self))
        forward_initial, backward_initial = self._split_initial_state(initial_state, batch, first)
        return self._run_planned(plans, inputs, forward_initial, backward_initial, mask, training, batch)

    def _run_planned(self, plans: DirectionPlans, inputs: TensorTree, forward_initial, backward_initial,
                     mask: torch.Tensor | None, training: bool, batch: int):
        """Run a checked call on the paths `plans` chose (as torch.export allows them): one two-way kernel
        call where it applies, else each direction through its layer with its plan."""
        forward, backward = self.forward_layer, self.backward_layer
        timesteps = pytree.tree_leaves(inputs)[0].shape[1]
        plans = DirectionPlans(*(dispatch.for_export(plan, masked=mask is not None, timesteps=timesteps)
                                 for plan in plans))
        for direction, inner, plan in zip(_DIRECTIONS, (forward, backward), plans):
            if plan.fused_required:
                plan.enforce(f"{describe(self)} ({direction} layer {describe(inner)})")
        # The mask is analysed only when both directions run fused, once for both.
        layout = mask_tools.analyse(mask) if mask is not None and plans.both_fused else mask_tools.NO_MASK

        # Fused plans come from built-in layers only (KerasRecurrentLayer), which take a tensor.
        if plans.both_fused and isinstance(forward, KerasRecurrentLayer) \
                and isinstance(backward, KerasRecurrentLayer) and isinstance(inputs, torch.Tensor) \
                and self._two_way_applies(plans, training, layout, inputs):
            states = stack_directions(forward.initial_states(forward_initial, batch, inputs),
                                      backward.initial_states(backward_initial, batch, inputs))
            result = self._run_two_way(plans.forward, inputs, states, layout,
                                       forward.torch_weights() + backward.torch_weights())
        else:
            # Checked once above: each direction starts from its states and runs on its plan (the mask's
            # analysis shared where it was made).
            known = layout if mask is not None and layout is not mask_tools.NO_MASK else None
            first = pytree.tree_leaves(inputs)[0]
            forward_states = forward.initial_states(forward_initial, batch, first)
            backward_states = backward.initial_states(backward_initial, batch, first)
            saved = forward.snapshot_states() if forward.stateful else None
            results = [forward.run_checked(inputs, forward_states, mask, training, known, plans.forward)]
            try:
                results.append(backward.run_checked(inputs, backward_states, mask, training, known, plans.backward))
            except BaseException:
                if forward.stateful:
                    forward.restore_states(saved)   # a failed call leaves both directions' states as they were
                raise
            result = self._merge_results(results)
            self.last_path = "fused" if forward.last_path == backward.last_path == "fused" else "loop"
        return result

    def _with_context(self, check, inputs: TensorTree):
        """Run an inner layer's input check, naming this layer in its message."""
        try:
            return check(inputs)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{describe(self)}: {error}") from None

    def _lean_two_way_call(self, plans: DirectionPlans, inputs: TensorTree, training: bool):
        """The common call (no mask, no initial_state, not stateful; `plans` both fused) as one two-way
        kernel call with few checks (see KerasRecurrentLayer.forward), or None when it is not that case."""
        forward, backward = self.forward_layer, self.backward_layer
        if not (self.built and isinstance(forward, KerasRecurrentLayer) and isinstance(backward, KerasRecurrentLayer)) \
                or type(inputs) is not torch.Tensor:
            return None
        if not (forward.fits_fused_call(inputs, training) and backward.fits_fused_call(inputs, training)
                and self._two_way_applies(plans, training, mask_tools.NO_MASK, inputs)):
            return None
        cell = forward.cell
        states = self._zero_states_cache.get(cell.state_count, inputs.shape[0], cell.units, inputs, directions=2)
        return self._run_two_way(plans.forward, inputs, states, mask_tools.NO_MASK,
                                 forward.torch_weights() + backward.torch_weights())

    def _run_two_way(self, plan: dispatch.Plan, inputs, states, layout, flat_weights):
        """Both directions in one kernel call (the one `plan`, the forward direction's, names; the
        backward one's is the same) from `states` in the two-way layout; the packaged result."""
        forward, backward = self.forward_layer, self.backward_layer
        config = plan.config          # a fused plan names its kernel and activation
        assert config is not None and config.kind is not None and config.activation is not None
        two_way = run_two_way(config.kind, inputs, states, flat_weights, activation=config.activation, layout=layout,
                              return_sequences=self.return_sequences)
        if self.last_path != "fused":
            self.last_path = "fused"
        for direction, inner in enumerate((forward, backward)):
            if inner.last_path != "fused":
                inner.last_path = "fused"
            if inner.stateful:
                inner.store_states(two_way.final(direction))
            if inner.activity_regularizer is not None:
                # What the inner layer returns: the backward sequence in its reading order.
                output = two_way.output(direction)
                own_output = output.flip(1) if direction == 1 and self.return_sequences else output
                inner.record_activity((own_output, *two_way.final(direction)) if self.return_state else own_output)
        if self.merge_mode == "concat" and two_way.concatenated is not None:
            output = two_way.concatenated
        else:
            output = self._merge(two_way.output(0), two_way.output(1))
        if not self.return_state:
            return output
        return self._package(output, two_way.final(0), two_way.final(1))

    def _merge_results(self, results):
        """Merge `[forward_result, backward_result]`, emptying the list: holding no reference to the
        inner results lets the backward sequence in reading order go as soon as it is flipped."""
        backward_result, forward_result = results.pop(), results.pop()
        if self.return_state:
            forward_output, forward_states = forward_result[0], list(forward_result[1:])
            backward_output, backward_states = backward_result[0], list(backward_result[1:])
        else:
            forward_output, forward_states = forward_result, []
            backward_output, backward_states = backward_result, []
        del forward_result, backward_result
        if self.return_sequences:
            # The backward layer returns its sequence in reading order; put it back in time order.
            backward_output = pytree.tree_map(lambda t: t.flip(1), backward_output)
        return self._package(self._merge(forward_output, backward_output), forward_states, backward_states)

    def _merge(self, forward_output, backward_output):
        mode = self.merge_mode
        if mode == "concat":
            return torch.cat([forward_output, backward_output], dim=-1)
        if mode == "sum":
            return forward_output + backward_output
        if mode == "ave":
            return (forward_output + backward_output) / 2
        if mode == "mul":
            return forward_output * backward_output
        return (forward_output, backward_output)

    def _package(self, output, forward_states, backward_states):
        outputs = output if isinstance(output, tuple) else (output,)
        if self.return_state:
            return (*outputs, *forward_states, *backward_states)
        return output

    # ----------------------------------------------------------------- masks
    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """Keras: the mask passes on with return_sequences (once per output when merge_mode is None)."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        output_masks = [output_mask] if self.merge_mode is not None else [output_mask, output_mask]
        if self.return_state:
            state_count = state_count_of(self.forward_layer.cell) + state_count_of(self.backward_layer.cell)
            return output_masks + [None] * state_count
        return output_masks[0] if self.merge_mode is not None else output_masks

    def to_torch(self) -> nn.Module:
        """The equivalent bidirectional `torch.nn.RNN` / `LSTM` / `GRU` (batch_first=True; merge_mode="concat" only)."""
        from .torch_modules import to_torch
        return to_torch(self)

    @classmethod
    def from_torch(cls, module: nn.Module, merge_mode: str | None = "concat", *, assume_batch_first: bool = False,
                   **kwargs: Any) -> Bidirectional:
        """A Bidirectional holding a bidirectional single-layer `torch.nn.RNN` / `LSTM` / `GRU`'s weights.

        `kwargs` are the inner layer's other arguments (`return_sequences=True`, ...).
        """
        from .torch_modules import bidirectional_from_torch
        return bidirectional_from_torch(module, merge_mode=merge_mode, assume_batch_first=assume_batch_first,
                                        **kwargs)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, merge_mode={self.merge_mode!r}"


def _check_recurrent(layer, argument: str, owner: str):
    if not isinstance(layer, RNN):
        received = describe(layer) if isinstance(layer, Layer) else type(layer).__name__
        hint = " (wrap a cell in RNN(cell) first)" if hasattr(layer, "state_size") else ""
        raise ValueError(f"{owner}: `{argument}` must be a recurrent layer (SimpleRNN, LSTM, GRU, RNN(cell) or "
                         f"another RNN subclass), got {received}{hint}")


def _without_prefix(name: str, prefix: str) -> str:
    return name[len(prefix):] if name.startswith(prefix) else name


def _output_size(layer):
    """The size of a recurrent layer's output features, or None where the cell does not say."""
    size = output_size_of(layer.cell)
    return size if isinstance(size, int) else None


def _fresh_copy(layer):
    """A copy of `layer`'s configuration: new weights where they exist, no states, no history."""
    duplicate = copy.deepcopy(layer)
    for module in duplicate.modules():
        if isinstance(module, Layer):
            module.reset_weights()
            module.clear_call_records()
        elif isinstance(module, SeededGenerators):
            # Keras rebuilds the backward layer from the config, seed included: a fresh stream from that seed.
            module.restart()
        elif callable(getattr(module, "reset_parameters", None)):
            module.reset_parameters()
    duplicate.restore_states(None)     # no states
    return duplicate
