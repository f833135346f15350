"""kerasrnn_torch: Keras's recurrent layers as PyTorch modules, with Keras's numbers and PyTorch's speed."""
from . import activations, constraints, initializers, regularizers

# The framework (kerasrnn_torch/core/): the layer base class and the functional API's inputs.
from .core.input_layer import InputLayer
from .core.layer import Layer
from .core.symbolic import Input, KerasTensor

# Core layers (layers/core/).
from .layers.core import Dense, Dropout, Embedding, Lambda, Masking
# Activation layers (layers/activations/).
from .layers.activations import Activation
# Recurrent layers, their cells and wrappers (layers/rnn/), and the engine's path switch.
from .layers.rnn import (GRU, LSTM, RNN, Bidirectional, ConvLSTM1D, ConvLSTM2D, ConvLSTM3D, ConvLSTMCell, GRUCell,
                         LSTMCell, SimpleRNN, SimpleRNNCell, StackedRNNCells, TimeDistributed)
from .layers.rnn.engine.dispatch import force_path
# Convolution layers (layers/convolutional/).
from .layers.convolutional import Conv1D
# Merging layers (layers/merging/).
from .layers.merging import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract
# Reshaping layers (layers/reshaping/).
from .layers.reshaping import Flatten, Permute, RepeatVector, Reshape
# Pooling layers (layers/pooling/).
from .layers.pooling import GlobalAveragePooling1D, GlobalMaxPooling1D, MaxPooling1D
# Normalization layers (layers/normalization/).
from .layers.normalization import BatchNormalization, LayerNormalization
# Attention layers (layers/attention/).
from .layers.attention import AdditiveAttention, Attention, MultiHeadAttention

# Models (models/).
from .models.functional import Model
from .models.regularization import apply_constraints, regularization_loss
from .models.sequential import Sequential
from .models.summary import summary

# Keras files (io/).
from .io.keras_files import from_keras, load_keras_weights
from .io.keras_save import save_keras, save_keras_weights
from .io.weight_matching import LoadReport

__version__ = "0.2.0.dev0"

__all__ = [
    # Modules of functions and objects.
    "activations", "constraints", "initializers", "regularizers",
    # The framework.
    "Input", "InputLayer", "KerasTensor", "Layer",
    # Core layers.
    "Dense", "Dropout", "Embedding", "Lambda", "Masking",
    # Activation layers.
    "Activation",
    # Recurrent layers.
    "GRU", "LSTM", "RNN", "Bidirectional", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "ConvLSTMCell", "GRUCell",
    "LSTMCell", "SimpleRNN", "SimpleRNNCell", "StackedRNNCells", "TimeDistributed", "force_path",
    # Convolution layers.
    "Conv1D",
    # Merging layers.
    "Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply", "Subtract",
    # Reshaping layers.
    "Flatten", "Permute", "RepeatVector", "Reshape",
    # Pooling layers.
    "GlobalAveragePooling1D", "GlobalMaxPooling1D", "MaxPooling1D",
    # Normalization layers.
    "BatchNormalization", "LayerNormalization",
    # Attention layers.
    "AdditiveAttention", "Attention", "MultiHeadAttention",
    # Models.
    "Model", "Sequential", "apply_constraints", "regularization_loss", "summary",
    # Keras files.
    "LoadReport", "from_keras", "load_keras_weights", "save_keras", "save_keras_weights",
]

# Last: kr.testing reads the names above.
from . import testing  # noqa: E402

__all__ += ["testing"]

# Keras's training workflow: model.compile/fit/evaluate/predict (models/training/) use these.
from . import callbacks, losses, metrics  # noqa: E402

__all__ += ["callbacks", "losses", "metrics"]
