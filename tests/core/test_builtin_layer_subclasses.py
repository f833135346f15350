"""User subclasses of built-in layers, Keras's `training` rule and `build` shapes, against Keras 3 (torch backend).

- A subclass's own `call` runs instead of the built-in computation, and reaches it with `super().call(...)`.
- `training` resolves as Keras's `Layer.__call__`: the value passed, else the enclosing call's (fit: True,
  evaluate/predict: False), else `call`'s own default, else the module's mode.
- `build(input_shape)` of a layer built from `kr.Input` sees batch None, as in Keras.
"""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from reference import assert_close, random_weights


def subclasses(lib):
    class DoubleDense(lib.layers.Dense):
        def call(self, inputs):
            return super().call(inputs) * 2

    class DoubleLSTM(lib.layers.LSTM):
        def call(self, sequences, initial_state=None, mask=None, training=False):
            return super().call(sequences, initial_state=initial_state, mask=mask, training=training) * 2

    class ShiftedEmbedding(lib.layers.Embedding):
        def call(self, inputs):
            return super().call(inputs) + 1.0

    class NegatedConv1D(lib.layers.Conv1D):
        def call(self, inputs):
            return -super().call(inputs)

    class ReplacedDense(lib.layers.Dense):      # an override that does not reach the built-in call at all
        def call(self, inputs):
            return inputs[:, : self.units] * 3.0

    return {"dense": (DoubleDense, (3,), (4, 5)), "lstm": (DoubleLSTM, (3,), (2, 6, 5)),
            "embedding": (ShiftedEmbedding, (10, 3), None), "conv1d": (NegatedConv1D, (2, 3), (2, 7, 4)),
            "replaced": (ReplacedDense, (2,), (4, 5))}


OURS, THEIRS = subclasses(kr), subclasses(keras)


def sample(key, shape):
    if shape is None:
        return np.array([[1, 2, 0], [9, 3, 3]])
    return np.random.default_rng(len(key)).normal(size=shape).astype(np.float32)


@pytest.mark.parametrize("key", sorted(OURS))
def test_a_subclass_call_runs_and_super_call_is_the_built_in_one(key):
    (ours_cls, args, shape), (theirs_cls, _, _) = OURS[key], THEIRS[key]
    x = sample(key, shape)
    ours, theirs = ours_cls(*args), theirs_cls(*args)
    ours(torch.tensor(x))
    theirs(x)
    if theirs.weights:
        ours.set_weights(random_weights(theirs, 2))
    assert_close(ours(torch.tensor(x)), theirs(x))


def test_a_subclass_call_is_used_inside_models_too():
    cls, args, shape = OURS["lstm"]
    inputs = kr.Input(shape[1:])
    layer = cls(*args)
    model = kr.Model(inputs, layer(inputs))
    k_inputs = keras.Input(shape[1:])
    k_layer = THEIRS["lstm"][0](*args)
    k_model = keras.Model(k_inputs, k_layer(k_inputs))
    model.set_weights(random_weights(k_model, 3))
    x = sample("lstm", shape)
    assert_close(model(torch.tensor(x)), k_model(x))
    assert_close(kr.Sequential([kr.Input(shape[1:]), layer])(torch.tensor(x)), k_model(x))


# ------------------------------------------------------------------ training
def symbolic(inputs):
    """Whether Keras is tracing the call (its torch backend traces on meta tensors): such calls are not counted."""
    return isinstance(inputs, keras.KerasTensor) or (isinstance(inputs, torch.Tensor) and inputs.is_meta)


def dropout_block(lib, record):
    class Block(lib.layers.Layer):
        def __init__(self):
            super().__init__()
            self.dropout = lib.layers.Dropout(0.5)

        def call(self, inputs, training=False):
            if not symbolic(inputs):
                record.append(bool(training))
            return self.dropout(inputs)          # no training passed on: the call's own value reaches it

    return Block


def test_training_outside_fit_is_the_call_default_not_the_module_mode():
    record = []
    block = dropout_block(kr, record)()
    x = torch.ones(32, 32)
    block.train()                              # torch's mode: True; the call's default says False, as in Keras
    assert torch.equal(block(x), x)
    dropped = block(x, training=True)
    assert (dropped == 0).any()
    assert record == [False, True]
    k_record = []
    k_block = dropout_block(keras, k_record)()
    k_block(x.numpy())
    k_block(x.numpy(), training=True)
    assert k_record == record


