"""Callbacks: hook order, BackupAndRestore's bit-identical resume, checkpoints, CSV, learning rates, progress bar."""
import csv
import os

import numpy as np
import pytest
import torch

import kerasrnn_torch as kr

rng = np.random.default_rng(3)
X = rng.normal(size=(40, 5)).astype("float32")
Y = rng.normal(size=(40, 2)).astype("float32")


def model(seed=0, dropout=0.0):
    torch.manual_seed(seed)
    m = kr.Sequential([kr.Dense(8, activation="tanh"), kr.Dropout(dropout), kr.Dense(2)])
    m.build((None, 5))
    m.compile(optimizer=torch.optim.Adam(m.parameters(), lr=0.01), loss="mse", metrics=["mae"])
    return m


def test_hook_order_and_logs():
    calls = []

    def recording(name):
        def hook(self, *args, **kwargs):
            calls.append(name)
            return getattr(kr.callbacks.Callback, name)(self, *args, **kwargs)
        return hook
    hooks = [name for name in dir(kr.callbacks.Callback) if name.startswith("on_")]
    Recorder = type("Recorder", (kr.callbacks.Callback,), {name: recording(name) for name in hooks})
    m = model()
    m.fit(X, Y, batch_size=20, epochs=1, verbose=0, validation_split=0.5, callbacks=[Recorder()])
    assert calls == ["on_train_begin", "on_epoch_begin", "on_train_batch_begin", "on_batch_begin",
                     "on_train_batch_end", "on_batch_end", "on_test_begin", "on_test_batch_begin",
                     "on_test_batch_end", "on_test_end", "on_epoch_end", "on_train_end"]


class Interrupt(kr.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            raise RuntimeError("interrupted")


def test_backup_and_restore_resumes_bit_identically(tmp_path):
    reference = model(dropout=0.3)
    torch.manual_seed(10)
    full = reference.fit(X, Y, batch_size=8, epochs=4, verbose=0, shuffle=True).history
    interrupted = model(dropout=0.3)
    backup = kr.callbacks.BackupAndRestore(tmp_path / "backup")
    torch.manual_seed(10)
    with pytest.raises(RuntimeError, match="interrupted"):
        interrupted.fit(X, Y, batch_size=8, epochs=4, verbose=0, callbacks=[backup, Interrupt()])
    torch.manual_seed(123)          # the restore puts back the random state of the backup
    resumed = model(seed=5, dropout=0.3)
    rest = resumed.fit(X, Y, batch_size=8, epochs=4, verbose=0, callbacks=[backup]).history
    assert rest["loss"] == full["loss"][2:]
    for a, b in zip(resumed.get_weights(), reference.get_weights()):
        assert np.array_equal(a, b)
    assert not os.path.exists(tmp_path / "backup")


def test_checkpoint_csv_and_learning_rate_callbacks(tmp_path):
    m = model()
    checkpoint = kr.callbacks.ModelCheckpoint(str(tmp_path / "w_{epoch:02d}_{val_loss:.3f}.weights.h5"),
                                              save_weights_only=True)
    best = kr.callbacks.ModelCheckpoint(str(tmp_path / "best.keras"), save_best_only=True)
    logger = kr.callbacks.CSVLogger(tmp_path / "log.csv")
    schedule = kr.callbacks.LearningRateScheduler(lambda epoch, lr: 0.01 / (epoch + 1))
    history = m.fit(X, Y, epochs=3, verbose=0, validation_split=0.25,
                    callbacks=[checkpoint, best, logger, schedule]).history
    assert sorted(p.name.split("_")[1] for p in tmp_path.glob("w_*.weights.h5")) == ["01", "02", "03"]
    assert (tmp_path / "best.keras").exists()
    with open(tmp_path / "log.csv") as file:
        rows = list(csv.DictReader(file))
    assert [row["epoch"] for row in rows] == ["0", "1", "2"] and "val_mae" in rows[0]
    assert history["learning_rate"] == pytest.approx([0.01, 0.005, 0.01 / 3])
    plateau = kr.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=10.0)
    m.fit(X, Y, epochs=2, verbose=0, callbacks=[plateau])
    assert kr.callbacks.get_learning_rate(m.optimizer) == pytest.approx(0.01 / 3 / 2)  # epoch 0 sets the best, epoch 1 reduces


def test_terminate_on_nan_and_lambda():
    m = model()
    seen = []
    m.fit(X * np.nan, Y, epochs=3, verbose=0, callbacks=[
        kr.callbacks.TerminateOnNaN(), kr.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(e))])
    assert seen == [0]


def test_progress_bar_levels(capsys):
    m = model()
    m.fit(X, Y, batch_size=20, epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "2/2 - " in out and "/step" in out and "loss: " in out and "mae: " in out
    m.fit(X, Y, batch_size=20, epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/1" in out and "2/2" in out and "loss: " in out
    m.fit(X, Y, epochs=1, verbose=0)
    m.evaluate(X, Y, verbose=0)
    assert capsys.readouterr().out == ""


def test_history_plot():
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    history = model().fit(X, Y, epochs=2, verbose=0, validation_split=0.25)
    figure = history.plot()
    assert len(figure.axes) == 2
    assert kr.callbacks.plot_history(history, metrics=["loss"]) is not None


def test_tensorboard_needs_tensorboard():
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install tensorboard"):
            kr.callbacks.TensorBoard()


def test_the_fit_bar_formats_numbers_as_keras_s_progbar():
    """Keras's bar: 4 decimals above 1e-3, exponent form at 1e-3 and below (also for large values: decimals);
    an array (a metric with several thresholds) shows its mean."""
    import numpy as np
    from kerasrnn_torch.callbacks.progbar import format_value
    assert format_value(0.12345) == "0.1235"
    assert format_value(0.0001) == "1.0000e-04"
    assert format_value(12345.678) == "12345.6780"
    assert format_value(np.array([0.25, 0.75])) == "0.5000"
    assert format_value(torch.tensor(0.5)) == "0.5000"
