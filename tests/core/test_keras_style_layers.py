"""Keras-style user layers (`call`, `build`, `add_weight`, `add_loss`, `training`) against Keras 3.

The layers of Keras's guide "Making new layers and models via subclassing" are written once, in
`guide_layers(Layer, ops)`, and made twice: on `kr.Layer` with torch operations, and on
`keras.layers.Layer` with `keras.ops` (torch backend). The same weights must give the same numbers.
"""
import types

import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from reference import assert_close, random_weights

KR_OPS = types.SimpleNamespace(matmul=torch.matmul, relu=torch.relu, mean=torch.mean,
                               sum0=lambda x: torch.sum(x, dim=0),
                               dropout=lambda x, rate: torch.nn.functional.dropout(x, p=rate))
KERAS_OPS = types.SimpleNamespace(matmul=keras.ops.matmul, relu=keras.ops.relu, mean=keras.ops.mean,
                                  sum0=lambda x: keras.ops.sum(x, axis=0),
                                  dropout=lambda x, rate: keras.random.dropout(x, rate))


def guide_layers(Layer, ops):
    """The guide's layers, their bodies as the guide writes them (only the operations vary)."""

    class EagerLinear(Layer):
        def __init__(self, units=32, input_dim=32):
            super().__init__()
            self.w = self.add_weight(shape=(input_dim, units), initializer="random_normal", trainable=True)
            self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

    class ComputeSum(Layer):
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

        def call(self, inputs):
            self.total.assign_add(ops.sum0(inputs))
            return self.total

    class Linear(Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal",
                                     trainable=True)
            self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

        def get_config(self):
            config = super().get_config()
            config.update({"units": self.units})
            return config

    class MLPBlock(Layer):
        def __init__(self):
            super().__init__()
            self.linear_1 = Linear(32)
            self.linear_2 = Linear(32)
            self.linear_3 = Linear(1)

        def call(self, inputs):
            x = self.linear_1(inputs)
            x = ops.relu(x)
            x = self.linear_2(x)
            x = ops.relu(x)
            return self.linear_3(x)

    class ActivityRegularizationLayer(Layer):
        def __init__(self, rate=1e-2):
            super().__init__()
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * ops.mean(inputs))
            return inputs

    class OuterLayer(Layer):
        def __init__(self):
            super().__init__()
            self.activity_reg = ActivityRegularizationLayer(1e-2)

        def call(self, inputs):
            return self.activity_reg(inputs)

    class CustomDropout(Layer):
        def __init__(self, rate, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate

        def call(self, inputs, training=None):
            if training:
                return ops.dropout(inputs, rate=self.rate)
            return inputs

    return types.SimpleNamespace(**{k: v for k, v in locals().items() if isinstance(v, type)})


OURS = guide_layers(kr.Layer, KR_OPS)
THEIRS = guide_layers(keras.layers.Layer, KERAS_OPS)


def same_weights(ours, theirs, seed=0):
    ours.set_weights(random_weights(theirs, seed))


def grads_of(weights):
    return [w.grad.detach().clone() for w in weights]


def keras_grads(layer):
    return [w.value.grad.detach().clone() for w in layer.trainable_weights]


# ------------------------------------------------------------------ the guide's layers
def test_linear_with_weights_made_in_init():
    ours, theirs = OURS.EagerLinear(4, 2), THEIRS.EagerLinear(4, 2)
    same_weights(ours, theirs)
    x = np.random.default_rng(1).normal(size=(3, 2)).astype(np.float32)
    assert_close(ours(torch.tensor(x)), theirs(x))
    assert ours.weights == [ours.w, ours.b]
    assert list(ours.state_dict()) == ["w", "b"]
    assert [name for name, _ in ours.named_parameters()] == ["w", "b"]


def test_linear_gradients_match_keras():
    ours, theirs = OURS.EagerLinear(4, 2), THEIRS.EagerLinear(4, 2)
    same_weights(ours, theirs)
    x = np.random.default_rng(1).normal(size=(3, 2)).astype(np.float32)
    (ours(torch.tensor(x)) ** 2).sum().backward()
    (theirs(torch.tensor(x)) ** 2).sum().backward()
    for a, e in zip(grads_of(ours.trainable_weights), keras_grads(theirs)):
        assert_close(a, e, atol=1e-4, what="gradient")


def test_compute_sum_keeps_a_non_trainable_weight():
    ours, theirs = OURS.ComputeSum(2), THEIRS.ComputeSum(2)
    x = np.ones((2, 2), dtype=np.float32)
    for _ in range(2):
        assert_close(ours(torch.tensor(x)), theirs(x))
    assert (len(ours.weights), len(ours.non_trainable_weights), ours.trainable_weights) == (1, 1, [])
    assert not ours.total.requires_grad
    assert list(ours.state_dict()) == ["total"]
    np.testing.assert_allclose(ours.get_weights()[0], theirs.get_weights()[0])
    np.testing.assert_allclose(ours.total.numpy(), [4.0, 4.0])


def test_linear_builds_at_its_first_call_with_keras_shapes():
    ours, theirs = OURS.Linear(3), THEIRS.Linear(3)
    assert not ours.built
    x = np.random.default_rng(2).normal(size=(5, 4)).astype(np.float32)
    theirs(x)
    ours(torch.tensor(x))
    assert ours.built and ours.w.shape == (4, 3)
    same_weights(ours, theirs)
    assert_close(ours(torch.tensor(x)), theirs(x))


def test_build_receives_a_tuple_with_the_batch_axis_or_a_list_for_list_inputs():
    seen = []

    class Recorder(kr.Layer):
        def build(self, input_shape):
            seen.append(input_shape)

        def call(self, inputs):
            return inputs[0] if isinstance(inputs, list) else inputs
    Recorder()(torch.zeros(2, 3))
    Recorder()([torch.zeros(2, 3), torch.zeros(2, 5)])
    assert seen == [(2, 3), [(2, 3), (2, 5)]]


def test_mlp_block_tracks_its_sublayers_weights_in_keras_order():
    ours, theirs = OURS.MLPBlock(), THEIRS.MLPBlock()
    x = np.random.default_rng(3).normal(size=(3, 64)).astype(np.float32)
    theirs(x)
    ours(torch.tensor(x))
    assert (len(ours.weights), len(ours.trainable_weights)) == (6, 6)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    same_weights(ours, theirs)
    assert_close(ours(torch.tensor(x)), theirs(x))
    assert list(ours.state_dict())[:2] == ["linear_1.w", "linear_1.b"]


def test_weights_order_own_then_sublayers_trainable_before_frozen():
    def make(Layer, Dense):
        class Block(Layer):
            def __init__(self):
                super().__init__()
                self.dense = Dense(2)

            def build(self, input_shape):
                self.frozen = self.add_weight(shape=(2,), initializer="ones", trainable=False)
                self.scale = self.add_weight(shape=(2,), initializer="ones")

            def call(self, inputs):
                return self.dense(inputs) * self.scale + self.frozen
        return Block()
    ours, theirs = make(kr.Layer, kr.Dense), make(keras.layers.Layer, keras.layers.Dense)
    x = np.random.default_rng(4).normal(size=(3, 5)).astype(np.float32)
    theirs(x)
    ours(torch.tensor(x))
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    same_weights(ours, theirs)
    assert_close(ours(torch.tensor(x)), theirs(x))


def test_add_loss_is_collected_per_call_like_keras():
    ours, theirs = OURS.OuterLayer(), THEIRS.OuterLayer()
    assert len(ours.losses) == 0
    for value in (np.zeros((1, 1), np.float32), np.full((2, 3), 2.0, np.float32)):
        ours(torch.tensor(value))
        theirs(value)
        assert len(ours.losses) == 1 == len(theirs.losses)
        assert_close(ours.losses[0], theirs.losses[0])


def test_add_loss_on_a_symbolic_tensor_is_refused_as_keras_3_refuses_it():
    inputs = kr.Input((3,))
    outputs = kr.layers.Dense(2)(inputs)
    model = kr.Model(inputs, outputs)
    with pytest.raises(ValueError, match="`add_loss\\(\\)` can only be called from inside `build\\(\\)` or `call\\(\\)`"):
        model.add_loss(kr.ops.mean(outputs))


def test_add_loss_terms_in_functional_and_sequential_models():
    x = np.random.default_rng(5).uniform(size=(2, 3)).astype(np.float32)
    inputs = kr.Input(shape=(3,))
    model = kr.Model(inputs, OURS.ActivityRegularizationLayer()(inputs))
    assert model.losses == []                  # the symbolic call leaves no term behind
    k_inputs = keras.Input(shape=(3,))
    k_model = keras.Model(k_inputs, THEIRS.ActivityRegularizationLayer()(k_inputs))
    assert_close(model(torch.tensor(x)), k_model(x))
    assert_close(sum(model.losses), sum(k_model.losses))
    sequential = kr.Sequential([kr.Input((3,)), OURS.ActivityRegularizationLayer(0.5)])
    sequential(torch.tensor(x))
    assert_close(sum(sequential.losses), 0.5 * x.mean())


def test_custom_dropout_follows_the_training_argument_and_the_module_mode():
    layer = OURS.CustomDropout(0.5)
    x = torch.ones(64, 64)
    layer.eval()
    assert torch.equal(layer(x), x)
    assert torch.equal(layer(x, training=False), x)
    dropped = layer(x, training=True)
    assert (dropped == 0).any() and set(dropped.unique().tolist()) <= {0.0, 2.0}
    assert not layer.training                 # the call's mode does not stick
    layer.train()
    assert (layer(x) == 0).any()              # training=None: the module's mode
    assert torch.equal(layer(x, training=False), x)
    assert torch.equal(THEIRS.CustomDropout(0.5)(x.numpy(), training=False).cpu(), x)


def test_an_outer_calls_training_reaches_inner_layers():
    class Outer(kr.Layer):
        def __init__(self):
            super().__init__()
            self.inner = OURS.CustomDropout(0.5)
            self.builtin = kr.Dropout(0.5)

        def call(self, inputs, training=None):
            return self.inner(inputs), self.builtin(inputs)
    layer = Outer().eval()
    x = torch.ones(32, 32)
    assert all(torch.equal(y, x) for y in layer(x))
    assert all((y == 0).any() for y in layer(x, training=True))
    layer.train()
    assert all(torch.equal(y, x) for y in layer(x, training=False))


# ------------------------------------------------------------------ models, configs, masks
def test_user_layers_in_functional_and_sequential_models_match_keras():
    x = np.random.default_rng(6).normal(size=(4, 5)).astype(np.float32)
    inputs = kr.Input((5,))
    model = kr.Model(inputs, OURS.Linear(2)(kr.Dense(3)(inputs)))
    k_inputs = keras.Input((5,))
    k_model = keras.Model(k_inputs, THEIRS.Linear(2)(keras.layers.Dense(3)(k_inputs)))
    model.set_weights(random_weights(k_model, 7))
    assert_close(model(torch.tensor(x)), k_model(x))
    assert model.output_shape == (None, 2)

    sequential = kr.Sequential([kr.Input((5,)), OURS.Linear(3), OURS.CustomDropout(0.5)])
    k_sequential = keras.Sequential([keras.Input((5,)), THEIRS.Linear(3), THEIRS.CustomDropout(0.5)])
    sequential.set_weights(random_weights(k_sequential, 8))
    sequential.eval()
    assert_close(sequential(torch.tensor(x)), k_sequential(x, training=False))
    (sequential(torch.tensor(x)) ** 2).sum().backward()
    (k_sequential(torch.tensor(x), training=False) ** 2).sum().backward()
    for a, e in zip(grads_of(sequential.trainable_weights),
                    [w.value.grad for w in k_sequential.trainable_weights]):
        assert_close(a, e, atol=1e-4, what="gradient")


def test_get_config_and_from_config_round_trip():
    layer = OURS.Linear(64, name="lin")
    config = layer.get_config()
    assert config == {**THEIRS.Linear(64, name="lin").get_config(), "dtype": config["dtype"]}
    clone = OURS.Linear.from_config(config)
    assert (clone.units, clone.name) == (64, "lin")
    frozen = OURS.Linear.from_config({**config, "trainable": False})
    frozen(torch.zeros(1, 2))
    assert frozen.trainable_weights == [] and len(frozen.weights) == 2


def test_automatic_config_of_a_layer_without_get_config_as_keras():
    ours, theirs = OURS.ActivityRegularizationLayer(0.3), THEIRS.ActivityRegularizationLayer(0.3)
    assert set(ours.get_config()) == set(theirs.get_config())
    assert ours.get_config()["rate"] == theirs.get_config()["rate"] == 0.3
    assert OURS.ActivityRegularizationLayer.from_config(ours.get_config()).rate == 0.3
    assert OURS.CustomDropout(0.2, name="d").get_config()["rate"] == 0.2


@pytest.mark.parametrize("supports", [False, True])
def test_masks_pass_only_through_layers_that_support_masking(supports):
    def make(Layer):
        class PassThrough(Layer):
            def __init__(self):
                super().__init__()
                self.supports_masking = supports

            def call(self, inputs):
                return inputs
        return PassThrough()
    ours = make(kr.Layer)(kr.Masking()(kr.Input((4, 3))))
    masked = keras.layers.Masking()(keras.Input((4, 3)))
    if supports:
        theirs = make(keras.layers.Layer)(masked)
    else:
        with pytest.warns(UserWarning, match="does not support masking"):
            theirs = make(keras.layers.Layer)(masked)
    assert ours.has_mask == (getattr(theirs, "_keras_mask", None) is not None) == supports


def test_built_in_layers_keep_their_forward():
    assert not kr.Dense.keras_style and kr.Dense.forward.__qualname__.startswith("Dense.")
    assert OURS.Linear.keras_style and OURS.Linear.forward.__wrapped__ is vars(OURS.Linear)["call"]

    class KerasStyleDense(kr.Dense):
        def call(self, inputs):
            return inputs * 2
    assert torch.equal(KerasStyleDense(3)(torch.ones(1, 2)), torch.full((1, 2), 2.0))


def test_add_weight_takes_keras_arguments_and_defaults():
    class Weights(kr.Layer):
        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(30, 40))                        # glorot_uniform
            self.scalar = self.add_weight(initializer="ones")                      # shape None: a scalar
            self.positional = self.add_weight((2,), "ones", name="named")
            self.add_weight(shape=(3,), initializer="zeros", regularizer="l2", constraint="non_neg",
                            dtype="float64", autocast=False)

        def call(self, inputs):
            return inputs
    layer = Weights()
    layer(torch.zeros(1, 1))
    limit = (6 / (30 + 40)) ** 0.5
    assert layer.kernel.abs().max() <= limit and layer.kernel.abs().max() > limit / 2
    assert layer.scalar.shape == () and layer.positional.tolist() == [1.0, 1.0]
    assert list(layer.state_dict()) == ["kernel", "scalar", "positional", "variable_2"]
    assert layer.variable_2.dtype == torch.float64
    assert len(layer.losses) == 1


