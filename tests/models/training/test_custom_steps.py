"""A model's own `train_step`, `test_step`, `predict_step` and `compute_loss`, as Keras's guide
"Customizing what happens in fit() with PyTorch" writes them, run by `fit`/`evaluate`/`predict` here and
by Keras 3 (torch backend) from the same weights and data: the same history, results and predictions.

Each program below is written once with the library passed in (`lib` is `keras` or `kr`), so both run
the same text.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from kerasrnn_torch.core.layer import Weight

keras = pytest.importorskip("keras")

RNG = np.random.default_rng(7)
X = RNG.random((64, 8)).astype("float32")
Y = RNG.random((64, 1)).astype("float32")
SW = RNG.random((64, 1)).astype("float32")


def _dense_model(cls, lib):
    inputs = lib.Input(shape=(8,))
    outputs = lib.layers.Dense(1)(inputs)
    return cls(inputs, outputs)


def guide_compiled_loss_and_metrics(lib):
    """The guide's first example: compute_loss, self.metrics, optimizer.apply, v.value.grad."""
    class CustomModel(lib.Model):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    model = _dense_model(CustomModel, lib)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def guide_own_metrics_without_a_loss(lib):
    """The guide's lower-level example: its own trackers, a `metrics` property, compile without a loss."""
    class CustomModel(lib.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = lib.metrics.Mean(name="loss")
            self.mae_metric = lib.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = lib.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.loss_fn(y, y_pred)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    model = _dense_model(CustomModel, lib)
    model.compile(optimizer="adam")
    return model


def guide_sample_weight(lib):
    """The guide's sample_weight example: the batch arrives as (x, y, sample_weight)."""
    class CustomModel(lib.Model):
        def train_step(self, data):
            if len(data) == 3:
                x, y, sample_weight = data
            else:
                sample_weight = None
                x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred, sample_weight=sample_weight)
            return {m.name: m.result() for m in self.metrics}

    model = _dense_model(CustomModel, lib)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def guide_test_step(lib):
    """The guide's evaluation step."""
    class CustomModel(lib.Model):
        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    model = _dense_model(CustomModel, lib)
    model.compile(loss="mse", metrics=["mae"])
    return model


def _paired(program):
    theirs, ours = program(keras), program(kr)
    ours.set_weights(theirs.get_weights())
    return theirs, ours


@pytest.mark.parametrize("program", [guide_compiled_loss_and_metrics, guide_own_metrics_without_a_loss])
def test_an_own_train_step_gives_keras_s_history(program):
    theirs, ours = _paired(program)
    expected = theirs.fit(X, Y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    got = ours.fit(X, Y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    assert list(got) == list(expected) or sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-6)
    for mine, theirs_w in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(mine, theirs_w, rtol=1e-5, atol=1e-6)


def test_an_own_train_step_gets_sample_weights_as_keras_hands_them():
    theirs, ours = _paired(guide_sample_weight)
    expected = theirs.fit(X, Y, sample_weight=SW, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    got = ours.fit(X, Y, sample_weight=SW, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-6)


def test_an_own_test_step_gives_keras_s_evaluation():
    theirs, ours = _paired(guide_test_step)
    expected = theirs.evaluate(X, Y, batch_size=16, verbose=0, return_dict=True)
    got = ours.evaluate(X, Y, batch_size=16, verbose=0, return_dict=True)
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.evaluate(X, Y, batch_size=16, verbose=0),
                               theirs.evaluate(X, Y, batch_size=16, verbose=0), rtol=1e-5)


def test_validation_runs_the_own_test_step_and_training_logs_survive_it():
    theirs, ours = _paired(guide_compiled_loss_and_metrics)
    expected = theirs.fit(X, Y, batch_size=16, epochs=2, shuffle=False, verbose=0,
                          validation_data=(X[:16], Y[:16])).history
    got = ours.fit(X, Y, batch_size=16, epochs=2, shuffle=False, verbose=0, validation_data=(X[:16], Y[:16])).history
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-6)


