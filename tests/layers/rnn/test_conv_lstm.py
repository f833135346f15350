"""ConvLSTM1D/2D/3D against Keras 3 (torch backend): outputs, states and gradients, masks, dropout,
configuration, files and wrappers; and the errors for bad input."""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from kerasrnn_torch.layers.rnn.conv_lstm import ConvLSTMCell
from reference import GRAD_ATOL, OUTPUT_ATOL, as_list, assert_close, masks_by_name, random_weights, weighted_sum

OURS = {1: kr.ConvLSTM1D, 2: kr.ConvLSTM2D, 3: kr.ConvLSTM3D}
KERAS = {1: keras.layers.ConvLSTM1D, 2: keras.layers.ConvLSTM2D, 3: keras.layers.ConvLSTM3D}
BATCH, TIME, CHANNELS, FILTERS = 3, 4, 2, 3


def input_shape(rank, data_format="channels_last", size=6):
    spatial = (size,) * rank
    return (BATCH, TIME, *spatial, CHANNELS) if data_format == "channels_last" else (BATCH, TIME, CHANNELS, *spatial)


def layer_pair(rank, kwargs, shape):
    keras_layer = KERAS[rank](FILTERS, **kwargs)
    keras_layer.build(shape)
    random_weights(keras_layer)
    ours = OURS[rank](FILTERS, **kwargs)
    ours.build((None, *shape[1:]))
    ours.set_weights(keras_layer.get_weights())
    return ours, keras_layer


def compare(rank, kwargs, *, size=6, mask=None, initial_state=False, training=False, keras_masks=None,
            ours=None, keras_layer=None):
    shape = input_shape(rank, kwargs.get("data_format", "channels_last"), size)
    if ours is None:
        ours, keras_layer = layer_pair(rank, kwargs, shape)
    x = torch.randn(shape)
    x_ours, x_keras = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    initial = None
    if initial_state:
        state = (BATCH, *ours.cell.state_shape)
        initial = [torch.randn(state), torch.randn(state)]
    ours.train(training)
    got = as_list(ours(x_ours, mask=mask, initial_state=initial))
    if keras_masks is not None:
        keras_layer.cell._dropout_mask, keras_layer.cell._recurrent_dropout_mask = keras_masks
    expected = as_list(keras_layer(x_keras, mask=mask, initial_state=initial, training=training))
    assert len(got) == len(expected)
    for i, (a, b) in enumerate(zip(got, expected)):
        assert_close(a, b, OUTPUT_ATOL, f"output {i}")
    weighted_sum(got).backward()
    weighted_sum(expected).backward()
    assert_close(x_ours.grad, x_keras.grad, GRAD_ATOL, "d/d inputs")
    for mine, theirs in zip(ours.parameters(), keras_layer.weights):
        assert_close(mine.grad, theirs.value.grad, GRAD_ATOL, f"d/d {theirs.path}")
    assert ours.last_path == "loop"
    return ours


