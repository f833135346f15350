"""scripts/profile_cpu_kernel.py runs: every layer of the call gets a time (no speed is asserted)."""
import importlib.util
from pathlib import Path

from kerasrnn_torch.layers.rnn.engine import cpu_kernel

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "profile_cpu_kernel.py"


def test_profile_cpu_kernel_times_every_layer_of_a_call(capsys, monkeypatch):
    monkeypatch.setenv(cpu_kernel.ENV_SWITCH, "1")          # the script profiles the kernel: on, or it says why not
    cpu_kernel.forget()
    try:
        spec = importlib.util.spec_from_file_location("profile_cpu_kernel", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        times = module.main(["--size", "tiny", "--layer", "gru_reset_before", "--rounds", "1", "--budget-ms", "1"])
    finally:
        monkeypatch.undo()
        cpu_kernel.forget()
    assert set(times) == {"kernel", "node", "layer", "model", "predict", "layer train", "train"}
    assert min(times.values()) > 0
    out = capsys.readouterr().out
    assert "gru_reset_before at tiny" in out and "path: loop" in out


def test_profile_cpu_kernel_with_a_mask_runs_a_masking_model(capsys, monkeypatch):
    monkeypatch.setenv(cpu_kernel.ENV_SWITCH, "1")
    cpu_kernel.forget()
    try:
        spec = importlib.util.spec_from_file_location("profile_cpu_kernel", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        times = module.main(["--size", "tiny", "--layer", "lstm", "--mask", "holes", "--rounds", "1",
                             "--budget-ms", "1"])
    finally:
        monkeypatch.undo()
        cpu_kernel.forget()
    assert min(times.values()) > 0
    out = capsys.readouterr().out
    assert "lstm at tiny (3, 4, 2, 3), mask holes" in out and "path: fused" in out
