"""Keras's namespaces: a Keras program's names after `import kerasrnn_torch as keras`."""
import os

import keras
import pytest

import kerasrnn_torch as kr

LAYER_FAMILIES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "kerasrnn_torch", "layers")


def test_a_keras_program_s_names():
    import kerasrnn_torch as keras_
    from kerasrnn_torch import layers
    assert keras_.layers.LSTM is kr.LSTM is layers.LSTM
    assert keras_.Input is layers.Input and keras_.Model is keras_.models.Model
    assert keras_.layers.InputLayer is kr.InputLayer and keras_.layers.Layer is kr.Layer
    assert keras_.models.Sequential is kr.Sequential
    assert callable(keras_.utils.pad_sequences) and callable(keras_.saving.load_model)


def test_kr_layers_is_every_family_s_layers():
    families = sorted(name for name in os.listdir(LAYER_FAMILIES)
                      if os.path.isfile(os.path.join(LAYER_FAMILIES, name, "__init__.py")))
    names = set()
    for family in families:
        module = __import__(f"kerasrnn_torch.layers.{family}", fromlist=["__all__"])
        names.update(module.__all__)
    assert set(kr.layers.__all__) == names | {"Input", "InputLayer", "InputSpec", "Layer"}
    for name in kr.layers.__all__:
        assert getattr(kr.layers, name) is getattr(kr, name), name
    assert set(kr.layers.__all__) <= set(kr.__all__)


def test_every_kr_layer_is_a_keras_layer_name():
    missing = [name for name in kr.layers.__all__ if not hasattr(keras.layers, name) and name != "ConvLSTMCell"]
    assert missing == []


@pytest.mark.parametrize("name", ["GlorotUniform", "Orthogonal", "Zeros", "glorot_uniform", "HeNormal"])
def test_initializers_hold_keras_names(name):
    assert hasattr(kr.initializers, name) or kr.initializers.get(name) is not None
    assert callable(kr.initializers.get(name))


def test_the_small_object_modules_have_get_serialize_deserialize():
    for module in (kr.activations, kr.initializers, kr.regularizers, kr.constraints):
        for function in ("get", "serialize", "deserialize"):
            assert callable(getattr(module, function)), (module.__name__, function)
    for name in ("relu", "tanh", "sigmoid", "softmax", "gelu", "silu", "elu", "selu", "softplus", "linear"):
        fn = getattr(kr.activations, name)
        assert kr.activations.get(name) is fn and kr.activations.serialize(fn) == name
    assert kr.activations.deserialize(keras.activations.serialize(keras.activations.relu)) is kr.activations.relu
    assert isinstance(kr.regularizers.deserialize(keras.regularizers.serialize(keras.regularizers.L1(0.2))),
                      kr.regularizers.L1)
    assert kr.constraints.serialize(kr.constraints.NonNeg())["class_name"] == "NonNeg"
    assert kr.regularizers.serialize(None) is None


def test_clone_model_has_the_same_layers_and_new_weights():
    import torch
    model = kr.Sequential([kr.Input((4,)), kr.Dense(3, activation="relu"), kr.Dense(2)])
    clone = kr.models.clone_model(model)
    assert type(clone) is kr.Sequential and [type(l) for l in clone.layers] == [type(l) for l in model.layers]
    assert clone.built and clone.layers[0].units == 3
    assert not torch.equal(clone.layers[0].kernel, model.layers[0].kernel)
    inputs = kr.Input((4,))
    functional = kr.Model(inputs, kr.Dense(2)(inputs))
    assert type(kr.models.clone_model(functional)) is kr.Model
    with pytest.raises(ValueError, match="clone_function"):
        kr.models.clone_model(model, clone_function=lambda layer: layer)


LAYER_ALIASES = ["Convolution1D", "Convolution2D", "Convolution3D", "Convolution1DTranspose", "Convolution2DTranspose",
                 "Convolution3DTranspose", "SeparableConvolution1D", "SeparableConvolution2D", "MaxPool1D",
                 "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D", "GlobalAvgPool1D",
                 "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D"]


