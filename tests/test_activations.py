"""Activation names resolve to Keras 3's functions, with Keras's numbers."""
import keras
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kerasrnn_torch import activations
from reference import numpy

NAMES = sorted(activations._BY_NAME)


@pytest.mark.parametrize("name", NAMES)
def test_activation_equals_keras_on_same_input(name):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, 6, generator=generator) * 3.0
    x[0, 0, :3] = torch.tensor([-3.0, 0.0, 3.0])  # hard_sigmoid's and relu6's corners
    ours = activations.get(name)(x)
    theirs = keras.activations.get(name)(x)
    np.testing.assert_allclose(numpy(ours), numpy(theirs), rtol=1e-5, atol=1e-6, err_msg=name)


def test_hard_sigmoid_is_keras_3_relu6_form_not_keras_2_linear_form():
    x = torch.tensor([-4.0, -2.5, 0.0, 1.0, 2.5, 4.0])
    expected = torch.tensor([0.0, 1 / 12, 0.5, 4 / 6, 11 / 12, 1.0])
    torch.testing.assert_close(activations.get("hard_sigmoid")(x), expected)


def test_none_is_linear_and_callables_pass_through():
    x = torch.randn(5)
    assert torch.equal(activations.get(None)(x), x)
    assert activations.get(torch.tanh) is torch.tanh


def test_unknown_name_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"Unknown activation 'tanhh'.*hard_sigmoid.*tanh"):
        activations.get("tanhh")


def test_not_callable_is_refused():
    with pytest.raises(TypeError, match="activation must be.*got 3"):
        activations.get(3)


@pytest.mark.parametrize("fn, name", [(torch.tanh, "tanh"), (F.tanh, "tanh"), (torch.sigmoid, "sigmoid"),
                                      (F.relu, "relu"), (activations.get("tanh"), "tanh"),
                                      (activations.get("swish"), "silu")],
                         ids=["torch.tanh", "F.tanh", "torch.sigmoid", "F.relu", "by_name", "alias"])
def test_canonical_name_recognises_well_known_callables(fn, name):
    assert activations.canonical_name(fn) == name


def test_canonical_name_of_unknown_callable_is_none():
    assert activations.canonical_name(lambda x: torch.tanh(x)) is None
