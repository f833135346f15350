"""Keras 3's keras/src/layers/merging/merging_test.py, ported to kr (Keras's numbers and tolerances).

Keras attaches masks to eager tensors (`backend.get_keras_mask`); kr passes them explicitly:
`layer(inputs, mask=[...])` and `layer.compute_mask(inputs, masks)` stand for Keras's attached masks.
The sparse cases are left out (see tests/keras_ported_left_out.md).
"""
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from keras_layer_check import run_layer_test


def np_dot(a, b, axes):
    if isinstance(axes, int):
        axes = (axes, axes)
    axes = [axis if axis < 0 else axis - 1 for axis in axes]
    res = np.stack([np.tensordot(a[i], b[i], axes) for i in range(a.shape[0])])
    if len(res.shape) == 1:
        res = np.expand_dims(res, axis=1)
    return res


TEST_PARAMETERS = {
    "add": dict(layer_class=kr.Add, np_op=np.add),
    "subtract": dict(layer_class=kr.Subtract, np_op=np.subtract),
    "minimum": dict(layer_class=kr.Minimum, np_op=np.minimum),
    "maximum": dict(layer_class=kr.Maximum, np_op=np.maximum),
    "multiply": dict(layer_class=kr.Multiply, np_op=np.multiply),
    "average": dict(layer_class=kr.Average, np_op=lambda a, b: np.multiply(np.add(a, b), 0.5)),
    "concat": dict(layer_class=kr.Concatenate,
                   np_op=lambda a, b, **kwargs: np.concatenate((a, b), **kwargs),
                   init_kwargs={"axis": -1}, expected_output_shape=(2, 4, 10)),
    "dot_2d": dict(layer_class=kr.Dot, np_op=np_dot, init_kwargs={"axes": -1}, input_shape=(2, 4),
                   expected_output_shape=(2, 1), skip_mask_test=True),
    "dot_3d": dict(layer_class=kr.Dot, np_op=np_dot, init_kwargs={"axes": -1},
                   expected_output_shape=(2, 4, 4), skip_mask_test=True),
}


def case(name):
    params = {"init_kwargs": {}, "input_shape": (2, 4, 5), "expected_output_shape": (2, 4, 5),
              "skip_mask_test": False}
    params.update(TEST_PARAMETERS[name])
    return params


@pytest.mark.parametrize("name", list(TEST_PARAMETERS))
def test_basic(name):
    p = case(name)
    run_layer_test(p["layer_class"], init_kwargs=p["init_kwargs"],
                   input_shape=(p["input_shape"], p["input_shape"]),
                   expected_output_shape=p["expected_output_shape"],
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0,
                   expected_num_losses=0, supports_masking=True)


@pytest.mark.parametrize("name", list(TEST_PARAMETERS))
def test_correctness_static(name):
    p = case(name)
    input_shape = p["input_shape"]
    batch_size, shape = input_shape[0], input_shape[1:]
    x1 = np.random.rand(*input_shape)
    x2 = np.random.rand(*input_shape)
    x3 = p["np_op"](x1, x2, **p["init_kwargs"])

    input_1 = kr.Input(shape=shape, batch_size=batch_size)
    input_2 = kr.Input(shape=shape, batch_size=batch_size)
    layer = p["layer_class"](**p["init_kwargs"])
    out = layer([input_1, input_2])
    model = kr.Model([input_1, input_2], out)
    res = model([x1, x2])

    assert tuple(res.shape) == p["expected_output_shape"]
    np.testing.assert_allclose(res.detach().numpy(), x3, atol=1e-4, rtol=1e-6)
    assert layer.compute_mask([input_1, input_2], [None, None]) is None
    assert layer.compute_mask([torch.as_tensor(x1), torch.as_tensor(x2)], [None, None]) is None
    if not p["skip_mask_test"]:
        mask1 = torch.ones(input_shape[:-1], dtype=torch.bool)
        mask2 = torch.ones(input_shape[:-1], dtype=torch.bool)
        assert bool(layer.compute_mask([torch.as_tensor(x1), torch.as_tensor(x2)], [mask1, mask2]).all())


