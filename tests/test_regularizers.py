"""Weight and activity regularizers give Keras 3's numbers, alone and inside layers and models."""
import keras
import numpy as np
import pytest
import torch
from torch import nn

import kerasrnn_torch as kr
from kerasrnn_torch import regularizers
from reference import assert_close, numpy, random_weights

BATCH, TIMESTEPS, FEATURES, UNITS = 3, 4, 5, 4
REGULARIZER_ATOL = 1e-5


def random_array(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-2.0, 2.0, size=shape).astype(np.float32)


def keras_value(regularizer, array):
    return numpy(regularizer(torch.as_tensor(array)))


# ------------------------------------------------------------ formulas alone
FORMULAS = {
    # id: (ours, keras)
    "l1_default": (lambda: regularizers.L1(), lambda: keras.regularizers.L1()),
    "l1_0.3": (lambda: regularizers.L1(0.3), lambda: keras.regularizers.L1(0.3)),
    "l2_default": (lambda: regularizers.L2(), lambda: keras.regularizers.L2()),
    "l2_0.2": (lambda: regularizers.L2(0.2), lambda: keras.regularizers.L2(0.2)),
    "l1l2_both": (lambda: regularizers.L1L2(0.1, 0.2), lambda: keras.regularizers.L1L2(0.1, 0.2)),
    "l1l2_default_is_zero": (lambda: regularizers.L1L2(), lambda: keras.regularizers.L1L2()),
    "l1l2_l1_only": (lambda: regularizers.L1L2(l1=0.05), lambda: keras.regularizers.L1L2(l1=0.05)),
    "orthogonal_rows": (lambda: regularizers.OrthogonalRegularizer(0.1),
                        lambda: keras.regularizers.OrthogonalRegularizer(0.1)),
    "orthogonal_columns": (lambda: regularizers.OrthogonalRegularizer(0.1, mode="columns"),
                           lambda: keras.regularizers.OrthogonalRegularizer(0.1, mode="columns")),
}


@pytest.mark.parametrize("make_ours, make_keras", FORMULAS.values(), ids=FORMULAS.keys())
def test_regularizer_object_equals_keras_on_same_array(make_ours, make_keras):
    array = random_array(6, 8)
    assert_close(make_ours()(torch.as_tensor(array)), keras_value(make_keras(), array), REGULARIZER_ATOL)


@pytest.mark.parametrize("name", ["l1", "l2", "l1l2", "L1", "L2", "L1L2", "orthogonal_regularizer"])
def test_regularizer_by_keras_name_equals_keras_get(name):
    array = random_array(5, 7, seed=1)
    ours = regularizers.get(name)
    assert isinstance(ours, regularizers.Regularizer)
    assert_close(ours(torch.as_tensor(array)), keras_value(keras.regularizers.get(name), array), REGULARIZER_ATOL)


def test_l1_l2_name_gives_documented_factors_of_one_hundredth():
    # Keras 3.15's get() rejects "l1_l2"; its docs (and Keras 2) give l1 = l2 = 0.01.
    ours = regularizers.get("l1_l2")
    assert (ours.l1, ours.l2) == (0.01, 0.01)
    array = random_array(4, 6, seed=2)
    assert_close(ours(torch.as_tensor(array)), keras_value(keras.regularizers.L1L2(0.01, 0.01), array),
                 REGULARIZER_ATOL)


def test_names_give_fresh_objects_with_keras_defaults():
    assert regularizers.get("l1").l1 == pytest.approx(float(keras.regularizers.get("l1").l1))
    assert regularizers.get("l2").l2 == pytest.approx(keras.regularizers.get("l2").l2)
    keras_l1l2 = keras.regularizers.get("l1l2")
    assert (regularizers.get("l1l2").l1, regularizers.get("l1l2").l2) == (keras_l1l2.l1, keras_l1l2.l2)
    assert regularizers.get("l2") is not regularizers.get("l2")


def test_get_passes_none_objects_and_callables_through():
    ours = regularizers.L2(0.5)
    keras_object = keras.regularizers.L1(0.2)

    def plain(x):
        return x.sum()

    assert regularizers.get(None) is None
    assert regularizers.get(ours) is ours
    assert regularizers.get(keras_object) is keras_object
    assert regularizers.get(plain) is plain
    assert isinstance(regularizers.get(regularizers.L1), regularizers.L1)


