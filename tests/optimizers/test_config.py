"""get_config has Keras 3's keys and values, round-trips, and reads Keras's own configs."""
import copy

import pytest

import kerasrnn_torch as kr

NAMES = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam"]


@pytest.mark.parametrize("name", NAMES)
def test_the_default_config_is_keras_s(name):
    import keras
    ours = getattr(kr.optimizers, name)().get_config()
    theirs = getattr(keras.optimizers, name)().get_config()
    assert list(ours) == list(theirs)
    theirs_name = theirs.pop("name")
    assert theirs_name.startswith(ours.pop("name"))   # Keras adds a suffix to names already used
    # Keras reports its float32 learning-rate variable; ours the float given.
    assert abs(ours.pop("learning_rate") - theirs.pop("learning_rate")) < 1e-9
    assert ours == theirs


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trips_both_ways(name):
    import keras
    arguments = {"learning_rate": 0.25, "clipnorm": 1.5, "name": "mine"}
    ours = getattr(kr.optimizers, name)(**arguments)
    again = type(ours).from_config(ours.get_config())
    assert again.get_config() == ours.get_config()
    theirs = keras.optimizers.deserialize(kr.optimizers.serialize(ours))
    assert theirs.get_config() == ours.get_config()
    back = kr.optimizers.deserialize(keras.optimizers.serialize(theirs))
    assert type(back) is type(ours) and back.get_config() == ours.get_config()


def test_a_schedule_travels_in_the_config():
    import keras
    schedule = kr.optimizers.schedules.CosineDecay(0.1, 100, warmup_target=0.5, warmup_steps=10)
    ours = kr.optimizers.Adam(schedule, amsgrad=True)
    config = ours.get_config()
    assert config["learning_rate"]["class_name"] == "CosineDecay"
    theirs = keras.optimizers.Adam.from_config(copy.deepcopy(config))   # Keras's edits its argument
    assert theirs.get_config() == config
    again = kr.optimizers.Adam.from_config(theirs.get_config())
    assert isinstance(again._schedule, kr.optimizers.schedules.CosineDecay)
    assert again.get_config() == config


def test_non_default_values_of_unimplemented_arguments_are_refused_by_name():
    for argument, value in [("use_ema", True), ("ema_momentum", 0.9), ("ema_overwrite_frequency", 5),
                            ("gradient_accumulation_steps", 4)]:
        with pytest.raises(NotImplementedError, match=argument):
            kr.optimizers.Adam(**{argument: value})
    kr.optimizers.Adam(use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                       gradient_accumulation_steps=None)


def test_bad_arguments_raise_as_keras():
    with pytest.raises(ValueError, match="only one of"):
        kr.optimizers.SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="momentum"):
        kr.optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="weight_decay"):
        kr.optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="learning_rate"):
        kr.optimizers.Adam(learning_rate="fast")
