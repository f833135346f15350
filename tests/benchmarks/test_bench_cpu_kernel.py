"""scripts/bench_cpu_kernel.py runs: every variant of a configuration gets a time (no speed is asserted)."""
import importlib.util
import os
from pathlib import Path

from kerasrnn_torch.layers.rnn.engine import cpu_kernel

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_cpu_kernel.py"


def test_bench_cpu_kernel_times_every_variant(capsys):
    before = os.environ.get(cpu_kernel.ENV_SWITCH)
    spec = importlib.util.spec_from_file_location("bench_cpu_kernel", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = module.main(["--sizes", "tiny", "--configs", "gru_holes", "lstm_hard_sigmoid", "--rounds", "1",
                           "--calls", "1"])
    assert set(results) == {("tiny", config, mode) for config in ("gru_holes", "lstm_hard_sigmoid")
                            for mode in ("forward", "train")}
    assert all(set(times) == {"kernel", "torch", "loop"} and min(times.values()) > 0 for times in results.values())
    assert "| tiny | gru_holes | train |" in capsys.readouterr().out
    assert os.environ.get(cpu_kernel.ENV_SWITCH) == before         # the switch is left as it was
