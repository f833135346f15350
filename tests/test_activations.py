"""Activation names resolve to Keras 3's functions, with Keras's numbers."""
import keras
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kerasrnn_torch import activations
from reference import numpy, sparsemax_reference

NAMES = sorted(activations._BY_NAME)


@pytest.mark.parametrize("name", NAMES)
def test_activation_equals_keras_on_same_input(name):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, 6, generator=generator) * 3.0
    x[0, 0, :3] = torch.tensor([-3.0, 0.0, 3.0])  # hard_sigmoid's and relu6's corners
    arguments = ARGUMENTS.get(name, {})
    ours = activations.get(name)(x, **arguments)
    theirs = keras.activations.get(name)(x, **arguments)
    if name == "sparsemax":     # Keras 3.15's threshold is wrong where the support has several values
        theirs = sparsemax_reference(numpy(x))
    np.testing.assert_allclose(numpy(ours), numpy(theirs), rtol=1e-5, atol=1e-6, err_msg=name)


# Keras's `threshold` has no defaults for its two parameters.
ARGUMENTS = {"threshold": {"threshold": 0.5, "default_value": -2.0}}


NEW_ACTIVATIONS = ["celu", "glu", "hard_shrink", "hard_tanh", "log_sigmoid", "soft_shrink", "sparse_plus",
                   "sparse_sigmoid", "sparsemax", "squareplus", "tanh_shrink", "threshold"]


@pytest.mark.parametrize("name", NEW_ACTIVATIONS)
def test_keras_s_newer_activations_are_module_functions(name):
    fn = getattr(activations, name)
    assert activations.get(name) is fn and activations.serialize(fn) == keras.activations.serialize(
        getattr(keras.activations, name))
    assert activations.deserialize(keras.activations.serialize(getattr(keras.activations, name))) is fn


@pytest.mark.parametrize("name, arguments", [("celu", {"alpha": 0.3}), ("glu", {"axis": 1}),
                                             ("hard_shrink", {"threshold": 1.5}), ("soft_shrink", {"threshold": 1.0}),
                                             ("squareplus", {"b": 0.5}), ("sparsemax", {"axis": 1}),
                                             ("threshold", {"threshold": -1.0, "default_value": 7.0})])
def test_the_activations_keyword_arguments_as_keras(name, arguments):
    x = torch.randn(3, 4, 6, generator=torch.Generator().manual_seed(1)) * 3.0
    ours = getattr(activations, name)(x, **arguments)
    theirs = sparsemax_reference(numpy(x), arguments["axis"]) if name == "sparsemax" else \
        getattr(keras.activations, name)(x, **arguments)
    np.testing.assert_allclose(numpy(ours), numpy(theirs), rtol=1e-5, atol=1e-6)


def test_sparsemax_is_a_projection_onto_the_simplex_and_keras_s_where_one_value_is_in_the_support():
    x = torch.randn(64, 7, generator=torch.Generator().manual_seed(2)) * 4
    out = activations.sparsemax(x)
    assert (out >= 0).all()
    np.testing.assert_allclose(numpy(out.sum(-1)), np.ones(64), rtol=1e-5)
    peaked = torch.tensor([[5.0, 1.0, 0.0], [0.0, 0.5, 3.0]])    # support of one: Keras 3.15 agrees
    np.testing.assert_allclose(numpy(activations.sparsemax(peaked)), numpy(keras.activations.sparsemax(peaked)))
    np.testing.assert_allclose(numpy(activations.sparsemax(torch.tensor([0.0, 0.5, 1.0]))), [0.0, 0.25, 0.75])
    assert not activations.is_elementwise(activations.sparsemax) and not activations.is_elementwise(activations.glu)
    assert activations.is_elementwise(activations.celu)


def test_glu_refuses_an_odd_axis():
    with pytest.raises(ValueError, match="even"):
        activations.glu(torch.zeros(2, 5))


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
