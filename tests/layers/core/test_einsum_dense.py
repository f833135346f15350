"""EinsumDense against Keras 3: numbers, gradients, a training step, shapes, weights, configs, errors."""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from kerasrnn_torch.layers.core.einsum_dense import analyze_einsum
from reference import GRAD_ATOL, OUTPUT_ATOL, assert_close, random_weights, weighted_sum

# (equation, output_shape, bias_axes, input shape with the batch axis): Keras's docs and tests.
CASES = {
    "dense": ("ab,bc->ac", 6, "c", (3, 4)),
    "dense_no_bias": ("ab,bc->ac", (6,), None, (3, 4)),
    "sequence": ("abc,cd->abd", (None, 6), "d", (3, 5, 4)),
    "sequence_bias_on_steps": ("abc,cd->abd", (5, 6), "bd", (3, 5, 4)),
    "heads": ("abc,cde->abde", (None, 2, 3), "de", (3, 5, 4)),
    "heads_bias_d": ("abc,cde->abde", (5, 2, 3), "d", (3, 5, 4)),
    "heads_bias_be": ("abc,cde->abde", (5, 2, 3), "be", (3, 5, 4)),
    "merge_heads": ("abcd,cde->abe", (5, 3), "e", (3, 5, 2, 4)),
    "bert_projection": ("BFNH,NHD->BFD", (1, 4), "D", (2, 1, 2, 3)),
    "ellipsis": ("...b,bc->...c", 6, "c", (3, 5, 4)),
    "ellipsis_rank4": ("...b,bc->...c", (6,), None, (2, 3, 5, 4)),
    "ellipsis_heads": ("...c,cde->...de", (2, 3), "de", (3, 5, 4)),
    "ellipsis_used_in_output": ("...bc,bc->...b", (5,), None, (3, 5, 4)),
    "postcast": ("bc...,cd->bd...", (4,), "d", (2, 3, 2, 3)),
    "postcast_bias_d": ("bc...,cde->bde...", (3, 4), "d", (2, 2, 5)),
    "postcast_bias_de": ("bc...,cde->bde...", (3, 4), "de", (2, 2, 5)),
    "xlnet_lm": ("ibd,nd->ibn", (2, 5), None, (3, 2, 4)),
    "vector_kernel": ("ab,b->a", (), None, (3, 4)),
    "outer": ("i,d->id", (4,), "d", (3,)),
    "transpose_and_reduce": ("abcde,afce->acdbf", (3, 4, 2, 5), "d", (2, 2, 3, 4, 6)),
}


def keras_layer(equation, output_shape, bias_axes, shape, **kwargs):
    layer = keras.layers.EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes, **kwargs)
    layer.build(shape)
    random_weights(layer)
    return layer


def both(case, **kwargs):
    equation, output_shape, bias_axes, shape = CASES[case]
    theirs = keras_layer(equation, output_shape, bias_axes, shape, **kwargs)
    ours = kr.EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes, **kwargs)
    ours.build(shape)
    ours.set_weights(theirs.get_weights())
    return ours, theirs, shape


@pytest.mark.parametrize("activation", [None, "tanh"])
@pytest.mark.parametrize("case", CASES)
def test_einsum_dense_matches_keras_outputs_and_gradients(case, activation):
    ours, theirs, shape = both(case, activation=activation)
    x = torch.randn(shape)
    x_ours, x_theirs = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
    assert_close(out_ours, out_theirs, OUTPUT_ATOL, "output")
    assert tuple(ours.compute_output_shape(shape)) == tuple(out_ours.shape)
    weighted_sum([out_ours]).backward()
    weighted_sum([out_theirs]).backward()
    assert_close(x_ours.grad, x_theirs.grad, GRAD_ATOL, "d/d inputs")
    assert [name for name, _ in ours.named_parameters()] == [w.name for w in theirs.weights]
    for mine, ref in zip(ours.parameters(), theirs.weights):
        assert_close(mine.grad, ref.value.grad, GRAD_ATOL, f"d/d {ref.path}")


