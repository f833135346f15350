"""Keras 3.15's keras/src/layers/layer_test.py (the `Layer` base class), ported to kr's names: the cases
about what a layer written Keras's way does (building at the first call, tracking, losses, `training`,
trainable weights, `add_weight`, pickling). `backend.KerasTensor(shape)` is `kr.Input(batch_shape=shape)`.
Cases not ported are listed, with their reasons, in tests/keras_ported_left_out.md."""
import pickle

import numpy as np
import pytest
import torch

import kerasrnn_torch as kr

layers = kr.layers
ops = kr.ops


def KerasTensor(shape):
    return kr.Input(batch_shape=shape)


def _numpy(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


@pytest.mark.parametrize("method", ["call", "compute_output_shape"])
def test_not_implemented_error(method):
    layer = layers.Layer()
    layer.built = True
    with pytest.raises(NotImplementedError, match=f"does not have a `{method}` method implemented."):
        getattr(layer, method)(None)


def test_layer_tracking():
    class LayerWithDenseLayers(layers.Layer):
        def __init__(self, units):
            super().__init__()
            self.dense1 = layers.Dense(units)
            self.layer_dict = {"dense2": layers.Dense(units)}
            self.layer_list = [layers.Dense(units)]
            self.units = units

        def build(self, input_shape):
            self.layer_list.append(layers.Dense(self.units))

        def call(self, x):
            x = self.dense1(x)
            x = self.layer_dict["dense2"](x)
            x = self.layer_list[0](x)
            x = self.layer_list[1](x)
            return x

    class ParentLayer(layers.Layer):
        def __init__(self, inner_layer):
            super().__init__()
            self.inner_layer = inner_layer

        def call(self, x):
            return self.inner_layer(x)

    layer = LayerWithDenseLayers(3)
    layer.build((1, 3))
    layer(np.zeros((1, 3)))
    assert len(layer.weights) == 8        # Keras's 9 variables include its SeedGenerator's state

    layer = ParentLayer(LayerWithDenseLayers(3))
    layer(np.zeros((1, 3)))
    assert len(layer.weights) == 8

    layer = ParentLayer(ParentLayer(LayerWithDenseLayers(3)))
    layer(np.zeros((1, 3)))
    assert len(layer.weights) == 8


def test_build_on_call():
    class LayerWithUnbuiltState(layers.Layer):
        def __init__(self, units):
            super().__init__()
            self.dense1 = layers.Dense(units)

        def call(self, x):
            return self.dense1(x)

    layer = LayerWithUnbuiltState(2)
    layer(KerasTensor((3, 4)))
    assert len(layer.weights) == 2

    class KwargsLayerWithUnbuiltState(layers.Layer):
        def __init__(self, units):
            super().__init__()
            self.dense1 = layers.Dense(units)
            self.dense2 = layers.Dense(units)

        def call(self, x1, x2):
            return self.dense1(x1) + self.dense2(x2)

    layer = KwargsLayerWithUnbuiltState(2)
    layer(KerasTensor((3, 4)), KerasTensor((3, 4)))
    assert len(layer.weights) == 4

    layer = KwargsLayerWithUnbuiltState(2)
    layer(x1=KerasTensor((3, 4)), x2=KerasTensor((3, 4)))
    assert len(layer.weights) == 4

    class DictLayerWithUnbuiltState(layers.Layer):
        def __init__(self, units):
            super().__init__()
            self.dense = layers.Dense(units)

        def call(self, xs):
            result = self.dense(xs["x1"])
            if xs.get("x2", None) is not None:
                result += self.dense(xs["x2"])
            return result

    layer = DictLayerWithUnbuiltState(2)
    layer({"x1": KerasTensor((3, 4)), "x2": KerasTensor((3, 4))})
    assert len(layer.weights) == 2

    layer = DictLayerWithUnbuiltState(2)
    layer({"x1": KerasTensor((3, 4)), "x2": None})
    assert len(layer.weights) == 2

    class ListLayerWithUnbuiltState(layers.Layer):
        def __init__(self, units):
            super().__init__()
            self.dense = layers.Dense(units)

        def call(self, xs):
            result = self.dense(xs[0])
            if xs[1] is not None:
                result += self.dense(xs[1])
            return result

    layer = ListLayerWithUnbuiltState(2)
    layer([KerasTensor((3, 4)), KerasTensor((3, 4))])
    assert len(layer.weights) == 2

    layer = ListLayerWithUnbuiltState(2)
    layer([KerasTensor((3, 4)), None])
    assert len(layer.weights) == 2


def test_activity_regularization():
    class ActivityRegularizer(layers.Layer):
        def call(self, x):
            return x

    layer = ActivityRegularizer(activity_regularizer="l1")
    layer(np.ones((1,)))
    assert len(layer.losses) == 1
    np.testing.assert_allclose(_numpy(layer.losses[0]), 0.01, rtol=1e-6)

    # losses are reset upon call
    layer(np.ones((1,)))
    assert len(layer.losses) == 1
    np.testing.assert_allclose(_numpy(layer.losses[0]), 0.01, rtol=1e-6)

    # KerasTensors are no op
    layer = ActivityRegularizer(activity_regularizer="l1")
    layer(layers.Input(batch_shape=(2, 2)))
    assert len(layer.losses) == 0


@pytest.mark.parametrize("batch_size", [0, 1, 5, 10])
def test_activity_regularization_batch_normalization(batch_size):
    class SimpleLayer(layers.Layer):
        def call(self, x):
            return x

    layer = SimpleLayer(activity_regularizer="l2")
    layer(ops.ones((batch_size, 5)) * 2.0)
    assert len(layer.losses) == 1
    expected_loss = 0.0 if batch_size == 0 else 0.2
    np.testing.assert_allclose(_numpy(layer.losses[0]), expected_loss, rtol=1e-6)


def test_add_loss():
    class LossLayer(layers.Layer):
        def call(self, x):
            self.add_loss(ops.sum(x))
            return x

    layer = LossLayer()
    layer(np.ones((1,)))
    assert len(layer.losses) == 1
    np.testing.assert_allclose(_numpy(layer.losses[0]), 1.0)

    # losses are reset upon call
    layer = LossLayer()
    layer(np.ones((1,)))
    assert len(layer.losses) == 1
    np.testing.assert_allclose(_numpy(layer.losses[0]), 1.0)

    # It works inside a model
    model = kr.Sequential([layer])
    model(np.ones((1,)))
    assert len(model.losses) == 1
    np.testing.assert_allclose(_numpy(model.losses[0]), 1.0)

    # It works recursively in nested models
    model = kr.Sequential([model])
    model(np.ones((1,)))
    assert len(model.losses) == 1
    np.testing.assert_allclose(_numpy(model.losses[0]), 1.0)


def test_training_arg_value_resolution():
    class TrainingLayer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.dp = layers.Dropout(0.9)

        def call(self, x, training=False):
            return self.dp(x)

    layer = TrainingLayer()
    x = np.ones((4, 4))
    y = layer(x)
    assert float(ops.min(y)) == 1
    y = layer(x, training=True)
    assert float(ops.min(y)) == 0

    class WrappedTrainingLayer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.dp = TrainingLayer()

        def call(self, x, training=False):
            return self.dp(x)

    layer = WrappedTrainingLayer()
    y = layer(x)
    assert float(ops.min(y)) == 1
    y = layer(x, training=True)
    assert float(ops.min(y)) == 0

    class TrainingLayerExplicit(layers.Layer):
        def __init__(self):
            super().__init__()
            self.dp = layers.Dropout(0.9)

        def call(self, x, training=False):
            return self.dp(x, training=True)

    layer = TrainingLayerExplicit()
    y = layer(x, training=False)
    assert float(ops.min(y)) == 0

    class BadLayer(layers.Layer):
        def call(self, x, training=False):
            raise RuntimeError("oops!")

    layer = BadLayer()
    try:
        layer(x, training=True)
    except RuntimeError:
        pass
    layer = TrainingLayer()
    y = layer(x)
    assert float(ops.min(y)) == 1


def test_trainable_setting():
    class NonTrainableWeightsLayer(layers.Layer):
        def build(self, _):
            self.w1 = self.add_weight(shape=(), initializer="ones", trainable=True)
            self.w2 = self.add_weight(shape=(), initializer="ones", trainable=False)

        def call(self, inputs):
            return inputs

    class NestedNonTrainableWeightsLayer(layers.Layer):
        def build(self, _):
            self.w1 = self.add_weight(shape=(), initializer="ones", trainable=True)
            self.w2 = self.add_weight(shape=(), initializer="ones", trainable=False)
            self.nested = NonTrainableWeightsLayer()
            self.nested.build(None)

        def call(self, inputs):
            return inputs

    # Keras's non_trainable_variables count one more than its non_trainable_weights: its SeedGenerator's
    # state (kr layers draw from torch generators); kr's are the non-trainable weights.
    layer = NestedNonTrainableWeightsLayer()
    layer.build(None)
    assert len(layer.trainable_weights) == 2 and len(layer.trainable_variables) == 2
    assert len(layer.non_trainable_weights) == 2

    layer.trainable = False
    assert len(layer.trainable_weights) == 0 and len(layer.trainable_variables) == 0
    assert len(layer.non_trainable_weights) == 4
    assert not layer.w1.trainable and not layer.nested.w1.trainable

    layer.trainable = True
    assert len(layer.trainable_weights) == 2 and len(layer.trainable_variables) == 2
    assert len(layer.non_trainable_weights) == 2
    assert layer.w1.trainable and layer.nested.w1.trainable

    layer = NestedNonTrainableWeightsLayer(trainable=False)
    layer.build(None)
    assert len(layer.trainable_weights) == 0 and len(layer.trainable_variables) == 0
    assert len(layer.non_trainable_weights) == 4

    layer.trainable = True
    assert len(layer.trainable_weights) == 2 and len(layer.trainable_variables) == 2
    assert len(layer.non_trainable_weights) == 2


def test_add_weight_defaults():
    class MyLayer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.w1 = self.add_weight()
            self.w2 = self.add_weight(dtype="int32", trainable=False)
            self.w3 = self.add_weight(dtype="bool", trainable=False)
            self.w4 = self.add_weight(dtype="int32", shape=(2, 2), trainable=False)
            self.w5 = self.add_weight(initializer="ones", shape=(2, 2))

    layer = MyLayer()
    assert tuple(layer.w1.shape) == () and layer.w1.dtype == torch.float32
    assert tuple(layer.w2.shape) == () and layer.w2.dtype == torch.int32
    np.testing.assert_allclose(_numpy(layer.w2), 0)
    assert tuple(layer.w3.shape) == () and layer.w3.dtype == torch.bool
    np.testing.assert_allclose(_numpy(layer.w3), False)
    assert tuple(layer.w4.shape) == (2, 2) and layer.w4.dtype == torch.int32
    np.testing.assert_allclose(_numpy(layer.w4), np.zeros((2, 2)))
    assert tuple(layer.w5.shape) == (2, 2) and layer.w5.dtype == torch.float32
    np.testing.assert_allclose(_numpy(layer.w5), np.ones((2, 2)))


def test_trainable_init_arg_validation():
    for value in ("yes", 1, None):
        with pytest.raises(ValueError, match="to be a boolean"):
            layers.Dense(2, trainable=value)


def test_trainable_init_arg():
    inputs = layers.Input(shape=(1,))
    layer = layers.Dense(2, trainable=False)
    outputs = layer(inputs)
    model = kr.Model(inputs, outputs)

    assert not layer.trainable
    assert len(layer.trainable_weights) == 0
    assert len(model.trainable_weights) == 0 and len(model.non_trainable_weights) == 2

    layer.trainable = True
    assert layer.trainable
    assert len(layer.trainable_weights) == 2
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 0


def test_pickle_layer():
    layer = layers.Dense(2)
    reloaded = pickle.loads(pickle.dumps(layer))
    assert layer.get_config() == reloaded.get_config()


def test_build_signature_errors():
    class NoShapeSuffix(layers.Layer):
        def build(self, foo_shape, bar):
            self.built = True

        def call(self, foo, bar):
            return foo + bar

    class NonMatchingArgument(layers.Layer):
        def build(self, foo_shape, baz_shape):
            self.built = True

        def call(self, foo, bar):
            return foo[:, 0] + bar[:, 0]

    class MatchingArguments(layers.Layer):
        def build(self, bar_shape, foo_shape):
            self.foo_shape = foo_shape
            self.bar_shape = bar_shape

        def call(self, foo, bar):
            return foo[:, 0] + bar[:, 0]

    class SubsetArguments(layers.Layer):
        def build(self, baz_shape, foo_shape):
            self.foo_shape = foo_shape
            self.baz_shape = baz_shape

        def call(self, foo, bar=None, baz=None):
            return foo[:, 0] + bar[:, 0] + baz[:, 0]

    class SingleArgument(layers.Layer):
        def build(self, anything_whatsoever):
            self.foo_shape = anything_whatsoever

        def call(self, foo, bar):
            return foo[:, 0] + bar[:, 0]

    foo = ops.ones((4, 1))
    bar = ops.ones((4, 2))
    baz = ops.ones((4, 3))
    with pytest.raises(ValueError, match=r"argument `bar`, which does not end in `_shape`"):
        layer = NoShapeSuffix()
        layer(foo, bar)

    with pytest.raises(ValueError, match=r"`baz_shape`, but `call\(\)` does not have argument `baz`"):
        layer = NonMatchingArgument()
        layer(foo, bar)

    layer = MatchingArguments()
    layer(foo, bar)
    assert tuple(layer.foo_shape) == tuple(foo.shape)
    assert tuple(layer.bar_shape) == tuple(bar.shape)

    layer = SubsetArguments()
    layer(foo, bar, baz)
    assert tuple(layer.foo_shape) == tuple(foo.shape)
    assert tuple(layer.baz_shape) == tuple(baz.shape)

    layer = SingleArgument()
    layer(foo, bar)
    assert tuple(layer.foo_shape) == tuple(foo.shape)


def test_training_arg_not_specified():
    class NoTrainingSpecified(layers.Layer):
        def __init__(self):
            super().__init__()

        def build(self, input_shape):
            self.activation = layers.Activation("linear")

        def call(self, inputs):
            return self.activation(inputs)

    layer = NoTrainingSpecified()
    inputs = torch.rand(1, 100, 100, 3)
    layer(inputs, training=True)


def test_serialize_activity_regularizer():
    layer = layers.Dense(2, activity_regularizer="l2")
    config = layer.get_config()
    assert config["activity_regularizer"]["class_name"] == "L2"
    revived = layers.Dense.from_config(config)
    assert isinstance(revived.activity_regularizer, kr.regularizers.L2)
    layer = layers.Dense(2)
    assert "activity_regularizer" not in layer.get_config()


def test_torch_params_create_deterministic():
    class MyLayer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.w1 = self.add_weight()
            self.w2 = self.add_weight(dtype="int32", trainable=False)
            self.w3 = self.add_weight(dtype="bool", trainable=False)
            self.w4 = self.add_weight(dtype="int32", shape=(2, 2), trainable=False)
            self.w5 = self.add_weight(initializer="ones", shape=(2, 2))

    layer1 = MyLayer()
    layer1.build(None)
    layer1_names = list(pname for pname, _ in layer1.named_parameters())
    layer2 = MyLayer()
    layer2.build(None)
    layer2_names = list(pname for pname, _ in layer2.named_parameters())
    assert layer1_names == layer2_names


def test_layer_build_with_attention_mask_arg():
    class CustomLayer(layers.Layer):
        def call(self, inputs, attention_mask=None):
            if attention_mask is not None:
                return inputs * ops.cast(attention_mask, inputs.dtype)
            return inputs

        def build(self, inputs_shape, attention_mask_shape=None):
            assert attention_mask_shape is not None
            self.built = True

    layer = CustomLayer()
    x = np.ones((2, 3), dtype="float32")
    mask = np.ones((2, 1), dtype="float32")
    y = layer(x, attention_mask=mask)
    assert tuple(y.shape) == (2, 3)


def test_end_to_end_masking():
    # Check that masking survives compilation
    model = kr.Sequential([layers.Embedding(2, 2, mask_zero=True, embeddings_initializer="ones")])
    model.compile(loss="mse")
    targets = np.array([[[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [1.0, 1.0]]])
    loss = model.evaluate(np.array([[1, 0, 0, 1]]), targets, verbose=0)
    np.testing.assert_allclose(loss, 0.0, atol=1e-7)


# Keras attaches a mask to an eager tensor (`backend.set_keras_mask(x, mask)`) for the next layer to find; kr
# passes masks explicitly, so the cases below are the explicit `mask=` forms of Keras's test_masking.
def test_masking():
    seen = {}

    class BasicMaskedLayer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.supports_masking = True

        def call(self, x, mask=None):
            seen["basic"] = mask
            return x

    layer = BasicMaskedLayer()
    layer(ops.ones((4, 4)), mask=ops.ones((4,)))
    assert seen["basic"] is not None

    class NestedInputMaskedLayer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.supports_masking = True

        def call(self, x, mask=None):
            assert isinstance(x, list) and len(x) == 2
            assert isinstance(mask, list) and len(mask) == 2
            seen["nested"] = True
            return x

    layer = NestedInputMaskedLayer()
    layer([ops.ones((4, 4)), ops.ones((4, 4))], mask=[ops.ones((4,)), ops.ones((4,))])
    assert seen["nested"]

    class PositionalInputsMaskedLayer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.supports_masking = True

        def call(self, x1, x2, x1_mask=None, x2_mask=None):
            assert x1_mask is not None and x2_mask is not None
            seen["positional"] = True
            return x1 + x2

    layer = PositionalInputsMaskedLayer()
    x1, x2, mask = ops.ones((4, 4)), ops.ones((4, 4)), ops.ones((4,))
    layer(x1, x2, x1_mask=mask, x2_mask=mask)
    layer(x1=x1, x2=x2, x1_mask=mask, x2_mask=mask)
    assert seen["positional"]


def test_masking_with_explicit_kwarg_propagation():
    class PassthroughMaskLayer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.supports_masking = True

        def call(self, x, mask=None):
            self.used_mask = mask is not None
            return x

    layer = PassthroughMaskLayer()
    x = ops.ones((4, 4))
    explicit_mask = torch.tensor([True, True, False, False])
    layer(x, mask=explicit_mask)
    assert layer.used_mask
    # the output's mask (what Keras attaches to y): the layer passes the explicit mask on
    np.testing.assert_array_equal(_numpy(layer.compute_mask(x, explicit_mask)), _numpy(explicit_mask))

    # in a functional model the mask travels to the next layer by itself, as Keras's attached mask does
    inputs = kr.Input((4,), dtype="int64")
    hidden = layers.Embedding(5, 4, mask_zero=True)(inputs)
    outputs = PassthroughMaskLayer()(hidden)
    model = kr.Model(inputs, outputs)
    model(torch.tensor([[1, 2, 0, 0]]))
    assert model.layers[-1].used_mask


def test_tracker_locking():
    class BadLayer(layers.Layer):
        def call(self, x):
            self.w = self.add_weight(initializer="zeros", shape=())
            return x

    layer = BadLayer()
    with pytest.raises(ValueError, match="cannot add new elements of state"):
        layer(np.random.random((3, 2)))