@pytest.mark.parametrize("container", ["functional", "sequential", "subclassed"])
def test_training_inside_fit_evaluate_predict_is_as_keras_sets_it(container):
    def run(lib):
        record = []
        if container == "functional":
            inputs = lib.Input((4,))
            outputs = lib.layers.Dense(1)(dropout_block(lib, record)()(inputs))
            model = lib.Model(inputs, outputs)
        elif container == "sequential":
            model = lib.Sequential([lib.Input((4,)), dropout_block(lib, record)(), lib.layers.Dense(1)])
        else:
            Block = dropout_block(lib, record)

            class Net(lib.Model):              # its call takes no `training`: fit's reaches the block all the same
                def __init__(self):
                    super().__init__()
                    self.block = Block()
                    self.dense = lib.layers.Dense(1)

                def call(self, inputs):
                    return self.dense(self.block(inputs))
            model = Net()
        model.compile(optimizer="sgd", loss="mse")
        x, y = np.ones((4, 4), np.float32), np.ones((4, 1), np.float32)
        record.clear()
        model.fit(x, y, batch_size=4, epochs=1, verbose=0)
        fitted = list(record)
        record.clear()
        model.evaluate(x, y, batch_size=4, verbose=0)
        model.predict(x, batch_size=4, verbose=0)
        return fitted, list(record)
    if container == "subclassed":
        # A deliberate difference: Keras 3's fit passes `training=True` only to a model whose call takes
        # `training`, so layers inside this one keep their defaults (a Dropout stays off while training).
        # Here fit trains the model in train mode and passes training=True: the layers inside train.
        assert run(kr) == ([True], [False, False])
        assert run(keras) == ([False], [False, False])
    else:
        assert run(kr) == run(keras) == ([True], [False, False])


def test_an_outer_call_training_reaches_inner_user_layers_as_keras_context():
    def outer(lib, record):
        Block = dropout_block(lib, record)

        class Outer(lib.layers.Layer):
            def __init__(self):
                super().__init__()
                self.block = Block()

            def call(self, inputs, training=None):
                return self.block(inputs)
        return Outer()
    record, k_record = [], []
    ours, theirs = outer(kr, record), outer(keras, k_record)
    x = np.ones((2, 2), np.float32)
    ours(torch.tensor(x), training=False)           # the first calls build (Keras traces its call then)
    theirs(x, training=False)
    record.clear()
    k_record.clear()
    for training in (True, False, None):
        ours.eval()
        ours(torch.tensor(x), training=training)
        theirs(x, training=training)
    assert record == k_record == [True, False, False]


# ------------------------------------------------------------------ build shapes
def shape_recorder(lib, seen):
    class Recorder(lib.layers.Layer):
        def build(self, input_shape):
            seen.append(tuple(input_shape))

        def call(self, inputs):
            return inputs

    class Outer(lib.layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = lib.layers.Dense(3)
            self.inner = Recorder()

        def call(self, inputs):
            return self.inner(self.dense(inputs))
    return Recorder, Outer


@pytest.mark.parametrize("shape", [(4,), (None, 6), (5, 6)])
def test_build_sees_batch_none_when_built_from_input_as_keras(shape):
    ours, theirs = [], []
    kr.Model(inp := kr.Input(shape), shape_recorder(kr, ours)[0]()(inp))
    keras.Model(k_inp := keras.Input(shape), shape_recorder(keras, theirs)[0]()(k_inp))
    assert ours == theirs == [(None, *shape)]


def test_an_inner_layer_built_while_tracing_sees_batch_none_too():
    # Keras's torch backend traces with a placeholder batch size of its own (83), which its inner layers see;
    # here they see None, what the symbolic shape says.
    ours = []
    inp = kr.Input((4,))
    shape_recorder(kr, ours)[1]()(inp)
    assert ours == [(None, 3)]


def test_an_eager_first_call_builds_with_the_real_batch_as_keras():
    ours, theirs = [], []
    shape_recorder(kr, ours)[0]()(torch.ones(2, 4))
    shape_recorder(keras, theirs)[0]()(np.ones((2, 4), np.float32))
    assert ours == theirs == [(2, 4)]