@pytest.mark.parametrize("case", CASES)
def test_einsum_dense_weights_and_output_shape_are_keras_s(case):
    equation, output_shape, bias_axes, shape = CASES[case]
    theirs = keras.layers.EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes)
    theirs.build(shape)
    ours = kr.EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes)
    ours.build(shape)
    assert [tuple(w.shape) for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    assert ours.count_params() == theirs.count_params()
    # Keras's compute_output_shape leaves None where the input gives a size, and reverses the order of
    # 3 or more "..." axes; ours is the shape Keras's call returns.
    assert ours.compute_output_shape(shape) == tuple(theirs(torch.zeros(shape)).shape)


@pytest.mark.parametrize("case", ["heads_bias_be", "ellipsis_heads", "postcast_bias_de"])
def test_einsum_dense_one_training_step_matches_keras(case):
    equation, output_shape, bias_axes, shape = CASES[case]
    theirs_layer = keras_layer(equation, output_shape, bias_axes, shape, activation="relu")
    theirs = keras.Sequential([keras.Input(shape[1:]), theirs_layer])
    ours = kr.Sequential([kr.Input(shape[1:]), kr.EinsumDense(equation, output_shape, activation="relu",
                                                                bias_axes=bias_axes)])
    ours.set_weights(theirs.get_weights())
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, *shape[1:])).astype("float32")
    y = rng.standard_normal((4, *theirs_layer.compute_output_shape(shape)[1:])).astype("float32")
    for model, optimizers in ((theirs, keras.optimizers), (ours, kr.optimizers)):
        model.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    np.testing.assert_allclose(ours.train_on_batch(x, y), theirs.train_on_batch(x, y), rtol=1e-5)
    for mine, ref in zip(ours.get_weights(), theirs.get_weights()):
        assert_close(mine, ref, OUTPUT_ATOL, "weights after one step")


def test_einsum_dense_weights_exist_at_construction_with_input_shape_else_at_the_first_call():
    layer = kr.EinsumDense("abc,cde->abde", (None, 2, 3), bias_axes="e", input_shape=(5, 4))
    assert layer.built and tuple(layer.kernel.shape) == (4, 2, 3) and tuple(layer.bias.shape) == (3,)
    lazy = kr.EinsumDense("abc,cde->abde", (None, 2, 3), bias_axes="e")
    assert not lazy.built
    with pytest.raises(ValueError, match="has no weights yet"):
        lazy.get_weights()
    optimizer = torch.optim.SGD(lazy.parameters(), lr=0.1)      # placeholders, filled in place by the build
    assert lazy(torch.randn(2, 7, 4)).shape == (2, 7, 2, 3)
    assert {id(p) for p in optimizer.param_groups[0]["params"]} == {id(p) for p in lazy.parameters()}


def test_einsum_dense_on_symbolic_inputs_gives_keras_s_model():
    inputs = kr.Input((32, 128))
    outputs = kr.EinsumDense("abc,cd->abd", output_shape=(None, 64), bias_axes="d")(inputs)
    assert tuple(outputs.shape) == (None, 32, 64)
    model = kr.Model(inputs, outputs)
    assert model.count_params() == 128 * 64 + 64
    inputs = kr.Input((32, 128))
    assert tuple(kr.EinsumDense("...x,xy->...y", 64, bias_axes="y")(inputs).shape) == (None, 32, 64)


def test_einsum_dense_state_dict_round_trip():
    layer = kr.EinsumDense("abc,cde->abde", (None, 2, 3), bias_axes="de", input_shape=(5, 4))
    fresh = kr.EinsumDense("abc,cde->abde", (None, 2, 3), bias_axes="de")
    fresh.load_state_dict(layer.state_dict())
    x = torch.randn(2, 5, 4)
    assert torch.equal(fresh(x), layer(x))


@pytest.mark.parametrize("equation, output_shape, shape, fans", [
    ("abc,cde->abde", (None, 20, 30), (2, 5, 40), (40, 600)),
    ("abcd,cde->abe", (None, 50), (2, 5, 10, 30), (300, 50)),
    ("ab,bc->ac", 200, (2, 100), (100, 200)),
])
@pytest.mark.parametrize("initializer, bound", [
    ("glorot_uniform", lambda fan_in, fan_out: np.sqrt(6.0 / (fan_in + fan_out))),
    ("he_uniform", lambda fan_in, fan_out: np.sqrt(6.0 / fan_in)),
])
def test_einsum_dense_initializer_fans_come_from_the_equation_as_in_keras(equation, output_shape, shape, fans,
                                                                        initializer, bound):
    limit = bound(*fans)
    theirs = keras.layers.EinsumDense(equation, output_shape, kernel_initializer=initializer)
    theirs.build(shape)
    ours = kr.EinsumDense(equation, output_shape, kernel_initializer=initializer, input_shape=shape[1:])
    for kernel in (ours.get_weights()[0], theirs.get_weights()[0]):
        assert 0.95 * limit < np.abs(kernel).max() <= limit
    assert ours.get_config()["kernel_initializer"]["config"]["input_axes"] is None     # the argument, as given


