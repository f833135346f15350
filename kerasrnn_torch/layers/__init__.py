"""`kr.layers`: every layer class, as `keras.layers` holds them, with `Input`, `InputLayer`, `InputSpec` and `Layer`.

One subpackage per family (as in Keras 3's `keras/src/layers/`); this module's
`__all__` is the framework's four names followed by each family's `__all__`,
so a layer a family's `__init__.py` exports is in `kr.layers` (and `kr`) with no
edit here.
"""
from ..core.input_layer import Input, InputLayer
from ..core.input_spec import InputSpec
from ..core.layer import Layer
from . import activations as _activations
from . import attention as _attention
from . import convolutional as _convolutional
from . import core as _core
from . import merging as _merging
from . import normalization as _normalization
from . import pooling as _pooling
from . import reshaping as _reshaping
from . import rnn as _rnn
from .activations import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .convolutional import *  # noqa: F401,F403
from .core import *  # noqa: F401,F403
from .merging import *  # noqa: F401,F403
# Keras's functional forms of the merge layers (`layers.concatenate([a, b])`), here only, not top-level.
from .merging.functions import add, average, concatenate, dot, maximum, minimum, multiply, subtract  # noqa: F401
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .reshaping import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403

# Input, InputLayer, InputSpec and Layer, then the layer classes family by family (each family's __init__.py says
# which), in the order kr.__all__ lists them (written as a list of `*family.__all__`, which type checkers follow).
__all__ = ["Input", "InputLayer", "InputSpec", "Layer", *_core.__all__, *_activations.__all__, *_rnn.__all__,
           *_convolutional.__all__, *_merging.__all__, *_reshaping.__all__, *_pooling.__all__,
           *_normalization.__all__, *_attention.__all__]
