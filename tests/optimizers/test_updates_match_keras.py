"""Each optimizer, at its defaults and at the settings that change its rule, moves the weights as Keras 3's does.

The same initial weights and the same gradients (mixed scales, so that epsilon's value and place show)
go through `keras.optimizers.X(...).apply_gradients` on Keras's torch backend and through ours;
the weights after the steps agree bit for bit (float32).
"""
import numpy as np
import pytest

import kerasrnn_torch as kr
from tests.optimizers.keras_runs import gradient_sequence, initial_weights, run_keras, run_ours

SCHEDULE = {"class_name": "ExponentialDecay",
            "config": {"initial_learning_rate": 0.05, "decay_steps": 3, "decay_rate": 0.5}}

CASES = [
    ("SGD", {}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adam", {}),
    ("Adam", {"learning_rate": 0.01, "amsgrad": True}),
    ("Adam", {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3}),
    ("AdamW", {}),
    ("AdamW", {"learning_rate": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop", {}),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.9}),
    ("RMSprop", {"learning_rate": 0.01, "centered": True}),
    ("RMSprop", {"learning_rate": 0.01, "centered": True, "momentum": 0.5, "rho": 0.8}),
    ("Adagrad", {}),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.01, "epsilon": 1e-4}),
    ("Adadelta", {}),
    ("Adadelta", {"learning_rate": 1.0, "rho": 0.9}),
    ("Adamax", {}),
    ("Adamax", {"learning_rate": 0.01, "beta_2": 0.9}),
    ("Nadam", {}),
    ("Nadam", {"learning_rate": 0.01, "beta_1": 0.8}),
    # The arguments every optimizer shares.
    ("SGD", {"learning_rate": 0.1, "weight_decay": 0.05}),
    ("Adam", {"learning_rate": 0.01, "weight_decay": 0.02}),
    ("Adam", {"learning_rate": 0.01, "clipnorm": 0.5}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.5, "clipnorm": 0.1}),
    ("RMSprop", {"learning_rate": 0.01, "clipvalue": 0.01}),
    ("Adam", {"learning_rate": 0.01, "global_clipnorm": 0.5}),
    ("Adagrad", {"learning_rate": 0.1, "global_clipnorm": 0.05}),
    ("Adam", {"learning_rate": 0.01, "loss_scale_factor": 128.0}),
    ("Adam", {"learning_rate": SCHEDULE}),
    ("SGD", {"learning_rate": SCHEDULE, "momentum": 0.9, "weight_decay": 0.1}),
    ("Nadam", {"learning_rate": SCHEDULE}),
]


def make(module, name, arguments):
    arguments = dict(arguments)
    if isinstance(arguments.get("learning_rate"), dict):
        arguments["learning_rate"] = module.schedules.deserialize(
            {"module": "keras.optimizers.schedules", "registered_name": None, **arguments["learning_rate"]})
    return getattr(module, name)(**arguments)


@pytest.mark.parametrize("name, arguments", CASES, ids=[f"{n}-{a}" for n, a in CASES])
def test_the_weights_after_eight_steps_are_keras_s(name, arguments):
    import keras
    weights, grads = initial_weights(), gradient_sequence(8)
    theirs, keras_optimizer = run_keras(lambda: make(keras.optimizers, name, arguments), weights, grads)
    ours, optimizer = run_ours(lambda: make(kr.optimizers, name, arguments), weights, grads)
    assert optimizer.iterations == int(keras_optimizer.iterations) == 8
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)
    # The steps moved the weights (a rule that did nothing would pass too otherwise).
    assert any(np.abs(a - w).max() > 1e-6 for a, w in zip(ours, weights))


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Nadam"])
def test_a_parameter_without_gradient_is_skipped_as_keras_skips_it(name):
    import keras
    weights, grads = initial_weights(), gradient_sequence(5)
    arguments = {"learning_rate": 0.1, "weight_decay": 0.1, **({"momentum": 0.9} if name == "SGD" else {})}
    theirs, _ = run_keras(lambda: make(keras.optimizers, name, arguments), weights, grads, skip={1})
    ours, optimizer = run_ours(lambda: make(kr.optimizers, name, arguments), weights, grads, skip={1})
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ours[1], weights[1])   # no update, no weight decay
    param = optimizer.param_groups[0]["params"][1]
    assert all(float(slot.abs().max()) == 0 for slot in optimizer.state[param].values())
