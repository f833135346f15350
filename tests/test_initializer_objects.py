"""Initializer objects with Keras's names, arguments, configurations and serialized form."""
import math

import keras
import pytest
import torch

import kerasrnn_torch as kr
from kerasrnn_torch import initializers
import reference

CASES = [
    ("Constant", {"value": 2.5}), ("Zeros", {}), ("Ones", {}),
    ("RandomNormal", {"mean": 1.0, "stddev": 0.5, "seed": 3}), ("RandomUniform", {"minval": -2.0, "maxval": 1.0}),
    ("TruncatedNormal", {"stddev": 0.2, "seed": 1}), ("GlorotUniform", {"seed": 7}), ("GlorotNormal", {}),
    ("HeUniform", {}), ("HeNormal", {"seed": 2}), ("LecunUniform", {}), ("LecunNormal", {}),
    ("Orthogonal", {"gain": 2.0, "seed": 4}), ("Identity", {}),
    ("VarianceScaling", {"scale": 2.0, "mode": "fan_out", "distribution": "uniform", "seed": 5}),
]


@pytest.mark.parametrize("class_name, kwargs", CASES)
def test_serialized_form_and_config_match_keras(class_name, kwargs):
    ours = getattr(kr.initializers, class_name)(**kwargs)
    theirs = getattr(keras.initializers, class_name)(**kwargs)
    assert initializers.serialize(ours) == keras.initializers.serialize(theirs)
    assert ours.get_config() == theirs.get_config()


@pytest.mark.parametrize("class_name, kwargs", CASES)
def test_config_round_trip_and_keras_dicts_deserialize(class_name, kwargs):
    ours = getattr(kr.initializers, class_name)(**kwargs)
    again = type(ours).from_config(ours.get_config())
    assert type(again) is type(ours) and again.get_config() == ours.get_config()
    keras_dict = keras.initializers.serialize(getattr(keras.initializers, class_name)(**kwargs))
    rebuilt = initializers.deserialize(keras_dict)
    assert type(rebuilt) is type(ours) and rebuilt.get_config() == ours.get_config()
    assert initializers.get(keras_dict).get_config() == ours.get_config()


def test_serialize_of_a_name_is_keras_serialized_object():
    assert initializers.serialize("glorot_uniform") == {
        "module": "keras.initializers", "class_name": "GlorotUniform",
        "config": {"seed": None, "input_axes": None, "output_axes": None}, "registered_name": None}
    assert initializers.serialize("glorot_uniform") == keras.initializers.serialize(
        keras.initializers.get("glorot_uniform"))


def test_identity_gain_other_than_one_survives_a_round_trip():
    rebuilt = initializers.deserialize(initializers.serialize(kr.initializers.Identity(gain=3.0)))
    assert torch.equal(rebuilt((2, 3)), 3.0 * torch.eye(2, 3))


def test_seeded_object_repeats_its_values_at_every_call_as_keras():
    theirs = keras.initializers.GlorotUniform(seed=3)
    assert torch.equal(theirs((5, 4)), theirs((5, 4)))
    ours = kr.initializers.GlorotUniform(seed=3)
    assert torch.equal(ours((5, 4)), ours((5, 4)))
    assert not torch.equal(ours((5, 4)), kr.initializers.GlorotUniform(seed=4)((5, 4)))
    a = kr.LSTM(4, input_dim=3, kernel_initializer=kr.initializers.HeNormal(seed=1))
    b = kr.LSTM(4, input_dim=3, kernel_initializer=kr.initializers.HeNormal(seed=1))
    assert torch.equal(a.cell.kernel, b.cell.kernel)


def test_objects_are_accepted_wherever_a_name_is():
    layer = kr.GRU(3, input_dim=2, kernel_initializer=kr.initializers.Constant(0.5),
                   recurrent_initializer=kr.initializers.Identity(gain=2.0), bias_initializer="ones")
    assert torch.equal(layer.cell.kernel.detach(), torch.full((2, 9), 0.5))
    assert torch.equal(layer.cell.recurrent_kernel.detach(), 2.0 * torch.eye(3, 9))
    dense = kr.Dense(2, input_dim=3, kernel_initializer={"class_name": "Ones", "config": {}})
    assert torch.equal(dense.kernel.detach(), torch.ones(3, 2))


