"""Keras models in: from_keras for any model of supported layers, and weights that never land in the wrong layer."""
import keras
import numpy as np
import pytest
import torch
from torch import nn

import kerasrnn_torch as kr
from reference import assert_close, random_weights
from tests.models.test_functional import seq2seq
from tests.io.test_keras_io_programs import PROGRAMS

FORMATS = (".keras", ".h5")


def saved(keras_model, tmp_path, suffix, seed=0):
    random_weights(keras_model, seed=seed)
    for layer in keras_model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):      # a variance is positive
            gamma, beta, mean, variance = layer.get_weights()
            layer.set_weights([gamma, beta, mean, np.abs(variance) + 0.5])
    path = tmp_path / f"{keras_model.name}{suffix}"
    if suffix == ".weights.h5":
        keras_model.save_weights(path)
    else:
        keras_model.save(path)
    return path


def call(model, inputs):
    return model(inputs if len(inputs) > 1 else inputs[0])


# -------------------------------------------------------------- from_keras
@pytest.mark.parametrize("suffix", FORMATS)
def test_from_keras_rebuilds_the_seq2seq_reference_and_its_predictions(tmp_path, suffix):
    keras_model, _, _ = seq2seq(keras)
    model = kr.from_keras(saved(keras_model, tmp_path, suffix))
    assert isinstance(model, kr.Model)
    source, target = torch.randn(2, 6, 7), torch.randn(2, 3, 5)
    assert_close(model([source, target]), keras_model([source, target]))


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("program", PROGRAMS)
def test_from_keras_rebuilds_keras_io_programs(tmp_path, program, suffix):
    build, make_inputs = PROGRAMS[program]
    keras_model = build(keras)
    model = kr.from_keras(saved(keras_model, tmp_path, suffix)).eval()
    inputs = make_inputs()
    expected = call(lambda x: keras_model(x, training=False), inputs)
    got = call(model, inputs)
    if isinstance(expected, dict):
        for key in expected:
            assert_close(got[key], expected[key], what=key)
    else:
        assert_close(got, expected)


def new_layer_models():
    """One small Keras model per family of layers added for functional programs, masks included."""
    tokens = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(20, 6, mask_zero=True)(tokens)
    a = keras.layers.LSTM(6, return_sequences=True)(embedded)
    b = keras.layers.GRU(6, return_sequences=True)(embedded)
    merged = [keras.layers.Concatenate()([a, b]), keras.layers.Add()([a, b]), keras.layers.Multiply()([a, b]),
              keras.layers.Average()([a, b]), keras.layers.Maximum()([a, b]), keras.layers.Minimum()([a, b]),
              keras.layers.Subtract()([a, b])]
    pooled = [keras.layers.GlobalAveragePooling1D()(m) for m in merged]
    dot = keras.layers.Dot(axes=(2, 2))([a, b])
    yield "merging", keras.Model(tokens, [*pooled, keras.layers.GlobalMaxPooling1D()(dot)]), \
        [torch.tensor([[3, 4, 5, 0], [1, 2, 0, 0]])]

    x = keras.Input((6, 4))
    y = keras.layers.Conv1D(5, 3, padding="same", activation="relu")(x)
    y = keras.layers.MaxPooling1D(2)(y)
    y = keras.layers.BatchNormalization()(y)
    y = keras.layers.LayerNormalization()(y)
    y = keras.layers.Permute((2, 1))(y)
    y = keras.layers.Reshape((-1,))(y)
    y = keras.layers.RepeatVector(2)(y)
    y = keras.layers.Flatten()(y)
    yield "reshaping_and_normalization", keras.Model(x, keras.layers.Activation("tanh")(y)), [torch.randn(3, 6, 4)]

    query, value = keras.Input((5, 8)), keras.Input((7, 8))
    additive = keras.layers.AdditiveAttention()([query, value])
    heads = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)(query, value)
    yield "attention", keras.Model([query, value], keras.layers.Add()([additive, heads])), \
        [torch.randn(2, 5, 8), torch.randn(2, 7, 8)]


