"""One decision per call, and a short walk through the package: a masked fused LSTM call stays within
28 Python frames of the package and 6 of its files on PyTorch's kernel, 34 and 8 on the package's CPU
kernel (scripts/call_frames.py measures it), and every route consults the dispatcher (`RNN.decide` ->
`dispatch.plan`) at most once per call."""
import importlib.util
import sys
from pathlib import Path

import pytest
import torch

import kerasrnn_torch as kr

_SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "call_frames.py"
_spec = importlib.util.spec_from_file_location("call_frames", _SCRIPT)
call_frames = sys.modules["call_frames"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(call_frames)

# Modules found from the classes, not by path (files may move between packages).
dispatch = sys.modules[type(kr.LSTM(2).decide()).__module__]
recurrent = sys.modules[kr.LSTM.__mro__[1].__module__]

# (frames, files) at most, per route: PyTorch's kernel (no gradients), the package's CPU kernel (training).
BUDGETS = {"masked fused LSTM (predict: PyTorch's kernel)": (28, 6),
           "masked fused LSTM (train: the CPU kernel)": (34, 8)}


@pytest.mark.parametrize("case", list(BUDGETS))
def test_a_masked_fused_lstm_call_walks_few_frames_and_files(case):
    walk = call_frames.measure(call_frames.CASES[case]())
    frames, files = BUDGETS[case]
    assert walk.frames <= frames and walk.files <= files, "\n".join(walk.path)


def test_the_script_prints_every_case(capsys):
    walks = call_frames.main([])
    out = capsys.readouterr().out
    assert set(walks) == set(call_frames.CASES) and all(name in out for name in walks)


@pytest.fixture
def plans(monkeypatch):
    """Counts `dispatch.plan` and `fused_kernel_of` runs."""
    counts = {"plan": 0, "fused_kernel_of": 0}
    plan, kernel_of = dispatch.plan, recurrent.fused_kernel_of

    def counting_plan(*args, **kwargs):
        counts["plan"] += 1
        return plan(*args, **kwargs)

    def counting_kernel_of(cell):
        counts["fused_kernel_of"] += 1
        return kernel_of(cell)
    monkeypatch.setattr(dispatch, "plan", counting_plan)
    monkeypatch.setattr(recurrent, "fused_kernel_of", counting_kernel_of)
    return counts


def _holes(batch, timesteps):
    mask = torch.ones(batch, timesteps, dtype=torch.bool)
    mask[0, 1] = mask[1, 2:] = False
    return mask


def _routes():
    x = torch.randn(3, 5, 4)
    mask = _holes(3, 5)
    lstm = kr.LSTM(6, input_dim=4)
    dropout = kr.GRU(6, input_dim=4, dropout=0.3).train()                     # general fused route
    falls_back = kr.LSTM(6, input_dim=4, recurrent_dropout=0.3).train()       # the loop
    states = [torch.zeros(3, 6), torch.zeros(3, 6)]
    bidirectional = kr.Bidirectional(kr.LSTM(6, return_sequences=True), input_shape=(5, 4)).eval()
    mixed = kr.Bidirectional(kr.LSTM(6), backward_layer=kr.LSTM(6, activation="relu", go_backwards=True),
                             input_shape=(5, 4))
    return {
        "lean, masked": (lstm, lambda: lstm(x, mask=mask)),
        "lean, unmasked": (lstm, lambda: lstm(x)),
        "lean, initial_state": (lstm, lambda: lstm(x, initial_state=states)),
        "general, input dropout": (dropout, lambda: dropout(x, mask=mask)),
        "general, loop": (falls_back, lambda: falls_back(x, mask=mask)),
        "bidirectional, masked": (bidirectional, lambda: bidirectional(x, mask=mask)),
        "bidirectional, lean": (bidirectional, lambda: bidirectional(x)),
        "bidirectional, one direction loops": (mixed, lambda: mixed(x, mask=mask)),
    }


@pytest.mark.parametrize("route", list(_routes()))
def test_each_route_decides_once_per_call(route, plans):
    layer, call = _routes()[route]
    decisions = 2 if isinstance(layer, kr.Bidirectional) else 1      # one per layer that runs
    call()                          # the first call plans (nothing kept yet) ...
    assert plans == {"plan": decisions, "fused_kernel_of": decisions}
    for _ in range(3):              # ... later ones read the plan kept for the configuration
        call()
    assert plans == {"plan": decisions, "fused_kernel_of": decisions}
    with kr.force_path("loop"):     # a new setting: decided again, once
        call()
    assert plans == {"plan": 2 * decisions, "fused_kernel_of": 2 * decisions}


def test_the_generic_rnn_plans_once_per_call(plans):
    layer = kr.RNN(kr.LSTMCell(6))
    x, mask = torch.randn(3, 5, 4), _holes(3, 5)
    for calls in range(1, 4):
        layer(x, mask=mask)
        assert plans["plan"] == calls


def test_settings_the_rules_read_are_followed(plans):
    layer = kr.LSTM(6, input_dim=4)
    x = torch.randn(3, 5, 4)
    layer(x)
    assert layer.last_path == "fused"
    layer.use_cudnn = False
    layer(x)
    assert layer.last_path == "loop" and "use_cudnn=False" in layer.dispatch_reason()
    layer.use_cudnn = "auto"
    layer.cell.recurrent_dropout = 0.2
    layer.train()
    layer(x)
    assert layer.last_path == "loop" and "recurrent_dropout" in layer.dispatch_reason()
    assert plans["plan"] == 3


def test_the_fused_call_is_not_wrapped_in_a_broad_except(monkeypatch, pytorch_kernels_only):
    engine_fused = sys.modules[dispatch.__name__.rsplit(".", 1)[0] + ".fused"]     # engine/fused.py

    def broken(*args, **kwargs):
        raise RuntimeError("kernel exploded")
    monkeypatch.setattr(engine_fused, "_call_kernel", broken)
    layer = kr.LSTM(3, input_dim=2)
    for mask in (None, _holes(2, 4)):
        with pytest.raises(RuntimeError, match="kernel exploded"):
            layer(torch.randn(2, 4, 2), mask=mask)
