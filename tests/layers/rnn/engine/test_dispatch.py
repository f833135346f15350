"""The dispatch rules (pure `plan`), dispatch_reason, use_cudnn, force_path and the fallback log."""
import logging

import pytest
import torch

import kerasrnn_torch as kr
from kerasrnn_torch.layers.rnn.engine.dispatch import FusedConfig, plan
from kerasrnn_torch.layers.rnn.engine import native

LSTM_OK = FusedConfig(kind="lstm", activation="tanh")


@pytest.mark.parametrize("config, mask_kind, needle", [
    (FusedConfig(kind="lstm", activation="relu"), "none", "activation is relu"),
    (FusedConfig(kind="lstm", activation=None), "none", "custom callable"),
    (FusedConfig(kind="gru", activation="tanh", recurrent_activation="hard_sigmoid"), "none", "recurrent_activation"),
    (FusedConfig(kind="lstm", activation="tanh", recurrent_dropout=0.1), "none", "recurrent_dropout=0.1"),
    (FusedConfig(kind="lstm", activation="tanh", unroll=True), "none", "unroll=True"),
    (FusedConfig(kind="gru", activation="tanh", reset_after=False), "none", "reset_after=False"),
    (FusedConfig(kind="simple_rnn", activation="sigmoid"), "none", "tanh or relu"),
], ids=["relu", "callable", "gates", "recurrent_dropout", "unroll", "reset_before", "simple_sigmoid"])
def test_plan_names_what_prevents_the_fused_kernel(config, mask_kind, needle):
    result = plan(config, forced="auto")
    assert result.path == "loop"
    assert needle in result.reason


@pytest.mark.parametrize("config", [LSTM_OK, FusedConfig(kind="simple_rnn", activation="relu"),
                                    FusedConfig(kind="gru", activation="tanh")], ids=["lstm", "relu_rnn", "gru"])
def test_plan_takes_fused_when_allowed(config):
    result = plan(config, forced="auto")
    assert result.path == "fused" and result.reason is None


def test_plan_user_and_context_choices():
    assert plan(LSTM_OK, use_cudnn=False, forced="auto").path == "loop"
    assert plan(LSTM_OK, use_cudnn=True, forced="loop").path == "loop"
    assert plan(LSTM_OK, use_cudnn=False, forced="fused").path == "fused"
    refused = plan(FusedConfig(kind="lstm", activation="relu"), use_cudnn=True, forced="auto")
    with pytest.raises(ValueError, match="use_cudnn=True.*activation is relu"):
        refused.enforce("LSTM 'x'")
    assert plan(None, forced="auto").path == "loop"


def test_dispatch_reason_on_layers():
    layer = kr.LSTM(4)
    assert layer.dispatch_reason() is None
    right = torch.tensor([[True, True, False], [True, True, True]])
    holes = torch.tensor([[True, False, True], [True, True, True]])
    assert layer.dispatch_reason(right) is None
    assert layer.dispatch_reason(holes) is None                  # any mask pattern runs fused
    assert "recurrent_dropout" in kr.GRU(3, recurrent_dropout=0.5).dispatch_reason()
    assert "use_cudnn=False" in kr.LSTM(3, use_cudnn=False).dispatch_reason()
    assert "generic RNN" in kr.RNN(kr.LSTMCell(3)).dispatch_reason()


def test_use_cudnn_true_raises_with_reason_when_ineligible():
    layer = kr.LSTM(4, activation="relu", use_cudnn=True)
    with pytest.raises(ValueError, match="activation is relu"):
        layer(torch.randn(2, 3, 5))
    masked = kr.GRU(4, use_cudnn=True)
    masked(torch.randn(2, 3, 5), mask=torch.tensor([[False, True, True], [True, True, True]]))
    assert masked.last_path == "fused"
    with pytest.raises(ValueError, match="reset_after=False"):
        kr.GRU(4, use_cudnn=True, reset_after=False)(torch.randn(2, 3, 5))


def test_use_cudnn_true_runs_fused_when_eligible():
    layer = kr.GRU(4, use_cudnn=True)
    layer(torch.randn(2, 3, 5), mask=torch.tensor([[True, True, False], [True, True, True]]))
    assert layer.last_path == "fused"


@pytest.mark.parametrize("value", ["yes", 1, None, "cudnn"])
def test_invalid_use_cudnn_is_refused(value):
    with pytest.raises(ValueError, match="use_cudnn"):
        kr.LSTM(3, use_cudnn=value)


def test_force_path_overrides_and_restores():
    layer = kr.SimpleRNN(3)
    x = torch.randn(2, 4, 2)
    with kr.force_path("loop"):
        layer(x)
        assert layer.last_path == "loop"
        with kr.force_path("auto"):
            layer(x)
            assert layer.last_path == "fused"
    layer(x)
    assert layer.last_path == "fused"
    with pytest.raises(ValueError, match="force_path"):
        with kr.force_path("fused"):
            kr.SimpleRNN(3, activation="sigmoid")(x)
    with pytest.raises(ValueError, match="path"):
        with kr.force_path("fast"):
            pass


def test_fallback_is_logged_once_with_the_reason(caplog):
    layer = kr.LSTM(3, recurrent_dropout=0.3)
    x = torch.randn(2, 4, 2)
    with caplog.at_level(logging.INFO, logger="kerasrnn_torch"):
        layer(x)
        layer(x)
    messages = [r.getMessage() for r in caplog.records if r.name == "kerasrnn_torch"]
    assert len(messages) == 1
    assert "recurrent_dropout=0.3" in messages[0] and layer.name in messages[0]


def test_no_log_when_the_user_asked_for_the_loop(caplog):
    with caplog.at_level(logging.INFO, logger="kerasrnn_torch"):
        kr.LSTM(3, use_cudnn=False)(torch.randn(2, 4, 2))
    assert not [r for r in caplog.records if r.name == "kerasrnn_torch"]


def test_fused_kernel_errors_are_not_swallowed(monkeypatch):
    from kerasrnn_torch.layers.rnn.engine import fused

    def broken(*args, **kwargs):
        raise RuntimeError("kernel exploded")

    monkeypatch.setattr(fused, "call_kernel", broken)
    units = native.SMALL_LSTM_UNITS + 1     # without gradients and this wide: PyTorch's kernel
    with pytest.raises(RuntimeError, match="kernel exploded"), torch.no_grad():
        kr.LSTM(units)(torch.randn(2, 4, 2))
