"""Keras 3's keras/src/layers/reshaping/{flatten,reshape,permute,repeat_vector,zero_padding1d,cropping1d,
up_sampling1d}_test.py, ported to kr (Keras's cases, expected numbers and default tolerance, 1e-6).

Keras's `KerasTensor(shape)` and `backend.compute_output_spec(layer.__call__, x)` stand for a symbolic
call: here a layer called on `kr.Input(batch_shape=shape)`. Keras's data generators given to
`fit`/`predict` become one `fit`/`predict` per input size (kr's `fit` takes arrays). The sparse cases
are left out (see tests/keras_ported_left_out.md).
"""
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from keras_layer_check import run_layer_test


def sym(batch_shape):
    return kr.Input(batch_shape=batch_shape)


# flatten_test.py ----------------------------------------------------------------------------------

def test_flatten():
    inputs = np.random.random((10, 3, 5, 5)).astype("float32")
    inputs = np.multiply(inputs, inputs >= 0.8)
    channels_last = np.reshape(inputs, (-1, 5 * 5 * 3))
    channels_first = np.reshape(np.transpose(inputs, (0, 2, 3, 1)), (-1, 5 * 5 * 3))
    data = torch.as_tensor(inputs)
    # kr's default data format is Keras's default, channels_last.
    run_layer_test(kr.Flatten, init_kwargs={}, input_data=data, expected_output=channels_last)
    run_layer_test(kr.Flatten, init_kwargs={"data_format": "channels_last"}, input_data=data,
                   expected_output=channels_last)
    run_layer_test(kr.Flatten, init_kwargs={"data_format": "channels_first"}, input_data=data,
                   expected_output=channels_first)


@pytest.mark.parametrize("init_kwargs", [{}, {"data_format": "channels_last"}, {"data_format": "channels_first"}])
def test_flatten_with_scalar_channels(init_kwargs):
    inputs = np.random.random((10,)).astype("float32")
    run_layer_test(kr.Flatten, init_kwargs=init_kwargs, input_data=torch.as_tensor(inputs),
                   expected_output=np.expand_dims(inputs, -1))


def test_flatten_symbolic_with_dynamic_batch_size():
    assert tuple(kr.Flatten()(sym((None, 2, 3))).shape) == (None, 2 * 3)


def test_flatten_symbolic_with_dynamic_dimension():
    assert tuple(kr.Flatten()(sym((5, 2, None))).shape) == (5, None)


def test_flatten_with_dynamic_batch_size_and_dynamic_dimensions():
    model = kr.Sequential([kr.Flatten()])
    assert tuple(model.predict(np.ones((3, 5, 7), dtype="float32"), verbose=0).shape) == (3, 35)
    assert tuple(model.predict(np.ones((2, 7, 5), dtype="float32"), verbose=0).shape) == (2, 35)


# reshape_test.py ----------------------------------------------------------------------------------

@pytest.mark.parametrize("target_shape, input_shape, output_shape", [
    ((8, 1), (3, 2, 4), (3, 8, 1)),
    ((8,), (3, 2, 4), (3, 8)),
    ((2, 4), (3, 8), (3, 2, 4)),
    ((-1, 1), (3, 2, 4), (3, 8, 1)),
    ((1, -1), (3, 2, 4), (3, 1, 8)),
    ((-1,), (3, 2, 4), (3, 8)),
    ((2, -1), (3, 2, 4), (3, 2, 4)),
])
def test_reshape(target_shape, input_shape, output_shape):
    run_layer_test(kr.Reshape, init_kwargs={"target_shape": target_shape}, input_shape=input_shape,
                   expected_output_shape=output_shape)


def test_reshape_with_dynamic_batch_size():
    assert tuple(kr.Reshape((8,))(kr.Input(shape=(2, 4))).shape) == (None, 8)


def test_reshape_rejects_invalid_target_shape():
    with pytest.raises(ValueError, match=r"non-negative integer.*-1.*target_shape=\(-2, 5\)"):
        kr.Reshape(target_shape=(-2, 5))
    with pytest.raises(ValueError, match=r"at most one unknown dimension.*target_shape=\(-1, -1, 5\)"):
        kr.Reshape(target_shape=(-1, -1, 5))


def test_reshape_with_dynamic_batch_size_and_minus_one():
    assert tuple(kr.Reshape((-1, 8))(sym((None, 6, 4))).shape) == (None, 3, 8)


def test_reshape_layer_with_varying_input_size_and_minus_one():
    layer = kr.Reshape((-1, 8))
    assert tuple(layer(torch.ones((1, 6, 4))).shape) == (1, 3, 8)
    assert tuple(layer(torch.ones((1, 10, 4))).shape) == (1, 5, 8)


def test_reshape_with_dynamic_dim_and_minus_one():
    assert tuple(kr.Reshape((-1, 3))(sym((4, 6, None, 3))).shape) == (4, None, 3)


