"""Activation and Lambda layers against Keras 3: values, gradients, masks, configs, errors."""
import warnings

import keras
import pytest
import torch
from keras.src import backend as keras_backend

import kerasrnn_torch as kr
from reference import GRAD_ATOL, OUTPUT_ATOL, assert_close, weighted_sum

MASK = torch.tensor([[True, True, False], [True, False, False]])


def run_both(ours, theirs, x, mask=None, call_kwargs=None):
    mine, ref = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    if mask is not None:
        keras_backend.set_keras_mask(ref, mask)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*destroy the mask", category=UserWarning)
        out_theirs = theirs(ref)
    out_ours = ours(mine, **(call_kwargs or {}))
    assert_close(out_ours, out_theirs, OUTPUT_ATOL, "output")
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    assert_close(mine.grad, ref.grad, GRAD_ATOL, "d/d inputs")
    return mine, out_ours, keras_backend.get_keras_mask(out_theirs)


# --------------------------------------------------------------- Activation
NAMES = [None, "relu", "tanh", "sigmoid", "softmax", "gelu", "swish", "leaky_relu", "hard_sigmoid", "elu"]


@pytest.mark.parametrize("activation", NAMES, ids=str)
def test_activation_matches_keras_and_passes_the_mask_on(activation):
    ours, theirs = kr.Activation(activation), keras.layers.Activation(activation)
    mine, _, their_mask = run_both(ours, theirs, torch.randn(2, 3, 4), MASK)
    assert torch.equal(their_mask, MASK) and ours.compute_mask(mine, MASK) is MASK
    assert ours.get_weights() == [] and ours.supports_masking


@pytest.mark.parametrize("activation", NAMES + ["hard_swish", "silu", "linear"], ids=str)
def test_activation_config_matches_keras_and_round_trips(activation):
    ours = kr.Activation(activation, name="act")
    expected = keras.layers.Activation(activation, name="act").get_config()
    assert ours.get_config() == expected
    assert kr.Activation.from_config(expected).get_config() == expected
    assert kr.Activation.from_config(ours.get_config()).get_config() == expected


def test_activation_config_names_torch_functions_keras_knows():
    # Keras serializes torch.tanh as an opaque builtins record; we give the Keras name it stands for.
    assert kr.Activation(torch.tanh).get_config()["activation"] == "tanh"
    assert kr.Activation(torch.relu).get_config()["activation"] == "relu"


def test_activation_config_keeps_an_unnamed_callable_itself():
    def double(x):
        return 2 * x
    config = kr.Activation(double).get_config()
    assert config["activation"] is double and set(config) == set(keras.layers.Activation(double).get_config())
    assert torch.equal(kr.Activation.from_config(config)(torch.ones(2)), torch.full((2,), 2.0))


# ------------------------------------------------------------------- Lambda
def scaled_square(x, scale=1.0):
    return scale * x ** 2


def test_lambda_matches_keras_with_arguments():
    kwargs = {"function": scaled_square, "arguments": {"scale": 3.0}}
    ours, theirs = kr.Lambda(**kwargs), keras.layers.Lambda(**kwargs)
    mine, _, their_mask = run_both(ours, theirs, torch.randn(2, 3, 4), MASK)
    # mask=None: Keras's Lambda does not support masking, so the mask stops there.
    assert their_mask is None and ours.compute_mask(mine, MASK) is None and not ours.supports_masking


def test_lambda_callable_mask_computes_the_output_mask_as_keras():
    kwargs = {"function": lambda x: x[:, :2], "mask": lambda inputs, mask: mask[:, :2]}
    ours, theirs = kr.Lambda(**kwargs), keras.layers.Lambda(**kwargs)
    mine, _, their_mask = run_both(ours, theirs, torch.randn(2, 3, 4), MASK)
    assert ours.supports_masking and torch.equal(ours.compute_mask(mine, MASK), their_mask)
    assert torch.equal(their_mask, MASK[:, :2])


def test_lambda_fixed_mask_is_returned_whatever_the_input():
    fixed = torch.tensor([[True, False, True], [False, True, True]])
    ours, theirs = kr.Lambda(lambda x: -x, mask=fixed), keras.layers.Lambda(lambda x: -x, mask=fixed)
    x = torch.randn(2, 3, 4)
    assert ours.compute_mask(x, MASK) is fixed and theirs.compute_mask(x, MASK) is fixed


