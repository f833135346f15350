"""`kr.layers`: every layer class, as `keras.layers` holds them, with `Input`, `InputLayer`, `InputSpec` and `Layer`.

One subpackage per family (as in Keras 3's `keras/src/layers/`); this module's
`__all__` is the framework's four names followed by each family's `__all__`,
so a layer a family's `__init__.py` exports is in `kr.layers` (and `kr`) with no
edit here.
"""
from ..core.config import deserialize_layer, serialize_layer
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
from . import preprocessing as _preprocessing
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
from .preprocessing import *  # noqa: F401,F403
from .reshaping import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403

# Input, InputLayer, InputSpec and Layer, then the layer classes family by family (each family's __init__.py says
# which), in the order kr.__all__ lists them (written as a list of `*family.__all__`, which type checkers follow).
__all__ = ["Input", "InputLayer", "InputSpec", "Layer", *_core.__all__, *_activations.__all__, *_rnn.__all__,
           *_convolutional.__all__, *_merging.__all__, *_reshaping.__all__, *_pooling.__all__,
           *_normalization.__all__, *_attention.__all__, *_preprocessing.__all__]

# Keras's other names of some layer classes (`keras.layers.Convolution1D is keras.layers.Conv1D`): the same
# classes, so a layer made under either name is the same layer and is saved under the class's own name. They are
# attributes of kr.layers only, as in Keras (not in __all__, so `kr.__all__` lists each class once).
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
MaxPool3D = MaxPooling3D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
AvgPool3D = AveragePooling3D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalMaxPool3D = GlobalMaxPooling3D


def serialize(layer: Layer) -> dict:
    """Keras's serialized form of a layer, as `keras.layers.serialize`: `{"module", "class_name", "config",
    "registered_name"}` (what a Keras file holds for it)."""
    return serialize_layer(layer)


def deserialize(config: dict, custom_objects: dict | None = None) -> Layer:
    """The layer `serialize`'s dictionary (or Keras's `keras.layers.serialize`) describes, as
    `keras.layers.deserialize`; `custom_objects` names a user's own classes."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"layers.deserialize: expected a serialized layer (a dict with 'class_name' and 'config'), "
                         f"got {config!r}")
    layer: Layer = deserialize_layer(config, "layers.deserialize", custom_objects)
    return layer