@pytest.mark.parametrize("suffix", FORMATS)
def test_from_keras_rebuilds_models_of_every_new_layer(tmp_path, suffix):
    for name, keras_model, inputs in new_layer_models():
        path = saved(keras_model, tmp_path, suffix, seed=3)
        model = kr.from_keras(path).eval()
        expected = call(lambda x: keras_model(x, training=False), inputs)
        got = call(model, inputs)
        for ours, theirs in zip(got if isinstance(got, list) else [got],
                                expected if isinstance(expected, list) else [expected]):
            assert_close(ours, theirs, what=f"{name} from {suffix}")


# ------------------------------------------------- weights into plain modules
class EncoderDecoder(nn.Module):
    """Two Embedding(30, 8) and two LSTM(8), registered decoder first: attribute order is not Keras's."""

    def __init__(self, names=False):
        super().__init__()
        named = (lambda n: {"name": n}) if names else (lambda n: {})
        self.decoder_embedding = kr.Embedding(30, 8, **named("decoder_embedding"))
        self.decoder = kr.LSTM(8, return_sequences=True, input_dim=8, **named("decoder"))
        self.encoder_embedding = kr.Embedding(30, 8, **named("encoder_embedding"))
        self.encoder = kr.LSTM(8, return_state=True, input_dim=8, **named("encoder"))
        self.head = nn.Linear(8, 3)            # a plain torch module with parameters

    def forward(self, source, target):
        _, h, c = self.encoder(self.encoder_embedding(source))
        return self.decoder(self.decoder_embedding(target), initial_state=[h, c])


def keras_encoder_decoder():
    source, target = keras.Input((None,), dtype="int32"), keras.Input((None,), dtype="int32")
    _, h, c = keras.layers.LSTM(8, return_state=True, name="encoder")(
        keras.layers.Embedding(30, 8, name="encoder_embedding")(source))
    decoded = keras.layers.LSTM(8, return_sequences=True, name="decoder")(
        keras.layers.Embedding(30, 8, name="decoder_embedding")(target), initial_state=[h, c])
    return keras.Model([source, target], decoded)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_names_put_each_layer_s_weights_in_its_own_layer_whatever_the_attribute_order(tmp_path, suffix):
    keras_model = keras_encoder_decoder()
    path = saved(keras_model, tmp_path, suffix)
    module = EncoderDecoder(names=True)
    report = kr.load_keras_weights(module, path)
    source, target = torch.tensor([[1, 2, 3]]), torch.tensor([[4, 5]])
    assert_close(module(source, target), keras_model([source, target]))
    assert any("Linear ('head'" in what for what, _ in report.skipped)
    assert len(report.loaded) == 4 and "decoder" in str(report)


@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
def test_a_pairing_order_cannot_decide_is_refused_and_changes_nothing(tmp_path, suffix):
    path = saved(keras_encoder_decoder(), tmp_path, suffix)
    module = EncoderDecoder(names=False)
    before = {k: v.clone() for k, v in module.state_dict().items()}
    with pytest.raises(ValueError, match=r"(?s)fit several of .*cannot be decided; nothing was loaded.*layers=\{"):
        kr.load_keras_weights(module, path)
    assert all(torch.equal(before[k], v) for k, v in module.state_dict().items())


@pytest.mark.parametrize("suffix", [".keras", ".weights.h5", ".h5"])
def test_layers_mapping_says_which_weights_go_where(tmp_path, suffix):
    keras_model = keras_encoder_decoder()
    path = saved(keras_model, tmp_path, suffix)
    module = EncoderDecoder(names=False)
    keys = {".keras": ("embedding", "embedding_1", "lstm", "lstm_1"),
            ".weights.h5": ("embedding", "embedding_1", "lstm", "lstm_1"),
            ".h5": ("encoder_embedding", "decoder_embedding", "encoder", "decoder")}[suffix]
    # Keras orders the model's layers encoder side first: its embedding and lstm are the first of their class.
    mapping = dict(zip(keys, (module.encoder_embedding, module.decoder_embedding, module.encoder, module.decoder)))
    kr.load_keras_weights(module, path, layers=mapping)
    source, target = torch.tensor([[1, 2, 3]]), torch.tensor([[4, 5]])
    assert_close(module(source, target), keras_model([source, target]))