def gan(lib, latent):
    """The guide's GAN, shortened: its own `compile` (calling `super().compile()`), two optimizers each
    applied to one sub-model's weights, its own trackers. The latent vectors come from `latent` (not a
    random stream) so both libraries draw the same ones."""
    discriminator = lib.Sequential([lib.Input(shape=(6,)), lib.layers.Dense(8), lib.layers.LeakyReLU(negative_slope=0.2),
                                    lib.layers.Dense(1)], name="discriminator")
    generator = lib.Sequential([lib.Input(shape=(3,)), lib.layers.Dense(6, activation="sigmoid")], name="generator")

    class GAN(lib.Model):
        def __init__(self, discriminator, generator, latent_dim):
            super().__init__()
            self.discriminator = discriminator
            self.generator = generator
            self.latent_dim = latent_dim
            self.d_loss_tracker = lib.metrics.Mean(name="d_loss")
            self.g_loss_tracker = lib.metrics.Mean(name="g_loss")
            self.built = True

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer = d_optimizer
            self.g_optimizer = g_optimizer
            self.loss_fn = loss_fn

        def train_step(self, real_images):
            if isinstance(real_images, tuple):
                real_images = real_images[0]
            batch_size = real_images.shape[0]
            random_latent_vectors = torch.as_tensor(latent[:batch_size])
            generated_images = self.generator(random_latent_vectors)
            combined_images = torch.concat([generated_images, torch.as_tensor(real_images)], axis=0)
            labels = torch.concat([torch.ones((batch_size, 1)), torch.zeros((batch_size, 1))], axis=0)
            self.zero_grad()
            predictions = self.discriminator(combined_images)
            d_loss = self.loss_fn(labels, predictions)
            d_loss.backward()
            grads = [v.value.grad for v in self.discriminator.trainable_weights]
            with torch.no_grad():
                self.d_optimizer.apply(grads, self.discriminator.trainable_weights)
            misleading_labels = torch.zeros((batch_size, 1))
            self.zero_grad()
            predictions = self.discriminator(self.generator(random_latent_vectors))
            g_loss = self.loss_fn(misleading_labels, predictions)
            g_loss.backward()
            grads = [v.value.grad for v in self.generator.trainable_weights]
            with torch.no_grad():
                self.g_optimizer.apply(grads, self.generator.trainable_weights)
            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}

    model = GAN(discriminator, generator, 3)
    model.compile(d_optimizer=lib.optimizers.Adam(learning_rate=0.0003),
                  g_optimizer=lib.optimizers.Adam(learning_rate=0.0003),
                  loss_fn=lib.losses.BinaryCrossentropy(from_logits=True))
    return model


