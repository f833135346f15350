"""kr.losses focal crossentropies and SparseCategoricalCrossentropy(ignore_class=...) against keras.losses:
values, sample weights, reductions, an output mask, sequence outputs, names in compile and a fit."""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr

rng = np.random.default_rng(11)
PROBS = rng.uniform(0.01, 0.99, (6, 4)).astype("float32")
LOGITS = rng.normal(size=(6, 4)).astype("float32")
BINARY = (rng.random((6, 4)) > 0.5).astype("float32")
ONE_HOT = np.eye(4, dtype="float32")[rng.integers(0, 4, 6)]
WEIGHTS = rng.random(6).astype("float32")

FOCAL = [
    ("BinaryFocalCrossentropy", {}, BINARY, PROBS),
    ("BinaryFocalCrossentropy", {"gamma": 0.0}, BINARY, PROBS),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.4}, BINARY, PROBS),
    ("BinaryFocalCrossentropy", {"from_logits": True, "gamma": 3.0}, BINARY, LOGITS),
    ("BinaryFocalCrossentropy", {"label_smoothing": 0.1, "apply_class_balancing": True}, BINARY, PROBS),
    ("CategoricalFocalCrossentropy", {}, ONE_HOT, PROBS),
    ("CategoricalFocalCrossentropy", {"alpha": 0.5, "gamma": 1.0}, ONE_HOT, PROBS),
    ("CategoricalFocalCrossentropy", {"from_logits": True}, ONE_HOT, LOGITS),
    ("CategoricalFocalCrossentropy", {"label_smoothing": 0.2, "from_logits": True}, ONE_HOT, LOGITS),
]


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
@pytest.mark.parametrize("name, kwargs, y_true, y_pred", FOCAL, ids=[f"{c[0]}{c[1]}" for c in FOCAL])
def test_focal_losses_match_keras(name, kwargs, y_true, y_pred, reduction):
    ours = getattr(kr.losses, name)(reduction=reduction, **kwargs)
    theirs = getattr(keras.losses, name)(reduction=reduction, **kwargs)
    for weights in (None, WEIGHTS):
        got = ours(torch.tensor(y_true), torch.tensor(y_pred),
                   sample_weight=None if weights is None else torch.tensor(weights))
        want = theirs(y_true, y_pred, sample_weight=weights)
        np.testing.assert_allclose(got.numpy(), keras.ops.convert_to_numpy(want), rtol=1e-5, atol=1e-6)
    assert ours.name == theirs.name


@pytest.mark.parametrize("name, kwargs, y_true, y_pred", FOCAL, ids=[f"{c[0]}{c[1]}" for c in FOCAL])
def test_focal_functions_match_keras(name, kwargs, y_true, y_pred):
    function = {"BinaryFocalCrossentropy": "binary_focal_crossentropy",
                "CategoricalFocalCrossentropy": "categorical_focal_crossentropy"}[name]
    got = getattr(kr.losses, function)(torch.tensor(y_true), torch.tensor(y_pred), **kwargs)
    want = getattr(keras.losses, function)(y_true, y_pred, **kwargs)
    np.testing.assert_allclose(got.numpy(), keras.ops.convert_to_numpy(want), rtol=1e-5, atol=1e-6)


def sequence_ids(ignore, shape=(4, 5)):
    ids = rng.integers(0, 3, shape)
    ids[rng.random(shape) < 0.35] = ignore
    ids[0, :] = ignore      # one sample with every step ignored
    return ids


