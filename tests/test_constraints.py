"""Weight constraints give Keras 3's projections, alone and through `kr.apply_constraints`."""
import keras
import numpy as np
import pytest
import torch
from torch import nn

import kerasrnn_torch as kr
from kerasrnn_torch import constraints
from reference import assert_close, numpy, random_weights

CONSTRAINT_ATOL = 1e-6
UNITS, FEATURES = 4, 5


def random_array(*shape, seed=0, scale=3.0):
    """Values wide enough that some slices' norms fall below, and some above, every bound used here."""
    rng = np.random.default_rng(seed)
    return (rng.uniform(-scale, scale, size=shape) * rng.uniform(0.05, 1.0, size=shape[-1:])).astype(np.float32)


def keras_value(constraint, array):
    return numpy(constraint(torch.as_tensor(array)))


# ------------------------------------------------------------ formulas alone
FORMULAS = {
    # id: (ours, keras)
    "max_norm_default": (lambda: constraints.MaxNorm(), lambda: keras.constraints.MaxNorm()),
    "max_norm_axis1": (lambda: constraints.MaxNorm(1.5, axis=1), lambda: keras.constraints.MaxNorm(1.5, axis=1)),
    "max_norm_axes_list": (lambda: constraints.MaxNorm(3.0, axis=[0, 1]),
                           lambda: keras.constraints.MaxNorm(3.0, axis=[0, 1])),
    "non_neg": (lambda: constraints.NonNeg(), lambda: keras.constraints.NonNeg()),
    "unit_norm_default": (lambda: constraints.UnitNorm(), lambda: keras.constraints.UnitNorm()),
    "unit_norm_axis1": (lambda: constraints.UnitNorm(axis=1), lambda: keras.constraints.UnitNorm(axis=1)),
    "min_max_norm_default": (lambda: constraints.MinMaxNorm(), lambda: keras.constraints.MinMaxNorm()),
    "min_max_norm_partial_rate": (lambda: constraints.MinMaxNorm(0.5, 1.5, rate=0.3, axis=1),
                                  lambda: keras.constraints.MinMaxNorm(0.5, 1.5, rate=0.3, axis=1)),
}


@pytest.mark.parametrize("make_ours, make_keras", FORMULAS.values(), ids=FORMULAS.keys())
def test_constraint_object_equals_keras_on_same_array(make_ours, make_keras):
    array = random_array(6, 3, 8)
    assert_close(make_ours()(torch.as_tensor(array)), keras_value(make_keras(), array), CONSTRAINT_ATOL)


@pytest.mark.parametrize("name", ["max_norm", "non_neg", "unit_norm", "min_max_norm",
                                  "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm"])
def test_constraint_by_keras_name_equals_keras_get(name):
    array = random_array(5, 7, seed=1)
    ours = constraints.get(name)
    assert isinstance(ours, constraints.Constraint)
    assert_close(ours(torch.as_tensor(array)), keras_value(keras.constraints.get(name), array), CONSTRAINT_ATOL)


def test_zero_slice_stays_zero_thanks_to_keras_epsilon():
    weight = torch.zeros(3, 2)
    for constraint in (constraints.MaxNorm(), constraints.UnitNorm(), constraints.MinMaxNorm(0.5, 1.0)):
        assert torch.equal(constraint(weight), weight), type(constraint).__name__


def test_get_passes_none_objects_and_callables_through():
    ours = constraints.MaxNorm(1.0)
    keras_object = keras.constraints.NonNeg()

    def plain(w):
        return w.clamp(-1, 1)

    assert constraints.get(None) is None
    assert constraints.get(ours) is ours
    assert constraints.get(keras_object) is keras_object
    assert constraints.get(plain) is plain
    assert isinstance(constraints.get(constraints.UnitNorm), constraints.UnitNorm)


GET_ERRORS = [
    # (id, factory, error type, message pattern)
    ("unknown_name", lambda: constraints.get("positive"), ValueError,
     r"Unknown constraint 'positive'.*max_norm, min_max_norm, non_neg, unit_norm"),
    ("not_callable", lambda: constraints.get(2.0), TypeError, "constraint must be.*got 2.0"),
    ("float_axis", lambda: constraints.MaxNorm(axis=0.5), ValueError, r"MaxNorm: `axis` must be an int.*got 0.5"),
    ("unknown_layer_argument", lambda: kr.GRU(3, bias_constraint="nonneg"), ValueError,
     "Unknown constraint 'nonneg'"),
]