def test_reshape_sets_static_shape():
    # The batch axis given to the Input is kept.
    assert tuple(kr.Reshape((3, 5))(sym((2, None))).shape) == (2, 3, 5)
    # The case: Input(batch_size=...) with a None axis, then a model that runs on fitting data.
    x = kr.Input(shape=(None,), batch_size=2)
    model = kr.Model(x, kr.Reshape((3, 5))(x))
    data = np.arange(30, dtype="float32").reshape(2, 15)
    np.testing.assert_allclose(model(data).detach().numpy(), data.reshape(2, 3, 5), atol=1e-6, rtol=1e-6)


def test_reshape_model_fit_with_varying_input_size_and_minus_one():
    model = kr.Sequential([kr.Reshape((-1, 8))])
    model.compile(loss="mean_squared_error")
    # Keras's torch trainer warns the same for a model without trainable weights (Keras's test lets it pass).
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        model.fit(np.ones((1, 12, 2), dtype="float32"), np.zeros((1, 3, 8), dtype="float32"), epochs=1, verbose=0)
        model.fit(np.ones((1, 20, 2), dtype="float32"), np.zeros((1, 5, 8), dtype="float32"), epochs=1, verbose=0)
    for seq_len, expected_first_dim in [(12, 3), (20, 5), (24, 6)]:
        output = model(torch.randn((1, seq_len, 2)))
        assert output.shape[1] == expected_first_dim
        assert output.shape[2] == 8


# permute_test.py ----------------------------------------------------------------------------------

def test_permute():
    inputs = np.random.random((10, 3, 5, 5)).astype("float32")
    inputs = np.multiply(inputs, inputs >= 0.8)
    run_layer_test(kr.Permute, init_kwargs={"dims": (3, 1, 2)}, input_data=torch.as_tensor(inputs),
                   expected_output=np.transpose(inputs, axes=(0, 3, 1, 2)))


def test_permute_with_dynamic_batch_size():
    assert tuple(kr.Permute((2, 1))(sym((None, 3, 5))).shape) == (None, 5, 3)


@pytest.mark.parametrize("dims", [(0, 1, 2), (1, 4, 2)])
def test_permute_errors_on_invalid_dims(dims):
    with pytest.raises(ValueError, match=r"Invalid permutation .*dims.*"):
        run_layer_test(kr.Permute, init_kwargs={"dims": dims}, input_shape=(3, 2, 4))


# repeat_vector_test.py ----------------------------------------------------------------------------

def test_repeat_vector():
    inputs = np.random.random((2, 5)).astype("float32")
    run_layer_test(kr.RepeatVector, init_kwargs={"n": 3}, input_data=torch.as_tensor(inputs),
                   expected_output=np.repeat(np.reshape(inputs, (2, 1, 5)), 3, axis=1))


def test_repeat_vector_with_dynamic_batch_size():
    assert tuple(kr.RepeatVector(n=3)(sym((None, 5))).shape) == (None, 3, 5)


def test_repeat_vector_with_dynamic_dimension():
    assert tuple(kr.RepeatVector(n=3)(sym((2, None))).shape) == (2, 3, None)


@pytest.mark.parametrize("n", ["3", 3.5, [3]])
def test_repeat_vector_with_invalid_n(n):
    with pytest.raises(TypeError, match="Expected an integer value for `n`"):
        kr.RepeatVector(n=n)


@pytest.mark.parametrize("n", [0, -3])
def test_repeat_vector_with_non_positive_n(n):
    with pytest.raises(ValueError, match="should be a positive integer"):
        kr.RepeatVector(n=n)


# zero_padding1d_test.py ---------------------------------------------------------------------------

