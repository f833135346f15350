"""KerasRecurrentLayer: the shared body of SimpleRNN, LSTM and GRU.

An `RNN` over the matching built-in cell that can also run PyTorch's fused
kernel: it describes itself to the dispatcher (`fused_config`) and hands the
Keras-layout weights to the engine, converted inside the autograd graph.
"""
from __future__ import annotations

from typing import ClassVar, Literal, NamedTuple, cast

import torch

from ... import activations
from ..._checks import describe, one_of, positive_int, shape_hint
from ..._dtypes import autocast_enabled
from .engine import dispatch, fused, native
from .engine import masks as mask_tools
from .engine.dispatch import FusedConfig
from .engine.layout import to_torch_weights
from ...core.layer import Layer
from .cell import RecurrentCell, fused_kernel_of
from ...core.config import activity_regularizer
from .rnn import RNN
from typing import Any, TypeVar
from ..._types import DeviceLike, RegularizerLike, ShapeLike
from collections.abc import Sequence
from torch import nn

RecurrentLayerT = TypeVar("RecurrentLayerT", bound="KerasRecurrentLayer")


class FusedCall(NamedTuple):
    """What `prepared_fused_call` hands over: the fused kernel, its activation's name and the weights in
    PyTorch's layout (`[weight_ih, weight_hh, bias_ih, bias_hh]`, differentiable)."""
    kind: str
    activation: str
    weights: list[torch.Tensor]