@pytest.mark.parametrize("make, error, pattern", [e[1:] for e in GET_ERRORS], ids=[e[0] for e in GET_ERRORS])
def test_bad_constraint_is_refused_clearly(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


# ------------------------------------------------------------ inside layers
def apply_keras_constraints(keras_layer):
    """What Keras's optimizer does after a step: assign each variable its constraint's projection."""
    for variable in keras_layer.trainable_weights:
        if variable.constraint is not None:
            variable.assign(variable.constraint(variable.value))


CASES = {
    # id: (our class, Keras class, constraint arguments on our side, the same for Keras)
    "lstm_names_and_objects": (
        kr.LSTM, keras.layers.LSTM,
        {"kernel_constraint": "max_norm", "recurrent_constraint": constraints.UnitNorm(axis=1),
         "bias_constraint": "non_neg"},
        {"kernel_constraint": "max_norm", "recurrent_constraint": keras.constraints.UnitNorm(axis=1),
         "bias_constraint": "non_neg"}),
    "gru_two_row_bias": (
        kr.GRU, keras.layers.GRU,
        {"kernel_constraint": constraints.MinMaxNorm(0.5, 1.0, rate=0.5), "bias_constraint": constraints.MaxNorm(1.0)},
        {"kernel_constraint": keras.constraints.MinMaxNorm(0.5, 1.0, rate=0.5),
         "bias_constraint": keras.constraints.MaxNorm(1.0)}),
    "simple_rnn_keras_objects": (
        kr.SimpleRNN, keras.layers.SimpleRNN,
        {"kernel_constraint": keras.constraints.UnitNorm(), "recurrent_constraint": "min_max_norm"},
        {"kernel_constraint": keras.constraints.UnitNorm(), "recurrent_constraint": "min_max_norm"}),
}


@pytest.mark.parametrize("ours_cls, keras_cls, ours_kwargs, keras_kwargs", CASES.values(), ids=CASES.keys())
def test_apply_constraints_equals_keras_after_a_weight_change(ours_cls, keras_cls, ours_kwargs, keras_kwargs):
    keras_layer = keras_cls(UNITS, **keras_kwargs)
    keras_layer.build((2, 3, FEATURES))
    random_weights(keras_layer, scale=2.0)
    ours = ours_cls(UNITS, input_dim=FEATURES, **ours_kwargs)
    ours.set_weights(keras_layer.get_weights())
    before = [p.detach().clone() for p in ours.parameters()]

    kr.apply_constraints(nn.Sequential(ours))
    apply_keras_constraints(keras_layer)

    changed = 0
    for i, (mine, theirs, old) in enumerate(zip(ours.get_weights(), keras_layer.get_weights(), before)):
        assert_close(mine, theirs, CONSTRAINT_ATOL, f"weight {i}")
        changed += not np.allclose(mine, numpy(old))
    assert changed == len(ours_kwargs)


def test_apply_constraints_keeps_the_parameters_the_optimizer_holds():
    layer = kr.LSTM(UNITS, kernel_constraint=constraints.MaxNorm(0.5), input_dim=FEATURES)
    kernel = layer.cell.kernel
    optimizer = torch.optim.SGD(layer.parameters(), lr=1.0)
    layer(torch.randn(2, 3, FEATURES)).square().sum().mul(100).backward()
    optimizer.step()
    kr.apply_constraints(layer)
    assert layer.cell.kernel is kernel
    column_norms = kernel.detach().norm(dim=0)
    assert torch.all(column_norms <= 0.5 + 1e-6), column_norms


def test_apply_constraints_reaches_layers_nested_in_plain_modules():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.ModuleDict({"rnn": kr.GRU(UNITS, bias_constraint="non_neg", input_dim=FEATURES)})
            self.head = nn.Linear(UNITS, 1)

    model = Model()
    with torch.no_grad():
        model.encoder["rnn"].cell.bias.fill_(-1.0)
    kr.apply_constraints(model)
    assert torch.count_nonzero(model.encoder["rnn"].cell.bias) == 0


def test_apply_constraints_refuses_what_is_not_a_module():
    with pytest.raises(TypeError, match="expects a torch.nn.Module, got dict"):
        kr.apply_constraints({})
