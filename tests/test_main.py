"""`python -m kerasrnn_torch`: the demo and the fused-vs-loop check, run as a user runs them."""
import os
import re
import subprocess
import sys

import pytest
import torch

import kerasrnn_torch.__main__ as cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_cli(*arguments, timeout=240, **environment):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), **environment)
    return subprocess.run([sys.executable, "-W", "error", "-m", "kerasrnn_torch", *arguments], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_demo_prints_the_three_summaries_and_both_paths_for_every_layer():
    # Small sizes and one thread keep it quick and steady on a busy machine; the defaults differ only in size.
    result = run_cli("demo", "--batch", "8", "--timesteps", "12", "--repeats", "3", "--threads", "1")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for title, total in [("embedding_lstm", "164,106 (641.04 KB)"), ("embedding_gru_simple_rnn", "361,866 (1.38 MB)"),
                         ("bidirectional_lstm", "80,266 (313.54 KB)")]:
        assert f'Model: "{title}"' in out
        assert f"Total params: {total}" in out
    assert re.search(r"│ bidirectional\S* \(Bidirectional\)\s+│ \(None, 5, 128\)\s+│\s+38,400 │", out)
    rows = re.findall(r"^(\S.*?\))\s+(none|right-padded)\s+(\w+) / (\w+)\s+(\S+)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+x$",
                      out, flags=re.MULTILINE)
    layers = ["LSTM(64)", "GRU(64)", "SimpleRNN(64)", "Bidirectional(LSTM(64))"]
    assert [(r[0], r[1]) for r in rows] == [(layer, mask) for layer in layers for mask in ("none", "right-padded")]
    for layer, mask, fused_path, loop_path, difference, *_ in rows:
        assert (fused_path, loop_path) == ("fused", "loop"), layer
        assert float(difference) <= 1e-5, (layer, mask)
    assert "Largest fused-vs-loop difference" in out


def test_no_subcommand_means_demo(monkeypatch):
    ran = []
    monkeypatch.setattr(cli, "demo", lambda args: ran.append(args.command) or 0)
    assert cli.main([]) == 0 and ran == ["demo"]


def test_check_passes_every_configuration_on_cpu():
    result = run_cli("check")
    assert result.returncode == 0, result.stdout + result.stderr
    progress = re.findall(r"^\[\s*(\d+)/(\d+)\] ok ", result.stdout, flags=re.MULTILINE)
    assert progress and all(total == progress[0][1] for _, total in progress)
    assert len(progress) == int(progress[0][1]) >= 60
    assert re.search(r"^OK: all \d+ configurations agree", result.stdout, flags=re.MULTILINE)
    for label in ("SimpleRNN(activation='relu')", "LSTM(stateful=True), two calls",
                  "GRU(return_state=True) + initial_state", "Bidirectional(GRU(return_sequences=True), merge_mode='sum')"):
        assert label in result.stdout


def test_check_reports_differences_and_fails(monkeypatch, capsys):
    cases = cli.check_cases(units=3)[:2]
    monkeypatch.setattr(cli, "check_cases", lambda units: cases)
    assert cli.main(["check", "--atol", "-1"]) == 1     # any difference at all exceeds a negative tolerance
    out = capsys.readouterr().out
    assert "FAILED: 2 of 2 configurations differ" in out
    assert re.search(r"- SimpleRNN\(\), mask none: outputs/states differ by \S+ \(> -1\)", out)


def test_check_on_cuda_runs_there_or_says_there_is_none():
    result = run_cli("check", "--device", "cuda")
    if torch.cuda.is_available():
        assert result.returncode == 0, result.stdout + result.stderr
        assert "on cuda" in result.stdout
    else:
        assert result.returncode == 2
        assert "--device cuda was asked for, but this torch build sees no CUDA device" in result.stderr


@pytest.mark.parametrize("arguments", [["frobnicate"], ["check", "--device"]], ids=["unknown_command", "missing_value"])
def test_bad_arguments_exit_with_usage(arguments):
    with pytest.raises(SystemExit) as exit_info:
        cli.build_parser().parse_args(arguments)
    assert exit_info.value.code == 2


def test_bench_runs_the_benchmark_matrix_and_passes_options_through():
    result = run_cli("bench", "--layers", "lstm", "--repeats", "1", "--warmup", "0", "--no-keras")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "bench: kerasrnn_torch.benchmarks.benchmark --sizes mnist --repeats 5 --layers lstm --repeats 1" in out
    assert ("keras not used; medians and interquartile ranges (IQR, % of the median) of 1 repeats, each the mean "
            "of calls lasting at least 20 ms") in out
    cell = r"\s+[\d.]+ \(IQR\s+[\d.]+%\)"
    rows = re.findall(rf"^mnist\s+(\w+)\s+(none|right-padded)\s+(fwd|fwd\+bwd)\s+\| torch\.nn{cell}\s+"
                      rf"ours fused{cell}\s+ours loop{cell} \|", out, flags=re.MULTILINE)
    assert rows == [("lstm", mask, mode) for mask in ("none", "right-padded") for mode in ("fwd", "fwd+bwd")]


def test_bench_tables_show_keras_ratios_only_where_keras_ran():
    import kerasrnn_torch.benchmarks.benchmark as benchmark
    without = {"size": "mnist", "layer": "gru", "mask": "none", "mode": "fwd",
               "ms": {"torch.nn": 2.0, "ours fused": 1.0, "ours loop": 4.0},
               "iqr_ms": {"torch.nn": 0.1, "ours fused": 0.02, "ours loop": 0.4}}
    with_keras = dict(without, ms=dict(without["ms"], **{"keras 3": 8.0}),
                      iqr_ms=dict(without["iqr_ms"], **{"keras 3": 0.0}))
    assert benchmark.format_row(without).endswith("ours loop    4.00 (IQR 10.0%) | fused/torch.nn 0.50x")
    assert benchmark.format_row(with_keras).endswith("fused/torch.nn 0.50x  keras/loop 2.00x")
    header, rule, line = benchmark.markdown_table([without]).splitlines()
    assert header.endswith("| ours loop (ms) | ours loop IQR | fused / torch.nn |") and rule.count("---") == 11
    assert line == "| mnist | gru | none | fwd | 2.00 | 5.0% | 1.00 | 2.0% | 4.00 | 10.0% | 0.50x |"
    line = benchmark.markdown_table([with_keras]).splitlines()[2]
    assert line == ("| mnist | gru | none | fwd | 2.00 | 5.0% | 1.00 | 2.0% | 4.00 | 10.0% | 8.00 | 0.0% "
                    "| 0.50x | 2.00x | 8.00x |")
    assert "nan" not in benchmark.markdown_table([without]) + benchmark.format_row(without)


def test_bench_defaults_come_first_so_given_options_win(monkeypatch):
    import kerasrnn_torch.benchmarks.benchmark as benchmark
    received = []
    monkeypatch.setattr(benchmark, "main", lambda argv, prog=None: received.append(argv) or {"rows": []})
    assert cli.main(["bench"]) == 0
    assert cli.main(["bench", "--repeats", "2", "--json", "out.json"]) == 0
    assert received == [["--sizes", "mnist", "--repeats", "5"],
                        ["--sizes", "mnist", "--repeats", "5", "--repeats", "2", "--json", "out.json"]]


def test_options_unknown_to_demo_and_check_are_refused(capsys):
    for arguments in (["demo", "--sizes", "mnist"], ["check", "--no-keras"]):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(arguments)
        assert exit_info.value.code == 2
        assert f"unrecognized arguments: {' '.join(arguments[1:])}" in capsys.readouterr().err


def test_bench_help_names_the_command_it_was_given_as(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["bench", "--help"])
    assert exit_info.value.code == 0
    assert "\nusage: python -m kerasrnn_torch bench " in capsys.readouterr().out


def test_bench_memory_reports_the_packed_option_and_the_unpacked_reference_for_masked_cases(tmp_path):
    table = tmp_path / "memory.md"
    result = run_cli("bench", "--skip-matrix", "--memory", "--layers", "gru", "--no-keras",
                     "--markdown", str(table))
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line for line in table.read_text().splitlines() if line.startswith("| mnist")]
    assert "#### Peak memory, forward+backward" in table.read_text()
    assert len(rows) == 2
    assert rows[0].endswith("| - | - | - | - |")                   # no mask: nothing to pack
    assert re.search(r"\| right-padded \|( [\d.]+x? \|){7}$", rows[1]), rows[1]