@pytest.mark.parametrize("name", list(TEST_PARAMETERS))
def test_correctness_dynamic(name):
    p = case(name)
    input_shape = p["input_shape"]
    shape = input_shape[1:]
    x1 = np.random.rand(*input_shape)
    x2 = np.random.rand(*input_shape)
    x3 = p["np_op"](x1, x2, **p["init_kwargs"])

    input_1 = kr.Input(shape=shape)
    input_2 = kr.Input(shape=shape)
    layer = p["layer_class"](**p["init_kwargs"])
    out = layer([input_1, input_2])
    model = kr.Model([input_1, input_2], out)
    res = model([x1, x2])

    assert tuple(res.shape) == p["expected_output_shape"]
    np.testing.assert_allclose(res.detach().numpy(), x3, atol=1e-4, rtol=1e-6)
    assert layer.compute_mask([input_1, input_2], [None, None]) is None
    if not p["skip_mask_test"]:
        # Keras passes the float arrays themselves as masks: any non-zero value keeps its step.
        mask = layer.compute_mask([input_1, input_2], [torch.as_tensor(x1), torch.as_tensor(x2)])
        assert bool(torch.as_tensor(mask).bool().all())


@pytest.mark.parametrize("name", list(TEST_PARAMETERS))
def test_errors(name):
    p = case(name)
    if p["skip_mask_test"]:
        return      # Keras skips it: Dot does not support masking
    input_shape = p["input_shape"]
    batch_size, shape = input_shape[0], input_shape[1:]
    x1 = torch.as_tensor(np.random.rand(batch_size, *shape))
    input_1 = kr.Input(shape=shape, batch_size=batch_size)
    input_2 = kr.Input(shape=shape, batch_size=batch_size)
    layer = p["layer_class"](**p["init_kwargs"])

    with pytest.raises(ValueError, match="`mask` should be a list."):
        layer.compute_mask([input_1, input_2], x1)
    with pytest.raises(ValueError, match="`inputs` should be a list."):
        layer.compute_mask(input_1, [None, None])
    with pytest.raises(ValueError, match=" should have the same length."):
        layer.compute_mask([input_1, input_2], [None])


def test_dot_skips_the_mask_errors():
    """What Keras's skipped test_errors cases come to: Dot has no output mask."""
    x = torch.ones(2, 4, 5)
    assert kr.Dot(axes=-1).compute_mask([x, x], [torch.ones(2, 4, dtype=torch.bool)] * 2) is None


def test_subtract_layer_inputs_length_errors():
    shape = (4, 5)
    input_1 = kr.Input(shape=shape)
    input_2 = kr.Input(shape=shape)
    input_3 = kr.Input(shape=shape)
    with pytest.raises(ValueError, match="layer should be called on exactly 2 inputs"):
        kr.Subtract()([input_1, input_2, input_3])
    with pytest.raises(ValueError, match="layer should be called on exactly 2 inputs"):
        kr.Subtract()([input_1])


def test_dot_higher_dim():
    a_shape = (1, 3, 2)
    b_shape = (1, 1, 2, 3)
    a = kr.Input(shape=a_shape[1:], batch_size=a_shape[0])
    b = kr.Input(shape=b_shape[1:], batch_size=b_shape[0])
    c = kr.Dot(axes=(-2, -1))([a, b])
    assert tuple(c.shape) == (1, 2, 1, 2)
    a = torch.as_tensor(np.random.random(a_shape))
    b = torch.as_tensor(np.random.random(b_shape))
    c = kr.Dot(axes=(-2, -1))([a, b])
    assert tuple(c.shape) == (1, 2, 1, 2)


def _masked_pair():
    masking = kr.Masking()
    raw1 = torch.tensor([[[0, 0], [1, 2], [0, 0], [3, 4]]], dtype=torch.float32)
    x1, m1 = masking(raw1), masking.compute_mask(raw1)
    x2 = torch.tensor([[[0, 0], [0, 0], [1, 2], [3, 4]]], dtype=torch.float32)
    return x1, m1, x2, masking.compute_mask(x2)


