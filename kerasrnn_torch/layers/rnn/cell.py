"""What the built-in cells share: Keras-layout weights, dropout masks, and the
step protocol the loop runs on.

The protocol, implemented by `SimpleRNNCell`, `LSTMCell`, `GRUCell` and
`StackedRNNCells`, splits a step so the loop can hoist work out of time:

- `dropout_masks(batch, training, like)`: masks drawn once per call,
- `project(inputs, masks)`: the input projection, for one step `(batch,
  *step_shape)` or all steps at once `(batch, time, *step_shape)`,
- `make_step(masks)`: a function `(projected_t, states) -> (output_t, new_states)`
  with weights sliced and biases split once,
- `step_rank` (optional, default 2): the number of axes of one step's input,
  batch included: 2 for `(batch, features)`; a convolutional cell's
  `(batch, height, width, channels)` is 4. States may have any shape.

`cell(inputs_t, states, training=None)` is the plain Keras cell call built on them.

Whether a PyTorch fused kernel may run a cell's step is something its class
states (`fused_kernel = "lstm"`), never something a subclass inherits while
changing the step: see `fused_kernel_of`. And a subclass's own `forward` is
what runs: the loop uses the protocol only where `forward` is not overridden
below it (`follows_step_protocol`).
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence
from typing import ClassVar

import torch

from ... import activations, constraints, initializers, regularizers
from ..._checks import describe, one_of, positive_int, rate, shape_text
from ...seeding import SeededGenerators
from .engine.bptt import LoopSpec
from ...core.layer import Layer
from ...core.config import serialize_activation, weight_options
from ..._types import ActivationLike, ConstraintLike, InitializerLike, InputShape, RegularizerLike, Step
from typing import Any


@dataclass(frozen=True)
class DropoutMasks:
    """Per-call Keras dropout masks, scaled by 1 / (1 - rate); None where unused."""
    inputs: torch.Tensor | None = None
    recurrent: torch.Tensor | None = None


NO_DROPOUT = DropoutMasks()

# What makes up a cell's step: a class that defines any of these computes a step of its own.
STEP_METHODS = ("forward", "make_step", "project", "dropout_masks", "get_initial_state")


def fused_kernel_of(cell) -> str | None:
    """The fused kernel that computes `cell`'s step ("lstm", "gru", "simple_rnn"), or None.

    Read from the class: the nearest class (walking up from the cell's own)
    that either declares `fused_kernel` or defines one of `STEP_METHODS`
    decides. So `LSTMCell` runs fused, a subclass that overrides `forward`
    (or any step method) runs the loop, and a subclass that keeps the
    built-in math while overriding one (to log, say) opts back in by
    declaring `fused_kernel = "lstm"` itself.
    """
    cls = type(cell)
    if cls not in _DECLARED_KERNELS:       # a plain dict: torch.compile traces it, unlike functools caches
        _DECLARED_KERNELS[cls] = _declared_kernel(cls)
    return _DECLARED_KERNELS[cls]


_DECLARED_KERNELS: dict = {}


def _declared_kernel(cls) -> str | None:
    for klass in cls.__mro__:
        own = vars(klass)
        if "fused_kernel" in own:
            return own["fused_kernel"]
        if any(name in own for name in STEP_METHODS):
            return None
    return None


def step_rank_of(cell) -> int:
    """Axes of one step's input, batch included (a cell's `step_rank`; 2 unless it says otherwise)."""
    return getattr(cell, "step_rank", 2)


def follows_step_protocol(cell) -> bool:
    """Whether the loop may run `cell` through its step protocol rather than calling it.

    Only where the class's `forward` is the one that goes with its protocol:
    a subclass that overrides `forward` below `make_step` is called instead.
    """
    if not all(callable(getattr(cell, name, None)) for name in ("dropout_masks", "project", "make_step")):
        return False
    mro = type(cell).__mro__
    forward_owner = next(i for i, klass in enumerate(mro) if "forward" in vars(klass))
    step_owner = next(i for i, klass in enumerate(mro) if "make_step" in vars(klass))
    return forward_owner >= step_owner


class RecurrentCell(Layer):
    """Base of the built-in cells (one step of SimpleRNN, LSTM or GRU)."""

    gates = 1          # k in the Keras shapes (input_dim, k*units)
    step_rank = 2      # one step's input is (batch, features)
    kind = "simple_rnn"          # the weight layout family (engine/layout.py), not a promise about the step
    state_count = 1
    # The weights `add_weight` registers in `build` (declared for type checkers; `bias` is None without one).
    kernel: torch.Tensor
    recurrent_kernel: torch.Tensor
    bias: torch.Tensor | None
    fused_kernel: ClassVar[str | None] = None   # the fused kernel that computes this class's step; see fused_kernel_of

    def __init__(self, units: int, *, activation: ActivationLike = "tanh", use_bias: bool = True,
                 kernel_initializer: InitializerLike = "glorot_uniform",
                 recurrent_initializer: InitializerLike = "orthogonal", bias_initializer: InitializerLike = "zeros",
                 kernel_regularizer: RegularizerLike = None, recurrent_regularizer: RegularizerLike = None,
                 bias_regularizer: RegularizerLike = None, kernel_constraint: ConstraintLike = None,
                 recurrent_constraint: ConstraintLike = None, bias_constraint: ConstraintLike = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None,
                 **layer_kwargs: Any) -> None:
        super().__init__(**layer_kwargs)
        owner = describe(self)
        self.units = positive_int(units, "units", owner)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.recurrent_initializer = recurrent_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = rate(dropout, "dropout", owner)
        self.recurrent_dropout = rate(recurrent_dropout, "recurrent_dropout", owner)
        self.seed = seed
        self._generators = SeededGenerators(seed)
        self.input_dim: int | None = None

    # ------------------------------------------------------------ structure
    @property
    def state_size(self) -> int | list[int]:
        return self.units if self.state_count == 1 else [self.units] * self.state_count

    @property
    def output_size(self) -> int:
        return self.units

    def bias_shape(self) -> tuple[int, ...]:
        return (self.gates * self.units,)

    def initial_bias(self, tensor: torch.Tensor) -> torch.Tensor:
        """Fill the bias; LSTM overrides this for unit_forget_bias."""
        return initializers.apply(initializers.get(self.bias_initializer), tensor)

    def build(self, input_shape: InputShape) -> None:
        self.input_dim = input_dim = int(input_shape[-1])
        k_units = self.gates * self.units
        # Column-major kernels: PyTorch's layout in memory (see add_weight), Keras's in shape.
        self.add_weight("kernel", (input_dim, k_units), self.kernel_initializer,
                        regularizer=self.kernel_regularizer, constraint=self.kernel_constraint, column_major=True)
        self.add_weight("recurrent_kernel", (self.units, k_units), self.recurrent_initializer,
                        regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint,
                        column_major=True)
        if self.use_bias:
            bias = self.add_weight("bias", self.bias_shape(), "zeros",
                                   regularizer=self.bias_regularizer, constraint=self.bias_constraint)
            self.initial_bias(bias.data)
        else:
            self.register_parameter("bias", None)
        self.built = True

    def reset_weights(self) -> None:
        """Kernels from their initializers, and the bias as `initial_bias` makes it (LSTM's unit forget bias)."""
        super().reset_weights()
        if self.built and self.bias is not None:
            with torch.no_grad():
                self.initial_bias(self.bias.data)

    def expected_weights(self) -> list[tuple[str, bool]]:
        return [("kernel", True), ("recurrent_kernel", True)] + ([("bias", True)] if self.use_bias else [])

    def get_initial_state(self, batch_size: int) -> list[torch.Tensor]:
        """Zero states `[h]` (or `[h, c]`), on the weights' device and dtype."""
        like = self.kernel if self.built else None
        kwargs = {"device": like.device, "dtype": like.dtype} if like is not None else self.factory_kwargs
        return [torch.zeros(batch_size, self.units, **kwargs) for _ in range(self.state_count)]

    def check_step_input(self, inputs: torch.Tensor) -> None:
        if inputs.shape[-1] != self.input_dim:
            raise ValueError(f"{describe(self)} was built for {self.input_dim} input features, "
                             f"got input of shape {shape_text(inputs.shape)}")

    # -------------------------------------------------------------- dropout
    def _draw(self, shape, dropout_rate, like: torch.Tensor):
        keep = 1.0 - dropout_rate
        mask = torch.empty(shape, device=like.device, dtype=like.dtype)
        return mask.bernoulli_(keep, generator=self._generators.get(like.device)).div_(keep)

    def dropout_masks(self, batch: int, training: bool, like: torch.Tensor) -> DropoutMasks:
        """Draw this call's Keras dropout masks: `(batch, input_dim)` and `(batch, units)`."""
        if not training or not (self.dropout or self.recurrent_dropout):
            return NO_DROPOUT
        return DropoutMasks(
            self._draw((batch, self.input_dim), self.dropout, like) if self.dropout else None,
            self._draw((batch, self.units), self.recurrent_dropout, like) if self.recurrent_dropout else None)

    # ------------------------------------------------------------- the step
    def input_bias(self) -> torch.Tensor | None:
        return self.bias

    def project(self, inputs: torch.Tensor, masks: DropoutMasks = NO_DROPOUT) -> torch.Tensor:
        """`inputs @ kernel + input bias` for `(batch, features)` or `(batch, time, features)` inputs."""
        one_step = inputs.dim() == self.step_rank
        if masks.inputs is not None:
            inputs = inputs * (masks.inputs if one_step else masks.inputs.unsqueeze(1))
        bias = self.input_bias()
        if bias is None:
            return inputs @ self.kernel
        if one_step:
            return torch.addmm(bias, inputs, self.kernel)
        return torch.matmul(inputs, self.kernel) + bias

    def make_step(self, masks: DropoutMasks = NO_DROPOUT) -> Step:
        raise NotImplementedError

    def loop_spec(self) -> LoopSpec | None:
        """What the hand-written loop (engine/bptt.py) needs to run this cell's step, or None.

        Only where the class declares the built-in step (`fused_kernel_of`):
        a subclass that changes the step keeps the autograd loop.
        """
        kind = fused_kernel_of(self)
        if kind is None:
            return None
        if kind == "gru" and not getattr(self, "reset_after", True):
            kind = "gru_reset_before"
        gate = getattr(self, "recurrent_activation", None)
        return LoopSpec(kind, activations.canonical_name(self.activation) or "",
                        activations.canonical_name(gate) if gate is not None else None)

    def forward(self, inputs: torch.Tensor, states: torch.Tensor | Sequence[torch.Tensor],
                training: bool | None = None) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One Keras step: `(inputs_t, states) -> (output_t, new_states)`."""
        if not self.built:
            self.build(tuple(inputs.shape))
        self.check_step_input(inputs)
        if isinstance(states, torch.Tensor):
            states = [states]
        training = self.training if training is None else training
        masks = self.dropout_masks(inputs.shape[0], training, inputs)
        return self.make_step(masks)(self.project(inputs, masks), list(states))

    def get_config(self) -> dict:
        """Keras's cell configuration (initializers, regularizers and constraints in Keras's serialized form)."""
        owner = describe(self)
        config = {**super().get_config(), "units": self.units,
                  "activation": serialize_activation(self.activation, owner), "use_bias": self.use_bias,
                  **weight_options(self, ("kernel", "recurrent", "bias")),
                  "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout, "seed": self.seed}
        own = vars(self)
        if "recurrent_activation" in own:
            config["recurrent_activation"] = serialize_activation(self.recurrent_activation, owner)
        for name in ("unit_forget_bias", "reset_after"):
            if name in own:
                config[name] = own[name]
        return config

    def set_implementation(self, value: Any, allowed: Sequence[int]) -> None:
        """Keras's `implementation` (how Keras splits its matrix products): kept, as it changes no number here.

        As in Keras, `recurrent_dropout` makes it 1.
        """
        one_of(value, allowed, "implementation", describe(self))
        self.implementation = 1 if self.recurrent_dropout else value

    def extra_repr(self) -> str:
        return f"name={self.name!r}, units={self.units}"
