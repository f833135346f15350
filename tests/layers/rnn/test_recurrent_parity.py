"""SimpleRNN, LSTM and GRU against Keras 3 (torch backend), on both paths.

Every case copies Keras's randomized weights into our layer, runs the same
inputs (and mask and initial state), and compares outputs, states and the
gradients with respect to the inputs and every weight.
"""
import keras
import pytest
import torch

import kerasrnn_torch as kr
from reference import GRAD_ATOL, OUTPUT_ATOL, as_list, assert_close, masks_by_name, random_weights, weighted_sum

BATCH, TIMESTEPS, FEATURES, UNITS = 3, 5, 4, 6
LAYERS = {"SimpleRNN": (kr.SimpleRNN, keras.layers.SimpleRNN, 1),
          "LSTM": (kr.LSTM, keras.layers.LSTM, 2),
          "GRU": (kr.GRU, keras.layers.GRU, 1)}
PATHS = ("auto", "loop")


def compare_with_keras(name, kwargs, *, mask=None, with_initial_state=False, path="auto", x=None):
    ours_cls, keras_cls, state_count = LAYERS[name]
    x = torch.randn(BATCH, TIMESTEPS, FEATURES) if x is None else x
    keras_layer = keras_cls(UNITS, **kwargs)
    keras_layer.build((BATCH, TIMESTEPS, FEATURES))
    random_weights(keras_layer)
    ours = ours_cls(UNITS, **kwargs)
    ours.build((None, TIMESTEPS, FEATURES))
    ours.set_weights(keras_layer.get_weights())
    initial = [torch.randn(BATCH, UNITS) for _ in range(state_count)] if with_initial_state else None

    x_ours = x.clone().requires_grad_(True)
    x_keras = x.clone().requires_grad_(True)
    with kr.force_path(path):
        ours_out = as_list(ours(x_ours, mask=mask, initial_state=initial))
    keras_out = as_list(keras_layer(x_keras, mask=mask, initial_state=initial, training=False))
    assert len(ours_out) == len(keras_out)
    for i, (a, b) in enumerate(zip(ours_out, keras_out)):
        assert_close(a, b, OUTPUT_ATOL, f"output {i}")

    weighted_sum(ours_out).backward()
    weighted_sum(keras_out).backward()
    assert_close(x_ours.grad, x_keras.grad, GRAD_ATOL, "d/d inputs")
    for i, (mine, theirs) in enumerate(zip(ours.parameters(), keras_layer.weights)):
        assert_close(mine.grad, theirs.value.grad, GRAD_ATOL, f"d/d weight {i} ({theirs.path})")
    return ours


OPTION_SETS = {
    "default": {},
    "sequences": {"return_sequences": True},
    "state": {"return_state": True},
    "sequences_state": {"return_sequences": True, "return_state": True},
    "backwards": {"go_backwards": True},
    "backwards_sequences_state": {"go_backwards": True, "return_sequences": True, "return_state": True},
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("options", OPTION_SETS, ids=str)
@pytest.mark.parametrize("name", LAYERS)
def test_matches_keras_without_mask(name, options, path):
    layer = compare_with_keras(name, OPTION_SETS[options], path=path)
    assert layer.last_path == ("fused" if path == "auto" else "loop")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("pattern", ["right_padded", "left_padded", "holes", "fully_masked_row", "all_true"])
@pytest.mark.parametrize("options", ["sequences_state", "backwards_sequences_state", "default"])
@pytest.mark.parametrize("name", LAYERS)
def test_matches_keras_with_mask(name, options, pattern, path):
    mask = masks_by_name(BATCH, TIMESTEPS)[pattern]
    layer = compare_with_keras(name, OPTION_SETS[options], mask=mask, path=path)
    assert layer.last_path == ("fused" if path == "auto" else "loop")     # any mask pattern runs fused


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("masked", [False, True], ids=["no_mask", "right_padded"])
@pytest.mark.parametrize("name", LAYERS)
def test_matches_keras_with_initial_state(name, masked, path):
    mask = masks_by_name(BATCH, TIMESTEPS)["fully_masked_row"] if masked else None
    compare_with_keras(name, {"return_sequences": True, "return_state": True}, mask=mask,
                       with_initial_state=True, path=path)


OTHER_OPTIONS = {
    "relu": {"activation": "relu", "return_sequences": True},
    "hard_sigmoid_gates": {"recurrent_activation": "hard_sigmoid", "return_sequences": True},
    "no_bias": {"use_bias": False, "return_state": True},
    "unroll": {"unroll": True, "return_sequences": True},
    "linear_backwards": {"activation": None, "go_backwards": True, "return_sequences": True},
}


@pytest.mark.parametrize("masked", [False, True], ids=["no_mask", "holes"])
@pytest.mark.parametrize("options", OTHER_OPTIONS, ids=str)
@pytest.mark.parametrize("name", LAYERS)
def test_matches_keras_for_other_configurations(name, options, masked):
    kwargs = dict(OTHER_OPTIONS[options])
    if name == "SimpleRNN" and "recurrent_activation" in kwargs:
        kwargs.pop("recurrent_activation")
        kwargs["activation"] = "hard_sigmoid"
    mask = masks_by_name(BATCH, TIMESTEPS)["holes"] if masked else None
    layer = compare_with_keras(name, kwargs, mask=mask)
    # use_bias=False runs fused (the kernels take zero biases), and relu for SimpleRNN; any mask does.
    fused_ok = options == "no_bias" or (name == "SimpleRNN" and options == "relu")
    assert layer.last_path == ("fused" if fused_ok else "loop")


@pytest.mark.parametrize("masked", [False, True], ids=["no_mask", "right_padded"])
@pytest.mark.parametrize("options", ["sequences_state", "backwards_sequences_state"])
def test_gru_reset_before_matches_keras(options, masked):
    mask = masks_by_name(BATCH, TIMESTEPS)["right_padded"] if masked else None
    layer = compare_with_keras("GRU", {**OPTION_SETS[options], "reset_after": False}, mask=mask)
    assert layer.last_path == "loop"


def test_lstm_without_unit_forget_bias_matches_keras():
    compare_with_keras("LSTM", {"unit_forget_bias": False, "return_sequences": True})


def test_single_timestep_matches_keras():
    for name in LAYERS:
        compare_with_keras(name, {"return_state": True}, x=torch.randn(BATCH, 1, FEATURES))