class KerasRecurrentLayer(RNN):
    """Base of the concrete recurrent layers; subclasses set `cell_class`."""

    cell_class: ClassVar[type[RecurrentCell] | None] = None

    def __init__(self, units: int, cell_kwargs, *, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 use_cudnn: bool | Literal["auto"] = "auto", activity_regularizer: RegularizerLike = None,
                 zero_output_for_mask: bool = False, name: str | None = None, input_shape: ShapeLike | None = None,
                 input_dim=None, device: DeviceLike = None, dtype: torch.dtype | None = None) -> None:
        owner = f"{type(self).__name__} '{name}'" if name else type(self).__name__
        input_shape = shape_hint(input_shape, "input_shape", owner)
        input_dim = None if input_dim is None else positive_int(input_dim, "input_dim", owner)
        cell_class = cast("type[RecurrentCell]", self.cell_class)     # every subclass sets it
        cell = cell_class(units, **cell_kwargs, input_shape=input_shape, input_dim=input_dim,
                               device=device, dtype=dtype, name=f"{type(self).__name__.lower()}_cell")
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         zero_output_for_mask=zero_output_for_mask, activity_regularizer=activity_regularizer,
                         name=name, device=device, dtype=dtype)
        self.use_cudnn = one_of(use_cudnn, ("auto", True, False), "use_cudnn", describe(self))
        # The cell builds from the hint; the layer keeps it too, for summary() and Sequential.
        self.input_shape_hint = self.hint_from(input_shape, input_dim)
        self.__dict__["_torch_weights_cache"] = None     # (key, PyTorch-layout weights); see torch_weights
        self.__dict__["_plan_cache"] = None              # (settings, plan); see decide
        self.__dict__["_zero_states_cache"] = fused.ZeroStates()

    def get_config(self) -> dict:
        """Keras's configuration: the layer's flags and its cell's arguments side by side."""
        cell_config = cast(RecurrentCell, self._modules["cell"]).get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key)
        if self.cell.kind == "simple_rnn" and cell_config["seed"] is None:
            del cell_config["seed"]          # Keras's SimpleRNN leaves seed out of its configuration
        config = {**Layer.get_config(self), **self.recurrent_flags(), **cell_config,
                  "activity_regularizer": activity_regularizer(self)}
        if self.use_cudnn != "auto":
            config["use_cudnn"] = self.use_cudnn
        return config

    def __getstate__(self) -> dict[str, Any]:
        # The cached conversion is derived data holding non-leaf tensors (which deepcopy refuses).
        state = super().__getstate__()
        state["_torch_weights_cache"] = None
        state["_plan_cache"] = None
        state["_zero_states_cache"] = fused.ZeroStates()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.__dict__.pop("_route_cache", None)        # the plan cache's former name, in older pickles
        for name, empty in (("_torch_weights_cache", None), ("_plan_cache", None),
                            ("_zero_states_cache", fused.ZeroStates())):
            self.__dict__.setdefault(name, empty)      # pickles made before a cache existed

    # Keras exposes the cell's arguments on the layer, read-only: assigning one to the layer would
    # only make a new attribute the cell never sees.
    def __setattr__(self, name: str, value: Any) -> None:
        if name in _CELL_ATTRIBUTES and "cell" in self.__dict__.get("_modules", {}):
            raise AttributeError(
                f"{describe(self)}: `{name}` is an argument of its cell, fixed when the layer is made, as in Keras; "
                f"build a new layer with {name}={value!r} (or change layer.cell.{name} if you know the cell "
                "supports it)")
        super().__setattr__(name, value)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name in _CELL_ATTRIBUTES:
                return getattr(self._modules["cell"], name)
            raise

    def fused_config(self) -> FusedConfig:
        """What the dispatcher reads: the kernel the cell's class declares and the settings its rules check."""
        cell: Any = self._modules["cell"]
        own = vars(cell)     # SimpleRNNCell lacks recurrent_activation and reset_after (no raising lookup)
        recurrent_activation = own.get("recurrent_activation")
        return FusedConfig(
            kind=fused_kernel_of(cell),
            cell=type(cell).__name__,
            activation=activations.canonical_name(cell.activation),
            recurrent_activation="sigmoid" if recurrent_activation is None
            else activations.canonical_name(recurrent_activation),
            recurrent_dropout=cell.recurrent_dropout,
            unroll=self.unroll,
            reset_after=own.get("reset_after", True),
        )

    def decide(self) -> dispatch.Plan:
        """`RNN.decide`, kept per configuration: `dispatch.plan` (and `fused_kernel_of`, `fused_config`)
        run again only when `force_path`, `use_cudnn`, the cell's class or a setting the rules read
        changes. Inside torch.compile or tracing, decided afresh and nothing kept."""
        if _tracing():
            return super().decide()
        cell: Any = self._modules["cell"]
        own = vars(cell)     # SimpleRNNCell lacks recurrent_activation and reset_after (no raising lookup)
        # The raw settings fused_config reads; the cell's class stands for its declared kernel
        # (fused_kernel_of reads the class alone).
        key = (dispatch.eager_forced_path(), self.use_cudnn, type(cell), cell.activation,
               own.get("recurrent_activation"), cell.recurrent_dropout, self.unroll, own.get("reset_after", True))
        cached = self._plan_cache
        if cached is not None and cached[0] == key:
            return cached[1]
        plan = dispatch.plan(self.fused_config(), use_cudnn=self.use_cudnn, forced=key[0])
        # The cell's loop spec where the CPU kernel computes its step (it reads the same settings), for the
        # lean loop call.
        spec = native.loop_spec_of(cell)
        spec = spec if native.spec_supported(spec) else None
        self.__dict__["_plan_cache"] = (key, plan, spec)     # replaced whole: threads never see half of it
        return plan

    # ------------------------------------------------------------ the lean call
    # A call whose inputs a few checks show fit (a tensor in the weights' dtype and device, a plain
    # mask or none, states that fit, no input dropout in training, outside tracing and autocast)
    # skips most of RNN.forward's general machinery: once `decide()` says fused, it goes straight to
    # the engine. On small shapes that Python work cost a visible share over torch.nn, as each step
    # right after the kernel runs several times slower than alone (docs/benchmarks.md). Every other
    # call, and every bad input, takes the full forward, which checks and explains.
    # A tensor only, where RNN's forward also takes the structures a custom cell may read.
    def forward(self, inputs: torch.Tensor,  # type: ignore[override]
                initial_state: torch.Tensor | Sequence[torch.Tensor] | None = None, mask: torch.Tensor | None = None,
                training: bool | None = None) -> Any:     # the output, or (output, *states)
        """Run the layer: `inputs` `(batch, timesteps, features)`; `initial_state` a list of tensors (`[h]`,
        `[h, c]` for LSTM); `mask` bool `(batch, timesteps)`, True = use the step, any pattern; `training`
        (None: `self.training`). Returns the output, or `(output, *states)` with `return_state=True`."""
        training = self.training if training is None else bool(training)
        if not self.fits_fused_call(inputs, training) or (mask is not None and not _plain_mask(mask, inputs)):
            return super().forward(inputs, initial_state=initial_state, mask=mask, training=training)
        plan = self.decide()                  # this call's one decision, passed on from here
        if plan.path == "fused":
            states = self._lean_states(inputs, initial_state)
            if states is not None:
                return self._lean_call(plan, inputs, states, mask)
        elif self._cell_follows_protocol and not plan.fused_required and not self.handwritten_backward \
                and not self.compile_loop:
            # The loop of a built-in cell on the package's CPU kernel, where it serves: the same call as the
            # general forward's once its checks pass, without walking through them again.
            spec = self._kernel_spec(plan, inputs) if inputs.device.type == "cpu" else None
            if spec is not None:
                states = self._lean_states(inputs, initial_state, directions=0)
                if states is not None:
                    return self._lean_loop_call(plan, spec, inputs, states, mask, training)
        return self._forward_checked(inputs, initial_state, mask, training, plan)

    def _kernel_spec(self, plan: dispatch.Plan, inputs: torch.Tensor) -> Any:
        """The cell's loop spec where the CPU kernel runs this call (`native.cell_spec`), else None: the spec
        `decide()` kept with `plan`, then the checks of this call's inputs."""
        cell = self._modules["cell"]
        cached = self._plan_cache
        if cached is None or cached[1] is not plan:       # a decide() of a subclass's own
            return native.cell_spec(cell, inputs, None)[0]
        spec = cached[2]
        return spec if spec is not None and native.cell_serves(cell, inputs) is None else None

    def _lean_loop_call(self, plan: dispatch.Plan, spec: Any, inputs: torch.Tensor, states: list[torch.Tensor],
                        mask: torch.Tensor | None, training: bool) -> Any:
        """`RNN._run_loop` on the CPU kernel (`native.run_cell`) for a call `forward` has seen to fit: the
        dropout masks drawn as the general path draws them, the result recorded and packaged by
        `_finish_call`."""
        self._log_fallback(plan)
        cell = cast(RecurrentCell, self._modules["cell"])
        masks = cell.dropout_masks(inputs.shape[0], training, inputs)
        native.note("cpu_kernel")
        output, final_states = native.run_cell(spec, cell, masks, inputs, states, mask, go_backwards=self.go_backwards,
                                               return_sequences=self.return_sequences,
                                               zero_output_for_mask=self.zero_output_for_mask)
        return self._finish_call(output, final_states, "loop")

    def _lean_call(self, plan: dispatch.Plan, inputs: torch.Tensor, states: list[torch.Tensor],
                   mask: torch.Tensor | None) -> Any:
        """The fused call of `forward` once its inputs, states and mask (a bool tensor of the inputs'
        `(batch, timesteps)`, or None) are seen to fit and `plan` is fused; the packaged result."""
        config = plan.config          # a fused plan names its kernel and activation
        assert config is not None and config.kind is not None and config.activation is not None
        kind = config.kind
        if mask is None and fused.one_cpu_step_pays(kind, inputs):
            return self._one_step_call(inputs, states)
        # The public conversion when it is patched on the instance or overridden by a class (what runs is
        # what the user sees), else its cached body directly (two frames less on the hot path).
        converted = "torch_weights" in self.__dict__ or type(self).torch_weights is not _STANDARD_CONVERSION
        need_states = self.return_state or self.stateful
        declined = None         # why the package's CPU kernel does not run the call, once asked
        if kind in native.FUSED_KINDS and not converted and inputs.device.type == "cpu" \
                and not (mask is not None and self.pack_on_cpu):
            # The package's CPU kernel reads Keras's weights as they are: no conversion to PyTorch's layout.
            params = cast(RecurrentCell, self._modules["cell"])._parameters
            kernel = cast(torch.Tensor, params["kernel"])
            recurrent_kernel = cast(torch.Tensor, params["recurrent_kernel"])
            bias = params["bias"]
            own = (kernel, recurrent_kernel) if bias is None else (kernel, recurrent_kernel, bias)
            declined = native.torch_layout_serves(kind, inputs, own, mask)
            if declined is None:
                native.note("cpu_kernel")
                output, final_states = native.run_keras_layout(
                    kind, inputs, states, kernel, recurrent_kernel, bias, activation=config.activation, mask=mask,
                    go_backwards=self.go_backwards, return_sequences=self.return_sequences,
                    zero_output_for_mask=self.zero_output_for_mask)
                return self._finish_lean_call(output, final_states)
        weights = self.torch_weights() if converted else self._cached_torch_weights()
        layout = mask_tools.NO_MASK if mask is None else mask_tools.analyse(mask)
        if layout.kind == "none":
            output, final_states = fused.run_unmasked(
                kind, inputs, states, weights, activation=config.activation, go_backwards=self.go_backwards,
                return_sequences=self.return_sequences, need_states=need_states, kernel_declined=declined)
        else:
            output, final_states = fused.run_masked(
                kind, inputs, states, weights, activation=config.activation, layout=layout,
                go_backwards=self.go_backwards, return_sequences=self.return_sequences,
                zero_output_for_mask=self.zero_output_for_mask, need_cell_state=need_states, pack=self.pack_on_cpu,
                kernel_declined=declined)
        return self._finish_lean_call(output, final_states)

    def _one_step_call(self, inputs: torch.Tensor, states: list[torch.Tensor]) -> Any:
        """A one-timestep call on the CPU as the cell's own step on the Keras-layout weights: the arithmetic
        of the fused kernel without its call, whose fixed cost is larger than one step's work
        (`fused.one_cpu_step_pays`). GRU also skips converting its weights (and their gradients) between
        Keras's and PyTorch's gate orders."""
        cell = cast(RecurrentCell, self._modules["cell"])
        output, final_states = cell.make_step()(cell.project(inputs[:, 0]), [s[0] for s in states])
        return self._finish_lean_call(output.unsqueeze(1) if self.return_sequences else output, final_states)

    def _finish_lean_call(self, output: torch.Tensor, final_states: list[torch.Tensor]) -> Any:
        """`RNN._finish_call` for a fused lean call (the same four rules, here so that the lean call runs
        in this file and the engine's alone): record the path and the stateful states, package as Keras."""
        if self.last_path != "fused":
            self.last_path = "fused"
        if self.stateful:
            self.store_states(final_states)
        result = (output, *final_states) if self.return_state else output
        self.record_activity(result)
        return result

    def _lean_states(self, inputs: torch.Tensor, initial_state: Any, directions: int = 1) -> list[torch.Tensor] | None:
        """The kernel's `(1, batch, units)` initial states (`directions=0`: the loop's `(batch, units)`) when
        a few checks show them fit, else None (the general forward then checks, explains and runs): zeros,
        `initial_state`, or the held states.

        Step-by-step decoding calls with `initial_state` (or a stateful layer) every step: these checks are
        what such a call costs over torch.nn's.
        """
        cell: Any = self._modules["cell"]
        batch = inputs.shape[0]
        if self.stateful and self._state_spec is not None:
            if initial_state is not None:
                return None
            initial_state = self._state_leaves
        elif initial_state is None:
            return self._zero_states_cache.get(cell.state_count, batch, cell.units, inputs, directions)
        if type(initial_state) is torch.Tensor:
            initial_state = [initial_state]
        elif type(initial_state) not in (list, tuple):
            return None
        if len(initial_state) != cell.state_count:
            return None
        shape = (batch, cell.units)
        states = []
        for state in initial_state:
            if type(state) is not torch.Tensor or state.shape != shape or state.dtype != inputs.dtype \
                    or state.device != inputs.device:
                return None
            states.append(state.unsqueeze(0) if directions else state)
        return states

    def fits_fused_call(self, inputs: Any, training: bool) -> bool:
        """Whether a call on `inputs` may skip the general checks and, where `decide()` says fused, run the
        kernel at once: a 3-D tensor with timesteps, in the built weights' feature size, dtype and device,
        outside tracing and autocast, and no input dropout to draw (`training`). The caller checks the mask
        and initial states it brings; False sends the call to the general forward, which checks and
        explains. (Bidirectional's lean two-way call asks it of both its layers.)"""
        if type(inputs) is not torch.Tensor or inputs.dim() != 3 or not inputs.shape[1] or not self.built \
                or _tracing():
            return False
        cell: Any = self._modules["cell"]
        if training and cell.dropout:
            return False
        kernel = cell._parameters["kernel"]       # Keras's (input features, gates * units)
        device = inputs.device
        return inputs.shape[2] == kernel.shape[0] and inputs.dtype == kernel.dtype and device == kernel.device \
            and not (fused.any_autocast() and autocast_enabled(device.type))

    def prepared_fused_call(self, inputs: torch.Tensor, training: bool) -> FusedCall | None:
        """A `FusedCall` when a call on `inputs` fits (`fits_fused_call`) and `decide()` says fused, else None
        (the general forward then checks and runs). The caller checks the mask and initial states it
        brings. (The layers' own calls ask `fits_fused_call` and `decide` themselves, each once.)"""
        if not self.fits_fused_call(inputs, training):
            return None
        plan = self.decide()
        config = plan.config
        if plan.path != "fused" or config is None or config.kind is None or config.activation is None:
            return None
        weights = self.torch_weights() if ("torch_weights" in self.__dict__
                                            or type(self).torch_weights is not _STANDARD_CONVERSION) \
            else self._cached_torch_weights()
        return FusedCall(config.kind, config.activation, weights)

    def torch_weights(self) -> list[torch.Tensor]:
        """`[weight_ih, weight_hh, bias_ih, bias_hh]` in PyTorch's layout, differentiable.

        A conversion that is views of the weights (LSTM's, SimpleRNN's) is cached
        until a weight changes: the key holds each weight's identity, storage and
        version counter (bumped by in-place optimizer steps, `set_weights` and
        `load_state_dict`) and the grad mode. A conversion that copies (GRU's gate
        reorder) is made afresh each call: writes through `weight.data` do not bump
        the version counter, so a cached copy could hold old numbers. A cached
        tensor's autograd nodes (transposes) save no tensors, so several backward
        passes can go through them.
        """
        if _tracing():
            cell: Any = self._modules["cell"]
            params = cell._parameters
            return self._convert_weights(params["kernel"], params["recurrent_kernel"], params["bias"])
        return self._cached_torch_weights()

    def _cached_torch_weights(self):
        """`torch_weights()` outside tracing (the caller has checked)."""
        cell: Any = self._modules["cell"]
        params = cell._parameters
        kernel, recurrent_kernel, bias = params["kernel"], params["recurrent_kernel"], params["bias"]
        if _is_transformed(kernel):
            # Under torch.func (grad, functional_call inside it) the weights are wrapped tensors without
            # storage: nothing to key a cache on, and each transform call has its own weights anyway.
            return self._convert_weights(kernel, recurrent_kernel, bias)
        key = (torch.is_grad_enabled(), id(kernel), kernel.data_ptr(), kernel._version,
               id(recurrent_kernel), recurrent_kernel.data_ptr(), recurrent_kernel._version,
               None if bias is None else (id(bias), bias.data_ptr(), bias._version))
        cached = self._torch_weights_cache
        if cached is not None and cached[0] == key:
            return cached[1]
        zeros = self._bias_zeros(kernel, bias)
        converted = to_torch_weights(self.cell.kind, kernel, recurrent_kernel, bias, recurrent_bias_zeros=zeros)
        # Only a conversion that is views of the weights is kept (LSTM's and SimpleRNN's, as the weights are
        # stored; the zeros standing for a missing bias are constant): a copy (GRU's reordered gates) would
        # miss in-place writes through `weight.data` (`p.data.copy_(...)`, `p.data.clamp_(...)`), which
        # leave `_version` as it was.
        sources = {t.untyped_storage().data_ptr() for t in (kernel, recurrent_kernel, bias) if t is not None}
        if all(t is zeros or t.untyped_storage().data_ptr() in sources for t in converted):
            self.__dict__["_torch_weights_cache"] = (key, converted)   # plain attribute, not a module member
        return converted

    @staticmethod
    def _bias_zeros(kernel, bias):
        """The kernels add a recurrent bias Keras's form lacks (and use_bias=False lacks both): zeros, which add
        nothing to the numbers; None where the Keras bias holds both (GRU reset_after)."""
        if bias is None or bias.dim() == 1:
            return torch.zeros(kernel.shape[1], device=kernel.device, dtype=kernel.dtype)
        return None

    def _convert_weights(self, kernel, recurrent_kernel, bias):
        return to_torch_weights(self.cell.kind, kernel, recurrent_kernel, bias,
                                recurrent_bias_zeros=self._bias_zeros(kernel, bias))

    def extra_repr(self) -> str:
        """`LSTM(64, name='lstm', return_sequences=True)`: the units first, as the layer is written."""
        return f"{cast(RecurrentCell, self._modules['cell']).units}, {super().extra_repr()}"

    def to_torch(self) -> nn.Module:
        """The equivalent `torch.nn.RNN` / `LSTM` / `GRU` (batch_first=True) with these weights."""
        from .torch_modules import to_torch
        return to_torch(self)

    @classmethod
    def from_torch(cls: type[RecurrentLayerT], module: nn.Module, *, assume_batch_first: bool = False,
                   **kwargs: Any) -> RecurrentLayerT:
        """A layer of this class holding the weights of a single-layer `torch.nn` recurrent module.

        A module with `batch_first=False` is refused unless `assume_batch_first=True` says its inputs will
        come batch-first (see `layers/rnn/torch_modules.from_torch`).
        """
        from .torch_modules import from_torch
        return from_torch(cls, module, assume_batch_first=assume_batch_first, **kwargs)

    def _run_fused(self, plan: dispatch.Plan, inputs, states, layout, training):
        cell = self.cell
        if training and cell.dropout:
            # Keras's input dropout: one mask per sample, the same at every step.
            masks = cell.dropout_masks(inputs.shape[0], training, inputs)
            inputs = inputs * masks.inputs.unsqueeze(1)
        config = plan.config          # a fused plan names its kernel and activation
        assert config is not None and config.kind is not None and config.activation is not None
        return fused.run_unidirectional(
            config.kind, inputs, states, self.torch_weights(),
            activation=config.activation, layout=layout,
            go_backwards=self.go_backwards, return_sequences=self.return_sequences,
            zero_output_for_mask=self.zero_output_for_mask,
            need_cell_state=self.return_state or self.stateful, pack=self.pack_on_cpu)


