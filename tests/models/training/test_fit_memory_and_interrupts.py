"""fit over many epochs holds no more tensors at the end than early on (History keeps Python floats), and a
KeyboardInterrupt during fit propagates and leaves the weights of the last finished step."""
import gc
import os
import signal

import numpy as np
import pytest
import torch

import kerasrnn_torch as kr

rng = np.random.default_rng(21)
X = rng.normal(size=(24, 5, 3)).astype("float32")
Y = (rng.random((24, 1)) > 0.5).astype("float32")


def model(optimizer="adam"):
    m = kr.Sequential([kr.layers.LSTM(4, input_shape=(5, 3)), kr.layers.Dense(1, activation="sigmoid")])
    m.compile(optimizer=optimizer, loss="binary_crossentropy",
              metrics=["accuracy", kr.metrics.AUC(num_thresholds=20), kr.metrics.Precision()])
    return m


def live_tensors():
    gc.collect()
    found = [obj for obj in gc.get_objects() if issubclass(type(obj), torch.Tensor)]
    # Lazy modules' parameters left by other tests have no storage yet: counted, not measured.
    sized = [t for t in found if t.layout == torch.strided
             and not issubclass(type(t), torch.nn.parameter.UninitializedTensorMixin)]
    return len(found), sum(t.untyped_storage().nbytes() for t in sized)


class Census(kr.callbacks.Callback):
    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs
        self.counts = {}

    def on_epoch_end(self, epoch, logs=None):
        if epoch in self.epochs:
            self.counts[epoch] = live_tensors()


@pytest.fixture
def heap_before_the_test_frozen():
    """Move every object alive before the test out of the collector's reach (`gc.freeze`), so the census walks
    only what the test made: after ten thousand tests, walking the whole heap cost tens of seconds a count."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_fifty_epochs_hold_no_more_tensors_than_five(optimizer, heap_before_the_test_frozen):
    m = model(optimizer)
    census = Census({4, 49})
    history = m.fit(X, Y, batch_size=6, epochs=50, verbose=0, validation_data=(X[:6], Y[:6]),
                    callbacks=[census, kr.callbacks.EarlyStopping(monitor="val_loss", patience=100)])
    (count_5, bytes_5), (count_50, bytes_50) = census.counts[4], census.counts[49]
    assert count_50 <= count_5, f"live tensors grew from {count_5} after epoch 5 to {count_50} after epoch 50"
    assert bytes_50 <= bytes_5, f"tensor memory grew from {bytes_5} to {bytes_50} bytes"
    assert len(history.history["loss"]) == 50
    for key, values in history.history.items():
        assert all(type(value) is float for value in values), key
    assert all(type(value) is float for value in history.history["val_auc"])


def test_interrupt_from_a_generator_keeps_the_last_finished_step():
    m = model()
    snapshots = []

    class Snapshot(kr.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            snapshots.append([w.copy() for w in self.model.get_weights()])

    def batches():
        for start in range(0, 18, 6):
            yield X[start:start + 6], Y[start:start + 6]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        m.fit(batches(), epochs=1, verbose=0, callbacks=[Snapshot()])
    assert len(snapshots) == 3
    for a, b in zip(snapshots[-1], m.get_weights()):
        assert np.array_equal(a, b)


@pytest.fixture
def python_sigint_handler():
    """Python's own SIGINT handler for the test: a process started in the background by a shell (a CI
    runner, `cmd &`) inherits SIGINT ignored, and Python then installs no handler, so Ctrl-C could not
    arrive at all."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("python_sigint_handler")
@pytest.mark.parametrize("optimizer", ["keras", "torch"])
def test_ctrl_c_inside_an_optimizer_step_finishes_that_step_then_stops(optimizer):
    """SIGINT arriving while the optimizer updates the weights: the update completes (no half-updated
    weights), then fit raises KeyboardInterrupt."""
    m = kr.Sequential([kr.layers.Dense(2, input_shape=(3,))])
    m.build((None, 3))
    if optimizer == "torch":
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        hooked = opt
    else:
        opt = kr.optimizers.SGD(0.1)
        hooked = None
    m.compile(optimizer=opt, loss="mse")
    x, y = rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(8, 2)).astype("float32")
    steps = []

    class Counter(kr.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            steps.append([w.copy() for w in self.model.get_weights()])

    original_step = type(m.optimizer).step if hooked is None else None

    def interrupting_step(self_or_none=None, *args, **kwargs):
        if len(steps) == 1:            # the second step: Ctrl-C arrives halfway through the update
            os.kill(os.getpid(), signal.SIGINT)
        return (original_step(self_or_none, *args, **kwargs) if hooked is None
                else torch.optim.SGD.step(hooked, *args, **kwargs))

    if hooked is None:
        m.optimizer.step = interrupting_step.__get__(m.optimizer)
    else:
        hooked.step = lambda *a, **k: interrupting_step(None, *a, **k)
    before = [w.copy() for w in m.get_weights()]
    with pytest.raises(KeyboardInterrupt):
        m.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0, callbacks=[Counter()])
    assert len(steps) == 1
    after = m.get_weights()
    # The interrupted step was completed: the weights moved past those of the first step.
    assert any(not np.array_equal(a, b) for a, b in zip(steps[0], after))
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    # And the SIGINT handler is back to Python's default.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_fit_on_a_model_without_trainable_weights_logs_the_loss_and_warns_as_keras():
    import warnings as _warnings

    import keras
    import numpy as np

    import kerasrnn_torch as kr

    x, y = np.random.rand(8, 3).astype("float32"), np.random.rand(8, 3).astype("float32")
    ours = kr.Sequential([kr.Input((3,)), kr.layers.Activation("relu")])
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Activation("relu")])
    for model in (ours, theirs):
        model.compile(optimizer="sgd", loss="mse")
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        history = ours.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    assert any("does not have any trainable weights" in str(w.message) for w in caught)
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        expected = theirs.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], expected.history["loss"], rtol=1e-6)
