"""RMSNormalization against keras.layers.RMSNormalization: values, gradients, weights, configs, masks."""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from keras_layer_check import run_layer_test
from reference import GRAD_ATOL, OUTPUT_ATOL, assert_close, random_weights, weighted_sum

CASES = [({}, (2, 5, 4)), ({"epsilon": 1e-3}, (3, 4)), ({"axis": [1, 2]}, (2, 5, 4)), ({"axis": [2, 1]}, (2, 3, 4)),
         ({"axis": -1}, (2, 3, 2, 4)), ({"axis": [-2, -1]}, (2, 3, 2, 4))]


@pytest.mark.parametrize("kwargs, shape", CASES, ids=[str(k) for k, _ in CASES])
def test_rms_normalization_matches_keras(kwargs, shape):
    theirs = keras.layers.RMSNormalization(**kwargs)
    theirs.build(shape)
    random_weights(theirs, scale=2.0)
    ours = kr.RMSNormalization(**kwargs)
    ours.build(shape)
    ours.set_weights(theirs.get_weights())
    assert [name for name, _ in ours.named_parameters()] == [w.name for w in theirs.weights] == ["scale"]
    assert ours.count_params() == theirs.count_params()
    x = torch.randn(shape) * 3 + 1
    mine, ref = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out_ours, out_theirs = ours(mine), theirs(ref)
    assert_close(out_ours, out_theirs, OUTPUT_ATOL, "output")
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    assert_close(mine.grad, ref.grad, GRAD_ATOL, "d/d inputs")
    assert_close(ours.scale.grad, theirs.scale.value.grad, GRAD_ATOL, "d/d scale")
    assert ours.get_config() == {**theirs.get_config(), "name": ours.name}
    assert type(ours).from_config(ours.get_config()).get_config()["axis"] == ours.get_config()["axis"]
    mask = torch.ones(shape[:2], dtype=torch.bool)
    assert ours.compute_mask(x, mask) is mask


def test_rms_normalization_an_axis_between_others():
    """Keras 3.15's torch path fails for a single axis before the last (F.rms_norm wants trailing axes);
    the formula gives, here, what Keras's other paths give."""
    x = torch.randn(2, 5, 4)
    layer = kr.RMSNormalization(axis=1)
    out = layer(x)
    expected = x / torch.sqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-6)
    assert_close(out, expected, 1e-6, "axis 1")
    assert layer.scale.shape == (5,) and layer.get_config()["axis"] == [1]


def test_rms_normalization_keeps_half_inputs_in_their_dtype():
    x = torch.randn(2, 8, dtype=torch.bfloat16)
    out = kr.RMSNormalization()(x)
    assert out.dtype == torch.bfloat16
    reference = (x.float() * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-6)).to(torch.bfloat16)
    assert torch.equal(out, reference)


def test_rms_normalization_refuses_bad_arguments():
    with pytest.raises(ValueError, match="out of bounds"):
        kr.RMSNormalization(axis=3)(torch.randn(2, 3))
    with pytest.raises(TypeError, match="axis"):
        kr.RMSNormalization(axis="last")
    with pytest.raises(ValueError, match="epsilon"):
        kr.RMSNormalization(epsilon=-1.0)
    layer = kr.RMSNormalization()
    layer(torch.randn(2, 3))
    with pytest.raises(ValueError, match="was built for"):
        layer(torch.randn(2, 4))


def test_rms_normalization_passes_keras_s_layer_test():
    run_layer_test(kr.RMSNormalization, init_kwargs={"axis": -1}, input_shape=(2, 3), expected_output_shape=(2, 3),
                   expected_num_trainable_weights=1, expected_num_non_trainable_weights=0, supports_masking=True)


def test_rms_normalization_takes_an_input_shape_hint():
    layer = kr.RMSNormalization(input_shape=(5, 4))
    assert layer.built and layer.scale.shape == (4,)
    np.testing.assert_array_equal(layer.scale.detach().numpy(), np.ones(4))
