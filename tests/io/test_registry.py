"""The registry: a layer class declares its Keras name on itself and is then read and written in Keras files.

The proof that nothing else needs editing: a layer defined here, in the test (a minimal Keras `PReLU`,
standing in for the package's own, which the fixture unregisters meanwhile), registered with `@register_keras_class`, goes through `save_keras`,
`kr.from_keras` and Keras's own `load_model` with its weights, and through `save_keras_weights` /
`load_keras_weights`; a user's layer registered under a package name round-trips through our files.
"""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from kerasrnn_torch import initializers
from kerasrnn_torch.core import registry
from kerasrnn_torch.core.config import deserialize_layer, serialize_layer
from kerasrnn_torch.core.registry import register_keras_class, unregister_keras_class

EXPECTED_PUBLIC_NAMES = {
    "Activation", "Add", "AdditiveAttention", "Attention", "Average", "BatchNormalization", "Bidirectional",
    "Concatenate", "Conv1D", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "ConvLSTMCell", "Dense", "Dot", "Dropout",
    "Embedding", "Flatten", "GRU", "GRUCell", "GlobalAveragePooling1D", "GlobalMaxPooling1D", "Input", "InputLayer",
    "InputSpec",
    "KerasTensor", "LSTM", "LSTMCell", "Lambda", "Layer", "LayerNormalization", "LoadReport", "Masking",
    "MaxPooling1D", "Maximum", "Minimum", "Model", "MultiHeadAttention", "Multiply", "Permute", "RNN",
    "RepeatVector", "Reshape", "Sequential", "SimpleRNN", "SimpleRNNCell", "StackedRNNCells", "Subtract",
    "TimeDistributed", "activations", "apply_constraints", "constraints", "force_path", "from_keras",
    "initializers", "load_keras_weights", "regularization_loss", "regularizers", "save_keras", "save_keras_weights",
    "callbacks", "losses", "metrics", "ops", "optimizers", "summary", "testing",
    # The layers around recurrent ones (convolutions, activations, pooling, padding, noise, normalization).
    "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
    "Identity", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling2D",
    "GlobalAveragePooling3D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "ZeroPadding1D", "Cropping1D",
    "UpSampling1D", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout", "UnitNormalization",
    "GroupNormalization", "Conv3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D",
    "SeparableConv2D", "AveragePooling3D", "ZeroPadding2D", "ZeroPadding3D", "Cropping2D", "Cropping3D",
    "UpSampling2D", "UpSampling3D",
    "ActivityRegularization", "AlphaDropout", "RMSNormalization", "Rescaling", "Normalization", "EinsumDense",
    # Image preprocessing.
    "Resizing", "CenterCrop", "RandomFlip", "RandomCrop", "RandomTranslation", "RandomZoom",
    "RandomRotation",
    # Keras's namespaces.
    "layers", "models", "saving", "utils", "random"}


def define_prelu():
    @register_keras_class("PReLU")
    class PReLU(kr.Layer):
        """Keras's PReLU (no shared axes): max(x, 0) + alpha * min(x, 0), one alpha per input element."""

        def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None,
                     shared_axes=None, **kwargs):
            super().__init__(**kwargs)
            if shared_axes is not None:
                raise ValueError("this test's PReLU has no shared axes")
            self.alpha_initializer = alpha_initializer

        def build(self, input_shape):
            self.add_weight("alpha", tuple(input_shape[1:]), self.alpha_initializer)
            self.built = True

        def forward(self, inputs):
            self.maybe_build(inputs.shape)
            return torch.relu(inputs) - self.alpha * torch.relu(-inputs)

        def get_config(self):
            return {**super().get_config(), "alpha_initializer": initializers.serialize(self.alpha_initializer),
                    "alpha_regularizer": None, "alpha_constraint": None, "shared_axes": None}
    return PReLU


@pytest.fixture
def prelu():
    unregister_keras_class(kr.PReLU)
    try:
        cls = define_prelu()
        yield cls
        unregister_keras_class(cls)
    finally:
        register_keras_class("PReLU")(kr.PReLU)


def test_the_public_names_are_unchanged():
    assert set(kr.__all__) == EXPECTED_PUBLIC_NAMES
    assert all(hasattr(kr, name) for name in kr.__all__)


def test_every_public_layer_is_registered_under_its_keras_name():
    for name in kr.__all__:
        value = getattr(kr, name)
        if isinstance(value, type) and issubclass(value, kr.Layer) and value is not kr.Layer:
            expected = "Functional" if value is kr.Model else name
            assert registry.keras_name_of(value, exact=True) == expected, name
    assert registry.class_for("Functional") is kr.Model and registry.class_for("Model") is kr.Model


def test_a_layer_defined_outside_the_package_goes_through_keras_files(prelu, tmp_path):
    torch.manual_seed(0)
    model = kr.Sequential([kr.Input((5,)), kr.Dense(4), prelu(name="prelu")])
    with torch.no_grad():
        model.layers[1].alpha.copy_(torch.rand(4))
    x = torch.randn(3, 5)
    path = tmp_path / "model.keras"
    kr.save_keras(model, path)

    loaded = kr.from_keras(path)
    assert type(loaded.layers[1]) is prelu
    torch.testing.assert_close(loaded(x), model(x))

    theirs = keras.models.load_model(path)
    assert type(theirs.layers[1]).__name__ == "PReLU"
    np.testing.assert_allclose(theirs.predict(x.numpy(), verbose=0), model(x).detach().numpy(), rtol=1e-5,
                               atol=1e-6)

    weights = tmp_path / "model.weights.h5"
    kr.save_keras_weights(model, weights)
    again = kr.Sequential([kr.Input((5,)), kr.Dense(4), prelu()])
    kr.load_keras_weights(again, weights)
    torch.testing.assert_close(again(x), model(x))


def test_a_keras_model_with_the_new_layer_loads(prelu, tmp_path):
    theirs = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3), keras.layers.PReLU(
        alpha_initializer=keras.initializers.RandomUniform(seed=1))])
    path = tmp_path / "keras.keras"
    theirs.save(path)
    ours = kr.from_keras(path)
    x = np.random.default_rng(0).standard_normal((2, 6)).astype("float32")
    np.testing.assert_allclose(ours(torch.from_numpy(x)).detach().numpy(), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_a_user_layer_registers_under_a_package_name(tmp_path):
    @register_keras_class(package="my_tests")
    class Doubler(kr.Layer):
        def forward(self, inputs):
            return 2 * inputs
    try:
        entry = serialize_layer(Doubler(name="double"))
        assert entry["class_name"] == "Doubler" and entry["registered_name"] == "my_tests>Doubler"
        assert type(deserialize_layer(entry)) is Doubler
        model = kr.Sequential([kr.Input((3,)), Doubler()])
        kr.save_keras(model, tmp_path / "model.keras")
        loaded = kr.from_keras(tmp_path / "model.keras")
        assert type(loaded.layers[0]) is Doubler
    finally:
        unregister_keras_class(Doubler)
    assert registry.class_for("Doubler") is None


def test_a_keras_name_is_taken_once():
    with pytest.raises(ValueError, match="'LSTM' is taken by kerasrnn_torch.layers.rnn.lstm.LSTM"):
        @register_keras_class("LSTM")
        class Other(kr.Layer):
            pass