def test_the_guide_s_gan_trains_two_optimizers_as_keras_does():
    latent = RNG.random((16, 3)).astype("float32")
    images = RNG.random((64, 6)).astype("float32")
    theirs, ours = gan(keras, latent), gan(kr, latent)
    ours.discriminator.set_weights(theirs.discriminator.get_weights())
    ours.generator.set_weights(theirs.generator.get_weights())
    expected = theirs.fit(images, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    got = ours.fit(images, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    assert sorted(got) == sorted(expected) == ["d_loss", "g_loss"]
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-6)
    for part in ("discriminator", "generator"):
        for mine, theirs_w in zip(getattr(ours, part).get_weights(), getattr(theirs, part).get_weights()):
            np.testing.assert_allclose(mine, theirs_w, rtol=1e-5, atol=1e-6)


def test_an_overridden_compute_loss_is_what_fit_minimises():
    """Keras's model_test `_get_model_with_custom_compute_loss` idea on one output: the override doubles
    the loss; fit's history shows the doubled value and Keras's numbers."""
    def program(lib):
        class MyModel(lib.Model):
            def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, **kwargs):
                return 2.0 * super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, **kwargs)
        model = _dense_model(MyModel, lib)
        model.compile(optimizer="sgd", loss="mse")
        return model

    theirs, ours = _paired(program)
    expected = theirs.fit(X, Y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    got = ours.fit(X, Y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    np.testing.assert_allclose(got["loss"], expected["loss"], rtol=1e-5)
    plain = _dense_model(kr.Model, kr)
    plain.set_weights(theirs.get_weights())
    plain.compile(optimizer="sgd", loss="mse")
    assert plain.evaluate(X, Y, verbose=0) == pytest.approx(ours.evaluate(X, Y, verbose=0) / 2, rel=1e-5)


def test_an_own_predict_step_is_what_predict_returns():
    def program(lib):
        class Doubling(lib.Model):
            def predict_step(self, data):
                x, _, _ = lib.utils.unpack_x_y_sample_weight(data)
                return 2 * self(x, training=False)
        return _dense_model(Doubling, lib)

    theirs, ours = _paired(program)
    np.testing.assert_allclose(ours.predict(X, batch_size=16, verbose=0),
                               theirs.predict(X, batch_size=16, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(ours.predict_on_batch(X), theirs.predict_on_batch(X), rtol=1e-6)


def test_on_batch_calls_run_the_own_steps_with_keras_s_triple():
    """Keras's `train_on_batch` hands the step `(x, y, sample_weight)` even without weights."""
    theirs, ours = _paired(guide_sample_weight)
    for _ in range(2):
        expected = theirs.train_on_batch(X[:16], Y[:16], return_dict=True)
        got = ours.train_on_batch(X[:16], Y[:16], return_dict=True)
        assert sorted(got) == sorted(expected)
        for key in expected:
            np.testing.assert_allclose(got[key], expected[key], rtol=1e-5)


def test_built_in_on_batch_calls_reset_the_metrics_as_keras_s_do():
    def program(lib):
        model = _dense_model(lib.Model, lib)
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        return model

    theirs, ours = _paired(program)
    for start in (0, 16, 32):
        batch = slice(start, start + 16)
        np.testing.assert_allclose(ours.train_on_batch(X[batch], Y[batch]), theirs.train_on_batch(X[batch], Y[batch]),
                                   rtol=1e-5)
        np.testing.assert_allclose(ours.test_on_batch(X[batch], Y[batch]), theirs.test_on_batch(X[batch], Y[batch]),
                                   rtol=1e-5)


def test_model_metrics_are_keras_s_objects_and_reset_each_epoch():
    theirs, ours = _paired(guide_compiled_loss_and_metrics)
    assert ours.metrics_names == [m.name for m in theirs.metrics] == ["loss", "compile_metrics"]
    ours.fit(X, Y, batch_size=16, epochs=1, verbose=0)
    assert ours.metrics[0].result() > 0
    ours.reset_metrics()
    assert float(ours.metrics[0].result()) == 0.0
    assert ours.get_metrics_result() == {"loss": 0.0, "mae": 0.0}


def test_the_built_in_step_and_model_metrics_agree():
    """Without overrides the built-in step runs; `model.metrics` reads what it counted."""
    model = _dense_model(kr.Model, kr)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    logs = model.fit(X, Y, batch_size=16, epochs=1, shuffle=False, verbose=0).history
    results = model.get_metrics_result()
    assert results["loss"] == pytest.approx(logs["loss"][-1], rel=1e-6)
    assert results["mae"] == pytest.approx(logs["mae"][-1], rel=1e-6)


def test_a_model_compiled_without_a_loss_asks_for_one_only_for_the_built_in_step():
    model = _dense_model(kr.Model, kr)
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="No loss to compute for `fit\\(\\)`.*override the model's train_step"):
        model.fit(X, Y, verbose=0)
    own = guide_own_metrics_without_a_loss(kr)
    assert own.fit(X, Y, epochs=1, verbose=0).history["loss"][0] > 0


def test_a_step_returning_something_else_than_a_dict_is_refused():
    class Bad(kr.Model):
        def train_step(self, data):
            return 1.0

    model = _dense_model(Bad, kr)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match="must return a dict"):
        model.fit(X, Y, verbose=0)


def test_optimizer_apply_moves_only_the_variables_given():
    a, b = Weight(torch.ones(2)), Weight(torch.ones(3))
    opt = kr.optimizers.SGD(0.5)
    opt.apply([torch.ones(2)], [a])
    assert a.tolist() == [0.5, 0.5] and b.tolist() == [1.0, 1.0, 1.0]
    a.grad = torch.full((2,), 9.0)
    opt.apply_gradients([(torch.ones(2), a)])
    assert a.tolist() == [0.0, 0.0] and a.grad.tolist() == [9.0, 9.0]      # the given gradient, .grad kept
    with pytest.raises(ValueError, match="1 gradients for 2 variables"):
        opt.apply([torch.ones(2)], [a, b])
    with pytest.raises(ValueError, match="not among those the optimizer was built on"):
        opt.apply([torch.ones(3)], [b])
    with pytest.raises(ValueError, match="before the optimizer is built"):
        kr.optimizers.SGD().apply([torch.ones(2)])


def test_every_weight_of_a_built_model_has_keras_s_value():
    model = kr.Sequential([kr.Input((5, 4)), kr.LSTM(3, return_sequences=True), kr.GRU(2), kr.Dense(1)])
    lazy = kr.Sequential([kr.LSTM(3), kr.Dense(1)])
    lazy(torch.zeros(1, 5, 4))
    for weight in [*model.trainable_weights, *lazy.trainable_weights]:
        assert isinstance(weight, Weight) and isinstance(weight, torch.nn.Parameter)
        assert weight.value is weight


def test_a_hand_written_loop_with_optimizer_apply_gives_keras_s_weights():
    """The keras.io guide "Writing a training loop from scratch in PyTorch" with Keras's optimizer and loss:
    `v.value.grad` and `optimizer.apply` inside `torch.no_grad()`, an `add_loss` term from `model.losses`."""
    def program(lib):
        class ActivityRegularization(lib.layers.Layer):
            def call(self, inputs):
                self.add_loss(1e-2 * torch.sum(inputs))
                return inputs

        inputs = lib.Input(shape=(8,))
        hidden = ActivityRegularization()(lib.layers.Dense(6, activation="relu")(inputs))
        model = lib.Model(inputs, lib.layers.Dense(3)(hidden))
        return model, lib.optimizers.Adam(learning_rate=1e-2), lib.losses.CategoricalCrossentropy(from_logits=True)

    (theirs, their_opt, their_loss), (ours, our_opt, our_loss) = program(keras), program(kr)
    ours.set_weights(theirs.get_weights())
    targets = torch.nn.functional.one_hot(torch.as_tensor(RNG.integers(0, 3, 64)), 3).float()
    for model, optimizer, loss_fn in ((theirs, their_opt, their_loss), (ours, our_opt, our_loss)):
        for start in range(0, 64, 16):
            logits = model(torch.as_tensor(X[start:start + 16]))
            loss = loss_fn(targets[start:start + 16], logits)
            if model.losses:
                loss = loss + torch.sum(*model.losses)
            model.zero_grad()
            weights = [v for v in model.trainable_weights]
            loss.backward()
            with torch.no_grad():
                optimizer.apply([v.value.grad for v in weights], weights)
    for mine, theirs_w in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(mine, theirs_w, rtol=1e-5, atol=1e-6)


def test_pickled_and_torch_saved_models_keep_keras_s_weight_methods():
    import io
    import pickle

    model = kr.Sequential([kr.Input((3,)), kr.layers.Dense(2)])
    model.layers[0].kernel.tag = "kept"
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    for copy in (pickle.loads(pickle.dumps(model)), torch.load(buffer, weights_only=False)):
        kernel = copy.layers[0].kernel
        assert isinstance(kernel, Weight) and kernel.value is kernel and kernel.tag == "kept"
        assert torch.equal(kernel, model.layers[0].kernel) and kernel.requires_grad


def test_an_overridden_metrics_property_is_what_the_default_step_logs():
    """Keras's default step returns `get_metrics_result()` over `model.metrics`: a subclass adding a tracker
    there (updated in `call`) sees it in the history, as in Keras."""
    def program(lib):
        class Tracked(lib.Model):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.seen = lib.metrics.Mean(name="seen")

            @property
            def metrics(self):
                return [*super().metrics, self.seen]

            def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, **kwargs):
                self.seen.update_state(lib.ops.mean(y_pred))
                return super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, **kwargs)

        model = _dense_model(Tracked, lib)
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        return model

    theirs, ours = _paired(program)
    expected = theirs.fit(X, Y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    got = ours.fit(X, Y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    assert sorted(got) == sorted(expected) == ["loss", "mae", "seen"]
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-6)
