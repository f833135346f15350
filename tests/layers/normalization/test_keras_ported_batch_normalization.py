"""Keras 3's keras/src/layers/normalization/batch_normalization_test.py, ported to kr (Keras's numbers and
tolerances). Keras's `variable.assign(v)` is `weight.copy_(v)` under no_grad here; Keras's eager masks
(`Masking()(x)` attaching a mask) are passed as `mask=`; Keras's private `AutocastScope` is `torch.autocast`.
Keras runs the synchronized=True case on TensorFlow only (as here: kr refuses synchronized=True)."""
import itertools

import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from keras_layer_check import run_layer_test


def assign(weight, value):
    with torch.no_grad():
        weight.copy_(torch.as_tensor(np.asarray(value), dtype=weight.dtype))


def numpy(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


@pytest.mark.parametrize("init_kwargs, input_shape, trainable, losses", [
    ({"center": True, "scale": True}, (2, 3), 2, 0),
    ({"center": False, "scale": False}, (2, 3), 0, 0),
    ({"center": True, "scale": True, "beta_regularizer": "l2", "gamma_regularizer": "l2"}, (2, 4, 4, 3), 2, 2),
])
def test_bn_basics(init_kwargs, input_shape, trainable, losses):
    run_layer_test(kr.BatchNormalization, init_kwargs=init_kwargs, call_kwargs={"training": True},
                   input_shape=input_shape, expected_output_shape=input_shape,
                   expected_num_trainable_weights=trainable, expected_num_non_trainable_weights=2,
                   expected_num_losses=losses, supports_masking=True)


@pytest.mark.parametrize("axis, input_shape, moving_mean_initializer, moving_variance_initializer",
                         list(itertools.product((-1, 1), ((5, 2, 3), (5, 3, 3, 2)), ("zeros", "ones"),
                                                ("zeros", "ones"))))
def test_correctness(axis, input_shape, moving_mean_initializer, moving_variance_initializer):
    layer = kr.BatchNormalization(axis=axis, momentum=0, moving_mean_initializer=moving_mean_initializer,
                                  moving_variance_initializer=moving_variance_initializer)
    x = np.random.normal(loc=5.0, scale=10.0, size=input_shape)
    out = x
    for _ in range(3):
        out = layer(out, training=True)

    broadcast_shape = [1] * len(input_shape)
    broadcast_shape[axis] = input_shape[axis]
    out = numpy(out)
    out = out - np.reshape(numpy(layer.beta), broadcast_shape)
    out = out / np.reshape(numpy(layer.gamma), broadcast_shape)
    reduction_axes = list(range(len(input_shape)))
    del reduction_axes[axis]
    reduction_axes = tuple(reduction_axes)
    np.testing.assert_allclose(np.mean(out, axis=reduction_axes), 0.0, atol=1e-3)
    np.testing.assert_allclose(np.std(out, axis=reduction_axes), 1.0, atol=1e-3)
    np.testing.assert_allclose(numpy(layer.moving_mean), 0.0, atol=1e-3)
    np.testing.assert_allclose(numpy(layer.moving_variance), 1.0, atol=1e-3)

    # Inference done before training shouldn't match.
    inference_out = layer(x, training=False)
    training_out = layer(x, training=True)
    assert not np.allclose(numpy(inference_out), numpy(training_out), atol=1e-6, rtol=1e-6)

    # Since momentum is zero, inference after training should match.
    training_out = layer(x, training=True)
    inference_out = layer(x, training=False)
    np.testing.assert_allclose(numpy(inference_out), numpy(training_out), atol=1e-6, rtol=1e-6)

    # Masked result with no training should not differ
    x[:, 1, :] = 0.0
    unmasked_out = layer(x, training=False)
    masking = kr.Masking()
    masked_out = layer(masking(x), training=False, mask=masking.compute_mask(torch.as_tensor(x)))
    np.testing.assert_allclose(numpy(unmasked_out), numpy(masked_out), atol=1e-6, rtol=1e-6)

    # Masked result should differ from unmasked result
    unmasked_out = layer(x, training=False)
    x[:, 1, :] = 0.0
    masked_out = layer(masking(x), training=True, mask=masking.compute_mask(torch.as_tensor(x)))
    assert not np.allclose(numpy(unmasked_out), numpy(masked_out), atol=1e-6, rtol=1e-6)


def test_input_fully_masked():
    norm = kr.BatchNormalization(scale=False, center=False, synchronized=False)
    x = np.zeros((4, 5))
    mask = np.zeros((4,), dtype=np.float32)
    y = norm(x, mask=mask, training=True)
    np.testing.assert_allclose(numpy(y), np.zeros_like(x, dtype=np.float32), atol=1e-6)


@pytest.mark.parametrize("run_eagerly, mask_value", list(itertools.product((True, False), (0.0, 0.1, 1))))
def test_bachnorm_ignore_masked_values(run_eagerly, mask_value):
    padded_data = np.array([[[1, 5], [2, 5], [mask_value, mask_value], [mask_value, mask_value]]
                            for _ in range(10)], dtype="float32")
    inputs = kr.Input((None, 2))
    masked = kr.Masking(mask_value=mask_value)(inputs)
    normed = kr.BatchNormalization(momentum=0.0)(masked)
    model = kr.Model(inputs, normed)
    model.compile("rmsprop", loss=kr.losses.MeanSquaredError(), run_eagerly=run_eagerly)
    model.fit(x=padded_data, y=padded_data, batch_size=10, epochs=5, verbose=0)
    np.testing.assert_allclose(numpy(model.layers[2].moving_mean), [1.5, 5.0], atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(numpy(model.layers[2].moving_variance), [0.25, 0.0], atol=1e-6, rtol=1e-6)


def test_trainable_behavior():
    layer = kr.BatchNormalization(axis=-1, momentum=0.8, epsilon=1e-7)
    layer.build((1, 4, 4, 3))
    layer.trainable = False
    assert len(layer.weights) == 4
    assert len(layer.trainable_weights) == 0
    assert len(layer.non_trainable_weights) == 4

    x = np.random.normal(loc=5.0, scale=10.0, size=(200, 4, 4, 3))
    out = layer(x, training=True)
    np.testing.assert_allclose(numpy(out), x, atol=1e-6, rtol=1e-6)

    layer.trainable = True
    assert len(layer.weights) == 4
    assert len(layer.trainable_weights) == 2
    assert len(layer.non_trainable_weights) == 2
    for _ in range(10):
        out = layer(x, training=True)
    out = numpy(out)
    out = out - np.reshape(numpy(layer.beta), (1, 1, 1, 3))
    out = out / np.reshape(numpy(layer.gamma), (1, 1, 1, 3))
    np.testing.assert_allclose(np.mean(out, axis=(0, 1, 2)), 0.0, atol=1e-3)
    np.testing.assert_allclose(np.std(out, axis=(0, 1, 2)), 1.0, atol=1e-3)


def test_masked_broadcast_normalization():
    input_shape = (1, 2, 3, 4)
    mask_shape = (1, 2, 1)
    x = torch.ones(input_shape)
    mask = torch.ones(mask_shape)
    layer = kr.BatchNormalization(axis=-1, momentum=0.0, epsilon=1e-3)
    y = layer(x, training=True, mask=mask)
    mean_y = y.mean(dim=(0, 1, 2))
    np.testing.assert_allclose(numpy(mean_y), np.zeros((4,)), atol=1e-6)
    np.testing.assert_allclose(numpy(y), np.zeros(input_shape), atol=1e-6)
    np.testing.assert_allclose(numpy(layer.moving_mean), np.ones((4,)), atol=1e-6)
    np.testing.assert_allclose(numpy(layer.moving_variance), np.zeros((4,)), atol=1e-6)


@pytest.mark.parametrize("init_kwargs, input_shape", [
    ({"center": True, "scale": True, "renorm": True}, (2, 3)),
    ({"center": True, "scale": True, "renorm": True,
      "renorm_clipping": {"rmax": 3.0, "rmin": 0.3, "dmax": 5.0}}, (2, 4, 4, 3)),
])
def test_renorm_basics(init_kwargs, input_shape):
    # moving_mean, moving_variance, moving_stddev, renorm_mean, renorm_stddev
    run_layer_test(kr.BatchNormalization, init_kwargs=init_kwargs, call_kwargs={"training": True},
                   input_shape=input_shape, expected_output_shape=input_shape,
                   expected_num_trainable_weights=2, expected_num_non_trainable_weights=5,
                   expected_num_losses=0, supports_masking=True)


def test_renorm_invalid_clipping_keys():
    with pytest.raises(ValueError, match="Received invalid keys"):
        kr.BatchNormalization(renorm=True, renorm_clipping={"random_key": 1.0})
    with pytest.raises(ValueError, match="rmax should be"):
        kr.BatchNormalization(renorm=True, renorm_clipping={"rmax": 0.0, "rmin": 1.0})
    with pytest.raises(ValueError, match="dmax should be non-negative"):
        kr.BatchNormalization(renorm=True, renorm_clipping={"rmax": 1.0, "dmax": -1.0})


def test_renorm_stddev_initializer():
    layer = kr.BatchNormalization(renorm=True, moving_variance_initializer=kr.initializers.Constant(4.0))
    layer.build((None, 5))
    np.testing.assert_allclose(numpy(layer.moving_stddev), np.full((5,), 2.0), atol=1e-6)
    np.testing.assert_allclose(numpy(layer.renorm_stddev), np.full((5,), 2.0), atol=1e-6)


def test_renorm_inference():
    bn = kr.BatchNormalization(renorm=False)
    bn_renorm = kr.BatchNormalization(renorm=True)
    bn.build((None, 10))
    bn_renorm.build((None, 10))
    for attr in ["gamma", "beta", "moving_mean", "moving_variance"]:
        assign(getattr(bn, attr), np.random.normal(size=(10,)))
        assign(getattr(bn_renorm, attr), numpy(getattr(bn, attr)))
    x = np.random.normal(size=(4, 10))
    out = bn(x, training=False)
    out_renorm = bn_renorm(x, training=False)
    np.testing.assert_allclose(numpy(out), numpy(out_renorm), atol=1e-5, rtol=1e-5)


def test_renorm_correctness():
    kr.utils.set_random_seed(1337)
    epsilon, momentum, renorm_momentum = 1e-3, 0.9, 0.8
    layer = kr.BatchNormalization(axis=-1, epsilon=epsilon, momentum=momentum, renorm=True,
                                  renorm_momentum=renorm_momentum)
    layer.build((None, 3))

    size = (3,)
    init_moving_mean = np.random.normal(0.0, 1.0, size=size)
    init_moving_var = np.abs(np.random.normal(1.0, 0.5, size=size))
    init_moving_stddev = np.sqrt(init_moving_var)
    init_renorm_mean = np.random.normal(0.0, 1.0, size=size)
    init_renorm_stddev = np.abs(np.random.normal(1.0, 0.5, size=size))
    init_gamma = np.random.normal(1.0, 0.1, size=size)
    init_beta = np.random.normal(0.0, 0.1, size=size)
    assign(layer.moving_mean, init_moving_mean)
    assign(layer.moving_variance, init_moving_var)
    assign(layer.moving_stddev, init_moving_stddev)
    assign(layer.renorm_mean, init_renorm_mean)
    assign(layer.renorm_stddev, init_renorm_stddev)
    assign(layer.gamma, init_gamma)
    assign(layer.beta, init_beta)

    x = np.array([[4.0, 6.0, 2.0], [8.0, -2.0, 5.0], [6.0, 4.0, 3.0]], dtype="float32")
    batch_mean = np.mean(x, axis=0)
    batch_var = np.var(x, axis=0)
    batch_stddev = np.sqrt(batch_var + epsilon)
    r = batch_stddev / init_renorm_stddev
    d = (batch_mean - init_renorm_mean) / init_renorm_stddev
    expected_output = (((x - batch_mean) / batch_stddev) * r + d) * init_gamma + init_beta
    actual_output = layer(x, training=True)
    np.testing.assert_allclose(numpy(actual_output), expected_output, atol=1e-5, rtol=1e-6)

    expected_renorm_mean = init_renorm_mean * renorm_momentum + batch_mean * (1 - renorm_momentum)
    np.testing.assert_allclose(numpy(layer.renorm_mean), expected_renorm_mean, atol=1e-5, rtol=1e-6)
    expected_renorm_stddev = init_renorm_stddev * renorm_momentum + batch_stddev * (1 - renorm_momentum)
    np.testing.assert_allclose(numpy(layer.renorm_stddev), expected_renorm_stddev, atol=1e-5, rtol=1e-6)
    expected_moving_mean = init_moving_mean * momentum + batch_mean * (1 - momentum)
    np.testing.assert_allclose(numpy(layer.moving_mean), expected_moving_mean, atol=1e-5, rtol=1e-6)
    expected_moving_stddev = init_moving_stddev * momentum + batch_stddev * (1 - momentum)
    np.testing.assert_allclose(numpy(layer.moving_stddev), expected_moving_stddev, atol=1e-5, rtol=1e-6)
    expected_moving_var = expected_moving_stddev**2 - epsilon
    np.testing.assert_allclose(numpy(layer.moving_variance), expected_moving_var, atol=1e-5, rtol=1e-6)


def test_serialization():
    layer = kr.BatchNormalization(renorm=True, renorm_clipping={"rmax": 3.0, "rmin": 0.3, "dmax": 5.0},
                                  renorm_momentum=0.95)
    config = layer.get_config()
    new_layer = kr.BatchNormalization.from_config(config)
    assert new_layer.get_config() == config


def test_renorm_matches_keras_in_training_and_after():
    """Against Keras 3 itself: outputs, gradients of gamma and beta, and every statistic, over three
    training steps with clipping, then inference."""
    import keras
    kwargs = dict(renorm=True, renorm_clipping={"rmax": 1.5, "rmin": 0.7, "dmax": 0.5}, renorm_momentum=0.7,
                  momentum=0.8)
    ours, reference = kr.BatchNormalization(**kwargs), keras.layers.BatchNormalization(**kwargs)
    ours.build((None, 5, 3))
    reference.build((None, 5, 3))
    rng = np.random.default_rng(0)
    for w in reference.weights:
        w.assign(rng.uniform(0.5, 1.5, size=w.shape).astype("float32"))
    for w, v in zip(ours.weights, reference.weights):
        assign(w, keras.ops.convert_to_numpy(v))
    assert [w.path.split("/")[-1] for w in reference.weights] == [n for n, _ in ours.named_parameters()]
    for step in range(3):
        x = rng.normal(2.0, 3.0, size=(4, 5, 3)).astype("float32")
        weights = rng.normal(size=(4, 5, 3)).astype("float32")
        ours.zero_grad()
        out = ours(torch.as_tensor(x), training=True)
        (out * torch.as_tensor(weights)).sum().backward()
        ref = reference(torch.as_tensor(x), training=True)
        ref_grads = torch.autograd.grad((ref * torch.as_tensor(weights)).sum(),
                                        [reference.gamma.value, reference.beta.value])
        np.testing.assert_allclose(numpy(out), keras.ops.convert_to_numpy(ref), atol=1e-5)
        np.testing.assert_allclose(numpy(ours.gamma.grad), numpy(ref_grads[0]), atol=1e-4)
        np.testing.assert_allclose(numpy(ours.beta.grad), numpy(ref_grads[1]), atol=1e-4)
        for w, v in zip(ours.weights, reference.weights):
            np.testing.assert_allclose(numpy(w), keras.ops.convert_to_numpy(v), atol=1e-5)
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    np.testing.assert_allclose(numpy(ours(torch.as_tensor(x), training=False)),
                               keras.ops.convert_to_numpy(reference(torch.as_tensor(x), training=False)), atol=1e-5)


def test_broadcast_mask_matches_keras():
    import keras
    ours, reference = kr.BatchNormalization(momentum=0.5), keras.layers.BatchNormalization(momentum=0.5)
    x = np.random.default_rng(1).normal(size=(2, 3, 4, 5)).astype("float32")
    mask = np.array([[[1], [0], [1]], [[1], [1], [0]]], dtype=bool)
    out = ours(torch.as_tensor(x), training=True, mask=torch.as_tensor(mask))
    ref = reference(torch.as_tensor(x), training=True, mask=torch.as_tensor(mask))
    np.testing.assert_allclose(numpy(out), keras.ops.convert_to_numpy(ref), atol=1e-5)
    np.testing.assert_allclose(numpy(ours.moving_variance), keras.ops.convert_to_numpy(reference.moving_variance),
                               atol=1e-6)
    with pytest.raises(ValueError, match=r"mask must broadcast to \(2, 3, 4\).*got \(2, 2, 1\)"):
        ours(torch.as_tensor(x), training=True, mask=torch.ones(2, 2, 1))


def test_large_value_within_autocast_scope():
    # Keras's private AutocastScope("float16") is torch.autocast here; Keras's `assign` is `copy_` under no_grad
    layer = kr.BatchNormalization()
    layer.build((1, 4, 4, 3))
    # Use 70000 to trigger overflow for float16
    large_value = torch.full(layer.moving_variance.shape, 70000.0)
    with torch.autocast("cpu", dtype=torch.float16):
        with torch.no_grad():
            layer.moving_variance.copy_(large_value)
        np.testing.assert_allclose(layer.moving_variance.detach().numpy(), large_value.numpy())