@pytest.mark.parametrize("ignore", [-1, 2, 255])
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none", "mean_with_sample_weight"])
def test_ignore_class_on_a_sequence_output_matches_keras(ignore, from_logits, reduction):
    ids = sequence_ids(ignore)
    pred = rng.normal(size=(4, 5, 3)).astype("float32") if from_logits else \
        rng.dirichlet(np.ones(3), size=(4, 5)).astype("float32")
    ours = kr.losses.SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=ignore, reduction=reduction)
    theirs = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=ignore,
                                                        reduction=reduction)
    for weights in (None, rng.random((4, 5)).astype("float32")):     # per-step weights, as Keras takes them
        got = ours(torch.tensor(ids), torch.tensor(pred),
                   sample_weight=None if weights is None else torch.tensor(weights))
        want = keras.ops.convert_to_numpy(theirs(ids, pred, sample_weight=weights))
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)
    assert ours.get_config()["ignore_class"] == theirs.get_config()["ignore_class"] == ignore


def test_ignore_class_function_gives_zero_and_matches_keras():
    ids = sequence_ids(-1)
    pred = rng.dirichlet(np.ones(3), size=(4, 5)).astype("float32")
    got = kr.losses.sparse_categorical_crossentropy(torch.tensor(ids), torch.tensor(pred), ignore_class=-1)
    want = keras.losses.sparse_categorical_crossentropy(ids, pred, ignore_class=-1)
    np.testing.assert_allclose(got.numpy(), keras.ops.convert_to_numpy(want), rtol=1e-6, atol=1e-7)
    assert (got[torch.tensor(ids) == -1] == 0).all()
    # Wrapped in a loss object, the function's mask keeps the ignored entries out of the mean.
    wrapped = kr.losses.LossFunctionWrapper(kr.losses.sparse_categorical_crossentropy, ignore_class=-1)
    expected = got.sum() / (torch.tensor(ids) != -1).sum()
    torch.testing.assert_close(wrapped(torch.tensor(ids), torch.tensor(pred)), expected)


def test_ignore_class_with_an_output_mask_matches_keras():
    ids = sequence_ids(-1)
    pred = rng.dirichlet(np.ones(3), size=(4, 5)).astype("float32")
    step_mask = rng.random((4, 5)) > 0.3
    ours = kr.losses.SparseCategoricalCrossentropy(ignore_class=-1)
    theirs = keras.losses.SparseCategoricalCrossentropy(ignore_class=-1)
    keras_pred = keras.ops.convert_to_tensor(pred)
    keras_pred._keras_mask = keras.ops.convert_to_tensor(step_mask)
    want = keras.ops.convert_to_numpy(theirs(ids, keras_pred))
    got = ours(torch.tensor(ids), torch.tensor(pred), mask=torch.tensor(step_mask))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-7)


def test_ignore_class_gradients_are_finite_and_zero_on_ignored_steps():
    ids = torch.tensor(sequence_ids(-1))
    pred = torch.tensor(rng.dirichlet(np.ones(3), size=(4, 5)).astype("float32"), requires_grad=True)
    kr.losses.SparseCategoricalCrossentropy(ignore_class=-1)(ids, pred).backward()
    assert torch.isfinite(pred.grad).all()
    assert (pred.grad[ids == -1] == 0).all()
    assert (pred.grad[ids != -1] != 0).any()


def test_fit_with_ignore_class_on_a_sequence_model_matches_keras():
    x = rng.normal(size=(8, 5, 3)).astype("float32")
    ids = sequence_ids(-1, (8, 5))
    ours = kr.Sequential([kr.layers.Dense(4, input_shape=(5, 3))])
    theirs = keras.Sequential([keras.Input((5, 3)), keras.layers.Dense(4)])
    weights = [rng.normal(size=(3, 4)).astype("float32"), np.zeros(4, "float32")]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    ours.compile(optimizer=kr.optimizers.SGD(0.1),
                 loss=kr.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1))
    theirs.compile(optimizer=keras.optimizers.SGD(0.1),
                   loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1))
    got = ours.fit(x, ids, batch_size=4, epochs=3, shuffle=False, verbose=0).history["loss"]
    want = theirs.fit(x, ids, batch_size=4, epochs=3, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["binary_focal_crossentropy", "BinaryFocalCrossentropy",
                                  "categorical_focal_crossentropy", "CategoricalFocalCrossentropy"])
