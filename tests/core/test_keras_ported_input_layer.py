"""Keras 3.15's keras/src/layers/core/input_layer_test.py, ported to kr's names.

Keras's dtype strings are torch dtypes here ("float32" -> torch.float32); Keras's free-standing
`KerasTensor(shape, dtype)` is a `kr.Input(batch_shape=...)` (kr makes symbolic tensors only through
`kr.Input` and layer calls). Each case keeps Keras's arguments and its error messages; where Keras's
behaviour depends on the backend, the torch backend's is the one expected (checked against Keras).
"""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from kerasrnn_torch.core.symbolic import KerasTensor


@pytest.mark.parametrize("sparse,ragged", [(False, False), (True, False), (False, True)],
                         ids=["dense", "sparse", "ragged"])
def test_input_basic(sparse, ragged):
    input_shape, batch_size = (2, 3), 4
    ndim = len((batch_size, *input_shape))
    init_kwargs = {"shape": input_shape, "batch_size": batch_size, "dtype": "float32", "sparse": sparse,
                   "ragged": ragged}
    if sparse or ragged:
        flag = "sparse" if sparse else "ragged"
        # Keras's torch backend supports neither: both refuse the flag.
        with pytest.raises(ValueError, match=f"`{flag}=True` is not supported"):
            keras.layers.InputLayer(**init_kwargs)
        with pytest.raises(ValueError, match=f"`{flag}=True` is not supported"):
            kr.InputLayer(**init_kwargs)
        return
    values = kr.InputLayer(**init_kwargs)
    assert values.dtype == torch.float32
    assert values.batch_shape[0] == batch_size
    assert values.batch_shape[1:] == input_shape
    assert values.sparse is sparse and values.ragged is ragged
    assert values.trainable is True
    assert isinstance(values.output, KerasTensor)
    assert values.output.ndim == ndim
    assert values.output.dtype == torch.float32


def test_input_error1():
    with pytest.raises(ValueError, match="cannot pass both `shape` and `batch_shape`"):
        kr.InputLayer(shape=(2, 3), batch_shape=(2, 3))


def test_input_error2():
    with pytest.raises(ValueError, match="cannot pass both `batch_size` and `batch_shape`"):
        kr.InputLayer(batch_size=4, batch_shape=(2, 3))


def test_input_error3():
    with pytest.raises(ValueError, match="pass a `shape` argument."):
        kr.InputLayer(shape=None, batch_shape=None)


def test_input_tensor_error():
    with pytest.raises(ValueError, match="Argument `input_tensor` must be a KerasTensor"):
        kr.InputLayer(shape=(2, 3), batch_size=4, input_tensor=np.zeros((2, 3)))


def test_input_tensor():
    input_tensor = kr.Input(batch_shape=(2, 3), dtype="float32")
    layer = kr.InputLayer(input_tensor=input_tensor)
    assert layer.dtype == torch.float32
    assert layer.batch_shape == (2, 3)
    assert layer.trainable is True
    assert isinstance(layer.output, KerasTensor)
    assert layer.output is input_tensor
    assert layer.output.ndim == input_tensor.ndim
    assert layer.output.dtype == torch.float32


def test_input_shape_deprecated():
    with pytest.warns(UserWarning, match="Argument `input_shape` is deprecated. Use `shape` instead."):
        layer = kr.InputLayer(input_shape=(2, 3), batch_size=4, dtype="float32")
    assert layer.batch_shape[0] == 4
    assert layer.batch_shape[1:] == (2, 3)
    assert layer.dtype == torch.float32
    assert isinstance(layer.output, KerasTensor)


def test_call_method():
    layer = kr.InputLayer(shape=(32,))
    assert layer.call() is None


def test_numpy_shape():
    # non-Python int sizes are fine
    layer = kr.InputLayer(shape=(np.int64(32),))
    assert layer.batch_shape == (None, 32)


def test_invalid_arg_combinations():
    input_tensor = kr.Input(batch_shape=(2, 3), dtype="float32")
    with pytest.raises(ValueError, match="cannot provide an incompatible `shape`"):
        kr.InputLayer(shape=(2, 4), input_tensor=input_tensor)
    with pytest.raises(ValueError, match="cannot provide an incompatible `batch_shape`"):
        kr.InputLayer(batch_shape=(2, 4), input_tensor=input_tensor)
    with pytest.raises(ValueError, match="cannot provide an incompatible `batch_size`"):
        kr.InputLayer(batch_size=5, input_tensor=input_tensor)
    with pytest.raises(ValueError, match="cannot provide an incompatible `dtype`"):
        kr.InputLayer(dtype="float16", input_tensor=input_tensor)
    with pytest.raises(ValueError, match="cannot provide an incompatible `sparse`"):
        kr.InputLayer(sparse=True, input_tensor=input_tensor)
    # This works
    layer = kr.InputLayer(shape=(3,), batch_size=2, sparse=False, dtype="float32", input_tensor=input_tensor)
    assert layer.output is input_tensor


def test_optional_input_is_in_the_config():
    """`Input(optional=True)`, as Keras: the InputLayer's config says so and survives a round trip."""
    layer = kr.InputLayer(shape=(2,), optional=True, name="maybe")
    theirs = keras.layers.InputLayer(shape=(2,), optional=True, name="maybe")
    assert layer.get_config()["optional"] is theirs.get_config()["optional"] is True
    assert kr.InputLayer.from_config(layer.get_config()).optional is True
