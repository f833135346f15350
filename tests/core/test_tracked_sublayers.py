"""Inner layers a Keras-style layer or subclassed model keeps in a list or dict are tracked, as in Keras:
their weights are the layer's (trained, in get_weights, in Keras's files under `<attribute>/<class key>`)."""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr


def block_class(base, layers):
    class Block(base):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.blocks = [layers.Dense(3), layers.Dropout(0.1), layers.Dense(2)]
            self.named = {"head": layers.Dense(4)}

        def call(self, x):
            for block in self.blocks:
                x = block(x)
            return self.named["head"](x)
    return Block


KerasBlock, OurBlock = block_class(keras.layers.Layer, keras.layers), block_class(kr.layers.Layer, kr.layers)


def test_lists_and_dicts_of_layers_hold_weights_in_keras_order():
    ours = kr.Sequential([kr.Input((5,)), OurBlock()])
    theirs = keras.Sequential([keras.Input((5,)), KerasBlock()])
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    assert len(list(ours.parameters())) == 6 and ours.count_params() == theirs.count_params()
    ours.set_weights(theirs.get_weights())
    x = np.random.rand(4, 5).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), keras.ops.convert_to_numpy(theirs(x)), atol=1e-6)


def test_each_listed_layer_keeps_its_own_trainable_then_frozen_order():
    def ordered(base, layers):
        class Normed(base):
            def __init__(self):
                super().__init__()
                self.parts = [layers.BatchNormalization(), layers.Dense(2)]

            def call(self, x):
                return self.parts[1](self.parts[0](x))
        return Normed
    ours = kr.Sequential([kr.Input((3,)), ordered(kr.layers.Layer, kr.layers)()])
    theirs = keras.Sequential([keras.Input((3,)), ordered(keras.layers.Layer, keras.layers)()])
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    assert [w.shape for w in ours.get_weights()] == [(3,)] * 4 + [(3, 2), (2,)]


def test_weights_files_go_both_ways_with_keras(tmp_path):
    x = np.random.rand(4, 5).astype("float32")
    theirs = keras.Sequential([keras.Input((5,)), KerasBlock()])
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    ours = kr.Sequential([kr.Input((5,)), OurBlock()])
    ours.load_weights(tmp_path / "theirs.weights.h5")
    np.testing.assert_allclose(ours.predict(x, verbose=0), keras.ops.convert_to_numpy(theirs(x)), atol=1e-6)
    ours.save_weights(tmp_path / "ours.weights.h5")
    again = keras.Sequential([keras.Input((5,)), KerasBlock()])
    again.load_weights(tmp_path / "ours.weights.h5")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(again(x)), ours.predict(x, verbose=0), atol=1e-6)


def test_fit_trains_the_layers_in_the_list():
    model = kr.Sequential([kr.Input((5,)), OurBlock()])
    before = [w.copy() for w in model.get_weights()]
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.random.rand(16, 5), np.random.rand(16, 4), epochs=1, verbose=0)
    assert all(not np.array_equal(b, a) for b, a in zip(before, model.get_weights()))


def test_a_subclassed_model_tracks_its_list_and_later_appends():
    class Stack(kr.Model):
        def __init__(self):
            super().__init__()
            self.hidden = (kr.layers.Dense(8), kr.layers.Dense(8))       # a tuple too
            self.extra = [kr.layers.Dense(3)]
            self.extra.append(kr.layers.Dense(2))

        def call(self, x):
            for layer in [*self.hidden, *self.extra]:
                x = layer(x)
            return x

    model = Stack()
    model(torch.zeros(1, 4))
    assert len(model.layers) == 4 and len(model.get_weights()) == 8
    assert {name.split(".")[0] for name, _ in model.named_parameters()} == {"hidden", "extra"}


def test_a_list_mixing_layers_with_other_values_is_refused_not_silently_untracked():
    class Mixed(kr.layers.Layer):
        def __init__(self):
            super().__init__()
            self.parts = [kr.layers.Dense(2), "relu"]

        def call(self, x):
            return x

    with pytest.raises(TypeError, match=r"`self.parts` mixes layers with other values"):
        Mixed()


def test_plain_lists_of_values_stay_lists():
    class Sizes(kr.layers.Layer):
        def __init__(self):
            super().__init__()
            self.sizes = [3, 4]
            self.options = {"a": 1}

        def call(self, x):
            return x

    layer = Sizes()
    assert layer.sizes == [3, 4] and isinstance(layer.sizes, list) and layer.options == {"a": 1}
