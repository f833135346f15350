"""compile(jit_compile=...): the train, test and predict steps through torch.compile, as Keras's torch backend.

One real compilation (a small Dense model: torch.compile on CPU takes seconds); the LSTM model's wiring is
checked with torch.compile replaced by a recorder, so it runs eagerly.
"""
import warnings

import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr

rng = np.random.default_rng(0)
X = rng.random((48, 4), dtype=np.float32)
Y = rng.random((48, 2), dtype=np.float32)
SEQ = rng.random((48, 3, 4), dtype=np.float32)


def _dense_model():
    return kr.Sequential([kr.Dense(4, activation="relu"), kr.Dense(2)])


def _run(model, x, jit):
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"], jit_compile=jit)
    # 32 training samples in batches of 16 and one validation batch: no partial batch, so no recompilation.
    history = model.fit(x[:32], Y[:32], batch_size=16, epochs=2, shuffle=False, verbose=0,
                        validation_data=(x[32:], Y[32:]))
    evaluated = model.evaluate(x, Y, batch_size=16, verbose=0)
    predicted = model.predict(x, batch_size=16, verbose=0)
    return history.history, evaluated, predicted


# torch.compile's tracer reads `.grad` of non-leaf tensors while tracing the step and warns about it (its own
# check, not the step's).
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf Tensor:UserWarning")
def test_jit_compile_true_gives_the_eager_history_evaluate_and_predict():
    # Both models are left unbuilt and made after the same seed: their first step builds the same weights
    # (eagerly, in the jitted one too), the steps after it run compiled in the jitted one.
    torch.manual_seed(0)
    eager_model = _dense_model()
    eager = _run(eager_model, X, False)
    torch.manual_seed(0)
    jitted_model = _dense_model()
    jitted = _run(jitted_model, X, True)
    assert jitted_model.jit_compile is True and eager_model.jit_compile is False
    state = jitted_model._compiled
    assert state.step_fn is not None and state.test_fn is not None and state.predict_fn is not None
    assert set(jitted[0]) == set(eager[0]) == {"loss", "mae", "val_loss", "val_mae"}
    for key in eager[0]:
        np.testing.assert_allclose(jitted[0][key], eager[0][key], atol=1e-5, rtol=0, err_msg=key)
    np.testing.assert_allclose(jitted[1], eager[1], atol=1e-5, rtol=0)
    np.testing.assert_allclose(jitted[2], eager[2], atol=1e-5, rtol=0)
    np.testing.assert_allclose(jitted_model.get_weights()[0], eager_model.get_weights()[0], atol=1e-5, rtol=0)


def test_lstm_model_runs_every_step_through_torch_compile(monkeypatch):
    compiled = []

    def recorder(fn, *args, **kwargs):
        compiled.append(fn.__name__)
        return fn
    monkeypatch.setattr(torch, "compile", recorder)

    def lstm_model():
        torch.manual_seed(0)
        model = kr.Sequential([kr.LSTM(5), kr.Dense(2)])
        model.build((None, 3, 4))
        return model
    eager = _run(lstm_model(), SEQ, False)
    assert compiled == []
    jitted = _run(lstm_model(), SEQ, True)
    assert compiled == ["_train_step", "_test_step", "_predict_step"]
    for key in eager[0]:
        assert jitted[0][key] == eager[0][key]
    np.testing.assert_array_equal(jitted[2], eager[2])


def test_auto_is_eager_as_on_keras_torch_backend():
    theirs = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    theirs.compile(optimizer="sgd", loss="mse", jit_compile="auto")
    ours = _dense_model()
    ours.compile(optimizer="sgd", loss="mse", jit_compile="auto")
    assert ours.jit_compile is theirs.jit_compile is False
    default = _dense_model()
    default.compile(optimizer="sgd", loss="mse")
    assert default.jit_compile is False


def test_run_eagerly_turns_jit_compile_off_with_keras_warning():
    model = _dense_model()
    with pytest.warns(UserWarning, match="run_eagerly"):
        model.compile(optimizer="sgd", loss="mse", run_eagerly=True, jit_compile=True)
    assert model.jit_compile is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.compile(optimizer="sgd", loss="mse", run_eagerly=True)       # "auto": no warning
    assert model.jit_compile is False


def test_jit_compile_setter_and_bad_value():
    model = _dense_model()
    with pytest.raises(ValueError, match='jit_compile must be True, False or "auto"; got \'yes\''):
        model.compile(optimizer="sgd", loss="mse", jit_compile="yes")
    model.compile(optimizer="sgd", loss="mse")
    model.jit_compile = True
    assert model.jit_compile is True


def test_torch_module_compile_stays_reachable():
    model = _dense_model()
    torch.nn.Module.compile(model)       # torch's in-place compilation: it does not configure training
    assert model._compiled_call_impl is not None
    assert model.compiled is False
    model.compile(optimizer="sgd", loss="mse")      # Keras's
    assert model.compiled is True
