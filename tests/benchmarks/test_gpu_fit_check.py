"""scripts/gpu_fit_check.py (the `fit` step of scripts/gpu_check.sh) runs its whole check on the CPU."""
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_fit_check_trains_the_seed_model_on_the_fused_path(capsys):
    spec = importlib.util.spec_from_file_location("gpu_fit_check", os.path.join(ROOT, "scripts", "gpu_fit_check.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--device", "cpu", "--samples", "128", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "path fused" in out and "recurrent kernels in one training step:" in out
    assert "FAILED" not in out
