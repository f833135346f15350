"""kerasrnn_torch: Keras's recurrent layers as PyTorch modules, with Keras's numbers and PyTorch's speed."""
from . import activations, constraints, initializers, regularizers

# The framework (kerasrnn_torch/core/): the layer base class and the functional API's inputs.
from .core.input_layer import InputLayer
from .core.layer import Layer
from .core.input_layer import Input
from .core.input_spec import InputSpec
from .core.symbolic import KerasTensor

# The layers, by family (layers/<family>/): each family's __all__ is exported as it is, so a new
# layer is a top-level name (and in kr.layers) once its family's __init__.py exports it. The families
# are star-imported one by one (not `from .layers import *`) so that type checkers see the names.
from . import layers
from .layers.activations import *  # noqa: F401,F403
from .layers.attention import *  # noqa: F401,F403
from .layers.convolutional import *  # noqa: F401,F403
from .layers.core import *  # noqa: F401,F403
from .layers.merging import *  # noqa: F401,F403
from .layers.normalization import *  # noqa: F401,F403
from .layers.pooling import *  # noqa: F401,F403
from .layers.preprocessing import *  # noqa: F401,F403
from .layers.reshaping import *  # noqa: F401,F403
from .layers.rnn import *  # noqa: F401,F403
# The engine's path switch (layers/rnn/engine/).
from .layers.rnn.engine.dispatch import force_path

# Models (models/).
from .models.functional import Model
from .models.regularization import apply_constraints, regularization_loss
from .models.sequential import Sequential
from .models.summary import summary
from . import models

# Keras files (io/).
from .io.keras_files import from_keras, load_keras_weights
from .io.keras_save import save_keras, save_keras_weights
from .io.weight_matching import LoadReport

from . import saving, utils  # noqa: E402
from ._version import __version__  # noqa: E402

__all__ = [
    # Modules of functions and objects.
    "activations", "constraints", "initializers", "regularizers",
    # The framework and the layers: kr.layers's names (Input, InputLayer, InputSpec, Layer, then each family's __all__).
    "KerasTensor", *layers.__all__,
    # The engine's path switch.
    "force_path",
    # Models.
    "Model", "Sequential", "apply_constraints", "regularization_loss", "summary",
    # Keras files.
    "LoadReport", "from_keras", "load_keras_weights", "save_keras", "save_keras_weights",
    # Keras's namespaces: kr.layers, kr.models, kr.saving, kr.utils (as keras.layers, ...).
    "layers", "models", "saving", "utils",
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

# kr.random: Keras's random draws (a model's own train_step draws its noise with them).
from . import random  # noqa: E402

__all__ += ["random"]

# kr.ops: Keras 3's keras.ops functions, on tensors and recorded in functional graphs.
from . import ops  # noqa: E402

__all__ += ["ops"]
