"""`bench --peers` works without the peers: ours is timed in a process of its own, each missing
peer is reported "not installed", and the table has its rows and columns. Tiny sizes, no JAX
(the peers' interpreter here is a bare venv), no speed asserted."""
import venv

import pytest

import kerasrnn_torch.__main__ as cli
import kerasrnn_torch.benchmarks.benchmark as benchmark
from kerasrnn_torch.benchmarks import peers

QUICK = ["--peers", "--peers-sizes", "tiny", "--peers-rounds", "1", "--peers-samples", "1", "--warmup", "0",
         "--min-sample-ms", "0.1", "--peers-rows", "lstm,gru-holes,lstm-recurrent_dropout"]


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory):
    """An interpreter with none of the peers (nor NumPy): a venv without site packages."""
    folder = tmp_path_factory.mktemp("bare_venv")
    venv.EnvBuilder(with_pip=False, symlinks=True).create(folder)
    return str(folder / "bin" / "python")


def test_ours_runs_alone_and_the_missing_peers_are_reported_not_installed(capsys, tmp_path, bare_python):
    markdown = tmp_path / "peers.md"
    report = benchmark.main([*QUICK, "--peers-python", bare_python, "--markdown", str(markdown)])
    out = capsys.readouterr().out
    summary = report["peers"]
    assert summary["status"]["ours"] == "ran"
    for name in ("keras-jax", "flax", "keras-tf-xla"):
        assert summary["status"][name].startswith("not installed (numpy"), summary["status"]
        assert f"- {name}: not installed" in out
    # Rows: every (row, mode) asked for, recurrent_dropout in training only.
    assert [(row["row"], row["mode"]) for row in summary["rows"]] == [
        ("lstm", "forward"), ("lstm", "train"), ("gru-holes", "forward"), ("gru-holes", "train"),
        ("lstm-recurrent_dropout", "train")]
    for row in summary["rows"]:
        assert set(row["ms"]) == {"ours"} and row["ms"]["ours"] > 0, row
        assert row["ours_path"] in ("fused", "loop"), row
        assert row["floor_ms"] > 0 and row["fraction"]["ours"] > 0, row
        assert "best_peer_over_ours" not in row        # no peer ran
        assert row["first_call_s"]["ours"] >= 0
    assert summary["rounds"] == 1 and len(report["raw"]["rounds"][0]["ours"]["cases"]) == 3
    # The table: one header and one line per row, the same text printed and written.
    table = markdown.read_text()
    assert table in out
    header = next(line for line in table.splitlines() if line.startswith("| layer"))
    assert header.split(" | ")[:6] == ["| layer", "mask", "step", "ours ms", "best peer / ours", "ours' path"]
    assert "ours % of floor" in header and "keras-jax ms" not in header
    lines = [line for line in table.splitlines() if line.startswith("| LSTM") or line.startswith("| GRU")]
    assert len(lines) == 5 and all(line.count("|") == header.count("|") for line in lines)
    assert "| LSTM recurrent_dropout=0.1 | none | train |" in table
    assert "| ours | " in table                          # the first-call table


def test_peers_python_must_be_an_interpreter(tmp_path):
    with pytest.raises(SystemExit, match="--peers-python expected an executable Python interpreter, got "):
        benchmark.main([*QUICK, "--peers-python", str(tmp_path / "nothing")])


@pytest.mark.parametrize("option, value, message", [
    ("--peers-sizes", "mnist,huge", "expected a comma-separated list of sizes from mnist, medium, tiny; got "
                                    "'mnist,huge'"),
    ("--peers-rows", "lstm,lstm-relu", "expected a comma-separated list of rows from lstm, lstm-right-padded"),
    ("--peers-frameworks", "ours,tf", "expected a comma-separated list of frameworks from ours, keras-jax, flax, "
                                      "keras-tf-xla; got 'ours,tf'"),
    ("--peers-rounds", "0", "expected an integer of at least 1, got '0'"),
])
def test_bad_peer_arguments_are_argparse_errors(capsys, option, value, message):
    with pytest.raises(SystemExit) as exit_info:
        benchmark.main(["--peers", option, value])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_bench_help_lists_peers(capsys):
    with pytest.raises(SystemExit):
        cli.main(["bench", "--help"])
    out = capsys.readouterr().out
    assert "against the peers (--peers)" in out and "--peers-python PATH" in out and "--peers-rounds" in out


