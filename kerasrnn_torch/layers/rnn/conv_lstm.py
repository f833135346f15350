"""ConvLSTMCell and the ConvLSTM1D, ConvLSTM2D and ConvLSTM3D layers, as Keras 3's.

An LSTM whose input and recurrent products are convolutions. The cell
follows the step protocol (cell.py), so the loop runs the input convolution
once over every frame of the sequence (time folded into the batch: one
convolution call) and only the recurrent convolution at each step. Tensors
stay in the user's layout: channels-last ones go through PyTorch's
convolutions as channels-last-memory views (conv_geometry.py), so a step
copies no layout.

Keras draws four input dropout masks and four recurrent ones (one per
gate, each the shape of a whole step's input or state); the four masked
copies go through one grouped convolution (groups=4), which computes what
Keras's four convolutions do.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, cast

import torch

from ... import activations
from ..._checks import check_sizes, describe, one_of, positive_int, refuse_legacy_onnx, shape_text
from ..._types import ActivationLike, ConstraintLike, DeviceLike, InitializerLike, InputShape, RegularizerLike, ShapeLike
from ..._types import Step, TensorTree
from ...core import data_format as data_formats
from ...core.layer import Layer
from .cell import NO_DROPOUT, DropoutMasks, RecurrentCell
from ...core.config import activity_regularizer, serialize_activation, weight_options
from ..._conv_geometry import conv_in_layout, int_tuple, output_length, pad_spatial, same_padding, torch_kernel
from .lstm import LSTMCell
from .rnn import RNN, CheckedInputs
from ...core.registry import register_keras_class

_AXIS_NAMES = {1: ("steps",), 2: ("rows", "cols"), 3: ("depth", "rows", "cols")}


def step_text(rank: int, data_format: str, time: bool = False) -> str:
    """`(batch, rows, cols, channels)`: how messages name an input's axes."""
    spatial = ", ".join(_AXIS_NAMES[rank])
    axes = f"{spatial}, channels" if data_format == "channels_last" else f"channels, {spatial}"
    return f"(batch, {'time, ' if time else ''}{axes})"


