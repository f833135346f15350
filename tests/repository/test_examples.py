"""Every script in examples/ runs with --quick, as a user runs it, and prints the results it promises."""
import ast
import importlib.util
import os
import re
import subprocess
import sys
import types

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples")
EXPECTED = {"mnist_rows.py", "sentiment_bilstm.py", "seq2seq_attention.py", "seq2seq_functional.py",
            "stateful_paragraphs.py", "nested_cell.py", "time_distributed_tagger.py",
            "test_my_model_on_both_paths.py", "next_frame_conv_lstm.py"}


def run_example(name, *arguments, timeout=120):
    # One thread: the sizes are small, and CI's two cores are shared with other jobs.
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-W", "error", os.path.join(EXAMPLES, name), "--quick", *arguments],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def number(pattern, text):
    found = re.search(pattern, text, flags=re.MULTILINE)
    assert found, f"{pattern!r} not in the output:\n{text}"
    return float(found.group(1))


def test_every_example_is_tested_and_says_what_it_shows():
    assert {f for f in os.listdir(EXAMPLES) if f.endswith(".py")} == EXPECTED
    for name in EXPECTED:
        with open(os.path.join(EXAMPLES, name)) as f:
            tree = ast.parse(f.read())
        docstring = ast.get_docstring(tree)
        assert docstring and len(docstring.splitlines()[0]) > 20, name
        if not name.startswith("test_"):         # a pytest file users copy has no --quick
            assert "--quick" in docstring, name


def test_mnist_rows_trains_on_both_paths_to_the_same_accuracy(tmp_path):
    out = run_example("mnist_rows.py", "--data-dir", str(tmp_path))     # an empty folder: no MNIST there
    assert "SYNTHETIC stand-in" in out and "nothing is downloaded" in out
    # fit's progress line, as Keras prints it to a log: the finished bar with loss, metrics, validation
    assert re.search(r"^\d+/\d+ ━{20} \d+s \d+m?s/step - loss: [\d.]+ - accuracy: [\d.]+ - val_loss: [\d.]+ - "
                     r"val_accuracy: [\d.]+$", out, flags=re.MULTILINE)
    assert re.search(r"^epoch 3 fused path: .* \(layer\.last_path = 'fused'\)$", out, flags=re.MULTILINE)
    assert re.search(r"^epoch 3  loop path: .* \(layer\.last_path = 'loop'\)$", out, flags=re.MULTILINE)
    fused = number(r"^final test accuracy: fused ([\d.]+)", out)
    loop = number(r"^final test accuracy: fused [\d.]+, loop ([\d.]+)", out)
    assert fused > 0.5 and loop > 0.5           # ten classes: chance is 0.1
    assert abs(fused - loop) <= 0.02            # same start, same numbers on both paths


