"""kr.optimizers.schedules give Keras 3's learning rates at every step, and serialize in Keras's form."""
import numpy as np
import pytest

import kerasrnn_torch as kr

SCHEDULES = [
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.93}),
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.5, "staircase": True}),
    ("PiecewiseConstantDecay", {"boundaries": [5, 20, 31], "values": [0.1, 0.05, 0.013, 0.001]}),
    ("PiecewiseConstantDecay", {"boundaries": [10], "values": [1.0, 0.5]}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.3, "decay_steps": 9, "decay_rate": 0.7}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.3, "decay_steps": 9, "decay_rate": 0.7, "staircase": True}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 17}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 17, "end_learning_rate": 0.01,
                         "power": 0.5, "cycle": True}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 23}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 23, "alpha": 0.1}),
    ("CosineDecay", {"initial_learning_rate": 0.0, "decay_steps": 23, "warmup_target": 0.2, "warmup_steps": 11}),
    ("CosineDecay", {"initial_learning_rate": 0.01, "decay_steps": 23, "alpha": 0.05, "warmup_target": 0.2,
                     "warmup_steps": 4}),
]


@pytest.mark.parametrize("name, config", SCHEDULES, ids=[f"{n}-{c}" for n, c in SCHEDULES])
def test_each_step_s_rate_is_keras_s(name, config):
    import keras
    ours = getattr(kr.optimizers.schedules, name)(**config)
    theirs = getattr(keras.optimizers.schedules, name)(**config)
    for step in range(60):
        expected = np.float32(keras.ops.convert_to_numpy(theirs(keras.ops.convert_to_tensor(step, "int64"))))
        assert np.float32(ours(step)) == expected, (step, float(ours(step)), expected)


@pytest.mark.parametrize("name, config", SCHEDULES, ids=[f"{n}-{c}" for n, c in SCHEDULES])
def test_config_round_trips_with_keras(name, config):
    import keras
    ours = getattr(kr.optimizers.schedules, name)(**config)
    theirs = getattr(keras.optimizers.schedules, name)(**config)
    assert ours.get_config() == theirs.get_config()
    assert kr.optimizers.schedules.serialize(ours) == keras.optimizers.schedules.serialize(theirs)
    again = kr.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(theirs))
    assert type(again) is type(ours) and again.get_config() == ours.get_config()
    back = keras.optimizers.schedules.deserialize(kr.optimizers.schedules.serialize(ours))
    assert back.get_config() == theirs.get_config()


def test_bad_arguments_raise_as_keras():
    with pytest.raises(ValueError, match="decay_steps"):
        kr.optimizers.schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="1 less"):
        kr.optimizers.schedules.PiecewiseConstantDecay([1, 2], [0.1])
    with pytest.raises(ValueError, match="Unknown learning rate schedule"):
        kr.optimizers.schedules.deserialize({"class_name": "Nope", "config": {}})
    with pytest.raises(NotImplementedError, match="__call__"):
        kr.optimizers.schedules.LearningRateSchedule()(0)


def test_the_optimizer_s_rate_follows_its_schedule():
    schedule = kr.optimizers.schedules.PiecewiseConstantDecay([1], [0.5, 0.25])
    opt = kr.optimizers.SGD(schedule)
    assert opt.learning_rate == 0.5
    opt.iterations = 2
    assert opt.learning_rate == 0.25
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1
