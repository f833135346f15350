"""The benchmark tool works: arguments, the spread of every timing, the busy-machine warning, the mask,
decoding, use_bias=False and loop-only families. Tiny sizes; no speed is asserted (machines are noisy)."""
import json
import os

import pytest
import torch

import kerasrnn_torch as kr
import kerasrnn_torch.__main__ as cli
import kerasrnn_torch.benchmarks.benchmark as benchmark
from kerasrnn_torch.layers.rnn.engine import masks as mask_tools

QUICK = ["--sizes", "tiny", "--repeats", "2", "--warmup", "0", "--min-sample-ms", "0.1"]


@pytest.fixture
def idle(monkeypatch):
    """An idle machine, so that a busy test machine does not add warnings to what these tests read."""
    monkeypatch.setattr(benchmark.os, "getloadavg", lambda: (0.0, 0.0, 0.0))


def run(capsys, *arguments):
    report = benchmark.main([*QUICK, *arguments])
    return report, capsys.readouterr().out


def assert_timed(row, names):
    """Each of `names` has a positive median, an IQR of at least 0 and one sample per repeat."""
    assert sorted(row["ms"]) == sorted(names), row
    for name in names:
        assert row["ms"][name] > 0 and row["iqr_ms"][name] >= 0, (name, row)
        assert len(row["samples_ms"][name]) == 2


# ------------------------------------------------------------------------------------------ arguments
@pytest.mark.parametrize("option, value, message", [
    ("--sizes", "mnist,mnsit", "argument --sizes: expected a comma-separated list of sizes from mnist, medium, long, "
                               "very_long, tiny, or 'all'; got unknown 'mnsit' in 'mnist,mnsit'"),
    ("--layers", "lstm,grus", "argument --layers: expected a comma-separated list of layers from lstm, gru, "
                              "simple_rnn, bi_lstm, bi_gru, bi_simple_rnn; got unknown 'grus' in 'lstm,grus'"),
    ("--layers", "", "argument --layers: expected a comma-separated list of layers from lstm, gru"),
    ("--decode-batches", "1,x", "argument --decode-batches: expected a comma-separated list of positive integers, "
                                "got '1,x'"),
    ("--decode-units", "0", "argument --decode-units: expected a comma-separated list of positive integers, got '0'"),
    ("--repeats", "0", "argument --repeats: expected an integer of at least 1, got '0'"),
], ids=["sizes", "layers", "empty_layers", "decode_batches", "decode_units", "repeats"])
def test_bad_arguments_are_argparse_errors_that_list_the_choices(capsys, option, value, message):
    with pytest.raises(SystemExit) as exit_info:
        benchmark.main([option, value])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_sizes_all_means_the_three_real_sizes_and_lists_are_parsed():
    args = benchmark.build_parser().parse_args(["--sizes", "all", "--layers", "gru,bi_lstm",
                                                "--decode-batches", "1,8", "--decode-units", "4"])
    assert args.sizes == ["mnist", "medium", "long"]            # 'tiny' is a smoke test, not in 'all'
    assert benchmark.size_of("very_long") == (8, 10000, 16, 32)  # nor 'very_long' (seconds per call)
    assert args.layers == ["gru", "bi_lstm"]
    assert (args.decode_batches, args.decode_units) == ([1, 8], [4])
    defaults = benchmark.build_parser().parse_args([])
    assert (defaults.sizes, defaults.decode_batches, defaults.decode_units) == (["mnist"], [1, 64], [64, 256])