GET_ERRORS = [
    # (id, identifier or factory, error type, message pattern)
    ("unknown_name", lambda: regularizers.get("l3"), ValueError, r"Unknown regularizer 'l3'.*l1, l1_l2, l1l2, l2"),
    ("not_callable", lambda: regularizers.get(3), TypeError, "regularizer must be.*got 3"),
    ("negative_factor", lambda: regularizers.L2(-0.1), ValueError, r"`l2` must be a non-negative float, got -0.1"),
    ("nan_factor", lambda: regularizers.L1(float("nan")), ValueError, "`l1` must be a non-negative float, got nan"),
    ("orthogonal_mode", lambda: regularizers.OrthogonalRegularizer(mode="diagonal"), ValueError,
     "'rows' or 'columns', got 'diagonal'"),
    ("unknown_layer_argument", lambda: kr.LSTM(3, kernel_regularizer="l5"), ValueError, "Unknown regularizer 'l5'"),
]


@pytest.mark.parametrize("make, error, pattern", [e[1:] for e in GET_ERRORS], ids=[e[0] for e in GET_ERRORS])
def test_bad_regularizer_is_refused_clearly(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


# ------------------------------------------------------------ inside layers
def keras_simple_rnn(units, activity_regularizer=None, return_sequences=False, return_state=False, **cell_kwargs):
    # Keras 3.15's SimpleRNN accepts activity_regularizer but never passes it on
    # (its losses hold no activity term); RNN(SimpleRNNCell) applies it as documented.
    return keras.layers.RNN(keras.layers.SimpleRNNCell(units, **cell_kwargs), activity_regularizer=activity_regularizer,
                            return_sequences=return_sequences, return_state=return_state)


LAYERS = {"SimpleRNN": (kr.SimpleRNN, keras_simple_rnn),
          "LSTM": (kr.LSTM, keras.layers.LSTM),
          "GRU": (kr.GRU, keras.layers.GRU)}


def regularized_pair(name, seed=0, input_features=FEATURES, **options):
    """Our layer and Keras's with the same regularizers (by name and by object) and the same random weights."""
    ours_cls, keras_cls = LAYERS[name]
    keras_layer = keras_cls(UNITS, kernel_regularizer="l2", recurrent_regularizer=keras.regularizers.L1(0.1),
                            bias_regularizer=keras.regularizers.L1L2(0.01, 0.01), activity_regularizer="l2",
                            **options)
    keras_layer.build((BATCH, TIMESTEPS, input_features))
    random_weights(keras_layer, seed=seed)
    ours = ours_cls(UNITS, kernel_regularizer="l2", recurrent_regularizer=kr.regularizers.L1(0.1),
                    bias_regularizer="l1_l2", activity_regularizer="l2", input_shape=(TIMESTEPS, input_features),
                    **options)
    ours.set_weights(keras_layer.get_weights())
    return ours, keras_layer


def total(losses):
    return sum(numpy(loss).astype(np.float64) for loss in losses)


OPTIONS = {"output": {}, "sequences_and_states": {"return_sequences": True, "return_state": True}}


@pytest.mark.parametrize("options", OPTIONS.values(), ids=OPTIONS.keys())
@pytest.mark.parametrize("name", LAYERS)
def test_layer_losses_equal_keras_after_a_call(name, options):
    ours, keras_layer = regularized_pair(name, **options)
    x = torch.randn(BATCH, TIMESTEPS, FEATURES)
    ours(x)
    keras_layer(x, training=False)
    assert len(ours.losses) == len(keras_layer.losses)
    assert abs(total(ours.losses) - total(keras_layer.losses)) <= REGULARIZER_ATOL


def test_activity_term_covers_output_and_every_state_divided_by_batch():
    layer = kr.LSTM(UNITS, activity_regularizer=regularizers.L2(0.5), return_state=True, input_dim=FEATURES)
    output, h, c = layer(torch.randn(BATCH, TIMESTEPS, FEATURES))
    expected = [0.5 * t.square().sum() / BATCH for t in (output, h, c)]
    assert len(layer.losses) == 3
    for got, want in zip(layer.losses, expected):
        assert_close(got, want, 1e-6)


def test_activity_terms_are_replaced_not_accumulated_by_each_call():
    layer = kr.GRU(UNITS, activity_regularizer="l1", input_dim=FEATURES)
    layer(torch.randn(BATCH, TIMESTEPS, FEATURES))
    second = torch.randn(BATCH, TIMESTEPS, FEATURES)
    output = layer(second)
    assert len(layer.losses) == 1
    assert_close(layer.losses[0], 0.01 * output.abs().sum() / BATCH, 1e-6)


def test_weight_terms_follow_the_current_weights_without_a_call():
    layer = kr.SimpleRNN(UNITS, kernel_regularizer=regularizers.L2(0.5), input_dim=FEATURES)
    with torch.no_grad():
        layer.cell.kernel.fill_(2.0)
    assert_close(layer.losses[0], torch.tensor(0.5 * 4.0 * FEATURES * UNITS), 1e-5)


def test_frozen_weight_adds_no_penalty_as_keras_trainable_false():
    ours, keras_layer = regularized_pair("LSTM")
    for weight in ours.parameters():
        weight.requires_grad_(False)
    keras_layer.trainable = False
    assert len(ours.losses) == len(keras_layer.losses) == 0


def test_keras_regularizer_object_and_plain_function_work_on_our_weights():
    layer = kr.LSTM(UNITS, kernel_regularizer=keras.regularizers.L2(0.3),
                    recurrent_regularizer=lambda w: 0.2 * w.abs().sum(), input_dim=FEATURES)
    kernel, recurrent_kernel = layer.cell.kernel.detach(), layer.cell.recurrent_kernel.detach()
    assert_close(layer.losses[0], 0.3 * kernel.square().sum(), 1e-5)
    assert_close(layer.losses[1], 0.2 * recurrent_kernel.abs().sum(), 1e-5)


# ------------------------------------------------------------ whole models
def test_regularization_loss_of_sequential_equals_keras_model_losses():
    first, keras_first = regularized_pair("LSTM", seed=0, return_sequences=True)
    second, keras_second = regularized_pair("GRU", seed=1, input_features=UNITS)
    model = nn.Sequential(first, second)
    keras_model = keras.Sequential([keras.Input((TIMESTEPS, FEATURES), batch_size=BATCH), keras_first, keras_second])
    x = torch.randn(BATCH, TIMESTEPS, FEATURES)
    model(x)
    keras_model(x, training=False)
    loss = kr.regularization_loss(model)
    assert loss.dim() == 0
    assert abs(float(numpy(loss)) - total(keras_model.losses)) <= REGULARIZER_ATOL


def test_regularization_loss_counts_nested_layers_once():
    layer, _ = regularized_pair("LSTM")
    layer(torch.randn(BATCH, TIMESTEPS, FEATURES))
    # The LSTM holds its cell, also a Layer: each term must be counted once.
    assert_close(kr.regularization_loss(layer), torch.as_tensor(total(layer.losses), dtype=torch.float32), 1e-5)


def test_regularization_loss_is_a_zero_tensor_without_regularizers():
    model = nn.Sequential(kr.LSTM(UNITS, input_dim=FEATURES), nn.Linear(UNITS, 1))
    loss = kr.regularization_loss(model)
    assert isinstance(loss, torch.Tensor) and loss.dim() == 0 and loss.item() == 0.0
    assert kr.regularization_loss(nn.Linear(2, 2)).item() == 0.0


def test_regularization_loss_backpropagates_into_the_weights():
    layer = kr.SimpleRNN(UNITS, kernel_regularizer=regularizers.L2(0.25), input_dim=FEATURES)
    model = nn.Sequential(layer)
    kr.regularization_loss(model).backward()
    assert_close(layer.cell.kernel.grad, 0.5 * layer.cell.kernel.detach(), 1e-6)
    assert layer.cell.recurrent_kernel.grad is None


def test_regularization_loss_refuses_what_is_not_a_module():
    with pytest.raises(TypeError, match="expects a torch.nn.Module, got list"):
        kr.regularization_loss([kr.LSTM(2, input_dim=2)])
