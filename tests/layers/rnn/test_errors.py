"""Bad input gets a clear error that names what was expected and what came."""
import pytest
import torch

import kerasrnn_torch as kr


def built_lstm(**kwargs):
    return kr.LSTM(4, input_dim=3, **kwargs)


CALL_ERRORS = [
    # (id, layer factory, call kwargs, error type, message pattern)
    ("input_2d", built_lstm, {"inputs": torch.randn(2, 3)}, ValueError, r"\(batch, timesteps, features\).*2-D.*\(2, 3\)"),
    ("input_4d", built_lstm, {"inputs": torch.randn(2, 3, 3, 1)}, ValueError, r"4-D input of shape \(2, 3, 3, 1\)"),
    ("feature_size", built_lstm, {"inputs": torch.randn(4, 6, 7)}, ValueError,
     r"built for 3 input features, got input of shape \(4, 6, 7\)"),
    ("integer_input", built_lstm, {"inputs": torch.ones(2, 3, 3, dtype=torch.long)}, TypeError, "floating-point.*int64"),
    ("dtype_mismatch", built_lstm, {"inputs": torch.randn(2, 3, 3, dtype=torch.float64)}, TypeError,
     "float32 weights, got torch.float64 input"),
    ("zero_timesteps", built_lstm, {"inputs": torch.randn(2, 0, 3)}, ValueError, "at least one timestep"),
    ("mask_shape", built_lstm, {"inputs": torch.randn(2, 4, 3), "mask": torch.ones(2, 5, dtype=torch.bool)},
     ValueError, r"mask must have shape \(batch, timesteps\) = \(2, 4\), got \(2, 5\)"),
    ("mask_dtype", built_lstm, {"inputs": torch.randn(2, 4, 3), "mask": torch.ones(2, 4)}, TypeError,
     "bool tensor.*torch.float32"),
    ("mask_not_tensor", built_lstm, {"inputs": torch.randn(2, 4, 3), "mask": [["yes"] * 4] * 2}, TypeError,
     "bool tensor"),
    ("state_count", built_lstm, {"inputs": torch.randn(2, 4, 3), "initial_state": [torch.zeros(2, 4)]}, ValueError,
     r"2 state tensor\(s\) with shapes \[\(2, 4\), \(2, 4\)\], got 1"),
    ("state_shape", built_lstm,
     {"inputs": torch.randn(2, 4, 3), "initial_state": [torch.zeros(2, 5), torch.zeros(2, 4)]}, ValueError,
     r"initial_state shapes \[\(2, 4\), \(2, 4\)\], got \[\(2, 5\), \(2, 4\)\]"),
    ("state_batch", lambda: kr.GRU(4, input_dim=3),
     {"inputs": torch.randn(2, 4, 3), "initial_state": [torch.zeros(3, 4)]}, ValueError,
     r"\[\(2, 4\)\], got \[\(3, 4\)\]"),
]


@pytest.mark.parametrize("make, call, error, pattern", [c[1:] for c in CALL_ERRORS], ids=[c[0] for c in CALL_ERRORS])
def test_bad_call_is_refused_clearly(make, call, error, pattern):
    layer = make()
    call = dict(call)
    inputs = call.pop("inputs")
    with pytest.raises(error, match=pattern):
        layer(inputs, **call)


CONSTRUCTOR_ERRORS = [
    ("units_zero", lambda: kr.LSTM(0), ValueError, "units.*positive integer.*0"),
    ("units_negative", lambda: kr.GRU(-3), ValueError, "units.*-3"),
    ("units_float", lambda: kr.SimpleRNN(2.5), ValueError, "units.*2.5"),
    ("dropout_one", lambda: kr.LSTM(3, dropout=1.0), ValueError, r"dropout.*\[0, 1\).*1.0"),
    ("recurrent_dropout_negative", lambda: kr.GRU(3, recurrent_dropout=-0.1), ValueError, "recurrent_dropout"),
    ("activation_name", lambda: kr.LSTM(3, activation="tanhh"), ValueError, "Unknown activation 'tanhh'"),
    ("gate_activation_name", lambda: kr.GRU(3, recurrent_activation="sigmoidd"), ValueError, "sigmoidd"),
    ("initializer_name", lambda: kr.LSTM(3, kernel_initializer="glorot", input_dim=2), ValueError,
     "Unknown initializer 'glorot'"),
    ("use_cudnn", lambda: kr.GRU(3, use_cudnn="always"), ValueError, "use_cudnn.*'always'"),
    ("rnn_cell_type", lambda: kr.RNN("lstm"), TypeError, "nn.Module"),
    ("rnn_cell_state_size", lambda: kr.RNN(torch.nn.Linear(2, 2)), ValueError, "state_size"),
    ("both_hints", lambda: kr.LSTM(3, input_dim=2, input_shape=(4, 2)), ValueError, "input_shape or input_dim"),
]


@pytest.mark.parametrize("make, error, pattern", [c[1:] for c in CONSTRUCTOR_ERRORS],
                         ids=[c[0] for c in CONSTRUCTOR_ERRORS])
def test_bad_arguments_are_refused_clearly(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


def test_error_names_the_layer():
    layer = kr.LSTM(4, input_dim=3, name="encoder")
    with pytest.raises(ValueError, match="LSTM 'encoder'"):
        layer(torch.randn(2, 3, 9))


def test_reset_state_on_a_stateless_layer_is_refused():
    with pytest.raises(ValueError, match="not stateful"):
        kr.LSTM(3).reset_state()
