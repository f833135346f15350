"""`kr.InputSpec`: a layer's declared inputs, checked at each call on real and on symbolic tensors, as
Keras's `keras.InputSpec` (the same cases accepted, the same ones refused, with Keras's key phrases)."""
import re

import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from kerasrnn_torch.core import layer as layer_module

SPECS = [
    dict(ndim=3),
    dict(min_ndim=2),
    dict(max_ndim=2),
    dict(axes={-1: 8}),
    dict(ndim=3, axes={1: 5, -1: 8}),
    dict(shape=(None, 5, 8)),
    dict(shape=(None, 5, 1), allow_last_axis_squeeze=True),
    dict(shape=(None, 5), allow_last_axis_squeeze=True),
    dict(dtype="float32"),
    dict(dtype="float64", ndim=3),
    dict(dtype="int64"),
]
SHAPES = [(2, 5, 8), (2, 8), (2, 5, 1), (2, 5), (2, 4, 8), (2, 5, 8, 1)]
# Keras casts a float tensor to the layer's compute dtype before its check; kr layers take tensors as they
# come (see test_a_tensor_is_checked_in_its_own_dtype), so float64 tensors are compared there, not here.
DTYPES = [torch.float32, torch.int64]


def _keras_layer(spec_kwargs):
    class Checked(keras.layers.Layer):
        def __init__(self):
            super().__init__(name="checked")
            self.input_spec = keras.InputSpec(**spec_kwargs)

        def call(self, x):
            return x
    return Checked()


def _kr_layer(spec_kwargs):
    class Checked(kr.Layer):
        def __init__(self):
            super().__init__(name="checked")
            self.input_spec = kr.InputSpec(**spec_kwargs)

        def call(self, x):
            return x
    return Checked()


def _outcome(layer, x):
    try:
        layer(x)
    except ValueError as error:
        return str(error)
    return None


def _key_phrase(message):
    """What Keras's message says was expected and found (after "incompatible with the layer: ")."""
    return message.split("incompatible with the layer: ", 1)[-1]


@pytest.mark.parametrize("spec", SPECS, ids=repr)
def test_real_tensors_are_accepted_and_refused_as_keras_does(spec):
    ours, theirs = _kr_layer(spec), _keras_layer(spec)
    for shape in SHAPES:
        for dtype in DTYPES:
            x = torch.zeros(shape, dtype=dtype)
            expected, got = _outcome(theirs, x), _outcome(ours, x)
            assert (expected is None) == (got is None), (shape, dtype, expected, got)
            if expected is not None:
                assert _key_phrase(got) == _key_phrase(expected)
                assert "'checked'" in got


@pytest.mark.parametrize("spec", SPECS, ids=repr)
def test_symbolic_inputs_are_accepted_and_refused_as_keras_does(spec):
    ours, theirs = _kr_layer(spec), _keras_layer(spec)
    for shape in [(None, 5, 8), (None, None, 8), (None, 8), (4, None, 1), (None, None)]:
        for dtype in ("float32", "int64"):
            expected = _outcome(theirs, keras.Input(batch_shape=shape, dtype=dtype))
            got = _outcome(ours, kr.Input(batch_shape=shape, dtype=dtype))
            assert (expected is None) == (got is None), (shape, dtype, expected, got)
            if expected is not None:
                assert _key_phrase(got) == _key_phrase(expected)


def test_a_numpy_float_array_is_checked_as_the_layer_converts_it():
    for make in (_kr_layer, _keras_layer):
        layer = make(dict(dtype="float32", ndim=2))
        layer(np.zeros((2, 3)))                     # float64 data, converted to float32 before the check counts
        with pytest.raises(ValueError, match=r"expected ndim=2, found ndim=3"):
            layer(np.zeros((2, 3, 1)))