_CELL_ATTRIBUTES = frozenset({
    "units", "activation", "recurrent_activation", "use_bias", "unit_forget_bias", "reset_after",
    "kernel_initializer", "recurrent_initializer", "bias_initializer", "kernel_regularizer",
    "recurrent_regularizer", "bias_regularizer", "kernel_constraint", "recurrent_constraint",
    "bias_constraint", "dropout", "recurrent_dropout", "seed", "implementation",
})


def _plain_mask(mask, inputs) -> bool:
    """A mask the lean call may take without the general checks: a bool tensor of the inputs' `(batch,
    timesteps)` on their device (anything else goes to the general forward, which explains), outside
    torch.export (where a masked call takes the loop: dispatch.for_export)."""
    return type(mask) is torch.Tensor and type(inputs) is torch.Tensor and mask.dtype == torch.bool \
        and mask.dim() == 2 and inputs.dim() == 3 and mask.shape == inputs.shape[:2] \
        and mask.device == inputs.device and not torch.compiler.is_exporting()


# Whether a tensor is wrapped by a torch.func transform (grad, vmap, jvp); torch's own C function, so that
# the weights' cache lookup on every call costs no Python frame.
_is_transformed = torch._C._functorch.is_functorch_wrapped_tensor


def _tracing() -> bool:
    """Inside torch.compile, TorchScript tracing or ONNX export: convert afresh, cache nothing."""
    return torch.compiler.is_compiling() or torch.jit.is_tracing()


# The base class's conversion: a layer whose `torch_weights` is another (patched, overridden) calls that.
_STANDARD_CONVERSION = KerasRecurrentLayer.torch_weights
