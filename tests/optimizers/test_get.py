"""kr.optimizers.get takes Keras's names (any case), serialized dicts and optimizers; unknown names are listed."""
import pytest

import kerasrnn_torch as kr


@pytest.mark.parametrize("name, cls", [("adam", "Adam"), ("ADAM", "Adam"), ("sgd", "SGD"), ("rmsprop", "RMSprop"),
                                       ("RMSprop", "RMSprop"), ("adamw", "AdamW"), ("Adagrad", "Adagrad"),
                                       ("adadelta", "Adadelta"), ("adamax", "Adamax"), ("nadam", "Nadam")])
def test_a_keras_name_makes_that_optimizer_at_keras_s_defaults(name, cls):
    import keras
    optimizer = kr.optimizers.get(name)
    assert type(optimizer) is getattr(kr.optimizers, cls)
    assert optimizer.get_config()["epsilon" if "epsilon" in optimizer.get_config() else "momentum"] == \
        keras.optimizers.get(name).get_config()["epsilon" if "epsilon" in optimizer.get_config() else "momentum"]


def test_an_optimizer_is_returned_as_is_and_a_dict_is_deserialized():
    optimizer = kr.optimizers.Nadam()
    assert kr.optimizers.get(optimizer) is optimizer
    made = kr.optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.5, "momentum": 0.5}})
    assert isinstance(made, kr.optimizers.SGD) and made.momentum == 0.5 and made.learning_rate == 0.5


def test_unknown_names_and_objects_raise_listing_the_known_ones():
    with pytest.raises(ValueError, match="adadelta, adagrad, adam, adamax, adamw, nadam, rmsprop, sgd"):
        kr.optimizers.get("lbfgs")
    with pytest.raises(ValueError, match="Could not interpret"):
        kr.optimizers.get(3)
    with pytest.raises(ValueError, match="class_name"):
        kr.optimizers.deserialize({"config": {}})
