"""GlobalAveragePooling1D, GlobalMaxPooling1D, MaxPooling1D against Keras 3: values, gradients, masks, configs, errors."""
import warnings

import keras
import pytest
import torch
from keras.src import backend as keras_backend
from keras.src.utils.naming import to_snake_case

import kerasrnn_torch as kr
from kerasrnn_torch.core.layer import snake_case
from reference import GRAD_ATOL, OUTPUT_ATOL, assert_close, masks_by_name, random_weights, weighted_sum

B, T, F = 3, 6, 4


def compare(name, kwargs, x, mask=None, warns=False):
    ours, theirs = getattr(kr, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
    mine, ref = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    if mask is not None:
        keras_backend.set_keras_mask(ref, mask)
    if warns:
        with pytest.warns(UserWarning, match="does not support masking and will therefore destroy the mask"):
            out_theirs = theirs(ref)
    else:
        out_theirs = theirs(ref)
    out_ours = ours(mine, mask=mask) if ours.supports_masking else ours(mine)
    assert_close(out_ours, out_theirs, OUTPUT_ATOL, f"{name} output")
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    assert_close(mine.grad, ref.grad, GRAD_ATOL, f"{name} d/d inputs")
    assert ours.compute_mask(mine, mask) is None and keras_backend.get_keras_mask(out_theirs) is None
    return out_ours


LAYOUTS = {"channels_last": {}, "channels_first": {"data_format": "channels_first"},
           "keepdims": {"keepdims": True}, "channels_first_keepdims": {"data_format": "channels_first",
                                                                       "keepdims": True}}
MASKS = ["no_mask", "right_padded", "left_padded", "holes", "all_true"]


def sample(kwargs):
    x = torch.randn(B, T, F)
    return x.transpose(1, 2).contiguous() if kwargs.get("data_format") == "channels_first" else x


@pytest.mark.parametrize("mask", MASKS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_global_average_pooling_1d_matches_keras(layout, mask):
    mask = None if mask == "no_mask" else masks_by_name(B, T)[mask]
    compare("GlobalAveragePooling1D", LAYOUTS[layout], sample(LAYOUTS[layout]), mask)


def test_global_average_pooling_averages_unmasked_steps_and_a_fully_masked_row_is_nan_as_in_keras():
    x = torch.tensor([[[1.0], [3.0], [100.0]], [[5.0], [6.0], [7.0]]])
    mask = torch.tensor([[True, True, False], [False, False, False]])
    ours = kr.GlobalAveragePooling1D()(x, mask=mask)
    theirs = keras.layers.GlobalAveragePooling1D()(x, mask=mask)
    assert ours[0].item() == 2.0 and torch.isnan(ours[1]).all() and torch.isnan(theirs[1]).all()


@pytest.mark.parametrize("mask", ["no_mask", "right_padded"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_global_max_pooling_1d_matches_keras_and_ignores_masks_as_keras_3(layout, mask):
    mask = None if mask == "no_mask" else masks_by_name(B, T)[mask]
    x = sample(LAYOUTS[layout])
    out = compare("GlobalMaxPooling1D", LAYOUTS[layout], x, mask, warns=mask is not None)
    axis = 2 if "data_format" in LAYOUTS[layout] else 1
    assert torch.equal(out, x.amax(dim=axis, keepdim="keepdims" in LAYOUTS[layout]))   # padded steps count


MAX_POOLS = {
    "defaults": {},
    "pool3": {"pool_size": 3},
    "pool3_stride1": {"pool_size": 3, "strides": 1},
    "pool2_stride3": {"pool_size": 2, "strides": 3},
    "same_even": {"pool_size": 2, "padding": "same"},
    "same_pool3_stride2": {"pool_size": (3,), "strides": (2,), "padding": "same"},
    "same_pool4_stride1": {"pool_size": 4, "strides": 1, "padding": "same"},
    "same_pool5_stride4": {"pool_size": 5, "strides": 4, "padding": "same"},
    "channels_first": {"pool_size": 3, "strides": 2, "data_format": "channels_first"},
    "channels_first_same": {"pool_size": 4, "strides": 3, "padding": "same", "data_format": "channels_first"},
}


@pytest.mark.parametrize("steps", [T, T + 1], ids=["even_steps", "odd_steps"])
@pytest.mark.parametrize("case", MAX_POOLS)
def test_max_pooling_1d_matches_keras(case, steps):
    kwargs = MAX_POOLS[case]
    x = torch.randn(B, steps, F)
    if kwargs.get("data_format") == "channels_first":
        x = x.transpose(1, 2).contiguous()
    compare("MaxPooling1D", kwargs, x)


def test_max_pooling_1d_drops_a_mask_as_keras():
    compare("MaxPooling1D", {}, torch.randn(B, T, F), masks_by_name(B, T)["right_padded"], warns=True)


CONFIGS = [("GlobalAveragePooling1D", {}), ("GlobalAveragePooling1D", {"data_format": "channels_first"}),
           ("GlobalAveragePooling1D", {"keepdims": True}), ("GlobalMaxPooling1D", {}),
           ("GlobalMaxPooling1D", {"data_format": "Channels_First", "keepdims": True}), ("MaxPooling1D", {}),
           ("MaxPooling1D", {"pool_size": 3, "strides": 1, "padding": "same"}),
           ("MaxPooling1D", {"pool_size": (4,), "padding": "SAME", "data_format": "channels_first"})]


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=[f"{n}-{k}" for n, k in CONFIGS])
def test_config_matches_keras_and_round_trips(name, kwargs):
    ours = getattr(kr, name)(name="pool", **kwargs)
    theirs = getattr(keras.layers, name)(name="pool", **kwargs).get_config()
    assert ours.get_config() == theirs
    again = getattr(kr, name).from_config(ours.get_config())
    assert type(again) is type(ours) and again.get_config() == theirs
    assert getattr(kr, name).from_config(theirs).get_config() == theirs


POOLING_ERRORS = [
    ("GlobalAveragePooling1D", {"data_format": "nhwc"}, None, ValueError,
     r"GlobalAveragePooling1D 'global_average_pooling1d\w*': `data_format` must be one of 'channels_last', "
     r"'channels_first'; got 'nhwc'"),
    ("GlobalAveragePooling1D", {}, torch.randn(2, 3), ValueError,
     r"expects inputs of shape \(batch, steps, features\), got shape \(2, 3\)"),
    ("GlobalAveragePooling1D", {"data_format": "channels_first"}, torch.randn(2, 3), ValueError,
     r"expects inputs of shape \(batch, features, steps\)"),
    ("GlobalMaxPooling1D", {}, [[["a"]]], TypeError, r"GlobalMaxPooling1D '\w+' expects a tensor of shape"),
    ("GlobalMaxPooling1D", {}, torch.randn(2, 0, 3), ValueError, r"cannot take the maximum over 0 steps"),
    ("MaxPooling1D", {"pool_size": 0}, None, ValueError,
     r"MaxPooling1D 'max_pooling1d\w*': `pool_size` must be a positive integer or a tuple of 1 positive integer, "
     r"got 0"),
    ("MaxPooling1D", {"pool_size": (2, 2)}, None, ValueError, r"`pool_size` must be a positive integer"),
    ("MaxPooling1D", {"strides": -1}, None, ValueError, r"`strides` must be a positive integer"),
    ("MaxPooling1D", {"padding": "causal"}, None, ValueError, r"`padding` must be 'valid' or 'same', got 'causal'"),
    ("MaxPooling1D", {"pool_size": 5}, torch.randn(2, 3, 4), ValueError,
     r"pool_size 5 is longer than the 3 steps of the input \(shape \(2, 3, 4\)\)"),
    ("MaxPooling1D", {}, torch.randn(2, 4), ValueError, r"expects inputs of shape \(batch, steps, features\)"),
]


@pytest.mark.parametrize("name, kwargs, x, error, pattern", POOLING_ERRORS,
                         ids=[f"{row[0]}-{row[-1][:40]}" for row in POOLING_ERRORS])
def test_rejects_bad_arguments_and_inputs(name, kwargs, x, error, pattern):
    with pytest.raises(error, match=pattern):
        getattr(kr, name)(**kwargs)(x)


@pytest.mark.parametrize("name", ["GlobalAveragePooling1D", "GlobalMaxPooling1D", "MaxPooling1D", "SimpleRNN",
                                  "LSTMCell", "RepeatVector"])
def test_automatic_names_follow_keras(name):
    # Keras's rule: "MaxPooling1D" -> "max_pooling1d" (not "max_pooling1_d").
    assert snake_case(name) == to_snake_case(name)
    assert kr.MaxPooling1D(name=None).name.startswith("max_pooling1d")


def test_global_average_pooling_rejects_a_mask_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"expects a mask of shape \(batch, steps\) = \(2, 3\), got \(2, 4\)"):
        kr.GlobalAveragePooling1D()(torch.randn(2, 3, 5), mask=torch.ones(2, 4, dtype=torch.bool))


@pytest.mark.parametrize("pool", ["GlobalAveragePooling1D", "GlobalMaxPooling1D"])
def test_masked_text_classifier_sequential_matches_keras(pool):
    """keras-io-style classifier: Embedding(mask_zero) -> LSTM(return_sequences) -> global pooling -> Dense."""
    vocabulary, width, units = 20, 8, 6
    tokens = torch.randint(1, vocabulary, (4, 9))
    tokens[0, 5:] = 0
    tokens[1, 1:] = 0
    tokens[3, 7:] = 0
    with warnings.catch_warnings():
        # Keras warns that GlobalMaxPooling1D destroys the mask (checked in the single-layer test above).
        warnings.filterwarnings("ignore", message=".*destroy the mask", category=UserWarning)
        theirs = keras.Sequential([keras.Input((None,), dtype="int32"),
                                   keras.layers.Embedding(vocabulary, width, mask_zero=True),
                                   keras.layers.LSTM(units, return_sequences=True), getattr(keras.layers, pool)(),
                                   keras.layers.Dense(2, activation="softmax")])
    for layer in theirs.layers:
        if layer.weights:
            random_weights(layer, seed=len(layer.name))
    ours = kr.Sequential([kr.Embedding(vocabulary, width, mask_zero=True), kr.LSTM(units, return_sequences=True),
                          getattr(kr, pool)(), kr.Dense(2, activation="softmax")])
    ours(tokens)
    ours.set_weights(theirs.get_weights())
    out_ours = ours(tokens)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*destroy the mask", category=UserWarning)
        out_theirs = theirs(tokens)
    assert_close(out_ours, out_theirs, OUTPUT_ATOL, "model output")
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    for mine_w, ref_w in zip(ours.weights, theirs.weights, strict=True):
        assert_close(mine_w.grad, ref_w.value.grad, GRAD_ATOL, f"d/d {ref_w.path}")
    assert ours.compute_mask(tokens) is None


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16], ids=str)
def test_any_floating_dtype_is_kept(dtype):
    x, mask = torch.randn(B, T, F, dtype=dtype), masks_by_name(B, T)["right_padded"]
    layers = [kr.GlobalAveragePooling1D(), kr.GlobalMaxPooling1D(), kr.MaxPooling1D(padding="same"), kr.Flatten(),
              kr.Permute((2, 1)), kr.Reshape((-1,)), kr.Activation("tanh"), kr.Lambda(lambda t: t * 2)]
    for layer in layers:
        out = layer(x, mask=mask) if isinstance(layer, kr.GlobalAveragePooling1D) else layer(x)
        assert out.dtype == dtype, type(layer).__name__
    assert kr.RepeatVector(2)(x[:, 0]).dtype == dtype
    for merge in [kr.Add(), kr.Subtract(), kr.Multiply(), kr.Average(), kr.Maximum(), kr.Minimum(), kr.Concatenate(),
                  kr.Dot(axes=2, normalize=True)]:
        assert merge([x, x], mask=[mask, mask]).dtype == dtype, type(merge).__name__
