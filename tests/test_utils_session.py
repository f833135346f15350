"""kr.utils's names of Keras's framework helpers: the saving registry, Progbar, clear_session, is_keras_tensor,
get_source_inputs, standardize_dtype, each as Keras's `keras.utils`."""
import io

import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr

SAVING_NAMES = ["register_keras_serializable", "get_custom_objects", "custom_object_scope", "CustomObjectScope",
                "serialize_keras_object", "deserialize_keras_object", "get_registered_name",
                "get_registered_object"]


@pytest.mark.parametrize("name", SAVING_NAMES)
def test_the_saving_registry_names_are_kr_saving_s(name):
    assert hasattr(keras.utils, name)
    assert getattr(kr.utils, name) is getattr(kr.saving, name)
    assert name in kr.utils.__all__ and name in dir(kr.utils)


def test_star_import_of_kr_utils_gives_every_name():
    namespace = {}
    exec("from kerasrnn_torch.utils import *", namespace)
    assert set(kr.utils.__all__) <= set(namespace)
    with pytest.raises(AttributeError, match="no_such_name"):
        kr.utils.no_such_name


def test_a_class_registered_through_kr_utils_round_trips():
    @kr.utils.register_keras_serializable(package="utils_test")
    class Doubler(kr.Layer):
        def call(self, x):
            return 2 * x

    assert kr.utils.get_registered_name(Doubler) == "utils_test>Doubler"
    assert kr.utils.get_registered_object("utils_test>Doubler") is Doubler
    config = kr.utils.serialize_keras_object(Doubler(name="d"))
    assert config["registered_name"] == "utils_test>Doubler"
    assert isinstance(kr.utils.deserialize_keras_object(config), Doubler)
    with kr.utils.custom_object_scope({"Twice": Doubler}):
        assert kr.utils.get_registered_object("Twice") is Doubler
    assert kr.utils.get_registered_object("Twice") is None


def test_clear_session_restarts_the_automatic_names_as_keras():
    for _ in range(3):
        kr.layers.Dense(2)
        keras.layers.Dense(2)
    assert kr.layers.Dense(2).name != "dense"
    kr.utils.clear_session()
    keras.utils.clear_session()
    assert kr.layers.Dense(2).name == keras.layers.Dense(2).name == "dense"
    assert kr.layers.LSTM(2).name == keras.layers.LSTM(2).name == "lstm"
    assert kr.layers.Dense(2).name == keras.layers.Dense(2).name == "dense_1"
    kr.utils.clear_session(free_memory=False)
    assert kr.layers.Dense(2).name == "dense"


def test_is_keras_tensor_as_keras():
    inputs = kr.Input((3,))
    assert kr.utils.is_keras_tensor(inputs) and kr.utils.is_keras_tensor(kr.layers.Dense(2)(inputs))
    assert keras.utils.is_keras_tensor(keras.Input((3,)))
    for value in (torch.zeros(2), np.zeros(2), 3.0):
        assert kr.utils.is_keras_tensor(value) is keras.utils.is_keras_tensor(value) is False


def test_get_source_inputs_as_keras():
    def build(lib):
        a, b, c = lib.Input((3,), name="a"), lib.Input((3,), name="b"), lib.Input((3,), name="c")
        dense = lib.layers.Dense(3)
        x = lib.layers.add([dense(b), a])
        y = lib.layers.concatenate([x, dense(b), c])
        return a, b, c, x, y
    ours, theirs = build(kr), build(keras)
    for index in (3, 4):
        found, expected = kr.utils.get_source_inputs(ours[index]), keras.utils.get_source_inputs(theirs[index])
        assert [t.name for t in found] == [t.name for t in expected]
        assert all(any(t is source for source in ours[:3]) for t in found)
    assert kr.utils.get_source_inputs(ours[0])[0] is ours[0]
    plain = torch.zeros(2)
    assert kr.utils.get_source_inputs(plain) is plain