# ------------------------------------------------------------------ errors
class NoCall(kr.Layer):
    pass


class FailingBuild(kr.Layer):
    def build(self, input_shape):
        raise ValueError("this input does not fit")

    def call(self, inputs):
        return inputs


class AddsBadWeight(kr.Layer):
    def build(self, input_shape):
        self.add_weight(shape=(2,), colour="red")

    def call(self, inputs):
        return inputs


ERRORS = [
    (NoCall, (torch.zeros(2, 3),), NotImplementedError,
     r"NoCall defines neither `call` nor `forward`: define `call\(self, inputs\)`"),
    (FailingBuild, (torch.zeros(2, 3),), ValueError,
     r"FailingBuild 'failing_build.*': build\(\(2, 3\)\) failed: this input does not fit"),
    (AddsBadWeight, (torch.zeros(2, 3),), TypeError, r"AddsBadWeight .*build\(\(2, 3\)\) failed: .*colour"),
]


@pytest.mark.parametrize("cls, args, error, pattern", ERRORS, ids=[row[0].__name__ for row in ERRORS])
def test_errors(cls, args, error, pattern):
    with pytest.raises(error, match=pattern):
        cls()(*args)


def test_no_call_error_is_not_torchs_message():
    with pytest.raises(NotImplementedError) as info:
        NoCall()(torch.zeros(1))
    assert "missing the required" not in str(info.value)