def load_example(name):
    spec = importlib.util.spec_from_file_location(name[:-3], os.path.join(EXAMPLES, name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_torchvision(monkeypatch, mnist_class):
    torchvision = types.ModuleType("torchvision")
    datasets = types.ModuleType("torchvision.datasets")
    datasets.MNIST = mnist_class
    torchvision.datasets = datasets
    monkeypatch.setitem(sys.modules, "torchvision", torchvision)
    monkeypatch.setitem(sys.modules, "torchvision.datasets", datasets)


def test_mnist_rows_reads_a_local_torchvision_copy_without_downloading(monkeypatch):
    calls = []

    class LocalMNIST:
        def __init__(self, root, train, download):
            calls.append((root, train, download))
            self.data = torch.full((5, 28, 28), 255, dtype=torch.uint8)
            self.targets = torch.arange(5)

    fake_torchvision(monkeypatch, LocalMNIST)
    train_images, train_labels, test_images, _, source = load_example("mnist_rows.py").load_data("/data", 3, 2)
    assert calls == [("/data", True, False), ("/data", False, False)]
    assert source == "MNIST from /data"
    assert train_images.shape == (3, 28, 28) and float(train_images.max()) == 1.0
    assert train_labels.tolist() == [0, 1, 2] and test_images.shape == (2, 28, 28)


def test_mnist_rows_announces_the_stand_in_when_the_local_copy_is_missing(monkeypatch, capsys):
    class MissingMNIST:
        def __init__(self, root, train, download):
            raise RuntimeError("Dataset not found. You can use download=True to download it")

    fake_torchvision(monkeypatch, MissingMNIST)
    train_images, train_labels, _, _, source = load_example("mnist_rows.py").load_data("/nowhere", 4, 2)
    assert source == "synthetic stand-in" and train_images.shape == (4, 28, 28) and train_labels.shape == (4,)
    assert "no MNIST copy under /nowhere" in capsys.readouterr().out


def test_sentiment_bilstm_separates_reviews_with_the_mask_on_the_fused_path():
    out = run_example("sentiment_bilstm.py")
    assert "Bidirectional last_path = 'fused', dispatch_reason(mask) = None" in out
    assert number(r"held-out batch: (\d+) padded steps", out) > 0
    assert number(r"change the predictions by at most (\S+) ", out) <= 1e-6
    assert number(r"training accuracy ([\d.]+)\n(?!epoch)", out) >= 0.95
    assert number(r"^held-out accuracy: ([\d.]+)", out) >= 0.75       # two classes: chance is 0.5
    assert re.search(r"^  [\d.]+ positive: 'a wonderful story and a great cast'$", out, flags=re.MULTILINE)
    assert re.search(r"^  [\d.]+ negative: 'a dull script and terrible acting'$", out, flags=re.MULTILINE)


def test_seq2seq_attention_reverses_held_out_strings_greedily_and_with_beam_search():
    out = run_example("seq2seq_attention.py")
    assert "encoder path 'fused' with the source padding mask" in out
    assert number(r"held-out sequence accuracy: greedy ([\d.]+)", out) >= 0.8   # chance: about 1e-4
    assert number(r"beam search \(width 3\) ([\d.]+)", out) >= 0.8
    assert re.search(r"^\s+(\d+) -> \s*(\d+) ok \|", out, flags=re.MULTILINE)


def test_seq2seq_functional_trains_and_its_inference_models_decode_held_out_strings():
    out = run_example("seq2seq_functional.py")
    assert "Connected to" in out and "encoder_inputs[0][0]" in out        # the functional summary
    assert "inference models share the training model's weights: True" in out
    assert number(r"held-out sequence accuracy \(greedy, step by step\): ([\d.]+)", out) >= 0.8


def test_stateful_paragraphs_chunks_equal_one_pass_and_reset_restarts():
    out = run_example("stateful_paragraphs.py")
    assert number(r"^1\. .*outputs differ by (\S+),", out) <= 1e-5
    assert number(r"^1\. .*final states by (\S+) ", out) <= 1e-5
    assert number(r"^2\. .*largest \|value\| (\S+)\)", out) == 0.0
    assert number(r"^2\. .*one-pass start by (\S+)$", out) <= 1e-5
    assert number(r"^3\. .*from the one pass by (\S+)$", out) <= 1e-5
    first = number(r"truncated BPTT: loss ([\d.]+) ->", out)
    last = number(r"truncated BPTT: loss [\d.]+ -> ([\d.]+)", out)
    assert last < 0.6 * first


def test_nested_cell_runs_nested_inputs_and_states_and_trains():
    out = run_example("nested_cell.py")
    assert re.search(r"-> outputs \(2, 10\) and \(2, 4, 6\)", out)
    assert "kernel_1 (16, 10), kernel_2_3 (8, 8, 4, 6) (1,696 parameters)" in out
    assert number(r"summed outputs \(largest relative difference (\S+);", out) <= 1e-5
    first = number(r"^trained 24 steps: loss ([\d.]+) ->", out)
    assert number(r"^trained 24 steps: loss [\d.]+ -> ([\d.]+)$", out) < 0.7 * first


def test_time_distributed_tagger_uses_context_for_ambiguous_words():
    out = run_example("time_distributed_tagger.py")
    assert re.search(r"│ time_distributed \(TimeDistributed\)\s+│ \(None, 8, 3\)\s+│\s+195 │", out)
    assert number(r"held-out token accuracy: ([\d.]+);", out) >= 0.9
    ambiguous = number(r"on ambiguous words: ([\d.]+) ", out)
    baseline = number(r"without context: ([\d.]+)\)", out)
    assert ambiguous >= 0.9 and ambiguous > baseline + 0.3
    assert "Bidirectional path 'fused'" in out
    assert "jordan/PER flew/O to/O georgia/LOC on/O monday/O" in out


def test_next_frame_conv_lstm_beats_copying_the_last_frame(tmp_path):
    out = run_example("next_frame_conv_lstm.py", "--png", str(tmp_path / "frames.png"))
    assert re.search(r"│ conv_lstm2d \(ConvLSTM2D\)\s+│ \(None, None, 16, 16, 8\)\s+│\s+2,624 │", out)
    first = number(r"^trained 200 steps: loss ([\d.]+) ->", out)
    assert number(r"^trained 200 steps: loss [\d.]+ -> ([\d.]+)$", out) < 0.5 * first
    error = number(r"squared error: ([\d.]+) \(", out)
    assert error < 0.75 * number(r"copying the last frame: ([\d.]+)\)", out)
    assert "path: loop (ConvLSTM2D has no fused kernel" in out
    try:
        import matplotlib  # noqa: F401
        assert (tmp_path / "frames.png").stat().st_size > 0
    except ImportError:
        assert "matplotlib is not installed: no picture" in out and not (tmp_path / "frames.png").exists()


def test_the_both_paths_test_file_passes_under_pytest_and_serves_check_model():
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "-v",
                             os.path.join("examples", "test_my_model_on_both_paths.py")],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for test in ("test_both_paths_agree", "test_both_paths_agree_in_training_mode_with_dropout",
                 "test_the_recurrent_layers_run_the_fused_kernel", "test_a_few_training_steps_lower_the_loss[fused]",
                 "test_a_few_training_steps_lower_the_loss[loop]"):
        assert f"{test} PASSED" in result.stdout, test
    assert re.search(r"\b5 passed\b", result.stdout)