@pytest.mark.parametrize("dtype", [None, "float32", "int8", "bool", "bfloat16", "string", "complex64", np.float64,
                                   np.dtype("int16"), torch.int64, torch.bfloat16, torch.float16, torch.complex64,
                                   float, int, bool, str, "int"])
def test_standardize_dtype_as_keras(dtype):
    assert kr.utils.standardize_dtype(dtype) == keras.utils.standardize_dtype(dtype)


@pytest.mark.parametrize("dtype", ["float", "double", "nonsense", object])
def test_standardize_dtype_refuses_what_keras_refuses(dtype):
    with pytest.raises(ValueError):
        keras.utils.standardize_dtype(dtype)
    with pytest.raises(ValueError, match="invalid dtype"):
        kr.utils.standardize_dtype(dtype)


def _keras_averages(bar):
    return {name: float(np.mean(total)) / max(1, steps) for name, (total, steps) in bar._values.items()}


@pytest.mark.parametrize("stateful", [None, ["acc"]])
def test_progbar_averages_as_keras(stateful):
    steps = [(2, [("loss", 1.0), ("acc", 0.5)]), (3, [("loss", 2.0), ("acc", 0.75)]), (1, [("loss", 4.0)])]
    ours = kr.utils.Progbar(10, verbose=0, stateful_metrics=stateful)
    theirs = keras.utils.Progbar(10, verbose=0, stateful_metrics=stateful)
    for n, values in steps:
        ours.add(n, values)
        theirs.add(n, values)
    expected = _keras_averages(theirs)
    assert {name: ours.average(name) for name in ours._values_order} == pytest.approx(expected)
    assert ours._seen_so_far == theirs._seen_so_far == 6
    ours.update(10, [("loss", 9.0)])
    theirs.update(10, [("loss", 9.0)])        # the last step's value stands for itself, as in Keras
    assert ours.average("loss") == pytest.approx(_keras_averages(theirs)["loss"]) == 9.0


def test_progbar_stateless_metrics_as_keras():
    ours = kr.utils.Progbar(None, verbose=0, stateless_metrics=["loss"])
    theirs = keras.utils.Progbar(None, verbose=0, stateless_metrics=["loss"])
    for bar in (ours, theirs):
        bar.update(2, [("loss", 1.0), ("lr", 0.1)])
        bar.update(4, [("loss", 3.0), ("lr", 0.2)])
    assert {name: ours.average(name) for name in ours._values_order} == pytest.approx(_keras_averages(theirs))
    with pytest.raises(ValueError, match="not both"):
        kr.utils.Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])
    with pytest.raises(KeyError, match="nothing"):
        ours.average("nothing")


def test_progbar_writes_keras_s_lines():
    out = io.StringIO()
    bar = kr.utils.Progbar(4, verbose=1, file=out)
    bar.add(2, [("loss", 0.5)])
    assert out.getvalue() == ""          # not a terminal: the finished line only
    bar.add(2, [("loss", 0.25)])
    line = out.getvalue()
    assert line.startswith("4/4 ━━━━━━━━━━━━━━━━━━━━ ") and line.endswith(" - loss: 0.2500\n")
    out = io.StringIO()
    bar = kr.utils.Progbar(3, verbose=2, file=out)
    bar.update(1, [("loss", 1.0)])
    bar.update(3, [("loss", 0.5)])
    assert out.getvalue().startswith("3/3 - ") and out.getvalue().endswith(" - loss: 0.5000\n")
    out = io.StringIO()
    silent = kr.utils.Progbar(3, verbose=0, file=out)
    silent.update(3, [("loss", 1.0)])
    assert out.getvalue() == ""


def test_progbar_redraws_in_place_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True
    out = Terminal()
    bar = kr.utils.Progbar(None, verbose=1, interval=0, file=out)
    bar.add(1)
    bar.add(1)
    bar.update(5, finalize=True)
    text = out.getvalue()
    assert text.count("\r") == 3 and "      5/Unknown" in text and text.endswith("\n")