def test_einsum_dense_config_matches_keras_and_round_trips():
    kwargs = dict(equation="abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de", activation="relu",
                  kernel_regularizer=keras.regularizers.L2(0.01), bias_constraint="non_neg")
    theirs = keras.layers.EinsumDense(**kwargs, name="proj").get_config()
    ours = kr.EinsumDense(**{**kwargs, "kernel_regularizer": kr.regularizers.L2(0.01)}, name="proj")
    config = ours.get_config()
    assert set(config) == set(theirs)
    for key in ("equation", "output_shape", "bias_axes", "activation", "name", "trainable", "quantization_config"):
        assert config[key] == theirs[key], key
    for key in ("kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_constraint"):
        assert config[key]["class_name"] == theirs[key]["class_name"], key
    again = kr.EinsumDense.from_config(config)
    assert again.get_config() == config
    from_keras = kr.EinsumDense.from_config(theirs)
    assert from_keras.get_config()["output_shape"] == (None, 2, 3)
    assert keras.layers.EinsumDense.from_config(config).get_config()["equation"] == "abc,cde->abde"


def test_einsum_dense_regularizers_and_constraints_apply():
    layer = kr.EinsumDense("ab,bc->ac", 3, bias_axes="c", kernel_regularizer=kr.regularizers.L2(0.5),
                           activity_regularizer=kr.regularizers.L1(0.1), kernel_constraint="non_neg",
                           input_shape=(4,))
    with torch.no_grad():
        layer.kernel.fill_(-1.0)
    kr.apply_constraints(layer)
    assert torch.count_nonzero(layer.kernel) == 0
    with torch.no_grad():
        layer.kernel.fill_(1.0)
    out = layer(torch.ones(2, 4))
    expected_penalty = 0.5 * 12 + 0.1 * float(out.detach().abs().sum()) / 2
    assert abs(float(sum(layer.losses).detach()) - expected_penalty) < 1e-4


def test_einsum_dense_takes_no_mask_as_in_keras():
    layer = kr.EinsumDense("abc,cd->abd", (None, 3))
    assert layer.supports_masking is keras.layers.EinsumDense("abc,cd->abd", (None, 3)).supports_masking is False
    assert layer.compute_mask(torch.randn(2, 5, 4), torch.ones(2, 5, dtype=torch.bool)) is None


# --------------------------------------------------------------- bad input
@pytest.mark.parametrize("equation", ["ab->ac", "ab,bc", "ab,bc,cd->ad", "a1,bc->ac", "...ab,bc->ac",
                                      "ab...,bc->ac", "a...,ab->b..."])
def test_einsum_dense_refuses_an_equation_keras_refuses(equation):
    with pytest.raises(ValueError, match="Invalid einsum equation"):
        kr.EinsumDense(equation, 4)
    with pytest.raises(ValueError, match="Invalid einsum equation 12"):
        kr.EinsumDense(12, 4)
    with pytest.raises(ValueError, match="Invalid einsum equation"):
        keras.layers.EinsumDense(equation, 4).build((2, 3))


@pytest.mark.parametrize("equation, output_shape, bias_axes, shape, message", [
    ("abc,cd->abd", (7, 4), None, (2, 5, 3), "do not match at shared dimension 'b'"),
    ("ab,bc->acd", (4, 2), None, (2, 3), "Dimension 'd' was specified in the output"),
    ("ab,bcd->ac", 4, None, (2, 3), "Weight dimension 'd' did not have a match"),
    ("ab,bc->ac", 4, "x", (2, 3), "Bias dimension 'x' was requested"),
])
def test_einsum_dense_inconsistent_shapes_fail_like_keras(equation, output_shape, bias_axes, shape, message):
    with pytest.raises(ValueError, match=message):
        kr.EinsumDense(equation, output_shape, bias_axes=bias_axes).build(shape)
    with pytest.raises(ValueError, match=message):
        keras.layers.EinsumDense(equation, output_shape, bias_axes=bias_axes).build(shape)