def test_rounds_rotate_the_order_of_the_processes():
    names = ["ours", "flax", peers.FLOOR]
    assert [peers.rotate(names, index) for index in range(4)] == [
        names, ["flax", peers.FLOOR, "ours"], [peers.FLOOR, "ours", "flax"], names]


def test_flops_count_the_products_and_training_triples_them():
    # LSTM at the MNIST-rows size: 28 steps of (64 x 28) @ (28 x 256) and (64 x 64) @ (64 x 256), then the Dense.
    forward = 2 * 64 * 28 * (28 * 256 + 64 * 256) + 2 * 64 * 64 * 10
    assert peers.flops("LSTM", "mnist", "forward") == forward
    assert peers.flops("LSTM", "mnist", "train") == 3 * forward
    assert peers.flops("GRU", "medium", "forward") == 2 * 32 * 100 * (64 + 256) * 768 + 2 * 32 * 256 * 10


def fake_round(ours_ms, flax_ms, floor_ms, first_s=1.0):
    case = {"forward": {"cpu_ms": ours_ms, "first_call_s": 0.01}, "train": {"cpu_ms": 3 * ours_ms,
                                                                          "first_call_s": 0.02},
            "info": {"path": {"forward": "fused", "train": "fused"}}}
    peer = {"forward": {"cpu_ms": flax_ms, "first_call_s": first_s}, "train": {"cpu_ms": 3 * flax_ms,
                                                                             "first_call_s": 2 * first_s},
            "info": {}}
    return {"ours": {"cases": {"mnist/lstm": case}}, "flax": {"cases": {"mnist/lstm": peer}},
            "keras-jax": {"not_installed": ["jax"]},
            peers.FLOOR: {"cases": {"mnist/LSTM": {"forward": {"cpu_ms": floor_ms, "first_call_s": 0.0}}}}}


def test_summary_takes_medians_over_rounds_and_compares_with_the_best_peer():
    raw = {"cases": peers.cases_for(["mnist"], ["lstm"]), "core": 0, "pythons": {}, "frameworks":
           ["ours", "keras-jax", "flax"], "rounds": [fake_round(4.0, 2.0, 1.0, first_s=3.0), fake_round(5.0, 9.0, 1.0),
                                                     fake_round(6.0, 3.0, 2.0)]}
    summary = peers.summarize(raw)
    assert summary["status"] == {"ours": "ran", "keras-jax": "not installed (jax)", "flax": "ran"}
    forward, train = summary["rows"]
    assert forward["ms"] == {"ours": 5.0, "flax": 3.0}                     # medians of the three rounds
    assert forward["best_peer"] == "flax" and forward["best_peer_over_ours"] == pytest.approx(0.6)
    assert forward["floor_ms"] == 1.0 and train["floor_ms"] == 3.0          # training: 3 forwards
    assert forward["fraction"] == {"ours": pytest.approx(0.2), "flax": pytest.approx(1 / 3)}
    assert forward["gflops"] == pytest.approx(peers.flops("LSTM", "mnist", "forward") / 1e6)
    assert forward["first_call_s"]["flax"] == 3.0 and train["first_call_s"]["flax"] == 6.0   # the first round's
    assert summary["first_calls"]["flax"] == {"forward_median_s": 3.0, "forward_total_s": 3.0,
                                              "train_median_s": 6.0, "train_total_s": 6.0}
    table = peers.markdown_tables(summary)
    assert "| LSTM | none | forward | 5.00 | 3.00 | **0.60** (flax) | fused |" in table
    assert "- keras-jax: not installed (jax)" in table