def test_shapes_pair_layers_of_one_class_when_they_differ(tmp_path):
    inputs = keras.Input((4, 3))
    keras_model = keras.Model(inputs, keras.layers.GRU(2)(keras.layers.GRU(5, return_sequences=True)(inputs)))
    path = saved(keras_model, tmp_path, ".weights.h5")

    class Reversed(nn.Module):
        def __init__(self):
            super().__init__()
            self.second = kr.GRU(2, input_dim=5)          # registered first
            self.first = kr.GRU(5, return_sequences=True, input_dim=3)

        def forward(self, x):
            return self.second(self.first(x))
    module = Reversed()
    kr.load_keras_weights(module, path)
    x = torch.randn(2, 4, 3)
    assert_close(module(x), keras_model(x))


def test_loading_part_of_a_file_into_a_submodule(tmp_path):
    keras_model = keras_encoder_decoder()
    path = saved(keras_model, tmp_path, ".keras")
    module = EncoderDecoder(names=True)
    report = kr.load_keras_weights(module.encoder, path, layers=[module.encoder])
    assert [owner.split(" (")[0] for _, owner in report.loaded] == ["LSTM 'encoder'"]
    assert sum(why == "not asked for" for _, why in report.skipped) == 3
    np.testing.assert_array_equal(module.encoder.get_weights()[0], keras_model.get_layer("encoder").get_weights()[0])
    with pytest.raises(ValueError, match="match no layer of the module.*pass layers="):
        kr.load_keras_weights(module.encoder, path)


def test_skip_mismatch_leaves_a_misfit_layer_and_reports_it(tmp_path):
    keras_model = keras.Sequential([keras.Input((4, 3)), keras.layers.LSTM(5), keras.layers.Dense(2)])
    path = saved(keras_model, tmp_path, ".keras")
    model = kr.Sequential([kr.LSTM(5, input_shape=(4, 3)), kr.Dense(7)])
    dense_before = model[1].get_weights()
    report = kr.load_keras_weights(model, path, skip_mismatch=True)
    np.testing.assert_array_equal(model[0].get_weights()[1], keras_model.layers[0].get_weights()[1])
    np.testing.assert_array_equal(model[1].get_weights()[0], dense_before[0])
    assert any("shapes differ" in why for _, why in report.skipped)
    with pytest.raises(ValueError, match=r"Dense .* expects weights with shapes \[\(5, 7\), \(7,\)\]"):
        kr.load_keras_weights(model, path)


def test_a_from_keras_model_and_a_hand_built_model_load_the_same_from_each_format(tmp_path):
    keras_model, _, _ = seq2seq(keras)
    paths = [saved(keras_model, tmp_path, suffix) for suffix in (".keras", ".weights.h5", ".h5")]
    results = []
    for path in paths:
        model, _, _ = seq2seq(kr)
        kr.load_keras_weights(model, path)
        results.append(model.get_weights())
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


def test_a_lambda_in_a_file_is_named_with_the_way_out(tmp_path):
    x = keras.Input((4, 3))
    keras_model = keras.Model(x, keras.layers.Lambda(lambda t: t * 2, name="double")(
        keras.layers.LSTM(2, return_sequences=True)(x)))
    keras_model.save(tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match=r"'double' is a Lambda.*kr.Lambda\(your_function\).*load_keras_weights"):
        kr.from_keras(tmp_path / "lambda.keras")
    inputs = kr.Input(shape=(4, 3))
    model = kr.Model(inputs, kr.Lambda(lambda t: t * 2)(kr.LSTM(2, return_sequences=True)(inputs)))
    kr.load_keras_weights(model, tmp_path / "lambda.keras")
    x = torch.randn(2, 4, 3)
    assert_close(model(x), keras_model(x))