def test_a_tensor_is_checked_in_its_own_dtype():
    layer = _kr_layer(dict(dtype="float64"))
    layer(torch.zeros(2, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"expected dtype=float64, found dtype=float32"):
        layer(torch.zeros(2, 3))


def test_a_list_of_specs_checks_each_input():
    class Pair(kr.Layer):
        def __init__(self):
            super().__init__(name="pair")
            self.input_spec = [kr.InputSpec(ndim=2), kr.InputSpec(ndim=3)]

        def call(self, inputs):
            return inputs[0]
    layer = Pair()
    layer([torch.zeros(2, 3), torch.zeros(2, 3, 4)])
    with pytest.raises(ValueError, match=r"Input 1 of layer 'pair' is incompatible with the layer: expected ndim=3, "
                                         r"found ndim=2"):
        layer([torch.zeros(2, 3), torch.zeros(2, 3)])
    with pytest.raises(ValueError, match=r'Layer "pair" expects 2 input\(s\), but it received 1 input tensors'):
        layer(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"Inputs to a layer should be tensors"):
        layer([torch.zeros(2, 3), "text"])


def test_named_specs_take_a_dict_by_name():
    class Named(kr.Layer):
        def __init__(self):
            super().__init__(name="named")
            self.input_spec = [kr.InputSpec(ndim=2, name="a"), kr.InputSpec(ndim=3, name="b")]

        def call(self, inputs):
            return inputs["a"]
    layer = Named()
    layer({"b": torch.zeros(2, 3, 4), "a": torch.zeros(2, 3)})
    with pytest.raises(ValueError, match=r"Input 1 with name 'b' of layer 'named'.*expected ndim=3, found ndim=2"):
        layer({"b": torch.zeros(2, 3), "a": torch.zeros(2, 3)})
    with pytest.raises(ValueError, match=r'Missing data for input "b"'):
        layer({"a": torch.zeros(2, 3)})
    with pytest.raises(ValueError, match=r"expects 2 named input\(s\) with keys \['a', 'b'\]"):
        layer(torch.zeros(2, 3))


def test_an_optional_input_may_be_none():
    class Maybe(kr.Layer):
        def __init__(self):
            super().__init__()
            self.input_spec = [kr.InputSpec(ndim=2), kr.InputSpec(ndim=2, optional=True)]

        def call(self, inputs):
            return inputs[0]
    Maybe()([torch.zeros(2, 3), None])


def test_a_spec_set_in_build_is_checked_at_the_first_call():
    class Dense(kr.Layer):
        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], 2))
            self.input_spec = kr.InputSpec(min_ndim=2, axes={-1: input_shape[-1]})

        def call(self, x):
            return x @ self.kernel
    layer = Dense(name="dense_with_spec")
    layer(torch.zeros(4, 3))
    assert layer.input_spec.axes == {-1: 3}
    with pytest.raises(ValueError, match=r"layer 'dense_with_spec'.*expected axis -1 of input shape to have value "
                                         r"3, but received input with shape \(4, 5\)"):
        layer(torch.zeros(4, 5))


def test_any_layer_and_model_takes_an_assigned_spec():
    dense = kr.Dense(2, name="plain_dense")
    dense.input_spec = kr.InputSpec(shape=(None, 3))
    dense(torch.zeros(5, 3))
    with pytest.raises(ValueError, match=r"expected shape=\(None, 3\), found shape=\(5, 4\)"):
        dense(torch.zeros(5, 4))
    with pytest.raises(ValueError, match=r"expected shape=\(None, 3\), found shape=\(None, 4\)"):
        dense(kr.Input((4,)))
    model = kr.Sequential([kr.Input((3,)), dense])
    with pytest.raises(ValueError, match=r"layer 'plain_dense'"):
        model(torch.zeros(5, 2, 3))
    dense.input_spec = None
    assert dense(torch.zeros(5, 2, 3)).shape == (5, 2, 2)