@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
def test_zero_padding_1d(data_format):
    inputs = np.random.rand(1, 2, 3)
    outputs = kr.ZeroPadding1D(padding=(1, 2), data_format=data_format)(torch.as_tensor(inputs)).numpy()
    if data_format == "channels_last":
        for index in [0, -1, -2]:
            np.testing.assert_allclose(outputs[:, index, :], 0.0, atol=1e-6, rtol=1e-6)
        np.testing.assert_allclose(outputs[:, 1:-2, :], inputs, atol=1e-6, rtol=1e-6)
    else:
        for index in [0, -1, -2]:
            np.testing.assert_allclose(outputs[:, :, index], 0.0, atol=1e-6, rtol=1e-6)
        np.testing.assert_allclose(outputs[:, :, 1:-2], inputs, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("padding", [(2, 2), 2], ids=["one_tuple", "one_int"])
def test_zero_padding_1d_with_same_padding(padding):
    inputs = np.random.rand(1, 2, 3)
    outputs = kr.ZeroPadding1D(padding=padding, data_format="channels_last")(torch.as_tensor(inputs)).numpy()
    for index in [0, 1, -1, -2]:
        np.testing.assert_allclose(outputs[:, index, :], 0.0, atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(outputs[:, 2:-2, :], inputs, atol=1e-6, rtol=1e-6)


def test_zero_padding_1d_with_dynamic_spatial_dim():
    assert tuple(kr.ZeroPadding1D((1, 2), data_format="channels_last")(sym((1, None, 3))).shape) == (1, None, 3)
    assert tuple(kr.ZeroPadding1D((1, 2), data_format="channels_last")(sym((1, 2, 3))).shape) == (1, 5, 3)


@pytest.mark.parametrize("padding", [(1,), (1, 2, 3), "1"])
def test_zero_padding_1d_errors_if_padding_argument_invalid(padding):
    with pytest.raises(ValueError):
        kr.ZeroPadding1D(padding)


@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
def test_zero_padding_1d_get_config(data_format):
    layer = kr.ZeroPadding1D(padding=(1, 2), data_format=data_format)
    config = layer.get_config()
    expected = {"data_format": data_format, "name": layer.name, "padding": (1, 2), "trainable": layer.trainable}
    assert {k: config[k] for k in expected} == expected
    # Keras's dtype entry is its serialized dtype policy; kr's is the same structure.
    assert set(config) - set(expected) == {"dtype"}


# cropping1d_test.py -------------------------------------------------------------------------------

@pytest.mark.parametrize("cropping, window", [((1, 2), slice(1, 3)), ((1, 1), slice(1, 4)), (1, slice(1, 4)),
                                              ((0, 1), slice(0, 4)), ((1, 0), slice(1, 5))])
def test_cropping_1d(cropping, window):
    inputs = np.random.rand(3, 5, 7)
    run_layer_test(kr.Cropping1D, init_kwargs={"cropping": cropping}, input_data=torch.as_tensor(inputs),
                   expected_output=inputs[:, window, :])


def test_cropping_1d_with_dynamic_spatial_dim():
    assert tuple(kr.Cropping1D((1, 2))(sym((1, None, 7))).shape) == (1, None, 7)


@pytest.mark.parametrize("cropping", [(1,), (1, 2, 3), "1"])
def test_cropping_1d_errors_if_cropping_argument_invalid(cropping):
    with pytest.raises(ValueError):
        kr.Cropping1D(cropping=cropping)


def test_cropping_1d_errors_if_cropping_more_than_available():
    with pytest.raises(ValueError, match="`cropping` parameter of `Cropping1D` layer must be smaller than"):
        kr.Cropping1D(cropping=(2, 3))(sym((3, 5, 7)))


def test_cropping_1d_error_on_excessive_cropping():
    with pytest.raises(ValueError, match="`cropping` parameter of `Cropping1D` layer must be smaller than"):
        kr.Cropping1D(cropping=(3, 3))(torch.as_tensor(np.random.rand(3, 5, 7)))


# up_sampling1d_test.py ----------------------------------------------------------------------------

def test_upsampling_1d():
    run_layer_test(kr.UpSampling1D, init_kwargs={"size": 2}, input_shape=(3, 5, 4),
                   expected_output_shape=(3, 10, 4), expected_num_trainable_weights=0,
                   expected_num_non_trainable_weights=0, expected_num_losses=0, supports_masking=False)
    assert kr.UpSampling1D(size=2)(torch.rand(3, 5, 4)).dtype == torch.float32


def test_upsampling_1d_correctness():
    expected = np.array([[[0.0, 1.0, 2.0], [0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [3.0, 4.0, 5.0]],
                         [[6.0, 7.0, 8.0], [6.0, 7.0, 8.0], [9.0, 10.0, 11.0], [9.0, 10.0, 11.0]]])
    out = kr.UpSampling1D(size=2)(torch.as_tensor(np.arange(12).reshape((2, 2, 3))))
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-6, rtol=1e-6)


def test_upsampling_1d_correctness_with_ones():
    out = kr.UpSampling1D(size=3)(torch.ones((2, 1, 5)))
    np.testing.assert_allclose(out.numpy(), np.ones((2, 3, 5)), atol=1e-6, rtol=1e-6)


def test_upsampling_1d_with_dynamic_batch_size():
    x = sym((None, 2, 3))
    assert tuple(kr.UpSampling1D(size=2)(x).shape) == (None, 4, 3)
    assert tuple(kr.UpSampling1D(size=4)(x).shape) == (None, 8, 3)


def test_upsampling_1d_with_dynamic_shape():
    y = sym((2, None, 3))
    assert tuple(kr.UpSampling1D(size=2)(y).shape) == (2, None, 3)
    assert tuple(kr.UpSampling1D(size=4)(y).shape) == (2, None, 3)
    z = sym((2, 3, None))
    assert tuple(kr.UpSampling1D(size=2)(z).shape) == (2, 6, None)
    assert tuple(kr.UpSampling1D(size=4)(z).shape) == (2, 12, None)


@pytest.mark.parametrize("size", [0, -2])
def test_upsampling_1d_with_non_positive_size(size):
    with pytest.raises(ValueError, match="should be a positive integer"):
        kr.UpSampling1D(size=size)


@pytest.mark.parametrize("size", [2.5, "2", True])
def test_upsampling_1d_with_invalid_size_type(size):
    with pytest.raises(TypeError, match="Expected an integer value for `size`"):
        kr.UpSampling1D(size=size)