def _check_with_mask(layer_class, one_masked, both_masked, signs=1.0):
    x1, m1, x2, m2 = _masked_pair()
    x1, x2 = x1 * signs, x2 * signs
    layer = layer_class()
    output = layer([x1, x2], mask=[m1, None])
    np.testing.assert_allclose(output.numpy(), one_masked, atol=1e-6, rtol=1e-6)
    assert layer.compute_mask([x1, x2], [m1, None]) is None
    output = layer([x1, x2], mask=[m1, m2])
    np.testing.assert_allclose(output.numpy(), both_masked, atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(layer.compute_mask([x1, x2], [m1, m2]).numpy(), [[0, 1, 1, 1]])


def test_add_with_mask():
    _check_with_mask(kr.Add, [[[0, 0], [1, 2], [1, 2], [6, 8]]], [[[0, 0], [1, 2], [1, 2], [6, 8]]])


def test_subtract_with_mask():
    _check_with_mask(kr.Subtract, [[[0, 0], [1, 2], [-1, -2], [0, 0]]], [[[0, 0], [1, 2], [-1, -2], [0, 0]]])


def test_average_with_mask():
    _check_with_mask(kr.Average, [[[0, 0], [0.5, 1], [0.5, 1], [3, 4]]], [[[0, 0], [0.5, 1], [0.5, 1], [3, 4]]])


def test_multiply_with_mask():
    _check_with_mask(kr.Multiply, [[[0, 0], [0, 0], [1, 2], [9, 16]]], [[[0, 0], [1, 2], [1, 2], [9, 16]]])


def test_maximum_with_mask():
    _check_with_mask(kr.Maximum, [[[0, 0], [0, 0], [-1, -2], [-3, -4]]],
                     [[[0, 0], [-1, -2], [-1, -2], [-3, -4]]], signs=-1.0)


def test_minimum_with_mask():
    _check_with_mask(kr.Minimum, [[[0, 0], [0, 0], [1, 2], [3, 4]]], [[[0, 0], [1, 2], [1, 2], [3, 4]]])


def test_concatenate_with_mask():
    x1, m1, x2, _ = _masked_pair()
    layer = kr.Concatenate(axis=1)
    output = layer([x1, x2], mask=[m1, None])
    np.testing.assert_allclose(
        output.numpy(), [[[0, 0], [1, 2], [0, 0], [3, 4], [0, 0], [0, 0], [1, 2], [3, 4]]])
    np.testing.assert_allclose(layer.compute_mask([x1, x2], [m1, None]).numpy(), [[0, 1, 0, 1, 1, 1, 1, 1]])

    layer = kr.Concatenate(axis=2)
    output = layer([x1, x2], mask=[m1, None])
    np.testing.assert_allclose(output.numpy(), [[[0, 0, 0, 0], [1, 2, 0, 0], [0, 0, 1, 2], [3, 4, 3, 4]]])
    np.testing.assert_allclose(layer.compute_mask([x1, x2], [m1, None]).numpy(), [[1, 1, 1, 1]])


def test_concatenate_with_mask_symbolic():
    input1 = kr.Input((4, 2))
    input2 = kr.Input((4, 2))
    output = kr.Concatenate(axis=1)([kr.Masking()(input1), input2])
    model = kr.Model(inputs=[input1, input2], outputs=output)
    x1 = torch.tensor([[[0, 0], [1, 2], [0, 0], [3, 4]]], dtype=torch.float32)
    x2 = torch.tensor([[[0, 0], [0, 0], [1, 2], [3, 4]]], dtype=torch.float32)
    # Keras makes the mask a model output; kr gives a model's output masks by `compute_mask`.
    model([x1, x2])
    np.testing.assert_allclose(model.compute_mask([x1, x2]).numpy(), [[0, 1, 0, 1, 1, 1, 1, 1]])


def test_concatenate_errors():
    x1 = torch.ones((1, 1, 1, 1, 5))
    x2 = torch.ones((1, 1, 1, 1, 4))
    out = kr.Concatenate(axis=-1)([x1, x2])
    assert tuple(out.shape) == (1, 1, 1, 1, 9)

    x1 = torch.ones((1, 2, 1, 1, 5))
    x2 = torch.ones((1, 1, 1, 1, 4))
    with pytest.raises(ValueError, match="requires inputs with matching shapes except for the concatenation axis"):
        kr.Concatenate(axis=-1)([x1, x2])
    x1 = torch.ones((1, 2, 1, 2, 1))
    x2 = torch.ones((1, 1, 1, 3, 1))
    with pytest.raises(ValueError, match="requires inputs with matching shapes except for the concatenation axis"):
        kr.Concatenate(axis=1)([x1, x2])