def test_lambda_passes_the_mask_and_training_to_functions_that_take_them():
    def zero_padded(x, mask=None, training=None):
        out = x * mask.unsqueeze(-1) if mask is not None else x
        return out * 2 if training else out
    ours, theirs = kr.Lambda(zero_padded), keras.layers.Lambda(zero_padded)
    x = torch.randn(2, 3, 4)
    run_both(ours, theirs, x, MASK, {"mask": MASK, "training": False})
    assert torch.equal(ours(x, mask=MASK, training=True), 2 * ours(x, mask=MASK, training=False))
    assert torch.equal(ours.eval()(x, mask=MASK), ours(x, mask=MASK, training=False))


def test_lambda_on_a_list_of_tensors_matches_keras():
    a, b = torch.randn(2, 3), torch.randn(2, 3)
    function = lambda tensors: tensors[0] * tensors[1] + 1.0  # noqa: E731
    assert_close(kr.Lambda(function)([a, b]), keras.layers.Lambda(function)([a, b]), 0.0, "list input")


def test_lambda_accepts_builtin_functions_keras_cannot_inspect():
    x = torch.randn(2, 3)
    assert torch.equal(kr.Lambda(torch.neg)(x), -x)


def test_lambda_in_a_sequential_drops_or_keeps_the_mask_as_keras():
    tokens = torch.tensor([[3, 1, 0, 0]])
    plain = kr.Sequential([kr.Embedding(5, 2, mask_zero=True), kr.Lambda(torch.tanh)])
    keeping = kr.Sequential([kr.Embedding(5, 2, mask_zero=True), kr.Lambda(torch.tanh, mask=lambda x, m: m)])
    assert plain.compute_mask(tokens) is None
    assert keeping.compute_mask(tokens).tolist() == [[True, True, False, False]]


@pytest.mark.parametrize("kwargs", [{}, {"output_shape": (3,)}, {"arguments": {"scale": 2.0}},
                                    {"output_shape": (3,), "mask": lambda x, m: m, "arguments": {"scale": 2.0}}],
                         ids=["plain", "output_shape", "arguments", "everything"])
def test_lambda_config_has_keras_keys_and_round_trips_in_process(kwargs):
    ours = kr.Lambda(scaled_square, name="fn", **kwargs)
    theirs = keras.layers.Lambda(scaled_square, name="fn", **kwargs).get_config()
    config = ours.get_config()
    assert set(config) == set(theirs)
    assert {k: v for k, v in config.items() if k not in ("function", "mask")} == \
        {k: v for k, v in theirs.items() if k not in ("function", "mask")}
    assert config["function"] is scaled_square and config.get("mask") is kwargs.get("mask")
    again = kr.Lambda.from_config(config)
    assert again.get_config() == config
    x = torch.randn(2, 3)
    assert torch.equal(again(x), ours(x))


ERRORS = [
    (kr.Activation, {"activation": "nope"}, None, ValueError, r"Unknown activation 'nope'"),
    (kr.Activation, {"activation": 3}, None, TypeError, r"An activation must be a Keras name, None or a callable"),
    (kr.Activation, {"activation": "relu"}, ["a", "b"], TypeError, r"Activation 'activation\w*' expects a tensor, "
                                                                    r"got list"),
    (kr.Lambda, {"function": "x ** 2"}, None, TypeError, r"Lambda 'lambda\w*': `function` must be callable, got str"),
    (kr.Lambda, {"function": torch.neg, "arguments": [1]}, None, TypeError, r"`arguments` must be a dict"),
    (kr.Lambda, {"function": torch.neg}, 3.0, TypeError, r"expects a tensor or a list of tensors, got float"),
]


@pytest.mark.parametrize("cls, kwargs, x, error, pattern", ERRORS, ids=[row[-1][:40] for row in ERRORS])
def test_rejects_bad_arguments_and_inputs(cls, kwargs, x, error, pattern):
    with pytest.raises(error, match=pattern):
        cls(**kwargs)(x)
