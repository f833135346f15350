"""kerasrnn_torch: Keras's recurrent layers as PyTorch modules, with Keras's numbers and PyTorch's speed."""
from . import activations, constraints, initializers, regularizers

# The framework (kerasrnn_torch/core/): the layer base class and the functional API's inputs.
from .core.input_layer import InputLayer
from .core.layer import Layer
from .core.input_layer import Input
from .core.symbolic import KerasTensor

# The layers, by family (layers/<family>/): each family's __all__ is exported as it is, so a new
# layer is a top-level name once its family's __init__.py exports it.
from .layers import activations as _activation_layers
from .layers import attention as _attention_layers
from .layers import convolutional as _convolutional_layers
from .layers import core as _core_layers
from .layers import merging as _merging_layers
from .layers import normalization as _normalization_layers
from .layers import pooling as _pooling_layers
from .layers import reshaping as _reshaping_layers
from .layers import rnn as _rnn_layers
from .layers.activations import *  # noqa: F401,F403
from .layers.attention import *  # noqa: F401,F403
from .layers.convolutional import *  # noqa: F401,F403
from .layers.core import *  # noqa: F401,F403
from .layers.merging import *  # noqa: F401,F403
from .layers.normalization import *  # noqa: F401,F403
from .layers.pooling import *  # noqa: F401,F403
from .layers.reshaping import *  # noqa: F401,F403
from .layers.rnn import *  # noqa: F401,F403
# The engine's path switch (layers/rnn/engine/).
from .layers.rnn.engine.dispatch import force_path

# Models (models/).
from .models.functional import Model
from .models.regularization import apply_constraints, regularization_loss
from .models.sequential import Sequential
from .models.summary import summary

# Keras files (io/).
from .io.keras_files import from_keras, load_keras_weights
from .io.keras_save import save_keras, save_keras_weights
from .io.weight_matching import LoadReport

from ._version import __version__  # noqa: E402

__all__ = [
    # Modules of functions and objects.
    "activations", "constraints", "initializers", "regularizers",
    # The framework.
    "Input", "InputLayer", "KerasTensor", "Layer",
    # The layers, family by family (each family's __init__.py says which).
    *_core_layers.__all__, *_activation_layers.__all__, *_rnn_layers.__all__, *_convolutional_layers.__all__,
    *_merging_layers.__all__, *_reshaping_layers.__all__, *_pooling_layers.__all__,
    *_normalization_layers.__all__, *_attention_layers.__all__,
    # The engine's path switch.
    "force_path",
    # Models.
    "Model", "Sequential", "apply_constraints", "regularization_loss", "summary",
    # Keras files.
    "LoadReport", "from_keras", "load_keras_weights", "save_keras", "save_keras_weights",
]

# Last: kr.testing reads the names above.
from . import testing  # noqa: E402

__all__ += ["testing"]

# kr.optimizers: Keras 3 optimizers for compile/fit and plain torch loops.
from . import optimizers  # noqa: E402

__all__ += ["optimizers"]

# Keras's training workflow: model.compile/fit/evaluate/predict (models/training/) use these.
from . import callbacks, losses, metrics  # noqa: E402

__all__ += ["callbacks", "losses", "metrics"]

# kr.ops: Keras 3's keras.ops functions, on tensors and recorded in functional graphs.
from . import ops  # noqa: E402

__all__ += ["ops"]
