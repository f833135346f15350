"""kerasrnn_torch: Keras's recurrent layers as PyTorch modules, with Keras's numbers and PyTorch's speed."""
from . import activations, constraints, initializers, regularizers
from .engine.dispatch import force_path
from .io.keras_files import from_keras, load_keras_weights
from .io.keras_save import save_keras, save_keras_weights
from .io.weight_matching import LoadReport
from .layers.attention import Attention
from .layers.base import Layer
from .layers.bidirectional import Bidirectional
from .layers.core import Dense, Dropout
from .layers.embedding import Embedding
from .layers.gru import GRU, GRUCell
from .layers.input_layer import InputLayer
from .layers.lstm import LSTM, LSTMCell
from .layers.masking import Masking
from .layers.rnn import RNN
from .layers.simple_rnn import SimpleRNN, SimpleRNNCell
from .layers.stacked_cells import StackedRNNCells
from .layers.symbolic import Input, KerasTensor
from .layers.time_distributed import TimeDistributed
from .models.functional import Model
from .models.sequential import Sequential
from .models.summary import summary
from .models.regularization import apply_constraints, regularization_loss

# Merging, reshaping, pooling and function layers.
from .layers.activation import Activation
from .layers.lambda_layer import Lambda
from .layers.merging import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract
from .layers.pooling import GlobalAveragePooling1D, GlobalMaxPooling1D, MaxPooling1D
from .layers.reshaping import Flatten, Permute, RepeatVector, Reshape
# Normalization, convolution and attention layers.
from .layers.attention import AdditiveAttention
from .layers.convolutional import Conv1D
from .layers.multi_head_attention import MultiHeadAttention
from .layers.normalization import BatchNormalization, LayerNormalization
# Convolutional recurrent layers.
from .layers.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D, ConvLSTMCell

__version__ = "0.2.0.dev0"

__all__ = [
    "GRU", "LSTM", "RNN", "Attention", "Bidirectional", "Dense", "Dropout", "Embedding", "GRUCell", "LSTMCell",
    "Layer", "Masking", "Sequential", "SimpleRNN", "SimpleRNNCell", "StackedRNNCells", "TimeDistributed",
    "activations", "apply_constraints", "constraints", "force_path", "initializers", "regularization_loss",
    "regularizers", "summary",
    "from_keras", "load_keras_weights", "LoadReport", "save_keras", "save_keras_weights",
    "Input", "InputLayer", "KerasTensor", "Model",
]

__all__ += [
    "Activation", "Add", "Average", "Concatenate", "Dot", "Flatten", "GlobalAveragePooling1D", "GlobalMaxPooling1D",
    "Lambda", "MaxPooling1D", "Maximum", "Minimum", "Multiply", "Permute", "RepeatVector", "Reshape", "Subtract",
]

__all__ += [
    "AdditiveAttention", "BatchNormalization", "Conv1D", "LayerNormalization", "MultiHeadAttention",
]

__all__ += ["ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "ConvLSTMCell"]

# Last: kr.testing reads the names above.
from . import testing  # noqa: E402

__all__ += ["testing"]
