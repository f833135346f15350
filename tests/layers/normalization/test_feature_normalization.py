"""Normalization against keras.layers.Normalization: adapt, given mean/variance, invert, axes, configs,
weights and Keras files."""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from keras_layer_check import run_layer_test
from reference import assert_close

DATA = np.random.default_rng(0).normal(3.0, 2.0, size=(8, 5, 4)).astype("float32")


def _keras_out(layer, x):
    return keras.ops.convert_to_numpy(layer(x))


@pytest.mark.parametrize("kwargs", [{}, {"axis": None}, {"axis": (1, 2)}, {"axis": 1}, {"axis": -1, "invert": True},
                                    {"axis": [0, 2]}])
def test_adapt_gives_keras_s_statistics_and_outputs(kwargs):
    ours, theirs = kr.Normalization(**kwargs), keras.layers.Normalization(**kwargs)
    ours.adapt(DATA)
    theirs.adapt(DATA)
    assert [name for name, _ in ours.named_parameters()] == [w.name for w in theirs.weights] == \
        ["mean", "variance", "count"]
    for mine, ref in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        assert mine.shape == ref.shape and mine.dtype == ref.dtype
        np.testing.assert_allclose(mine, ref, rtol=1e-5, atol=1e-6)
    assert_close(ours(torch.from_numpy(DATA)), _keras_out(theirs, DATA), 1e-5, "adapted output")
    assert ours.get_config() == {**theirs.get_config(), "name": ours.name}
    assert not any(p.requires_grad for p in ours.parameters())


def test_adapt_over_batches_combines_them_as_one_pass():
    whole = kr.Normalization()
    whole.adapt(DATA)
    batched = kr.Normalization()
    batched.adapt([DATA[:3], torch.from_numpy(DATA[3:5]), (DATA[5:], np.zeros(3))])     # (x, y) gives its x
    np.testing.assert_allclose(batched.get_weights()[0], whole.get_weights()[0], rtol=1e-5)
    np.testing.assert_allclose(batched.get_weights()[1], whole.get_weights()[1], rtol=1e-5)
    np.testing.assert_allclose(whole.get_weights()[0], DATA.reshape(-1, 4).mean(0), rtol=1e-5)
    np.testing.assert_allclose(whole.get_weights()[1], DATA.reshape(-1, 4).var(0), rtol=1e-4)

    def generator():
        yield DATA[:4]
        yield DATA[4:]
    from_generator = kr.Normalization()
    from_generator.adapt(generator())
    np.testing.assert_allclose(from_generator.get_weights()[1], whole.get_weights()[1], rtol=1e-5)


@pytest.mark.parametrize("mean, variance, kwargs", [
    (2.0, 4.0, {}), ([1.0, 2.0, 3.0, 4.0], [1.0, 4.0, 9.0, 0.0], {}),
    ([[1.0, 2.0, 3.0, 4.0]] * 5, [[2.0] * 4] * 5, {"axis": (1, 2)}), ([1.0, -1.0, 0.5, 2.0], [4.0] * 4, {"invert": True})])
def test_a_given_mean_and_variance_as_keras(mean, variance, kwargs):
    ours = kr.Normalization(mean=mean, variance=variance, **kwargs)
    theirs = keras.layers.Normalization(mean=mean, variance=variance, **kwargs)
    assert_close(ours(torch.from_numpy(DATA)), _keras_out(theirs, DATA), 1e-5, "output")
    assert list(ours.parameters()) == [] and theirs.weights == []
    assert ours.get_config() == {**theirs.get_config(), "name": ours.name}
    again = kr.Normalization.from_config(theirs.get_config())
    assert_close(again(torch.from_numpy(DATA)), ours(torch.from_numpy(DATA)), 0, "from Keras's config")
    mask = torch.ones(8, 5, dtype=torch.bool)
    assert ours.compute_mask(torch.from_numpy(DATA), mask) is mask


def test_invert_undoes_the_normalization():
    forward, back = kr.Normalization(), kr.Normalization(invert=True)
    forward.adapt(DATA)
    back.build(DATA.shape)
    back.set_weights(forward.get_weights())
    assert_close(back(forward(torch.from_numpy(DATA))), DATA, 1e-5, "round trip")


def test_an_adapted_normalization_goes_through_keras_files_both_ways(tmp_path):
    theirs = keras.Sequential([keras.Input((5, 4)), keras.layers.Normalization(), keras.layers.Dense(2)])
    theirs.layers[0].adapt(DATA)
    expected = np.asarray(theirs.predict(DATA, verbose=0))
    theirs.save(tmp_path / "keras.keras")
    ours = kr.from_keras(tmp_path / "keras.keras").eval()
    assert type(ours.layers[0]) is kr.Normalization
    assert_close(ours(torch.from_numpy(DATA)), expected, 1e-5, "from_keras")
    kr.save_keras(ours, tmp_path / "ours.keras")
    again = keras.models.load_model(tmp_path / "ours.keras")
    assert_close(again.predict(DATA, verbose=0), expected, 1e-5, "save_keras then load_model")
    np.testing.assert_allclose(again.layers[0].get_weights()[1], theirs.layers[0].get_weights()[1])


def test_a_model_with_an_adapted_normalization_trains():
    norm = kr.Normalization()
    norm.adapt(DATA)
    model = kr.Sequential([kr.Input((5, 4)), norm, kr.LSTM(3), kr.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    before = [w.copy() for w in norm.get_weights()]
    model.fit(DATA, np.zeros((8, 1), dtype="float32"), epochs=2, verbose=0)
    for kept, now in zip(before, norm.get_weights()):      # the statistics are not trained
        np.testing.assert_array_equal(kept, now)


def test_bad_arguments_are_refused_as_keras_refuses_them():
    with pytest.raises(ValueError, match="both `mean` and `variance` must be set"):
        kr.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="same shape"):
        kr.Normalization(mean=[1.0, 2.0], variance=[1.0])
    with pytest.raises(ValueError, match="less than or equal to the number of axes"):
        kr.Normalization(mean=[[1.0]], variance=[[1.0]])
    with pytest.raises(ValueError, match=r"range \[-ndim, ndim\)"):
        kr.Normalization(axis=3).build((None, 4))
    with pytest.raises(ValueError, match="incompatible shape"):
        layer = kr.Normalization()
        layer.adapt(DATA)
        layer.adapt(DATA[..., :3])
    with pytest.raises(ValueError, match="empty iterable"):
        kr.Normalization().adapt([])
    with pytest.raises(TypeError, match="adapt"):
        kr.Normalization().adapt(3.0)
    with pytest.raises(ValueError, match="given them"):
        kr.Normalization(mean=1.0, variance=1.0).adapt(DATA)


def test_normalization_passes_keras_s_layer_test():
    run_layer_test(kr.Normalization, init_kwargs={"axis": -1, "mean": [1.0, 2.0, 3.0], "variance": [1.0, 1.0, 2.0]},
                   input_shape=(2, 3), expected_output_shape=(2, 3), expected_num_trainable_weights=0,
                   expected_num_non_trainable_weights=0, supports_masking=True, run_training_check=False)
