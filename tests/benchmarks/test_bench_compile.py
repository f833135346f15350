"""scripts/bench_compile.py runs: two of its models (a masked one), both modes, at tiny sizes (no speed is asserted;
`aot_eager` traces fullgraph without generating code, to keep the run short)."""
import importlib.util
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def test_bench_compile_times_every_model_and_mode(capsys):
    spec = importlib.util.spec_from_file_location("bench_compile", SCRIPTS / "bench_compile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = module.main(["--repeats", "1", "--batch", "4", "--timesteps", "4", "--units", "4",
                           "--backend", "aot_eager", "--models", "bidirectional-masked,convlstm"])
    assert set(results) == {(name, mode) for name in ("bidirectional-masked", "convlstm")
                            for mode in ("train step", "inference")}
    assert all(row["compile_s"] > 0 and row["eager_ms"] > 0 and row["compiled_ms"] > 0 for row in results.values())
    assert "| convlstm | inference |" in capsys.readouterr().out