def test_focal_losses_by_keras_names_in_compile(name):
    y = ONE_HOT if "ategorical" in name else BINARY
    x = rng.normal(size=(6, 3)).astype("float32")
    activation = "softmax" if "ategorical" in name else "sigmoid"
    ours = kr.Sequential([kr.layers.Dense(4, activation=activation, input_shape=(3,))])
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation=activation)])
    weights = [rng.normal(size=(3, 4)).astype("float32"), np.zeros(4, "float32")]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    ours.compile(optimizer="sgd", loss=name)
    theirs.compile(optimizer="sgd", loss=name)
    got = ours.fit(x, y, batch_size=3, epochs=2, shuffle=False, verbose=0).history["loss"]
    want = theirs.fit(x, y, batch_size=3, epochs=2, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


MASKS = (rng.random((3, 4, 5)) > 0.5).astype("float32")
SOFT = rng.uniform(0.0, 1.0, (3, 4, 5)).astype("float32")
OVERLAP = [("Dice", {}), ("Dice", {"axis": -1}), ("Dice", {"axis": (1, 2)}), ("Tversky", {}),
           ("Tversky", {"alpha": 0.3, "beta": 0.7, "axis": (1, 2)}),
           ("Tversky", {"alpha": 0.9, "beta": 0.1, "axis": -1})]


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
@pytest.mark.parametrize("name, kwargs", OVERLAP, ids=[f"{n}{k}" for n, k in OVERLAP])
def test_dice_and_tversky_match_keras(name, kwargs, reduction):
    ours = getattr(kr.losses, name)(reduction=reduction, **kwargs)
    theirs = getattr(keras.losses, name)(reduction=reduction, **kwargs)
    got = ours(torch.tensor(MASKS), torch.tensor(SOFT))
    want = theirs(MASKS, SOFT)
    np.testing.assert_allclose(got.numpy(), keras.ops.convert_to_numpy(want), rtol=1e-5, atol=1e-6)
    function = getattr(kr.losses, name.lower())(torch.tensor(MASKS), torch.tensor(SOFT), **kwargs)
    np.testing.assert_allclose(function.numpy(), keras.ops.convert_to_numpy(
        getattr(keras.losses, name.lower())(MASKS, SOFT, **kwargs)), rtol=1e-5, atol=1e-6)
    assert ours.name == theirs.name


def test_every_keras_loss_name_we_have_resolves_as_keras_resolves_it():
    names = ["binary_focal_crossentropy", "categorical_focal_crossentropy", "dice", "tversky", "huber", "log_cosh",
             "kl_divergence", "poisson", "cosine_similarity", "hinge", "squared_hinge", "categorical_hinge",
             "mean_absolute_percentage_error", "mape", "kld", "BinaryFocalCrossentropy",
             "CategoricalFocalCrossentropy", "Dice", "Tversky", "Huber", "LogCosh", "KLDivergence", "Poisson"]
    for name in names:
        ours, theirs = kr.losses.get(name), keras.losses.get(name)
        assert callable(ours)
        assert isinstance(ours, kr.losses.Loss) == isinstance(theirs, keras.losses.Loss), name
        if isinstance(ours, kr.losses.Loss):
            assert ours.name == theirs.name, name


@pytest.mark.parametrize("loss", [keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=1.5),
                                  keras.losses.CategoricalFocalCrossentropy(alpha=0.4, from_logits=True),
                                  keras.losses.SparseCategoricalCrossentropy(ignore_class=-1),
                                  keras.losses.Dice(axis=(1, 2)), keras.losses.Tversky(alpha=0.3, beta=0.7)],
                         ids=lambda loss: type(loss).__name__)
def test_keras_loss_configs_build_the_same_loss(loss):
    serialized = keras.losses.serialize(loss)
    ours = kr.losses.get({"class_name": serialized["class_name"], "config": serialized["config"]})
    assert type(ours).__name__ == type(loss).__name__
    for key, value in serialized["config"].items():
        assert ours.get_config()[key] == value, key