# ------------------------------------------------------------------ NumPy inputs
def test_numpy_and_python_inputs_are_converted_as_keras_does():
    dense, k_dense = kr.Dense(3), keras.layers.Dense(3)
    x64 = np.random.default_rng(9).normal(size=(2, 4))          # float64
    k_dense(x64)
    dense(x64)
    dense.set_weights(random_weights(k_dense, 9))
    k_out = k_dense(x64)
    out = dense(x64)
    assert out.dtype == torch.float32 and str(k_out.dtype) == "torch.float32"
    assert_close(out, k_out)
    assert_close(dense(x64.tolist()), k_out)                    # a list of Python floats
    assert dense(np.ones((2, 4), dtype=bool)).dtype == torch.float32
    embedding = kr.Embedding(10, 2)
    ids = np.array([[1, 2], [3, 9]], dtype=np.int32)
    assert torch.equal(embedding(ids), embedding(torch.tensor(ids, dtype=torch.int64)))
    lstm = kr.LSTM(3)
    seq = np.random.default_rng(10).normal(size=(2, 5, 4))
    assert_close(lstm(seq), lstm(torch.tensor(seq, dtype=torch.float32)))
    model = kr.Sequential([kr.Input((4,)), kr.Dense(2)])
    assert model(x64).dtype == torch.float32
    inputs = kr.Input((4,))
    functional = kr.Model(inputs, kr.Dense(2)(inputs))
    assert functional(x64).shape == (2, 2)
    assert OURS.Linear(2)(x64).dtype == torch.float32


def test_a_weight_takes_the_name_of_its_attribute_once():
    class Named(kr.Layer):
        def __init__(self):
            super().__init__()
            self.w = self.add_weight(shape=(2,), name="kernel")
            self.add_weight(shape=(1,))

        def call(self, inputs):
            return inputs * self.w

    class TorchStyle(kr.Layer):                 # forward, PyTorch's way: unnamed weights are renamed too
        def __init__(self):
            super().__init__()
            self.scale = self.add_weight(shape=(2,), initializer="ones")

        def forward(self, inputs):
            return inputs * self.scale
    assert list(Named().state_dict()) == ["w", "variable"]
    assert list(TorchStyle().state_dict()) == ["scale"]
    assert [name for name, _ in kr.Dense(2, input_dim=3).named_parameters()] == ["kernel", "bias"]