CASES = {
    "2d_same": (2, {"padding": "same", "return_sequences": True, "return_state": True}),
    "2d_channels_first_even_kernel": (2, {"kernel_size": 2, "padding": "same", "data_format": "channels_first",
                                          "return_sequences": True}),
    "2d_strided_same_odd_total": (2, {"kernel_size": (3, 2), "strides": 2, "padding": "same", "return_state": True}),
    "2d_activations_no_bias": (2, {"activation": "relu", "recurrent_activation": "hard_sigmoid", "use_bias": False,
                                   "return_sequences": True, "go_backwards": True}),
    "2d_softmax_gate_channels_first": (2, {"recurrent_activation": "softmax", "data_format": "channels_first"}),
    "1d_valid_strided_backwards": (1, {"kernel_size": 3, "strides": 2, "go_backwards": True,
                                       "return_sequences": True, "return_state": True}),
    "1d_channels_first_dilated": (1, {"kernel_size": 4, "dilation_rate": 2, "padding": "same",
                                      "data_format": "channels_first", "return_state": True}),
    "3d_same_mixed_kernel": (3, {"kernel_size": (2, 3, 2), "padding": "same", "return_sequences": True}),
    "3d_channels_first_valid": (3, {"kernel_size": 2, "data_format": "channels_first", "return_state": True}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_built_layer_takes_another_spatial_size_with_keras_numbers_for_that_size(case):
    """Keras fixes the spatial size at the build; ours runs other sizes (as a convolution does), with the
    numbers of a Keras layer built for them: states sized from the frames, "same" padding (odd totals
    with strides included) recomputed for the new size."""
    rank, kwargs = CASES[case]
    kwargs = {"kernel_size": 3, **kwargs}
    data_format = kwargs.get("data_format", "channels_last")
    ours, _ = layer_pair(rank, kwargs, input_shape(rank, data_format, size=6))
    other = 5 if rank == 3 else 7           # smaller 3-D frames keep the gradients' sums within GRAD_ATOL
    keras_layer = KERAS[rank](FILTERS, **kwargs)
    keras_layer.build(input_shape(rank, data_format, size=other))
    for variable, value in zip(keras_layer.weights, ours.get_weights()):
        variable.assign(value)
    compare(rank, kwargs, size=other, ours=ours, keras_layer=keras_layer)
    assert ours.cell.spatial_dims == (6,) * rank          # what it was built for stays


@pytest.mark.parametrize("case", sorted(CASES))
def test_outputs_states_and_gradients_equal_keras(case):
    rank, kwargs = CASES[case]
    kwargs = {"kernel_size": 3, **kwargs}
    compare(rank, kwargs, size=5 if rank == 3 else 7)


@pytest.mark.parametrize("pattern", sorted(masks_by_name(BATCH, TIME)))
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_masks_of_every_pattern_equal_keras(pattern, data_format):
    mask = masks_by_name(BATCH, TIME)[pattern]
    compare(2, {"kernel_size": 3, "padding": "same", "data_format": data_format, "return_sequences": True,
                "return_state": True, "go_backwards": pattern == "holes"}, size=5, mask=mask)


def test_initial_state_and_a_mask_equal_keras_for_the_last_output():
    compare(1, {"kernel_size": 3, "return_state": True}, mask=masks_by_name(BATCH, TIME)["left_padded"],
            initial_state=True)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_dropout_equals_keras_given_the_same_four_masks_per_kind(data_format, monkeypatch):
    """Random draws cannot match Keras's; with Keras handed our masks, the numbers do."""
    kwargs = {"kernel_size": 3, "padding": "same", "data_format": data_format, "dropout": 0.3,
              "recurrent_dropout": 0.4, "return_sequences": True, "seed": 1}
    ours, keras_layer = layer_pair(2, kwargs, input_shape(2, data_format, 5))
    drawn = []
    original = ours.cell.dropout_masks
    monkeypatch.setattr(ours.cell, "dropout_masks", lambda *args: drawn.append(original(*args)) or drawn[-1])

    keras_call = keras_layer.cell.get_dropout_mask

    def keras_masks(step_input):          # Keras reads its masks as the call starts: hand it ours then
        keras_layer.cell._dropout_mask = list(drawn[0].inputs)
        keras_layer.cell._recurrent_dropout_mask = list(drawn[0].recurrent)
        return keras_call(step_input)

    monkeypatch.setattr(keras_layer.cell, "get_dropout_mask", keras_masks)
    compare(2, kwargs, size=5, training=True, ours=ours, keras_layer=keras_layer)
    masks = drawn[0]
    step = input_shape(2, data_format, 5)[2:]
    assert masks.inputs.shape == (4, BATCH, *step) and masks.recurrent.shape == (4, BATCH, *ours.cell.state_shape)
    assert not torch.equal(masks.inputs[0], masks.inputs[1])       # one mask per gate
    ours.eval()
    x = torch.randn(input_shape(2, data_format, 5))
    assert torch.equal(ours(x), ours(x))                             # no dropout outside training


def test_stateful_chunks_equal_one_pass_and_reset_restarts():
    layer = kr.ConvLSTM2D(FILTERS, 3, padding="same", stateful=True, return_sequences=True)
    x = torch.randn(input_shape(2, size=5))
    first, second = layer(x[:, :2]), layer(x[:, 2:])
    whole = kr.ConvLSTM2D(FILTERS, 3, padding="same", return_sequences=True)
    whole(x)
    whole.set_weights(layer.get_weights())
    assert_close(torch.cat([first, second], dim=1), whole(x))
    layer.reset_state()
    assert_close(layer(x[:, :2]), first)


def test_weights_count_and_initial_bias_follow_keras():
    kwargs = {"kernel_size": (3, 2), "data_format": "channels_first"}
    ours, keras_layer = layer_pair(2, kwargs, input_shape(2, "channels_first"))
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in keras_layer.weights]
    assert ours.count_params() == keras_layer.count_params()
    assert_close(ours.get_weights()[2], keras_layer.get_weights()[2])
    ours.cell.reset_weights()                     # unit_forget_bias: ones on the forget gate, zeros elsewhere
    bias = ours.cell.bias.detach()
    assert torch.equal(bias, torch.cat([torch.zeros(FILTERS), torch.ones(FILTERS), torch.zeros(2 * FILTERS)]))


def test_configuration_has_keras_keys_and_values_both_ways():
    kwargs = {"kernel_size": (3, 2), "strides": (2, 1), "padding": "same", "data_format": "channels_first",
              "kernel_regularizer": keras.regularizers.L2(0.01), "bias_constraint": keras.constraints.NonNeg(),
              "dropout": 0.25, "seed": 3, "return_state": True, "name": "clstm"}
    keras_config = keras.layers.ConvLSTM2D(4, **kwargs).get_config()
    ours = kr.ConvLSTM2D.from_config(keras_config)
    assert ours.get_config() == keras_config
    assert ours.kernel_size == (3, 2) and ours.filters == 4 and ours.padding == "same"
    assert keras.layers.ConvLSTM2D.from_config(ours.get_config()).get_config() == keras_config
    cell_again = ConvLSTMCell.from_config(ours.cell.get_config())
    assert cell_again.get_config() == ours.cell.get_config()


def test_regularizers_and_constraints_act_as_keras():
    kwargs = {"kernel_size": 2, "kernel_regularizer": "l2", "recurrent_regularizer": "l1", "bias_regularizer": "l2",
              "activity_regularizer": "l2", "recurrent_constraint": "max_norm"}
    ours, keras_layer = layer_pair(1, kwargs, input_shape(1))
    x = torch.randn(input_shape(1))
    ours(x)
    keras_layer(x)
    assert_close(sum(ours.losses), sum(keras_layer.losses), 1e-5, "regularization losses")
    expected = keras.constraints.MaxNorm()(keras_layer.cell.recurrent_kernel.value)
    kr.apply_constraints(ours)
    assert_close(ours.cell.recurrent_kernel, expected, 1e-6, "max_norm")


def test_bidirectional_equals_keras():
    inner = {"kernel_size": 3, "padding": "same", "return_sequences": True}
    keras_layer = keras.layers.Bidirectional(keras.layers.ConvLSTM2D(FILTERS, **inner))
    shape = input_shape(2, size=4)
    keras_layer.build(shape)
    random_weights(keras_layer)
    ours = kr.Bidirectional(kr.ConvLSTM2D(FILTERS, **inner))
    x = torch.randn(shape)
    ours(x)
    ours.set_weights(keras_layer.get_weights())
    mask = masks_by_name(BATCH, TIME)["right_padded"]
    assert_close(ours(x, mask=mask), keras_layer(x, mask=mask))


def test_time_distributed_runs_each_outer_step_alone():
    layer = kr.ConvLSTM1D(FILTERS, 3, padding="same")
    wrapped = kr.TimeDistributed(layer)
    x = torch.randn(2, 3, TIME, 6, CHANNELS)
    out = wrapped(x)
    assert out.shape == (2, 3, 6, FILTERS)
    assert_close(out[:, 1], layer(x[:, 1]))


def test_sequential_model_summary_and_output_shapes():
    model = kr.Sequential([kr.Input((TIME, 8, 8, CHANNELS)),
                           kr.ConvLSTM2D(4, 3, strides=2, padding="same", return_sequences=True),
                           kr.ConvLSTM2D(2, 3)])
    assert model(torch.randn(2, TIME, 8, 8, CHANNELS)).shape == (2, 2, 2, 2)
    text = kr.summary(model, print_fn=None)
    layer = kr.ConvLSTM3D(2, 2, return_state=True, data_format="channels_first")
    assert layer.compute_output_shape((None, 5, 1, 4, 4, 4)) == ((None, 2, 3, 3, 3),) * 3
    inputs = kr.Input((None, 6, 6, CHANNELS))
    outputs = kr.ConvLSTM2D(3, 3, padding="same", return_sequences=True)(inputs)
    functional = kr.Model(inputs, kr.ConvLSTM2D(1, 3)(outputs))
    assert functional(torch.randn(2, 5, 6, 6, CHANNELS)).shape == (2, 4, 4, 1)
    keras_model = keras.Sequential([keras.Input((TIME, 8, 8, CHANNELS)),
                                    keras.layers.ConvLSTM2D(4, 3, strides=2, padding="same", return_sequences=True),
                                    keras.layers.ConvLSTM2D(2, 3)])
    assert model.count_params() == keras_model.count_params()
    assert "(ConvLSTM2D)" in text
    assert f"{model.count_params():,}" in text


def test_keras_files_both_ways(tmp_path):
    keras_model = keras.Sequential([keras.Input((TIME, 6, 6, CHANNELS)),
                                    keras.layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True),
                                    keras.layers.ConvLSTM2D(2, 2, data_format="channels_last")])
    for layer in keras_model.layers:
        random_weights(layer)
    x = torch.randn(2, TIME, 6, 6, CHANNELS)
    expected = keras_model(x)
    for suffix in ("keras", "h5"):
        path = str(tmp_path / f"model.{suffix}")
        keras_model.save(path)
        assert_close(kr.from_keras(path).eval()(x), expected, OUTPUT_ATOL, f"from_keras(.{suffix})")
    ours = kr.Sequential([kr.Input((TIME, 6, 6, CHANNELS)), kr.ConvLSTM2D(3, 3, padding="same", return_sequences=True),
                          kr.ConvLSTM2D(2, 2)])
    ours.load_state_dict(kr.from_keras(str(tmp_path / "model.keras")).state_dict())
    kr.load_keras_weights(ours, str(tmp_path / "model.keras"))
    path = str(tmp_path / "ours.keras")
    kr.save_keras(ours, path)
    assert_close(keras.models.load_model(path)(x), ours.eval()(x), OUTPUT_ATOL, "Keras loading save_keras")