@pytest.mark.parametrize("alias", LAYER_ALIASES)
def test_layer_aliases_are_the_classes_keras_aliases(alias):
    keras_class = getattr(keras.layers, alias)
    ours = getattr(kr.layers, alias)
    assert ours is getattr(kr.layers, keras_class.__name__)      # Keras's alias names the same class
    assert alias not in kr.layers.__all__ and alias not in kr.__all__


def _aliased_names(keras_module, names):
    return [(name, getattr(keras_module, name).__name__) for name in names]


@pytest.mark.parametrize("module, names", [
    ("initializers", ["glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform",
                      "orthogonal", "random_normal", "random_uniform", "truncated_normal", "variance_scaling",
                      "zeros", "ones", "constant", "identity", "IdentityInitializer", "OrthogonalInitializer"]),
    ("regularizers", ["l1", "l2", "l1_l2", "orthogonal_regularizer"]),
    ("constraints", ["max_norm", "min_max_norm", "non_neg", "unit_norm"]),
])
def test_lowercase_aliases_are_the_classes_keras_aliases(module, names):
    ours, theirs = getattr(kr, module), getattr(keras, module)
    for name, class_name in _aliased_names(theirs, names):
        assert getattr(ours, name) is getattr(ours, class_name), name
        # The alias builds what Keras's builds: the same configuration with the defaults.
        assert getattr(ours, name)().get_config() == pytest.approx(getattr(theirs, name)().get_config()), name


def test_initializer_aliases_fill_keras_s_values():
    import numpy as np
    ours = kr.initializers.glorot_uniform(seed=3)((4, 5))
    assert ours.shape == (4, 5)
    limit = np.sqrt(6 / 9)
    assert float(ours.abs().max()) <= limit
    np.testing.assert_allclose(kr.initializers.constant(0.5)((2,)).numpy(), [0.5, 0.5])
    np.testing.assert_allclose(kr.initializers.identity()((2, 2)).numpy(), np.eye(2))


LOSS_FUNCTIONS_IN_METRICS = ["mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
                             "mean_squared_logarithmic_error", "binary_crossentropy", "categorical_crossentropy",
                             "sparse_categorical_crossentropy", "binary_focal_crossentropy",
                             "categorical_focal_crossentropy", "hinge", "squared_hinge", "categorical_hinge", "huber",
                             "kl_divergence", "log_cosh", "poisson"]


@pytest.mark.parametrize("name", LOSS_FUNCTIONS_IN_METRICS)
def test_metrics_hold_the_loss_functions_as_keras(name):
    import numpy as np
    import torch
    assert getattr(keras.metrics, name) is getattr(keras.losses, name)
    assert getattr(kr.metrics, name) is getattr(kr.losses, name)
    assert name in kr.metrics.__all__
    rng = np.random.default_rng(0)
    if name == "sparse_categorical_crossentropy":
        y_true = np.array([0, 2, 1, 2])
        y_pred = rng.dirichlet(np.ones(3), size=4).astype("float32")
    elif name in ("categorical_crossentropy", "categorical_focal_crossentropy", "categorical_hinge",
                  "kl_divergence", "binary_crossentropy", "binary_focal_crossentropy"):
        y_true = np.eye(3, dtype="float32")[[0, 2, 1, 2]]
        y_pred = rng.dirichlet(np.ones(3), size=4).astype("float32")
    else:
        y_true = rng.uniform(0.1, 1, (4, 3)).astype("float32")
        y_pred = rng.uniform(0.1, 1, (4, 3)).astype("float32")
    ours = getattr(kr.metrics, name)(torch.as_tensor(y_true), torch.as_tensor(y_pred))
    theirs = keras.ops.convert_to_numpy(getattr(keras.metrics, name)(y_true, y_pred))
    np.testing.assert_allclose(ours.detach().numpy(), theirs, rtol=1e-5, atol=1e-6)


