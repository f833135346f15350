"""kr.layers.add/subtract/.../concatenate/dot: Keras's functional forms of the merge layers."""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr

NAMES = ["add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"]


@pytest.mark.parametrize("name", NAMES)
def test_functional_form_equals_keras_on_tensors_and_in_models(name):
    a, b = np.random.rand(2, 3, 4).astype("float32"), np.random.rand(2, 3, 4).astype("float32")
    kwargs = {"axes": 2} if name == "dot" else {}
    expected = keras.ops.convert_to_numpy(getattr(keras.layers, name)([a, b], **kwargs))
    got = getattr(kr.layers, name)([torch.from_numpy(a), torch.from_numpy(b)], **kwargs)
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-6)
    x, y = kr.Input((3, 4)), kr.Input((3, 4))
    model = kr.Model([x, y], getattr(kr.layers, name)([x, y], **kwargs))
    np.testing.assert_allclose(model.predict([a, b], verbose=0), expected, atol=1e-6)


def test_concatenate_takes_axis_and_name():
    x, y = kr.Input((3, 4)), kr.Input((5, 4))
    out = kr.layers.concatenate([x, y], axis=1, name="joined")
    model = kr.Model([x, y], out)
    assert model.get_layer("joined").axis == 1 and tuple(out.shape) == (None, 8, 4)