def test_bad_input_is_explained():
    layer = kr.ConvLSTM2D(FILTERS, 3, name="video")
    with pytest.raises(ValueError, match=r"ConvLSTM2D 'video' expects 5-D input of shape "
                                         r"\(batch, time, rows, cols, channels\), got a 4-D"):
        layer(torch.randn(2, 4, 8, 8))
    layer(torch.randn(2, 4, 8, 8, 3))
    with pytest.raises(ValueError, match=r"'video' was built for inputs of shape \(batch, time, rows, cols, "
                                         r"channels\) with 3 channels, got input of shape \(2, 4, 8, 8, 5\)"):
        layer(torch.randn(2, 4, 8, 8, 5))
    with pytest.raises(ValueError, match=r"'video': the kernel \(spanning 3 .*\) is larger than the input's "
                                         r"spatial size \(2, 8\) with padding='valid'"):
        layer(torch.randn(2, 4, 2, 8, 3))          # built for 8 x 8; 2 rows do not fit the kernel
    with pytest.raises(ValueError, match=r"'small'.*larger than the input's spatial size \(2, 8\) with "
                                         r"padding='valid'"):
        kr.ConvLSTM2D(2, 3, name="small")(torch.randn(1, 2, 2, 8, 1))
    with pytest.raises(ValueError, match="strides > 1 cannot be combined with dilation_rate > 1"):
        kr.ConvLSTM1D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="`padding` must be one of 'valid', 'same'; got 'causal'"):
        kr.ConvLSTM1D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="`kernel_size` must be a positive integer or a tuple of 3"):
        kr.ConvLSTM3D(2, (3, 3))
    with pytest.raises(ValueError, match=r"expects initial_state shapes \[\(2, 6, 6, 3\), \(2, 6, 6, 3\)\]"):
        layer(torch.randn(2, 4, 8, 8, 3), initial_state=[torch.zeros(2, 8, 8, 3)] * 2)
    assert "no fused kernel" in layer.dispatch_reason()


def test_the_cell_runs_in_rnn_and_alone_with_the_layers_numbers():
    layer = kr.ConvLSTM2D(FILTERS, 3, padding="same", return_sequences=True)
    x = torch.randn(input_shape(2, size=5))
    expected = layer(x)
    cell = ConvLSTMCell(2, FILTERS, 3, padding="same")
    generic = kr.RNN(cell, return_sequences=True)
    generic(x)
    generic.set_weights(layer.get_weights())
    assert_close(generic(x), expected)
    h, (h_again, c) = cell(x[:, 0], cell.get_initial_state(BATCH))
    assert_close(h, expected[:, 0])
    assert h is h_again and c.shape == h.shape