@register_keras_class("ConvLSTMCell", writable=False)
class ConvLSTMCell(RecurrentCell):
    """One step of a convolutional LSTM, as Keras 3's `ConvLSTMCell` (`rank` 1, 2 or 3).

    Args: as Keras: `rank, filters, kernel_size, strides=1, padding="valid",
    data_format=None (channels_last), dilation_rate=1`, then LSTMCell's
    (`activation="tanh"`, `recurrent_activation="sigmoid"`, `use_bias`,
    initializers, `unit_forget_bias=True`, regularizers, constraints,
    `dropout`, `recurrent_dropout`, `seed`). One step's input is
    `(batch, *spatial, channels)` (channels_last) or
    `(batch, channels, *spatial)`; the states h and c have the output's
    spatial size and `filters` channels. The input convolution uses the
    layer's strides, padding and dilation; the recurrent one is always
    "same" with stride 1, as in Keras. Weights: `kernel (*kernel_size,
    channels, 4*filters)`, `recurrent_kernel (*kernel_size, filters,
    4*filters)`, `bias (4*filters,)`, gates i, f, c, o. `units` is `filters`.

    >>> cell = ConvLSTMCell(2, 4, 3, padding="same", input_shape=(8, 8, 3))
    >>> h, (h, c) = cell(torch.zeros(2, 8, 8, 3), cell.get_initial_state(2))
    >>> h.shape
    torch.Size([2, 8, 8, 4])
    """

    gates = 4
    kind = "conv_lstm"          # no PyTorch layout family: nothing converts these weights to torch.nn's
    state_count = 2
    fused_kernel = None         # PyTorch has no convolutional LSTM kernel
    # unit_forget_bias as LSTMCell (`units` is `filters`): LSTMCell's method, which reads only attributes
    # this cell has too (units, bias_initializer, unit_forget_bias), though it is no LSTMCell.
    initial_bias = LSTMCell.initial_bias

    def __init__(self, rank: int, filters: int, kernel_size: int | Sequence[int], strides: int | Sequence[int] = 1,
                 padding: str = "valid", data_format: str | None = None, dilation_rate: int | Sequence[int] = 1,
                 activation: ActivationLike = "tanh", recurrent_activation: ActivationLike = "sigmoid",
                 use_bias: bool = True, kernel_initializer: InitializerLike = "glorot_uniform",
                 recurrent_initializer: InitializerLike = "orthogonal", bias_initializer: InitializerLike = "zeros",
                 unit_forget_bias: bool = True, kernel_regularizer: RegularizerLike = None,
                 recurrent_regularizer: RegularizerLike = None, bias_regularizer: RegularizerLike = None,
                 kernel_constraint: ConstraintLike = None, recurrent_constraint: ConstraintLike = None,
                 bias_constraint: ConstraintLike = None, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 seed: int | None = None, **layer_kwargs: Any) -> None:
        cls = type(self).__name__
        one_of(rank, (1, 2, 3), "rank", cls)
        positive_int(filters, "filters", cls)
        super().__init__(filters, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                         dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed, **layer_kwargs)
        owner = describe(self)
        self.rank = rank
        self.step_rank = rank + 2
        self.filters = self.units
        self.kernel_size = int_tuple(kernel_size, rank, "kernel_size", owner)
        self.strides = int_tuple(strides, rank, "strides", owner)
        self.dilation_rate = int_tuple(dilation_rate, rank, "dilation_rate", owner)
        self.padding = one_of(padding.lower() if isinstance(padding, str) else padding, ("valid", "same"),
                              "padding", owner)
        self.data_format = data_formats.standardize(data_format, owner)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{owner}: Specifying `strides > 1` is not compatible with `dilation_rate > 1` "
                             "(strides > 1 cannot be combined with dilation_rate > 1, as in Keras); got "
                             f"strides={self.strides}, dilation_rate={self.dilation_rate}")
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.spatial_dims: tuple[int, ...] | None = None     # the spatial size the cell was built for
        self.output_spatial_dims: tuple[int, ...] | None = None
        self.build_from_hint()

    # ------------------------------------------------------------ structure
    @property
    def channels_last(self) -> bool:
        return self.data_format == "channels_last"

    def _layout(self, spatial: Sequence[Any], channels: Any) -> tuple:
        return (*spatial, channels) if self.channels_last else (channels, *spatial)

    def _split(self, step_shape: Sequence[Any]) -> tuple[tuple[Any, ...], Any]:
        """(spatial sizes, channels) of a step shape without its batch axis."""
        if self.channels_last:
            return tuple(step_shape[:-1]), step_shape[-1]
        return tuple(step_shape[1:]), step_shape[0]

    def output_spatial(self, spatial: Sequence[Any]) -> tuple[Any, ...]:
        """The states' spatial size for frames of spatial size `spatial` (sizes may be symbolic)."""
        return tuple(output_length(n, k, s, d, self.padding)
                     for n, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate))

    def frame_spatial(self, inputs: torch.Tensor) -> tuple[Any, ...]:
        """The spatial size of one step `(batch, *step)` or of a sequence's frames `(batch, time, *step)`."""
        return self._split(tuple(inputs.shape[inputs.dim() - self.rank - 1:]))[0]

    @property
    def state_shape(self) -> torch.Size | None:
        """One state's shape without the batch axis (None before build)."""
        if self.output_spatial_dims is None:
            return None
        return torch.Size(self._layout(self.output_spatial_dims, self.filters))

    @property
    def state_size(self) -> list[torch.Size | None]:  # type: ignore[override]  # shapes, not unit counts
        return [self.state_shape, self.state_shape]

    @property
    def output_size(self) -> torch.Size | None:  # type: ignore[override]  # a shape, not a unit count
        return self.state_shape

    def check_step_shape(self, input_shape: InputShape, owner: str | None = None
                         ) -> tuple[tuple[int, ...], int, tuple[int, ...]]:
        """`(spatial sizes, channels, output spatial sizes)` for one step's shape (batch first), or a
        ValueError naming `owner` (default: this cell) when the shape cannot be built for."""
        owner = owner or describe(self)
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{owner} expects one step of shape {step_text(self.rank, self.data_format)}, got a "
                             f"{len(input_shape)}-D shape {shape_text(input_shape)}")
        spatial, channels = self._split(tuple(input_shape[1:]))
        if channels is None or None in spatial:
            raise ValueError(f"{owner} needs known spatial and channel sizes (as Keras's ConvLSTM), got input shape "
                             f"{shape_text(input_shape)}")
        out = self.output_spatial(spatial)
        if min(out) <= 0:
            spans = tuple((k - 1) * d + 1 for k, d in zip(self.kernel_size, self.dilation_rate))
            raise ValueError(f"{owner}: the kernel (spanning {spans} with dilation_rate {self.dilation_rate}) is "
                             f"larger than the input's spatial size {spatial} with padding='valid'; use a smaller "
                             "kernel, padding='same' or a larger input")
        return spatial, channels, out

    def build(self, input_shape: InputShape) -> None:
        spatial, channels, out = self.check_step_shape(input_shape)
        self.input_dim = int(channels)
        self.spatial_dims = tuple(int(n) for n in spatial)
        self.output_spatial_dims = out
        gates = 4 * self.filters
        self.add_weight("kernel", (*self.kernel_size, self.input_dim, gates), self.kernel_initializer,
                        regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.add_weight("recurrent_kernel", (*self.kernel_size, self.filters, gates), self.recurrent_initializer,
                        regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        if self.use_bias:
            bias = self.add_weight("bias", (gates,), "zeros", regularizer=self.bias_regularizer,
                                   constraint=self.bias_constraint)
            self.initial_bias(bias.data)  # type: ignore[misc]   # LSTMCell's method (see above)
        else:
            self.register_parameter("bias", None)
        self.built = True

    def get_initial_state(self, batch_size: int) -> list[torch.Tensor]:
        """Zero states `[h, c]` of the output's spatial size for the built input, on the weights' device
        and dtype (`initial_state_for` sizes them for other inputs)."""
        if not self.built:
            raise ValueError(f"{describe(self)} has no state shape before it is built (its spatial size comes from "
                             "its input)")
        kernel, state_shape = self.kernel, self.state_shape
        assert state_shape is not None          # known once built
        return [torch.zeros(batch_size, *state_shape, device=kernel.device, dtype=kernel.dtype)
                for _ in range(2)]

    def initial_state_for(self, batch_size: Any, inputs: torch.Tensor) -> list[torch.Tensor] | None:
        """Zero states `[h, c]` for `inputs` (one step or a sequence): the spatial size these frames give,
        which may differ from the built one (a symbolic size stays symbolic under torch.export). None
        when `inputs` is no such tensor (the caller then takes `get_initial_state`)."""
        if not self.built or inputs.dim() not in (self.step_rank, self.step_rank + 1):
            return None
        kernel = self.kernel
        shape = self._layout(self.output_spatial(self.frame_spatial(inputs)), self.filters)
        return [torch.zeros(batch_size, *shape, device=kernel.device, dtype=kernel.dtype) for _ in range(2)]

    def check_step_input(self, inputs: torch.Tensor) -> None:
        """One step's input against the built sizes."""
        self.check_frames(inputs, time=False)

    def check_frames(self, inputs: torch.Tensor, time: bool, owner: str | None = None) -> None:
        """Raise, naming `owner` (default: this cell), unless `inputs` has the built rank and channels and
        frames the kernel fits. Unlike Keras, which fixes the spatial size at the build, other spatial
        sizes run (as they do through a convolution): the states take the size the frames give."""
        first = 2 if time else 1
        owner = owner or describe(self)
        assert self.spatial_dims is not None    # the cell builds before its inputs are checked
        if self.rank == 3:
            refuse_legacy_onnx(owner, "it cannot convert the 3-D kernels' memory layout")
        channel_axis = -1 if self.channels_last else first
        if inputs.dim() != self.rank + first + 1 or inputs.shape[channel_axis] != self.input_dim:
            raise ValueError(f"{owner} was built for inputs of shape {step_text(self.rank, self.data_format, time)} "
                             f"with {self.input_dim} channels, got input of shape {shape_text(inputs.shape)}")
        if self.padding == "valid":
            spatial = self.frame_spatial(inputs)
            for n, k, d in zip(spatial, self.kernel_size, self.dilation_rate):
                span = (k - 1) * d + 1
                check_sizes(n >= span, lambda: f"{owner}: the kernel (spanning {span} with dilation_rate "
                                               f"{self.dilation_rate}) is larger than the input's spatial size "
                                               f"{shape_text(spatial)} with padding='valid'")

    # -------------------------------------------------------------- dropout
    def dropout_masks(self, batch: int, training: bool, like: torch.Tensor) -> DropoutMasks:
        """Keras's masks: four per kind (one per gate), `(4, batch, *step input)` and `(4, batch, *state)`."""
        if not training or not (self.dropout or self.recurrent_dropout):
            return NO_DROPOUT
        spatial = self.frame_spatial(like)
        step = self._layout(spatial, self.input_dim)
        state_shape = self._layout(self.output_spatial(spatial), self.filters)
        return DropoutMasks(
            self._draw((4, batch, *step), self.dropout, like) if self.dropout else None,
            self._draw((4, batch, *state_shape), self.recurrent_dropout, like) if self.recurrent_dropout
            else None)

    def _gate_copies(self, copies: torch.Tensor) -> torch.Tensor:
        """`(4, batch, *step)` masked copies -> one tensor with the four copies' channels side by side,
        the input of a grouped convolution (groups=4) that gives each gate its own copy."""
        if self.channels_last:
            return copies.movedim(0, -2).flatten(-2)
        return copies.movedim(0, 1).flatten(1, 2)

    # ------------------------------------------------------------- the step
    def project(self, inputs: torch.Tensor, masks: DropoutMasks = NO_DROPOUT) -> torch.Tensor:
        """The input convolution (with the bias) of one step `(batch, *step)` or of a whole sequence
        `(batch, time, *step)`: the sequence's frames go through one convolution, time folded into batch."""
        one_step = inputs.dim() == self.step_rank
        frames = inputs if one_step else inputs.flatten(0, 1)
        groups = 1
        if masks.inputs is not None:
            drop = masks.inputs
            if not one_step:
                drop = drop.unsqueeze(2).expand(-1, -1, inputs.shape[1], *drop.shape[2:]).flatten(1, 2)
            frames, groups = self._gate_copies(frames.unsqueeze(0) * drop), 4
        padding = (0,) * self.rank
        if self.padding == "same":
            pads = [same_padding(n, k, s, d) for n, k, s, d in
                    zip(self.frame_spatial(inputs), self.kernel_size, self.strides, self.dilation_rate)]
            if all(isinstance(left, int) and isinstance(right, int) and left == right for left, right in pads):
                padding = tuple(left for left, _ in pads)
            else:                      # Keras's extra step on the right: pad once, outside the steps
                frames = pad_spatial(frames, pads, self.channels_last)
        out = conv_in_layout(frames, torch_kernel(self.kernel, self.channels_last), self.bias, self.strides,
                             padding, self.dilation_rate, groups, self.channels_last)
        return out if one_step else out.unflatten(0, inputs.shape[:2])

    def make_step(self, masks: DropoutMasks = NO_DROPOUT) -> Step:
        """The step: the recurrent convolution ("same", stride 1) of h, then the LSTM gates."""
        channels_last = self.channels_last
        exporting = torch.compiler.is_exporting()
        # While torch.export traces, one spatial axis in channels-last runs as a channels-first 1-D
        # convolution: the exported loop (a scan) holds the weight it reads, and torch.onnx's capture
        # treats a size-1 axis there (the unit height of the 2-D form) as symbolic, which fails.
        moved = exporting and channels_last and self.rank == 1
        weight = torch_kernel(self.recurrent_kernel, channels_last and not moved)     # converted once per call
        ones = (1,) * self.rank
        pads = [same_padding(0, k, 1, 1) for k in self.kernel_size]
        # PyTorch pads both sides alike: pad by the right side's amount and drop the first output
        # position where Keras pads one step less on the left (even kernels); a view, no copy.
        padding = tuple(right for _, right in pads)
        crop = None
        pre_pad = None
        if exporting and any(left != right for left, right in pads):
            # While torch.export traces, h is padded as Keras pads it instead: a crop's gradient needs
            # the symbolic batch size, which the exported loop cannot keep (see LSTMCell.make_step).
            pre_pad, padding = pads, (0,) * self.rank
        elif any(left != right for left, right in pads):
            spatial = tuple(slice(right - left, None) for left, right in pads)
            crop = (slice(None), *spatial, slice(None)) if channels_last else (slice(None), slice(None), *spatial)
        recurrent_mask = masks.recurrent
        groups = 1 if recurrent_mask is None else 4
        axis = -1 if channels_last else 1
        activation, gate = self.activation, self.recurrent_activation
        # While torch.export traces, each gate reads its own block, as LSTMCell.make_step says.
        elementwise = activations.is_elementwise(gate) and not exporting
        gate_copies = self._gate_copies

        def step(projected: torch.Tensor, states: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
            h, c = states
            if recurrent_mask is not None:
                h = gate_copies(h.unsqueeze(0) * recurrent_mask)
            if pre_pad is not None:
                h = pad_spatial(h, pre_pad, channels_last)
            if moved:
                z = conv_in_layout(h.movedim(-1, 1), weight, None, ones, padding, ones, groups, False).movedim(1, -1)
            else:
                z = conv_in_layout(h, weight, None, ones, padding, ones, groups, channels_last)
            if crop is not None:
                z = z[crop]
            z = projected + z
            blocks = z.chunk(4, dim=axis)          # not narrow: see LSTMCell.make_step
            candidate = activation(blocks[2])
            if elementwise:            # one gate call over the four blocks (the c block's result is unused)
                i, f, _, o = gate(z).chunk(4, dim=axis)
            else:
                i, f, o = gate(blocks[0]), gate(blocks[1]), gate(blocks[3])
            c = torch.addcmul(f * c, i, candidate)
            h = o * activation(c)
            return h, [h, c]

        return step

    # --------------------------------------------------------------- config
    def cell_arguments(self) -> dict:
        """The arguments Keras's ConvLSTM layers and cell share, in Keras's serialized form."""
        owner = describe(self)
        return {"filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                "activation": serialize_activation(self.activation, owner),
                "recurrent_activation": serialize_activation(self.recurrent_activation, owner),
                "use_bias": self.use_bias, **weight_options(self, ("kernel", "recurrent", "bias")),
                "unit_forget_bias": self.unit_forget_bias, "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout, "seed": self.seed}

    def get_config(self) -> dict:
        """Keras's cell configuration plus `rank` (Keras's leaves it out, so its cell cannot be rebuilt from it)."""
        return {**Layer.get_config(self), "rank": self.rank, **self.cell_arguments()}

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, rank={self.rank}, filters={self.filters}, kernel_size={self.kernel_size}, "
                f"padding={self.padding!r}, data_format={self.data_format!r}")


# Keras's ConvLSTM layers expose their cell's arguments read-only.
_CELL_ARGUMENTS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation",
                   "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
                   "bias_initializer", "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
                   "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
                   "recurrent_dropout", "seed")


class ConvLSTM(RNN):
    """Base of ConvLSTM1D/2D/3D (`rank` set by the subclass), as Keras 3's `ConvLSTM`."""

    rank: ClassVar[int | None] = None
    cell: ConvLSTMCell

    # The cell's arguments, exposed read-only: properties made from these annotations below the class.
    filters: int
    kernel_size: tuple[int, ...]
    strides: tuple[int, ...]
    padding: str
    data_format: str
    dilation_rate: tuple[int, ...]
    activation: Callable[[torch.Tensor], torch.Tensor]
    recurrent_activation: Callable[[torch.Tensor], torch.Tensor]
    use_bias: bool
    kernel_initializer: InitializerLike
    recurrent_initializer: InitializerLike
    bias_initializer: InitializerLike
    unit_forget_bias: bool
    kernel_regularizer: Callable[[torch.Tensor], torch.Tensor] | None
    recurrent_regularizer: Callable[[torch.Tensor], torch.Tensor] | None
    bias_regularizer: Callable[[torch.Tensor], torch.Tensor] | None
    kernel_constraint: Callable[[torch.Tensor], torch.Tensor] | None
    recurrent_constraint: Callable[[torch.Tensor], torch.Tensor] | None
    bias_constraint: Callable[[torch.Tensor], torch.Tensor] | None
    dropout: float
    recurrent_dropout: float
    seed: int | None

    def __init__(self, filters: int, kernel_size: int | Sequence[int], strides: int | Sequence[int] = 1,
                 padding: str = "valid", data_format: str | None = None, dilation_rate: int | Sequence[int] = 1,
                 activation: ActivationLike = "tanh", recurrent_activation: ActivationLike = "sigmoid",
                 use_bias: bool = True, kernel_initializer: InitializerLike = "glorot_uniform",
                 recurrent_initializer: InitializerLike = "orthogonal", bias_initializer: InitializerLike = "zeros",
                 unit_forget_bias: bool = True, kernel_regularizer: RegularizerLike = None,
                 recurrent_regularizer: RegularizerLike = None, bias_regularizer: RegularizerLike = None,
                 activity_regularizer: RegularizerLike = None, kernel_constraint: ConstraintLike = None,
                 recurrent_constraint: ConstraintLike = None, bias_constraint: ConstraintLike = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None,
                 return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False,
                 stateful: bool = False, unroll: bool = False, zero_output_for_mask: bool = False, *,
                 name: str | None = None, input_shape: ShapeLike | None = None, device: DeviceLike = None,
                 dtype: torch.dtype | None = None) -> None:
        # `rank` is None on ConvLSTM itself, which the cell refuses (naming `rank`): use ConvLSTM1D/2D/3D.
        cell = ConvLSTMCell(cast(int, self.rank), filters, kernel_size, strides=strides, padding=padding,
                            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                            recurrent_activation=recurrent_activation, use_bias=use_bias,
                            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
                            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
                            name="conv_lstm_cell", device=device, dtype=dtype)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         zero_output_for_mask=zero_output_for_mask, activity_regularizer=activity_regularizer,
                         name=name, input_shape=input_shape, device=device, dtype=dtype)

    def check_inputs(self, inputs: TensorTree) -> CheckedInputs:
        """A tensor `(batch, time, *spatial, channels)` (or channels first); the rest as `RNN.check_inputs`."""
        rank = self.cell.rank
        if isinstance(inputs, torch.Tensor) and inputs.dim() != rank + 3:
            raise ValueError(f"{describe(self)} expects {rank + 3}-D input of shape "
                             f"{step_text(rank, self.cell.data_format, time=True)}, got a {inputs.dim()}-D "
                             f"input of shape {shape_text(inputs.shape)}")
        return super().check_inputs(inputs)

    def build_cell(self, step_shape: Any) -> None:
        """Build the cell, with this layer named in the messages about a shape it cannot take."""
        if not self.cell.built:
            self.cell.check_step_shape(step_shape, describe(self))
        super().build_cell(step_shape)

    def check_built_inputs(self, inputs: TensorTree) -> None:
        """Spatial and channel sizes against the built weights, then device and dtype as `RNN`."""
        if isinstance(inputs, torch.Tensor):
            self.cell.check_frames(inputs, time=True, owner=describe(self))
            if self.cell.data_format == "channels_first":
                inputs = inputs.movedim(2, -1)         # a view: RNN's check reads the channels last
        super().check_built_inputs(inputs)

    def dispatch_reason(self, mask: torch.Tensor | None = None) -> str:
        """Why the cell loop runs: no fused convolutional LSTM kernel exists."""
        return (f"{type(self).__name__} has no fused kernel (PyTorch has no convolutional LSTM); the cell loop runs, "
                "with the input convolution computed once over every frame")

    def get_config(self) -> dict:
        """Keras's configuration: the layer's flags and its cell's arguments side by side (no `cell` entry)."""
        return {**Layer.get_config(self), **self.recurrent_flags(), **self.cell.cell_arguments(),
                "activity_regularizer": activity_regularizer(self)}

    def extra_repr(self) -> str:
        return f"{self.cell.extra_repr().replace(', rank=' + str(self.rank), '')}"


def _cell_argument(name: str) -> property:
    def get(self: ConvLSTM) -> Any:
        return getattr(self.cell, name)
    get.__annotations__["return"] = ConvLSTM.__annotations__[name]     # as the class declares it
    return property(get, doc=f"The cell's `{name}` (read-only, as in Keras).")


for _name in _CELL_ARGUMENTS:
    setattr(ConvLSTM, _name, _cell_argument(_name))


@register_keras_class("ConvLSTM1D")
class ConvLSTM1D(ConvLSTM):
    """1-D convolutional LSTM, as `keras.layers.ConvLSTM1D`.

    Input `(batch, time, steps, channels)` (channels_last) or
    `(batch, time, channels, steps)`.

    Args: as `ConvLSTM2D`, with integers or 1-tuples for `kernel_size`,
    `strides` and `dilation_rate`.

    >>> ConvLSTM1D(4, 3, padding="same")(torch.randn(2, 5, 16, 3)).shape
    torch.Size([2, 16, 4])
    """

    rank = 1


@register_keras_class("ConvLSTM2D")
class ConvLSTM2D(ConvLSTM):
    """2-D convolutional LSTM, as `keras.layers.ConvLSTM2D`.

    Input `(batch, time, rows, cols, channels)` (channels_last, the default)
    or `(batch, time, channels, rows, cols)`; output `(batch, [time,]
    new_rows, new_cols, filters)` in the same layout, and with
    `return_state=True` also h and c.

    Args:
        filters: output channels (the size of h and c along their channel axis).
        kernel_size, strides, dilation_rate: ints or tuples of 2 (strides > 1
            and dilation > 1 cannot be combined, as in Keras). Only the input
            convolution uses strides and dilation; the recurrent one is
            "same" with stride 1.
        padding: "valid" or "same" (Keras's: an odd total puts the extra step
            on the right).
        data_format: "channels_last" (None means the same) or "channels_first".
        activation, recurrent_activation, use_bias: as `LSTM`.
        kernel_initializer, recurrent_initializer, bias_initializer: as `LSTM`.
        unit_forget_bias: as `LSTM`.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: as `LSTM`.
        activity_regularizer: as `LSTM`.
        kernel_constraint, recurrent_constraint, bias_constraint: as `LSTM`.
        dropout, recurrent_dropout: as Keras: four masks each (one per gate),
            the shape of a whole step's input or state, drawn once per call.
        seed: integer seed for the dropout masks.
        return_sequences, return_state, go_backwards, stateful: as Keras;
            masks of any pattern and `initial_state` as `RNN`.
        unroll, zero_output_for_mask: as `RNN` (Keras's configuration has them).
        name, input_shape, device, dtype: see `Layer`.

    Always runs the cell loop (`last_path == "loop"`): the input convolution
    once over all frames, the recurrent convolution at each step.

    Keras fixes the spatial size at the build; once built, this layer also
    takes frames of other spatial sizes (the states take the size the frames
    give), so `torch.export` can keep the spatial axes dynamic.

    >>> layer = ConvLSTM2D(8, 3, padding="same", return_sequences=True)
    >>> layer(torch.randn(2, 4, 16, 16, 3)).shape
    torch.Size([2, 4, 16, 16, 8])
    """

    rank = 2


@register_keras_class("ConvLSTM3D")
class ConvLSTM3D(ConvLSTM):
    """3-D convolutional LSTM, as `keras.layers.ConvLSTM3D`.

    Input `(batch, time, depth, rows, cols, channels)` (channels_last) or
    `(batch, time, channels, depth, rows, cols)`.

    Args: as `ConvLSTM2D`, with integers or 3-tuples for `kernel_size`,
    `strides` and `dilation_rate`.

    >>> ConvLSTM3D(2, 3, padding="same")(torch.randn(1, 3, 4, 4, 4, 1)).shape
    torch.Size([1, 4, 4, 4, 2])
    """

    rank = 3
