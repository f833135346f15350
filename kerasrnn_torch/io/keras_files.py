"""Keras files in: `load_keras_weights(module, path)` and `from_keras(path)`."""
from __future__ import annotations

from .._checks import weight_tensors
from ..layers.base import assign_weights, weight_labels
from .keras_config import model_from_config
from .keras_formats import LegacyWeights, keras_layers_of, open_saved, shapes_text


def load_keras_weights(module, path) -> None:
    """Load the weights of a Keras file into `module`'s layers: all of them, or none.

    Reads Keras 3 `.weights.h5` (`model.save_weights`), `.keras` archives
    (`model.save`) and legacy Keras 2 `.h5` files (h5py needed:
    `pip install 'kerasrnn_torch[keras-io]'`). `module` is a `kr.Sequential`,
    a single layer, or any `nn.Module` whose kerasrnn_torch layers appear
    in the saved model's order (torch modules without parameters, such as
    `nn.ReLU`, are passed over).

    Layers are matched by order and type. A `.keras` archive and a legacy
    `.h5` fix the order of every layer; a bare `.weights.h5` is matched as
    Keras matches it, by class: the n-th LSTM of the module takes the file's
    n-th LSTM. Every array's shape is checked before any weight changes; a
    difference in layers, counts or shapes raises a ValueError naming the
    layer, the file's entry and the shapes, and leaves the module untouched.

    >>> model = kr.Sequential([kr.Embedding(1000, 64), kr.LSTM(32), kr.Dense(10)])
    >>> model.build((None, 20))
    >>> kr.load_keras_weights(model, "keras_model.keras")
    """
    layers = keras_layers_of(module)
    unbuilt = [layer.owner for layer in layers if not layer.module.built]
    if unbuilt:
        raise ValueError(f"{', '.join(unbuilt)} has no weights yet, so Keras weights cannot be loaded into it: call "
                         "the module on an input first, give the first layer input_shape=..., or call "
                         "model.build((None, *input_shape))")
    with open_saved(path) as saved:
        arrays_per_layer = saved.arrays_for(layers)
        label = saved.label
    targets, tensors, problems = [], [], []
    for layer, arrays in zip(layers, arrays_per_layer):
        layer_targets = list(layer.module.weights)
        expected = shapes_text(layer_targets)
        if len(arrays) != len(layer_targets) or any(tuple(a.shape) != tuple(t.shape)
                                                    for a, t in zip(arrays, layer_targets)):
            problems.append(f"{layer.owner} expects weights with shapes {expected}, {label} holds "
                            f"{shapes_text(arrays)} for it")
            continue
        try:
            tensors.extend(weight_tensors(arrays, layer_targets, weight_labels(layer.module, layer_targets),
                                          f"{layer.owner} in {label}"))
        except TypeError as error:
            problems.append(str(error))
            continue
        targets.extend(layer_targets)
    if problems:
        raise ValueError(f"The Keras file {label} does not fit the module; no weight was changed:\n  "
                         + "\n  ".join(problems))
    assign_weights(targets, tensors)


def from_keras(path):
    """Build a `kr.Sequential` equal to the Keras model saved at `path`, with its weights.

    Reads a `.keras` archive (or a legacy `.h5` saved with the whole model),
    holding a Sequential model or a functional chain (one input, one output,
    each layer fed by the one before) of Embedding, Masking, SimpleRNN, LSTM,
    GRU, RNN over a built-in cell, Bidirectional, TimeDistributed, Dense and
    Dropout. Initializers are not carried (the weights come from the file);
    activations, regularizers and constraints are, when Keras names them.
    Anything else raises a ValueError naming the layer that has no
    counterpart here.

    >>> model = kr.from_keras("keras_model.keras")
    >>> model(torch.tensor([[4, 8, 15, 0, 0]]))
    """
    with open_saved(path) as saved:
        config = saved.config
        if config is None:
            kind = "a legacy .h5 file saved without its model" if isinstance(saved, LegacyWeights) else \
                "a .weights.h5 file (weights only)"
            raise ValueError(f"{path} is {kind}: it has no model configuration to build from. Build the model "
                             "with kerasrnn_torch layers and call kr.load_keras_weights(model, path)")
        model = model_from_config(config, str(path))
    load_keras_weights(model, path)
    return model

