"""The fit benchmarks run: scripts/bench_fit.py, scripts/fit_overhead.py and `bench --fit`, at tiny sizes
(every contender gets a time; no speed is asserted)."""
import importlib.util
from pathlib import Path

import pytest

import kerasrnn_torch.benchmarks.benchmark as benchmark
from kerasrnn_torch.benchmarks import fit as fit_bench

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _script(name):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_fit_times_every_model(capsys):
    medians = _script("bench_fit").main(["--samples", "64", "--repeats", "1", "--units", "4", "--loop"])
    assert set(medians) == {"keras fused", "ours fused", "keras loop", "ours loop", "torch.nn loop"}
    assert all(value > 0 for value in medians.values())
    assert "Keras 3 / ours, fused" in capsys.readouterr().out


def test_fit_overhead_times_every_model(capsys):
    results = _script("fit_overhead").main(["--model", "tiny,lstm,seed", "--batches", "2", "--repeats", "1",
                                            "--clock", "cpu"])
    assert list(results) == ["tiny", "lstm", "seed"]
    for result in results.values():
        assert result["loop"] > 0 and result["fit"] > 0
        assert result["ratio"] == pytest.approx(result["fit"] / result["loop"])
    assert "fit/loop" in capsys.readouterr().out


def test_overhead_rejects_an_unknown_model():
    with pytest.raises(ValueError, match="model must be one of tiny, lstm, seed; got 'huge'"):
        fit_bench.overhead("huge", 2, 1)


def test_bench_fit_family(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(benchmark.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    markdown = tmp_path / "fit.md"
    report = benchmark.main(["--skip-matrix", "--fit", "--fit-samples", "64", "--fit-units", "4", "--fit-batches",
                             "2", "--fit-models", "tiny,seed", "--fit-clock", "cpu", "--repeats", "2",
                             "--markdown", str(markdown)])
    assert [row["model"] for row in report["fit_rows"]] == ["keras fused", "ours fused", "torch.nn loop"]
    for row in report["fit_rows"]:
        assert row["median_s"] > 0 and row["iqr_s"] >= 0 and len(row["samples_s"]) == 2
    assert [row["model"] for row in report["fit_overhead_rows"]] == ["tiny", "seed"]
    assert all(row["ratio"] > 0 for row in report["fit_overhead_rows"])
    text = markdown.read_text()
    assert "#### One epoch of fit" in text and "| ours fused |" in text
    assert "#### fit's per-batch cost over a hand-written loop" in text and "| seed |" in text
    assert "Keras 3 / ours, fused" in capsys.readouterr().out


def test_bench_fit_models_argument_lists_the_choices(capsys):
    with pytest.raises(SystemExit):
        benchmark.main(["--skip-matrix", "--fit", "--fit-models", "tiny,huge"])
    assert "expected a comma-separated list of fit models from tiny, lstm, seed; got unknown 'huge'" \
        in capsys.readouterr().err
