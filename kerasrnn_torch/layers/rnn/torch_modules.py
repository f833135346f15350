"""Conversion between kerasrnn_torch recurrent layers and `torch.nn.RNN` / `LSTM` / `GRU`.

Only the weights and the recurrence travel: `torch.nn` modules have no
`return_sequences`, `return_state`, `stateful`, masks, input dropout,
regularizers or constraints, so a converted module computes the same
sequence and final states as the layer in inference, and the caller picks
what to return. The weight layouts come from `engine.layout`.
"""
from __future__ import annotations

import torch
from torch import nn

from ... import activations
from ..._checks import describe
from ...core import registry
from .engine.layout import from_torch_weights, to_torch_weights
from typing import Any

# Layer kind -> the torch.nn module that computes the same recurrence.
TORCH_MODULES = {"simple_rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
_SIMPLE_RNN_ACTIVATIONS = ("tanh", "relu")   # torch.nn.RNN's two nonlinearities


# ------------------------------------------------------------------ to torch
def to_torch(layer) -> nn.RNNBase:
    """The `torch.nn` module equivalent to `layer` (batch_first=True), holding a copy of its weights.

    `SimpleRNN` -> `nn.RNN` (tanh or relu), `LSTM` -> `nn.LSTM`, `GRU` ->
    `nn.GRU` (reset_after=True only), `Bidirectional(..., merge_mode="concat")`
    -> the same module with `bidirectional=True`. `use_bias=False` gives
    `bias=False`. The module is created on the layer's device and dtype.

    Call conventions differ from Keras: the module returns `(output, h_n)`
    (`(output, (h_n, c_n))` for LSTM) with `output` the whole sequence; the
    layer's `return_sequences=False` output is `h_n[-1]` (for Bidirectional,
    `torch.cat([h_n[0], h_n[1]], -1)`). Training-only settings (dropout,
    recurrent_dropout, regularizers, constraints) and `stateful` are not
    carried over; configurations `torch.nn` cannot compute raise ValueError.
    """
    if isinstance(layer, _keras_class("Bidirectional")):
        return _bidirectional_to_torch(layer)
    _check_convertible(layer, describe(layer))
    module = _new_module(layer, bidirectional=False)
    _copy_into(module, layer, suffix="")
    return module


def _bidirectional_to_torch(bidirectional) -> nn.RNNBase:
    owner = describe(bidirectional)
    if bidirectional.merge_mode != "concat":
        raise ValueError(f"{owner} has merge_mode={bidirectional.merge_mode!r}; a bidirectional torch.nn module "
                         "concatenates the two directions, so only merge_mode='concat' converts")
    forward, backward = bidirectional.forward_layer, bidirectional.backward_layer
    _check_convertible(forward, f"{owner} (forward layer {describe(forward)})")
    _check_convertible(backward, f"{owner} (backward layer {describe(backward)})", reads_backwards=True)
    if type(forward) is not type(backward):
        raise ValueError(f"{owner}: the forward layer is a {type(forward).__name__} and the backward layer a "
                         f"{type(backward).__name__}; a bidirectional torch.nn module runs one kind of cell")
    for attribute in ("units", "use_bias", "input_dim"):
        if getattr(forward, attribute) != getattr(backward, attribute):
            raise ValueError(f"{owner}: the two directions differ in `{attribute}` ({getattr(forward, attribute)} "
                             f"forward, {getattr(backward, attribute)} backward); a bidirectional torch.nn module "
                             "needs them equal")
    if _activation_name(forward) != _activation_name(backward):
        raise ValueError(f"{owner}: the two directions use different activations ({_activation_name(forward)} and "
                         f"{_activation_name(backward)}); a bidirectional torch.nn module uses one")
    module = _new_module(forward, bidirectional=True)
    _copy_into(module, forward, suffix="")
    _copy_into(module, backward, suffix="_reverse")
    return module


def _activation_name(layer):
    return activations.canonical_name(layer.cell.activation)


def _check_convertible(layer, owner: str, reads_backwards: bool = False):
    """Raise a ValueError naming what `torch.nn` cannot compute for this layer."""
    if not any(isinstance(layer, _keras_class(name)) for name in ("SimpleRNN", "LSTM", "GRU")):
        raise ValueError(f"{owner}: only SimpleRNN, LSTM and GRU layers (and Bidirectional over them) have a "
                         f"torch.nn equivalent, got {type(layer).__name__}")
    if not layer.built:
        raise ValueError(f"{owner} has no weights yet, so it cannot be converted: call it on an input first, or "
                         "construct it with input_shape=... or input_dim=...")
    cell = layer.cell
    activation = _activation_name(layer)
    if cell.kind == "simple_rnn":
        if activation not in _SIMPLE_RNN_ACTIVATIONS:
            raise ValueError(f"{owner} uses activation={activation or 'a custom callable'}; torch.nn.RNN computes "
                             "only 'tanh' or 'relu'")
    elif activation != "tanh":
        raise ValueError(f"{owner} uses activation={activation or 'a custom callable'}; "
                         f"torch.nn.{TORCH_MODULES[cell.kind].__name__} computes only 'tanh'")
    if cell.kind != "simple_rnn":
        gate = activations.canonical_name(cell.recurrent_activation)
        if gate != "sigmoid":
            raise ValueError(f"{owner} uses recurrent_activation={gate or 'a custom callable'}; "
                             f"torch.nn.{TORCH_MODULES[cell.kind].__name__} computes only 'sigmoid'")
    if cell.kind == "gru" and not cell.reset_after:
        raise ValueError(f"{owner} has reset_after=False; torch.nn.GRU computes the reset_after=True variant "
                         "(the reset gate applied after the recurrent projection), so no equivalent exists")
    if layer.go_backwards and not reads_backwards:
        raise ValueError(f"{owner} has go_backwards=True; torch.nn modules read forwards only (run the converted "
                         "module on inputs.flip(1) yourself, or wrap the layer in Bidirectional)")


def _new_module(layer, *, bidirectional: bool) -> nn.RNNBase:
    cell = layer.cell
    kernel = cell.kernel
    options = dict(num_layers=1, bias=cell.use_bias, batch_first=True, bidirectional=bidirectional,
                   device=kernel.device, dtype=kernel.dtype)
    if cell.kind == "simple_rnn":
        options["nonlinearity"] = _activation_name(layer)
    return TORCH_MODULES[cell.kind](cell.input_dim, cell.units, **options)


def _copy_into(module: nn.RNNBase, layer, *, suffix: str):
    cell = layer.cell
    bias = cell.bias if cell.bias is not None else cell.kernel.new_zeros(cell.bias_shape())
    with torch.no_grad():
        weight_ih, weight_hh, bias_ih, bias_hh = to_torch_weights(cell.kind, cell.kernel, cell.recurrent_kernel, bias)
        getattr(module, f"weight_ih_l0{suffix}").copy_(weight_ih)
        getattr(module, f"weight_hh_l0{suffix}").copy_(weight_hh)
        if cell.use_bias:
            getattr(module, f"bias_ih_l0{suffix}").copy_(bias_ih)
            getattr(module, f"bias_hh_l0{suffix}").copy_(bias_hh)


# ---------------------------------------------------------------- from torch
def from_torch(cls, module, *, assume_batch_first: bool = False, **kwargs: Any):
    """A `cls` layer (SimpleRNN, LSTM or GRU) holding the weights of a single-layer `torch.nn` module.

    `module` is an `nn.RNN` (for SimpleRNN; its nonlinearity becomes the
    activation), `nn.LSTM` or `nn.GRU` with `num_layers=1`, no projection and
    one direction (see `bidirectional_from_torch` for two). LSTM and
    SimpleRNN fold PyTorch's two biases into Keras's one; GRU keeps both as
    Keras's `(2, 3*units)` bias (reset_after=True). `bias=False` gives
    `use_bias=False`.

    The layer is batch-first: it takes `(batch, timesteps, features)`. A
    module with `batch_first=False` (PyTorch's default) takes time first, so
    converting it is refused unless `assume_batch_first=True` says the inputs
    will be transposed to batch-first: a layer reading time as batch would
    give wrong but plausible results, without a word.
    `kwargs` are the layer's other arguments (`return_sequences=True`,
    `name=...`); the ones the module determines (`units`, `use_bias`,
    `input_dim`, `activation`, ...) may be given only with the module's value.
    The layer is created on the module's device and dtype.
    """
    kind = cls.cell_class.kind
    expected = TORCH_MODULES[kind]
    owner = f"{cls.__name__}.from_torch"
    if not isinstance(module, expected):
        raise TypeError(f"{owner} expects a torch.nn.{expected.__name__}, got {type(module).__name__}")
    _check_single_direction(module, owner)
    _check_axis_order(module, assume_batch_first, owner)
    layer = cls(**_layer_arguments(kind, module, kwargs, owner))
    _load_direction(layer, module, suffix="")
    return layer


def bidirectional_from_torch(module, merge_mode="concat", *, assume_batch_first: bool = False, **kwargs: Any):
    """A `Bidirectional` over the matching layer holding a bidirectional single-layer `torch.nn` module's weights.

    The forward direction's weights (`*_l0`) go to `forward_layer`, the
    reverse ones (`*_l0_reverse`) to `backward_layer`. `kwargs` are the inner
    layer's arguments (see `from_torch`), e.g. `return_sequences=True`.
    """
    classes = {nn.LSTM: _keras_class("LSTM"), nn.GRU: _keras_class("GRU"), nn.RNN: _keras_class("SimpleRNN")}
    cls = next((c for torch_class, c in classes.items() if isinstance(module, torch_class)), None)
    if cls is None:
        raise TypeError(f"bidirectional_from_torch expects a torch.nn.RNN, LSTM or GRU, got {type(module).__name__}")
    owner = "bidirectional_from_torch"
    if not module.bidirectional:
        raise ValueError(f"{owner}: the module has bidirectional=False; use {cls.__name__}.from_torch(module)")
    _check_common(module, owner)
    _check_axis_order(module, assume_batch_first, owner)
    arguments = _layer_arguments(cls.cell_class.kind, module, kwargs, owner)
    forward = cls(**arguments)
    backward = cls(**{**arguments, "go_backwards": True,
                      **({"name": f"backward_{arguments['name']}"} if "name" in arguments else {})})
    _load_direction(forward, module, suffix="")
    _load_direction(backward, module, suffix="_reverse")
    return _keras_class("Bidirectional")(forward, merge_mode=merge_mode, backward_layer=backward)


def _check_common(module, owner: str):
    if module.num_layers != 1:
        raise ValueError(
            f"{owner}: the module has num_layers={module.num_layers}; a Keras layer is one layer. Convert a stack "
            "layer by layer: torch.nn modules with num_layers=1 each, then kr.Sequential of the converted layers "
            "(return_sequences=True on all but the last)")
    if getattr(module, "proj_size", 0):
        raise ValueError(f"{owner}: the module has proj_size={module.proj_size} (an LSTM with projections); "
                         "Keras's LSTM has no projection, so no equivalent exists")


def _check_axis_order(module, assume_batch_first: bool, owner: str):
    if not module.batch_first and not assume_batch_first:
        raise ValueError(
            f"{owner}: the module has batch_first=False, so it takes (timesteps, batch, features); kerasrnn_torch "
            "layers take (batch, timesteps, features). Transpose the inputs to batch-first (x.transpose(0, 1)) "
            "and pass assume_batch_first=True, or build the module with batch_first=True")


def _check_single_direction(module, owner: str):
    _check_common(module, owner)
    if module.bidirectional:
        raise ValueError(f"{owner}: the module is bidirectional; use kr.Bidirectional.from_torch(module), "
                         "which returns a Bidirectional layer")


def _layer_arguments(kind: str, module, kwargs: dict, owner: str) -> dict:
    """The layer's constructor arguments: what the module determines, then the caller's other ones."""
    weight = module.weight_ih_l0
    determined = {"units": module.hidden_size, "use_bias": bool(module.bias), "input_dim": module.input_size,
                  "dtype": weight.dtype, "device": weight.device}
    if kind == "simple_rnn":
        determined["activation"] = module.nonlinearity
    else:
        determined["activation"] = "tanh"
        determined["recurrent_activation"] = "sigmoid"
    if kind == "gru":
        determined["reset_after"] = True
    kwargs = dict(kwargs)
    if "input_shape" in kwargs:
        shape = tuple(kwargs["input_shape"])
        if not shape or shape[-1] != module.input_size:
            raise ValueError(f"{owner}: input_shape={shape} disagrees with the module's input_size="
                             f"{module.input_size}")
        del determined["input_dim"]
    for name, value in kwargs.items():
        if name in determined and not _same_setting(name, value, determined[name]):
            raise ValueError(f"{owner}: {name}={value!r} disagrees with the module, which determines "
                             f"{name}={determined[name]!r}; leave {name} out")
    return {**determined, **{k: v for k, v in kwargs.items() if k not in determined}}


def _same_setting(name: str | None, given, determined) -> bool:
    if name == "device":
        return given is None or torch.device(given) == determined
    if name in ("activation", "recurrent_activation"):
        return activations.get(given) is activations.get(determined)
    return given == determined


def _load_direction(layer, module, *, suffix: str):
    cell = layer.cell
    tensors = [getattr(module, f"{name}_l0{suffix}") for name in ("weight_ih", "weight_hh")]
    if module.bias:
        tensors += [getattr(module, f"{name}_l0{suffix}") for name in ("bias_ih", "bias_hh")]
    with torch.no_grad():
        kernel, recurrent_kernel, bias = from_torch_weights(cell.kind, *(t.detach() for t in tensors))
        cell.kernel.copy_(kernel)
        cell.recurrent_kernel.copy_(recurrent_kernel)
        if bias is not None:
            cell.bias.copy_(bias)


def _keras_class(name: str) -> Any:
    """Our class for a Keras class name. The layers import this module (their `to_torch`/`from_torch`), so
    it finds them through the registry rather than importing them."""
    cls = registry.class_for(name)
    if cls is None:
        raise RuntimeError(f"{name} is not registered: import kerasrnn_torch.layers.rnn first")
    return cls