def test_version_names_kerasrnn_torch_and_torch(capsys):
    expected = f"kerasrnn_torch {kr.__version__} (torch {torch.__version__})\n"
    with pytest.raises(SystemExit) as exit_info:
        benchmark.main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out == expected
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["bench", "--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out.endswith(expected)


def test_bench_help_lists_the_new_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["bench", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--version", "--masks", "--decode", "--decode-batches", "--decode-units", "--tutorial", "--no-bias",
                   "--loop-configs", "interquartile range"):
        assert option in out, option


# ------------------------------------------------------------------------------------------- timing
def test_median_and_iqr_are_torch_utils_benchmarks():
    from torch.utils.benchmark.utils.common import Measurement, TaskSpec
    samples = [3.0, 1.0, 10.0, 2.0, 4.0]
    assert benchmark.summarize(samples) == (3.0, 2.0)          # quartiles 2 and 4, interpolated linearly
    reference = Measurement(1, samples, TaskSpec(stmt="", setup=""))
    assert benchmark.summarize(samples) == (reference.median, reference.iqr)
    assert benchmark.summarize([1.0, 2.0]) == (1.5, 0.5)
    assert benchmark.summarize([5.0]) == (5.0, 0.0)


def test_timings_keep_one_sample_per_repeat_and_summarise_them(monkeypatch):
    clock = [0.0]
    durations = {"steady": iter([0.010] * 2 + [0.010] * 4), "jumpy": iter([0.010] * 2 + [0.010, 0.030, 0.010, 0.050])}

    def impl(name):
        def call(backward):
            clock[0] += next(durations[name])
        return call
    monkeypatch.setattr(benchmark.time, "perf_counter", lambda: clock[0])
    result = benchmark.timings({"steady": impl("steady"), "jumpy": impl("jumpy")}, backward=False, repeats=4,
                               warmup=1, device=torch.device("cpu"), min_sample_ms=5.0)
    assert result["samples_ms"]["steady"] == pytest.approx([10.0] * 4)
    assert result["samples_ms"]["jumpy"] == pytest.approx([10.0, 30.0, 10.0, 50.0])
    assert result["ms"] == pytest.approx({"steady": 10.0, "jumpy": 20.0})
    assert result["iqr_ms"] == pytest.approx({"steady": 0.0, "jumpy": 25.0})     # quartiles 10 and 35


def test_printed_rows_and_tables_put_the_iqr_next_to_every_median():
    row = {"size": "tiny", "layer": "lstm", "mask": "holes", "mode": "fwd", "path": "loop",
           "ms": {"ours fused": 2.0, "ours loop": 0.05}, "iqr_ms": {"ours fused": 0.5, "ours loop": 0.001}}
    assert benchmark.timing_text(row, ["ours fused", "ours loop", "torch.nn"]) == \
        "ours fused    2.00 (IQR 25.0%)  ours loop  0.0500 (IQR  2.0%)  torch.nn n/a"
    table = benchmark.masks_markdown_table([row]).splitlines()
    assert table[0] == ("| size | layer | mask | mode | ours fused ran | ours fused (ms) | ours fused IQR "
                        "| ours loop (ms) | ours loop IQR | torch.nn (ms) | torch.nn IQR | ours fused / ours loop |")
    assert table[2] == "| tiny | lstm | holes | fwd | loop | 2.00 | 25.0% | 0.0500 | 2.0% | n/a | n/a | 40.00x |"
    assert table[-1] == f"n/a: {benchmark.NO_TORCH_MASK}."


# ------------------------------------------------------------------------------------- busy machine
def test_a_load_above_the_core_count_is_warned_about_and_recorded(monkeypatch, capsys, tmp_path):
    loads = iter([(3.5, 2.0, 1.0), (2.5, 2.0, 1.0)])
    monkeypatch.setattr(benchmark.os, "getloadavg", lambda: next(loads))
    monkeypatch.setattr(benchmark.os, "cpu_count", lambda: 2)
    report, out = run(capsys, "--skip-matrix", "--json", str(tmp_path / "r.json"), "--markdown", str(tmp_path / "r.md"))
    expected = ["WARNING: the machine is busy before the run: 1-minute load average 3.50 is above its 2 cores; "
                "other processes compete for them, so the timings are noisy (see each IQR) - rerun on an idle machine",
                "WARNING: the machine is busy after the run: 1-minute load average 2.50 is above its 2 cores; "
                "other processes compete for them, so the timings are noisy (see each IQR) - rerun on an idle machine"]
    assert [line for line in out.splitlines() if line.startswith("WARNING")] == expected
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["warnings"] == expected
    assert saved["load"] == {"cores": 2, "before": [3.5, 2.0, 1.0], "after": [2.5, 2.0, 1.0]}
    assert (tmp_path / "r.md").read_text().startswith(f"> {expected[0]}\n\n> {expected[1]}\n")


@pytest.mark.parametrize("load", [(2.0, 9.0, 9.0), OSError("no load average here")], ids=["at_the_core_count", "none"])
def test_no_warning_at_or_below_the_core_count_or_without_a_load_average(monkeypatch, capsys, load):
    def getloadavg():
        if isinstance(load, Exception):
            raise load
        return load
    monkeypatch.setattr(benchmark.os, "getloadavg", getloadavg)
    monkeypatch.setattr(benchmark.os, "cpu_count", lambda: 2)
    report, out = run(capsys, "--skip-matrix")
    assert "WARNING" not in out and report["warnings"] == []
    assert report["load"]["before"] == (None if isinstance(load, Exception) else load)


# ------------------------------------------------------------------------------------------- masks
def test_mask_patterns_keep_the_same_steps_per_row_in_different_places():
    made = {pattern: benchmark.patterned_mask(pattern, 6, 10, torch.device("cpu"))
            for pattern in benchmark.MASK_PATTERNS}
    lengths = made["right-padded"].sum(dim=1)
    assert ((lengths >= 5) & (lengths <= 9)).all()              # every row has a gap
    for pattern, mask in made.items():
        assert mask.dtype == torch.bool and torch.equal(mask.sum(dim=1), lengths), pattern
    assert mask_tools.analyse(made["right-padded"]).kind == "right_padded"
    for pattern in ("left-padded", "holes", "random"):
        assert mask_tools.analyse(made[pattern]).kind == "other", pattern
    assert torch.equal(made["left-padded"], made["right-padded"].flip(1))
    assert torch.equal(made["holes"][0::2], made["right-padded"][0::2])      # every other row has holes
    for row in made["holes"][1::2]:                                           # a gap, then a step again
        assert (row[1:] > row[:-1]).any(), row
    with pytest.raises(ValueError, match="mask pattern must be one of right-padded, left-padded, holes, random, "
                                         "got 'middle'"):
        benchmark.patterned_mask("middle", 2, 4, torch.device("cpu"))


def test_masks_family_times_every_pattern_and_records_the_path_ours_ran(idle, capsys, tmp_path):
    report, out = run(capsys, "--skip-matrix", "--masks", "--layers", "lstm,bi_gru", "--no-keras",
                      "--json", str(tmp_path / "r.json"), "--markdown", str(tmp_path / "r.md"))
    rows = report["mask_rows"]
    assert [(r["layer"], r["mask"], r["mode"]) for r in rows] == [
        (layer, pattern, mode) for layer in ("lstm", "bi_gru") for pattern in benchmark.MASK_PATTERNS
        for mode in ("fwd", "fwd+bwd")]
    for row in rows:
        right_padded = row["mask"] == "right-padded"
        assert_timed(row, ["ours fused", "ours loop"] + (["torch.nn"] if right_padded else []))
        assert ("not_timed" in row) != right_padded
        # What use_cudnn="auto" ran, and why where it was not the fused kernel
        assert row["path"] in ("fused", "loop") and (row["reason"] is None) == (row["path"] == "fused"), row
        if right_padded:
            assert row["path"] == "fused"
    assert "tiny    lstm          holes        fwd     | ours fused ran loop " in out or \
        "tiny    lstm          holes        fwd     | ours fused ran fused" in out
    assert out.count("torch.nn n/a") == 12
    saved = json.loads((tmp_path / "r.json").read_text())["mask_rows"]
    assert saved[2]["not_timed"] == {"torch.nn": benchmark.NO_TORCH_MASK} and set(saved[2]["iqr_ms"]) == \
        {"ours fused", "ours loop"}
    markdown = (tmp_path / "r.md").read_text()
    assert markdown.startswith("#### Mask patterns\n\n| size | layer | mask | mode | ours fused ran | ours fused (ms) "
                               "| ours fused IQR | ours loop (ms) | ours loop IQR | torch.nn (ms) | torch.nn IQR |")
    assert markdown.count("| n/a | n/a |") == 12 and f"n/a: {benchmark.NO_TORCH_MASK}." in markdown


def test_masks_family_with_keras(idle, capsys, monkeypatch):
    if benchmark.try_keras() is None:
        pytest.fail("this test needs Keras 3 on the torch backend, which the project's environment installs")
    monkeypatch.setattr(benchmark, "MASK_PATTERNS", ("random",))
    report, out = run(capsys, "--skip-matrix", "--masks", "--layers", "simple_rnn")
    for row in report["mask_rows"]:
        assert_timed(row, ["ours fused", "ours loop", "keras 3"])
    assert "keras 3 / ours fused" in benchmark.masks_markdown_table(report["mask_rows"])


# ------------------------------------------------------------------------------------------ decode
def test_decode_family_times_one_step_with_states_against_torch_nn(idle, capsys, tmp_path):
    report, out = run(capsys, "--skip-matrix", "--decode", "--layers", "lstm,bi_gru", "--decode-batches", "1,2",
                      "--decode-units", "3", "--markdown", str(tmp_path / "r.md"))
    assert "decode: bidirectional layers left out (a decoding step reads one way)" in out
    rows = report["decode_rows"]
    assert [(r["layer"], r["variant"], r["batch"], r["units"], r["mode"]) for r in rows] == [
        ("lstm", variant, batch, 3, mode) for variant in ("initial_state", "stateful") for batch in (1, 2)
        for mode in ("fwd", "fwd+bwd")]
    for row in rows:
        assert_timed(row, ["ours fused", "ours loop", "torch.nn"])
        assert row["path"] in ("fused", "loop")
    markdown = (tmp_path / "r.md").read_text()
    assert "| layer | states | batch | units | mode | ours fused ran | ours fused (ms) | ours fused IQR |" in markdown
    assert "| ours fused / torch.nn | ours loop / torch.nn |" in markdown


def test_decode_cases_call_with_states_and_carry_them_when_stateful():
    cpu = torch.device("cpu")
    case = benchmark.build_decode_case("gru", "initial_state", 2, 3, cpu)
    assert case.fused_layer.return_state and not case.fused_layer.stateful
    case = benchmark.build_decode_case("lstm", "stateful", 2, 3, cpu)
    case["ours fused"](True)
    first = [s.clone() for s in case.fused_layer.states]
    case["ours fused"](False)
    assert case.fused_layer.stateful and not torch.equal(first[0], case.fused_layer.states[0])
    assert isinstance(case.reference, torch.nn.LSTM)
    with pytest.raises(ValueError, match="decode variant must be one of initial_state, stateful, got 'beam'"):
        benchmark.build_decode_case("gru", "beam", 1, 3, cpu)


# -------------------------------------------------------------------------------- tutorial decoder
def test_tutorial_family_times_the_seq2seq_tutorials_decoder_against_nn_gru(idle, capsys, tmp_path):
    report, out = run(capsys, "--skip-matrix", "--tutorial", "--no-keras", "--markdown", str(tmp_path / "r.md"))
    rows = report["tutorial_rows"]
    assert [(r["version"], r["batch"], r["units"], r["mode"]) for r in rows] == [
        (version, batch, units, mode) for version, batch, units in benchmark.TUTORIAL_CASES
        for mode in ("fwd", "train step")]
    for row in rows:
        assert_timed(row, ["ours", "torch.nn"])
        assert row["path"] == "fused"
    assert "| decoder | batch | units | mode | ours ran | ours (ms) | ours IQR |" in (tmp_path / "r.md").read_text()


def test_tutorial_decoders_compute_the_same_numbers_and_gradients():
    """The comparison is fair: our GRU in the tutorial's decoder gives nn.GRU's log-probabilities and gradients."""
    case = benchmark.build_tutorial_case(2, 8, torch.device("cpu"))
    theirs, ours = case.decoders["torch.nn"], case.decoders["ours"]
    targets, hidden = case.inputs
    results = {}
    for name, decoder in case.decoders.items():
        log_probs = decoder(targets, hidden)
        log_probs.sum().backward()
        results[name] = log_probs
    torch.testing.assert_close(results["ours"], results["torch.nn"], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ours.out.weight.grad, theirs.out.weight.grad, rtol=1e-4, atol=1e-5)
    converted = ours.gru.torch_weights()[0]
    (grad_ih,) = torch.autograd.grad(converted, ours.gru.cell.kernel, theirs.gru.weight_ih_l0.grad)
    torch.testing.assert_close(ours.gru.cell.kernel.grad, grad_ih, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------------------------- last states
def test_last_state_family_times_the_lstm_and_gru_against_torch_nn_packed(idle, capsys, tmp_path):
    report, out = run(capsys, "--skip-matrix", "--last-state", "--layers", "lstm,gru,simple_rnn,bi_lstm",
                      "--markdown", str(tmp_path / "r.md"))
    rows = report["last_state_rows"]
    assert [(r["size"], r["layer"], r["mode"]) for r in rows] == [
        ("tiny", layer, mode) for layer in ("lstm", "gru") for mode in ("fwd", "fwd+bwd")]
    for row in rows:
        assert_timed(row, ["torch.nn", "ours fused", "ours loop", "ours packed"])
        assert row["path"] == "fused" and row["reason"] is None
    assert out.count("last state tiny") == 4 and "fused/torch.nn" in out and "fused/loop" in out
    markdown = (tmp_path / "r.md").read_text()
    assert markdown.startswith("#### Last states of right-padded rows\n\n| size | layer | mode | torch.nn (ms) |")
    assert "| ours fused / torch.nn | ours fused / ours loop | ours packed / torch.nn |" in markdown
    assert benchmark.LAST_STATE_NOTE in markdown


def test_last_state_cases_return_the_same_sums_as_torch_nn():
    cpu = torch.device("cpu")
    for layer_name in ("lstm", "gru"):
        case = benchmark.build_last_state_case(layer_name, "tiny", cpu)
        case.reference.load_state_dict(case.fused_layer.to_torch().state_dict())
        batch, timesteps, features, _ = benchmark.size_of("tiny")
        x = torch.randn(batch, timesteps, features)
        mask, lengths = benchmark.right_padded_mask(batch, timesteps, cpu)
        ours = benchmark._summed(case.fused_layer(x, mask=mask))
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        final = case.reference(packed)[1]
        theirs = final[0].sum() * 2 + final[1].sum() if layer_name == "lstm" else final.sum()
        assert torch.allclose(ours, theirs, atol=1e-4)
        assert case.fused_layer.return_state == (layer_name == "lstm")


# ---------------------------------------------------------------------------------- use_bias=False
def test_no_bias_family_times_ours_against_torch_nn_without_bias(idle, capsys, tmp_path):
    report, out = run(capsys, "--skip-matrix", "--no-bias", "--layers", "gru", "--no-keras",
                      "--markdown", str(tmp_path / "r.md"))
    rows = report["no_bias_rows"]
    assert [(r["mask"], r["mode"], r["use_bias"]) for r in rows] == [
        (mask, mode, False) for mask in ("none", "right-padded") for mode in ("fwd", "fwd+bwd")]
    for row in rows:
        assert_timed(row, ["torch.nn", "ours fused", "ours loop"])
        assert (row["reason"] is None) == (row["path"] == "fused")
    assert out.count("no bias tiny") == 4
    case = benchmark.build_case("gru", "tiny", True, torch.device("cpu"), None, use_bias=False)
    assert case.reference.bias is False and case.fused_layer.cell.use_bias is False
    assert "#### use_bias=False\n\n| size | layer | mask | mode | ours fused ran |" in (tmp_path / "r.md").read_text()


# ----------------------------------------------------------------------------- matrix, loop configs
def test_matrix_and_loop_configs_report_the_iqr_in_every_output(idle, capsys, tmp_path):
    report, out = run(capsys, "--layers", "simple_rnn", "--loop-configs", "--no-keras",
                      "--json", str(tmp_path / "r.json"), "--markdown", str(tmp_path / "r.md"))
    for row in report["rows"]:
        assert_timed(row, ["torch.nn", "ours fused", "ours loop"])
    assert len(report["loop_rows"]) == len(benchmark.LOOP_CONFIGS) * 4
    for row in report["loop_rows"]:
        assert_timed(row, ["ours loop", "ours hand-written"])
    assert out.count("(IQR ") == 3 * 4 + 2 * len(benchmark.LOOP_CONFIGS) * 4
    saved = json.loads((tmp_path / "r.json").read_text())
    assert set(saved["rows"][0]) >= {"ms", "iqr_ms", "samples_ms"} and set(saved["loop_rows"][0]["iqr_ms"]) == \
        {"ours loop", "ours hand-written"}
    assert (saved["kerasrnn_torch"], saved["repeats"]) == (kr.__version__, 2)
    markdown = (tmp_path / "r.md").read_text()
    assert "| torch.nn (ms) | torch.nn IQR | ours fused (ms) | ours fused IQR | ours loop (ms) | ours loop IQR |" \
        in markdown
    assert "#### Loop-only configurations\n\n| size | configuration | mask | mode | ours loop (ms) | ours loop IQR " \
           "| ours hand-written (ms) | ours hand-written IQR | loop / hand-written |" in markdown


def test_the_script_runs_the_same_code():
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = subprocess.run([sys.executable, os.path.join(root, "scripts", "benchmark.py"), "--version"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"kerasrnn_torch {kr.__version__} (torch {torch.__version__})\n"