def test_a_functional_models_spec_describes_its_inputs_as_keras_does():
    a, b = kr.Input((4,), name="a"), kr.Input((2, 1), name="b", optional=True)
    model = kr.Model({"b": b, "a": a}, kr.layers.Dense(2)(a))
    ka, kb = keras.Input((4,), name="a"), keras.Input((2, 1), name="b", optional=True)
    keras_model = keras.Model({"b": kb, "a": ka}, keras.layers.Dense(2)(ka))
    ours, theirs = model.input_spec, keras_model.input_spec
    assert [s.get_config() for s in ours] == [s.get_config() for s in theirs]
    assert [(s.name, s.allow_last_axis_squeeze) for s in ours] == [(s.name, s.allow_last_axis_squeeze) for s in theirs]
    model.input_spec = kr.InputSpec(name="x")
    assert model.input_spec.name == "x"


def test_a_layer_inside_a_symbolic_call_is_checked_on_the_symbolic_shapes():
    """An inner layer with a spec, met while an outer layer is called on kr.Input: its check sees the
    Input's unknown sizes as unknown (not the made-up sizes the graph is worked out with), as Keras's."""
    class Outer(kr.Layer):
        def __init__(self):
            super().__init__()
            self.inner = kr.Dense(2)
            self.inner.input_spec = kr.InputSpec(shape=(None, 7, 3))

        def call(self, x):
            return self.inner(x)
    outer = Outer()
    y = outer(kr.Input((None, 3)))
    assert y.shape == (None, None, 2)
    with pytest.raises(ValueError, match=r"expected shape=\(None, 7, 3\), found shape=\(None, 6, 3\)"):
        Outer()(kr.Input((6, 3)))


def test_config_and_repr_are_keras_ones():
    for kwargs in [dict(ndim=3, axes={-1: 8}), dict(shape=(None, 4), dtype="float64"),
                   dict(min_ndim=2, max_ndim=4, optional=True), dict()]:
        ours, theirs = kr.InputSpec(**kwargs), keras.InputSpec(**kwargs)
        assert ours.get_config() == theirs.get_config()
        assert repr(ours) == repr(theirs)
        revived = kr.InputSpec.from_config(ours.get_config())
        assert revived.get_config() == ours.get_config()
    assert kr.InputSpec(dtype=torch.float16).dtype == "float16"
    assert kr.layers.InputSpec is kr.InputSpec


def test_bad_specs_are_refused():
    with pytest.raises(TypeError, match=r"`axes` must be a dict with integer keys"):
        kr.InputSpec(axes={"last": 3})
    with pytest.raises(ValueError, match=re.escape("axis 3 in `axes` is greater than the largest axis")):
        kr.InputSpec(ndim=2, axes={3: 1})
    with pytest.raises(ValueError, match=r"`shape` must hold sizes"):
        kr.InputSpec(shape=(None, -1))
    with pytest.raises(TypeError, match=r"`input_spec` must be an InputSpec"):
        kr.Dense(2).input_spec = {"ndim": 2}


def test_a_layer_without_a_spec_never_runs_the_check(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("checked a layer without input_spec")
    monkeypatch.setattr(layer_module.Layer, "check_input_spec", refuse)
    lstm = kr.LSTM(3)
    x = torch.zeros(2, 4, 5)
    lstm(x)
    lstm(x, mask=torch.ones(2, 4, dtype=torch.bool))
    lstm(np.zeros((2, 4, 5), dtype="float32"))
    kr.Model(inputs := kr.Input((4, 5)), kr.LSTM(3)(inputs))(x)


def test_a_spec_in_the_class_body_is_checked():
    class Rank2(kr.Layer):
        input_spec = kr.InputSpec(ndim=2)

        def call(self, x):
            return x
    layer = Rank2(name="rank2")
    layer(torch.zeros(2, 3))
    assert isinstance(layer.input_spec, kr.InputSpec)
    with pytest.raises(ValueError, match=r"layer 'rank2'.*expected ndim=2, found ndim=3"):
        layer(torch.zeros(2, 3, 4))