def test_metrics_serialize_and_deserialize_as_keras():
    ours = kr.metrics.serialize(kr.metrics.MeanSquaredError())
    assert ours == keras.metrics.serialize(keras.metrics.MeanSquaredError())
    assert isinstance(kr.metrics.deserialize(keras.metrics.serialize(keras.metrics.AUC(num_thresholds=50))),
                      kr.metrics.AUC)
    assert kr.metrics.deserialize(keras.metrics.serialize(keras.metrics.AUC(num_thresholds=50))).num_thresholds == 50
    assert kr.metrics.serialize(kr.metrics.hinge) == keras.metrics.serialize(keras.metrics.hinge)
    assert kr.metrics.deserialize(keras.metrics.serialize(keras.metrics.hinge)) is kr.metrics.hinge
    for name in ("mean_squared_error", "AUC", "binary_accuracy", "kl_divergence"):
        assert type(kr.metrics.deserialize(name)).__name__ == type(keras.metrics.deserialize(name)).__name__, name
    with pytest.raises(ValueError, match="unknown metric"):
        kr.metrics.deserialize("no_such_metric")
    with pytest.raises(ValueError, match="metric function"):
        kr.metrics.deserialize({"class_name": "function", "config": "nothing"})
    with pytest.raises(ValueError, match="Metric"):
        kr.metrics.serialize(object())


def test_losses_deserialize_as_keras():
    theirs = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.25)
    ours = kr.losses.deserialize(keras.losses.serialize(theirs))
    assert isinstance(ours, kr.losses.CategoricalCrossentropy) and ours.get_config() == theirs.get_config()
    assert kr.losses.deserialize("mse") is kr.losses.mean_squared_error
    assert kr.losses.deserialize({"class_name": "function", "config": "hinge"}) is kr.losses.hinge
    with pytest.raises(ValueError, match="loss"):
        kr.losses.deserialize(3)


def test_layers_serialize_and_deserialize_as_keras():
    keras_dense = keras.layers.Dense(3, activation="relu", name="d")
    layer = kr.layers.deserialize(keras.layers.serialize(keras_dense))
    assert isinstance(layer, kr.layers.Dense) and layer.units == 3 and layer.name == "d"
    ours = kr.layers.serialize(kr.layers.Dense(3, activation="relu", name="d"))
    assert ours["class_name"] == "Dense" and ours["module"] == "keras.layers"
    assert keras.layers.deserialize(ours).get_config() == keras_dense.get_config()
    assert type(kr.layers.deserialize(kr.layers.serialize(kr.layers.MaxPool1D(2)))) is kr.layers.MaxPooling1D
    with pytest.raises(ValueError, match="class_name"):
        kr.layers.deserialize("Dense")


@pytest.mark.parametrize("namespace", ["nn", "numpy", "linalg", "image"])
def test_kr_ops_namespaces_hold_keras_ops_namespaces_functions(namespace):
    """`keras.ops.nn.softmax`, `keras.ops.numpy.cumsum`, ... run as written: each name of Keras's namespace is
    in kr.ops's, the same function as at kr.ops's top level where Keras has it there too."""
    theirs = getattr(keras.ops, namespace)
    ours = getattr(kr.ops, namespace)
    names = sorted(name for name in dir(theirs) if not name.startswith("_"))
    assert names and [name for name in names if not hasattr(ours, name)] == []
    for name in names:
        if hasattr(keras.ops, name) and hasattr(kr.ops, name):
            assert getattr(ours, name) is getattr(kr.ops, name), name


def test_the_kept_lists_of_keras_namespaces_are_the_installed_keras_s():
    from kerasrnn_torch.ops import keras_namespaces
    for namespace, kept in (("nn", keras_namespaces.NN_NAMES), ("numpy", keras_namespaces.NUMPY_NAMES)):
        assert list(kept) == sorted(name for name in dir(getattr(keras.ops, namespace)) if not name.startswith("_"))
