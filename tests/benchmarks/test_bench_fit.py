"""scripts/bench_fit.py runs: every model trains one epoch and gets a time (no speed is asserted)."""
import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_fit.py"


def test_bench_fit_times_every_model(capsys):
    spec = importlib.util.spec_from_file_location("bench_fit", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    medians = module.main(["--samples", "64", "--repeats", "1", "--units", "4", "--loop"])
    assert set(medians) == {"keras fused", "ours fused", "keras loop", "ours loop", "torch.nn loop"}
    assert all(value > 0 for value in medians.values())
    assert "Keras 3 / ours, fused" in capsys.readouterr().out