@pytest.mark.parametrize("class_name, kwargs", [
    ("TruncatedNormal", {"mean": 0.5, "stddev": 0.2}), ("RandomNormal", {"mean": -1.0, "stddev": 0.3}),
    ("RandomUniform", {"minval": -0.3, "maxval": 0.7}), ("HeNormal", {}), ("GlorotNormal", {}),
    ("LecunUniform", {}), ("VarianceScaling", {"scale": 3.0, "mode": "fan_avg", "distribution": "untruncated_normal"}),
])
def test_statistics_follow_keras(class_name, kwargs):
    shape = (300, 200)
    ours = getattr(kr.initializers, class_name)(**kwargs, seed=0)((shape))
    theirs = reference.numpy(getattr(keras.initializers, class_name)(**kwargs, seed=0)(shape))
    assert abs(float(ours.mean()) - float(theirs.mean())) < 0.02 * max(1.0, float(abs(theirs).max()))
    assert float(ours.std()) == pytest.approx(float(theirs.std()), rel=0.02)
    assert float(ours.min()) >= float(theirs.min()) - 0.05 * float(theirs.std()) or class_name.endswith(
        ("RandomNormal", "untruncated_normal")) or "untruncated_normal" in kwargs.values()
    assert float(ours.max()) <= float(theirs.max()) + 0.05 * float(theirs.std()) or class_name == "RandomNormal" \
        or "untruncated_normal" in kwargs.values()


def test_truncated_normal_is_cut_at_two_standard_deviations_around_the_mean():
    values = kr.initializers.TruncatedNormal(mean=1.0, stddev=0.1, seed=0)((100, 100))
    assert float(values.min()) >= 0.8 and float(values.max()) <= 1.2


def test_variance_scaling_refuses_bad_arguments_as_keras():
    with pytest.raises(ValueError, match="`mode` must be one of fan_in, fan_out, fan_avg; got 'fan'"):
        kr.initializers.VarianceScaling(mode="fan")
    with pytest.raises(ValueError, match="`distribution`.*got 'gamma'"):
        kr.initializers.VarianceScaling(distribution="gamma")
    with pytest.raises(ValueError, match="`scale` must be a positive float, got -1"):
        kr.initializers.VarianceScaling(scale=-1)


def test_deserialize_refuses_an_unknown_class_naming_it():
    with pytest.raises(ValueError, match="Unknown initializer class 'Glorot'"):
        initializers.deserialize({"class_name": "Glorot", "config": {}})


@pytest.mark.parametrize("init, module", [
    (torch.nn.init.kaiming_uniform_, lambda: torch.nn.Linear(1000, 10)),
    (torch.nn.init.xavier_normal_, lambda: torch.nn.Linear(1000, 10)),
])
def test_torch_init_function_on_dense_kernel_uses_torch_fans_for_its_layout(init, module):
    torch.manual_seed(0)
    dense = kr.Dense(10, input_dim=1000, kernel_initializer=init)
    reference_weight = module().weight.detach()
    init(reference_weight)
    assert float(dense.kernel.detach().std()) == pytest.approx(float(reference_weight.std()), rel=0.05)


def test_torch_init_function_on_recurrent_and_conv_shaped_kernels():
    torch.manual_seed(0)
    layer = kr.LSTM(64, input_dim=512, kernel_initializer=torch.nn.init.kaiming_uniform_,
                    recurrent_initializer=torch.nn.init.kaiming_normal_)
    # kaiming_uniform_'s bound sqrt(6 / fan_in), fan_in being the kernel's input axis (512, not 4 * 64).
    bound = math.sqrt(6.0 / 512)
    assert float(layer.cell.kernel.detach().abs().max()) <= bound and float(layer.cell.kernel.detach().abs().max()) > 0.95 * bound
    assert float(layer.cell.recurrent_kernel.detach().std()) == pytest.approx(math.sqrt(2.0 / 64), rel=0.05)
    conv = torch.empty(3, 3, 16, 32)   # Keras's (height, width, in, out)
    initializers.apply(torch.nn.init.kaiming_normal_, conv)
    assert float(conv.std()) == pytest.approx(math.sqrt(2.0 / (16 * 9)), rel=0.05)