def test_benchmark_repeats_time_enough_calls_and_report_the_mean_per_call(monkeypatch):
    import kerasrnn_torch.benchmarks.benchmark as benchmark
    clock = [0.0]
    calls = {"slow": 0, "fast": 0}

    def impl(name, seconds):
        def call(backward):
            calls[name] += 1
            clock[0] += seconds
        return call
    monkeypatch.setattr(benchmark.time, "perf_counter", lambda: clock[0])
    medians = benchmark.measure({"slow": impl("slow", 0.030), "fast": impl("fast", 0.002)}, backward=False,
                                repeats=3, warmup=1, device=torch.device("cpu"), min_sample_ms=20.0)
    assert medians == pytest.approx({"slow": 30.0, "fast": 2.0})
    # one warm-up and one sizing call each, then 3 repeats of ceil(20 ms / one call) calls
    assert calls == {"slow": 2 + 3 * 1, "fast": 2 + 3 * 10}


def test_bench_kernel_check_names_the_fused_operator_per_layer(tmp_path):
    report_path = tmp_path / "report.json"
    # PyTorch's operators: the package's CPU kernel (which runs masked LSTM calls this small) set aside.
    result = run_cli("bench", "--skip-matrix", "--kernel-check", "--layers", "lstm,simple_rnn,bi_lstm", "--no-keras",
                     "--json", str(report_path), KERASRNN_TORCH_CPU_KERNEL="0")
    assert result.returncode == 0, result.stdout + result.stderr
    import json
    rows = json.loads(report_path.read_text())["kernel_rows"]
    seen = {(row["layer"], row["mask"]): row["operators"] for row in rows}
    assert seen == {(layer, mask): [operator] for layer, operator in
                    (("lstm", "aten::lstm"), ("simple_rnn", "aten::rnn_tanh"), ("bi_lstm", "aten::lstm"))
                    for mask in ("none", "right-padded")}


def test_kernels_run_sees_no_fused_operator_on_the_loop(monkeypatch):
    import kerasrnn_torch as kr
    import kerasrnn_torch.benchmarks.benchmark as benchmark
    from kerasrnn_torch.layers.rnn.engine import cpu_kernel
    # PyTorch's kernels only: with gradients the package's CPU kernel would run the fused GRU.
    monkeypatch.setenv(cpu_kernel.ENV_SWITCH, "0")
    monkeypatch.setattr(cpu_kernel, "_state", {})
    x = torch.randn(2, 5, 3)
    cpu = torch.device("cpu")
    assert benchmark.kernels_run(lambda: kr.GRU(4, use_cudnn=False)(x), cpu) == ([], [])
    assert benchmark.kernels_run(lambda: kr.GRU(4)(x), cpu) == (["aten::gru"], [])