def test_einsum_dense_checks_what_keras_leaves_to_the_einsum():
    with pytest.raises(ValueError, match=r"must give 1 size for .* after the first \(the batch axis\)"):
        kr.EinsumDense("ab,bc->ac", (4, 5)).build((2, 3))
    with pytest.raises(ValueError, match=r"takes inputs of rank 3 \(batch axis included\), got the shape \(2, 3\)"):
        kr.EinsumDense("abc,cd->abd", (None, 4))(torch.randn(2, 3))
    with pytest.raises(ValueError, match=r"kernel axis 'c' .* has no known size"):
        kr.EinsumDense("ab,bc->ac", (None,)).build((2, 3))
    layer = kr.EinsumDense("abc,cd->abd", (None, 4), bias_axes="d", input_shape=(5, 3))
    with pytest.raises(ValueError, match=r"input of shape \(2, 5, 6\) is incompatible .* kernel \(3, 4\)"):
        layer(torch.randn(2, 5, 6))
    with pytest.raises(ValueError, match="output_shape"):
        kr.EinsumDense("ab,bc->ac", "4")
    with pytest.raises(ValueError, match="output_shape"):
        kr.EinsumDense("ab,bc->ac", (0,))
    with pytest.raises(ValueError, match="bias_axes"):
        kr.EinsumDense("ab,bc->ac", 4, bias_axes=3)


def test_einsum_dense_refuses_lora_and_quantization_by_name():
    with pytest.raises(NotImplementedError, match="lora_rank=2: LoRA"):
        kr.EinsumDense("ab,bc->ac", 4, lora_rank=2)
    config = keras.layers.EinsumDense("ab,bc->ac", 4).get_config()
    with pytest.raises(ValueError, match="quantized Keras layers are not supported"):
        kr.EinsumDense.from_config({**config, "quantization_config": {"class_name": "Int8QuantizationConfig"}})


def test_analyze_einsum_plans_a_matrix_product_over_trailing_axes():
    plan = analyze_einsum("abcd,cde->abe", "e", (None, 5, 2, 4), (5, 3), "test")
    assert (plan.kernel_shape, plan.bias_shape, plan.trailing) == ((2, 4, 3), (3,), 2)
    assert (plan.input_axes, plan.output_axes) == ((0, 1), (2,))
    assert analyze_einsum("ibd,nd->ibn", None, (3, 2, 4), (2, 5), "test").trailing is None


# ------------------------------------------------------------- Keras files
def test_einsum_dense_model_goes_through_every_keras_file_format_both_ways(tmp_path):
    """A Keras model with EinsumDense layers, saved as .keras, .weights.h5 and legacy .h5, loads into kr with
    Keras's numbers; kr's .keras and .weights.h5 of it load back into Keras."""
    from keras.src.legacy.saving import legacy_h5_format

    inputs = keras.Input((5, 4))
    heads = keras.layers.EinsumDense("abc,cde->abde", (5, 2, 3), bias_axes="de", activation="relu")(inputs)
    merged = keras.layers.EinsumDense("abcd,cde->abe", (5, 6), bias_axes="be")(heads)
    theirs = keras.Model(inputs, keras.layers.EinsumDense("...b,bc->...c", 2)(merged))
    random_weights(theirs)
    x = np.random.default_rng(0).standard_normal((3, 5, 4)).astype("float32")
    expected = np.asarray(theirs(x).detach())
    theirs.save(tmp_path / "theirs.keras")
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    legacy_h5_format.save_model_to_hdf5(theirs, str(tmp_path / "theirs.h5"), include_optimizer=False)

    for path in ("theirs.keras", "theirs.h5"):
        ours = kr.from_keras(tmp_path / path).eval()
        assert [type(layer).__name__ for layer in ours.layers[1:]] == ["EinsumDense"] * 3
        assert_close(ours(torch.from_numpy(x)), expected, OUTPUT_ATOL, f"from_keras({path})")
    by_hand_inputs = kr.Input((5, 4))
    by_hand = kr.Model(by_hand_inputs, kr.EinsumDense("...b,bc->...c", 2)(
        kr.EinsumDense("abcd,cde->abe", (5, 6), bias_axes="be")(
            kr.EinsumDense("abc,cde->abde", (5, 2, 3), bias_axes="de", activation="relu")(by_hand_inputs))))
    kr.load_keras_weights(by_hand, tmp_path / "theirs.weights.h5")
    assert_close(by_hand(torch.from_numpy(x)), expected, OUTPUT_ATOL, "load_keras_weights(.weights.h5)")

    kr.save_keras(ours, tmp_path / "ours.keras")
    assert_close(keras.models.load_model(tmp_path / "ours.keras")(x), expected, OUTPUT_ATOL, "load_model")
    kr.save_keras_weights(by_hand, tmp_path / "ours.weights.h5")
    fresh = keras.models.clone_model(theirs)
    fresh.load_weights(tmp_path / "ours.weights.h5")
    assert_close(fresh(x), expected, OUTPUT_ATOL, "keras load_weights")
