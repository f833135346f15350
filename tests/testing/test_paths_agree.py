"""kr.testing: a user's whole model compared on the fused kernel and the cell loop."""
import os
import re
import subprocess
import sys

import pytest
import torch

import kerasrnn_torch as kr
import kerasrnn_torch.__main__ as cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Seq2Seq(torch.nn.Module):
    """Embedding(mask_zero) + Bidirectional(LSTM) + GRU + a plain torch head, in the user's own forward."""

    def __init__(self, dropout=0.0, seed=None, stateful=False, decoder=None):
        super().__init__()
        self.embed = kr.Embedding(30, 6, mask_zero=True)
        self.encoder = kr.Bidirectional(kr.LSTM(5, return_sequences=True, dropout=dropout, seed=seed))
        self.decoder = decoder or kr.GRU(4, return_sequences=True, dropout=dropout, stateful=stateful)
        self.head = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Dropout(dropout))

    def forward(self, ids):
        mask = self.embed.compute_mask(ids)
        return self.head(self.decoder(self.encoder(self.embed(ids), mask=mask), mask=mask))


def padded_ids(batch=4, timesteps=7):
    ids = torch.randint(1, 30, (batch, timesteps))
    for row in range(1, batch):
        ids[row, timesteps - 2 * row:] = 0
    return ids


class PerturbedWhenFused(kr.GRU):
    """A test double: its fused-path output is off by 1e-3."""

    def forward(self, *args, **kwargs):
        output = super().forward(*args, **kwargs)
        return output + 1e-3 if self.last_path == "fused" else output


def test_a_seq2seq_model_with_a_torch_head_agrees_and_reports_its_paths():
    model = Seq2Seq()
    agreement = kr.testing.assert_paths_agree(model, padded_ids())
    assert agreement.output_difference <= 1e-5 and agreement.gradient_difference <= 1e-4
    assert agreement.compared_gradients == len(list(model.parameters()))
    assert [(row.name, row.path) for row in agreement.paths.rows] == [("encoder", "fused"), ("decoder", "fused")]
    assert re.search(r"^encoder\s+Bidirectional\s+fused\s+1\s+-$", str(agreement), flags=re.MULTILINE)


def test_a_layer_whose_fused_output_differs_is_named_with_the_difference_and_where():
    model = kr.Sequential([kr.Embedding(30, 6, mask_zero=True), kr.LSTM(5, return_sequences=True),
                           PerturbedWhenFused(4, return_sequences=True), kr.Dense(2)])
    with pytest.raises(AssertionError) as caught:
        kr.testing.assert_paths_agree(model, padded_ids())
    message = str(caught.value)
    assert "where: layer '2' (PerturbedWhenFused), output (the first layer whose output differs)" in message
    assert re.search(r"largest difference 0\.001 at index \(\d, \d, \d\) \(fused path \S+, loop path \S+\); "
                     r"allowed atol=1e-05", message)
    assert re.search(r"^2\s+PerturbedWhenFused\s+fused", message, flags=re.MULTILINE)


class _ScaleGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * 1.01


class GradientOffWhenFused(kr.LSTM):
    """A test double: same outputs on both paths, but the fused path's gradient is scaled."""

    def forward(self, *args, **kwargs):
        output = super().forward(*args, **kwargs)
        return _ScaleGradient.apply(output) if self.last_path == "fused" else output


def test_a_gradient_difference_names_the_parameter():
    model = kr.Sequential([GradientOffWhenFused(4, return_sequences=True), kr.Dense(2)])
    with pytest.raises(AssertionError, match=r"where: the gradient of parameter '0\.cell\.kernel'\n"
                                             r"  what:  largest difference .* allowed grad_atol=0\.0001"):
        kr.testing.assert_paths_agree(model, torch.randn(3, 5, 2))


def test_dropout_in_training_mode_agrees_under_the_same_seeds():
    for seed in (None, 7):                                 # the global stream, then seeded streams
        model = Seq2Seq(dropout=0.3, seed=seed)
        model.decoder = kr.GRU(4, return_sequences=True, dropout=0.3, recurrent_dropout=0.2, seed=seed)
        agreement = kr.testing.assert_paths_agree(model, padded_ids(), training=True)
        decoder = agreement.paths.rows[1]
        assert (decoder.path, decoder.reason) == ("loop", "recurrent_dropout=0.2 is not supported by the fused kernel")


def test_dropout_draws_really_differ_between_calls_so_the_seeding_matters():
    model, ids = Seq2Seq(dropout=0.3), padded_ids()
    model.train()
    assert not torch.equal(model(ids), model(ids))


class DrawsOnlyWhenFused(kr.LSTM):
    """A test double that takes one extra number from the global random stream on the fused path."""

    def forward(self, *args, **kwargs):
        output = super().forward(*args, **kwargs)
        if self.last_path == "fused":
            torch.rand(1)
        return output


def test_runs_that_draw_different_random_numbers_are_said_to():
    model = kr.Sequential([DrawsOnlyWhenFused(4), kr.Dense(2)])
    with pytest.raises(AssertionError, match="drew a different amount of numbers from torch's global random stream"):
        kr.testing.assert_paths_agree(model, torch.randn(3, 5, 2))


class StatesOffWhenFused(kr.GRU):
    """A test double: same outputs, but its stored states move on the fused path."""

    def forward(self, *args, **kwargs):
        output = super().forward(*args, **kwargs)
        if self.last_path == "fused":
            self.reset_state([s + 1e-3 for s in self.states])
        return output


def test_a_stateful_model_agrees_keeps_its_states_and_a_state_difference_is_named():
    model, ids = Seq2Seq(stateful=True), padded_ids()
    model.eval()
    model(ids)                                             # states from a first batch
    before = [s.clone() for s in model.decoder.states]
    kr.testing.assert_paths_agree(model, ids)
    assert all(torch.equal(a, b) for a, b in zip(before, model.decoder.states))

    broken = Seq2Seq(decoder=StatesOffWhenFused(4, return_sequences=True, stateful=True))
    with pytest.raises(AssertionError, match=r"where: the final states of stateful layer 'decoder' \[0\]"):
        kr.testing.assert_paths_agree(broken, ids)


def test_a_stateful_layer_that_never_ran_holds_no_states_afterwards():
    model = Seq2Seq(stateful=True)
    kr.testing.assert_paths_agree(model, padded_ids(batch=4))
    assert model.decoder.states is None
    assert model(padded_ids(batch=2)).shape == (2, 7, 3)   # another batch size still works


class CountsFusedCalls(torch.nn.Module):
    """A plain torch module whose buffer records which path its neighbour took (a buffer that differs)."""

    def __init__(self, neighbour):
        super().__init__()
        self.neighbour = [neighbour]
        self.register_buffer("fused_calls", torch.zeros(()))

    def forward(self, x):
        self.fused_calls += float(self.neighbour[0].last_path == "fused")
        return x


def test_a_buffer_that_ends_differently_is_named():
    lstm = kr.LSTM(4)
    model = kr.Sequential([lstm, CountsFusedCalls(lstm)])
    with pytest.raises(AssertionError, match=r"where: the non-trainable tensor 1\.fused_calls\n"):
        kr.testing.assert_paths_agree(model, torch.randn(3, 5, 2))
    assert float(model[1].fused_calls) == 0.0              # and it is put back


def test_the_model_is_unchanged_afterwards():
    model, ids = Seq2Seq(dropout=0.3, seed=3, stateful=True), padded_ids()
    model.decoder.use_cudnn = False
    model(ids)                                             # built, states held, seeded streams moved
    model.head.eval()                                      # mixed training flags
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    flags = [m.training for m in model.modules()]
    paths = [model.encoder.last_path, model.decoder.last_path]
    global_stream = torch.get_rng_state()
    agreement = kr.testing.assert_paths_agree(model, ids, training=True)
    assert "'decoder' has use_cudnn=False; the comparison ran it with 'auto'" in agreement.notes
    assert agreement.paths.rows[1].path == "fused"
    after = model.state_dict()
    assert weights.keys() == after.keys() and all(torch.equal(weights[k], after[k]) for k in weights)
    assert [m.training for m in model.modules()] == flags
    assert model.decoder.use_cudnn is False and [model.encoder.last_path, model.decoder.last_path] == paths
    assert torch.equal(torch.get_rng_state(), global_stream)
    assert all(p.grad is None for p in model.parameters())


def test_a_layer_that_can_only_run_the_loop_is_listed_with_its_reason():
    model = kr.Sequential([kr.RNN(kr.LSTMCell(4), return_sequences=True), kr.LSTM(3, activation="relu"),
                           kr.Dense(2)])
    agreement = kr.testing.assert_paths_agree(model, torch.randn(3, 5, 2))
    assert [(row.path, row.reason) for row in agreement.paths.rows] == [
        ("loop", "the generic RNN(cell) layer always runs the cell loop"),
        ("loop", "activation is relu, the fused kernel needs tanh")]


def test_a_functional_model_with_initial_state_agrees():
    source, target = kr.Input(shape=(None, 3)), kr.Input(shape=(None, 2))
    _, h, c = kr.LSTM(4, return_state=True)(source)
    output = kr.LSTM(4, return_sequences=True)(target, initial_state=[h, c])
    model = kr.Model([source, target], kr.Dense(2)(output))
    agreement = kr.testing.assert_paths_agree(model, [torch.randn(2, 5, 3), torch.randn(2, 4, 2)])
    assert [row.path for row in agreement.paths.rows] == ["fused", "fused"]
    assert agreement.compared_gradients == len(list(model.parameters())) + 2     # and the two inputs


def test_paths_report_reads_each_layers_mask_and_settings():
    model = Seq2Seq()
    model.decoder.use_cudnn = False
    with kr.force_path("loop"):                            # an enclosing override does not count
        report = kr.testing.paths_report(model, padded_ids())
    assert [(row.name, row.path) for row in report.rows] == [("encoder", "fused"), ("decoder", "loop")]
    assert report.rows[1].reason == "use_cudnn=False asks for the loop"
    assert report.fused == ["encoder"] and report.loop_only == ["decoder"]
    assert str(report).splitlines()[0].split() == ["layer", "class", "path", "calls", "why", "not", "fused"]
    assert model.decoder.use_cudnn is False and model.encoder.last_path is None

    gaps = torch.tensor([[True, False, True, True]] * 2)      # any mask runs fused
    report = kr.testing.paths_report(kr.Bidirectional(kr.LSTM(3)), torch.randn(2, 4, 2), mask=gaps)
    row, = report.rows                                      # a single layer is the model
    assert (row.name, row.path) == ("", "fused")
    assert str(report).splitlines()[2].startswith("(the model)  Bidirectional  fused")
    wrapped = kr.Sequential([kr.Masking(0.0), kr.LSTM(3, recurrent_dropout=0.2)])
    x = torch.randn(2, 4, 2)
    x[:, 1] = 0.0
    row, = kr.testing.paths_report(wrapped, x).rows
    assert (row.path, row.reason) == ("loop", "recurrent_dropout=0.2 is not supported by the fused kernel")


def test_bad_arguments_say_what_was_expected():
    with pytest.raises(TypeError, match="expects a torch.nn.Module .*got Tensor"):
        kr.testing.assert_paths_agree(torch.zeros(1), torch.zeros(1))
    with pytest.raises(ValueError, match=r"`atol` must be a number >= 0, got -1"):
        kr.testing.assert_paths_agree(kr.LSTM(2), torch.randn(1, 2, 2), atol=-1)
    with pytest.raises(TypeError, match="without parentheses"):
        kr.testing.both_paths(None)


def test_both_paths_runs_the_body_under_each_path_and_passes_kr_path_when_asked():
    seen = []

    @kr.testing.both_paths
    def plain(value):
        layer = kr.LSTM(2)
        layer(torch.randn(1, 3, value))
        seen.append(layer.last_path)

    @kr.testing.both_paths
    def asks(kr_path):
        seen.append(kr_path)

    marks = [m for m in plain.pytestmark if m.name == "parametrize"]
    assert [m.args for m in marks] == [("kr_path", ("fused", "loop"))]
    assert "kr_path" in __import__("inspect").signature(plain).parameters
    plain(2, kr_path="fused")
    plain(2, kr_path="loop")
    asks(kr_path="loop")
    assert seen == ["fused", "loop", "loop"]


@kr.testing.both_paths
def test_both_paths_works_in_this_suite(kr_path):
    layer = kr.GRU(3)
    layer(torch.randn(2, 4, 2))
    assert layer.last_path == kr_path


def test_kerasrnn_torch_testing_imports_without_pytest():
    code = "import sys; sys.modules['pytest'] = None; import kerasrnn_torch as kr; print(kr.testing.paths_report)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, PYTHONPATH=ROOT))
    assert result.returncode == 0, result.stderr


def test_check_model_runs_a_users_factory(tmp_path, monkeypatch, capsys):
    (tmp_path / "my_models.py").write_text(
        "import torch, kerasrnn_torch as kr\n"
        "def good():\n    return kr.Sequential([kr.LSTM(3), kr.Dense(2)]), torch.randn(2, 4, 3)\n"
        "def broken():\n"
        "    class Off(kr.LSTM):\n"
        "        def forward(self, *a, **k):\n"
        "            out = super().forward(*a, **k)\n"
        "            return out + 1 if self.last_path == 'fused' else out\n"
        "    return kr.Sequential([Off(3)]), (torch.randn(2, 4, 3),), {}\n"
        "def not_a_pair():\n    return 3\n")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "--model", "my_models:good"]) == 0
    out = capsys.readouterr().out
    assert "check --model my_models:good: Sequential" in out and out.rstrip().endswith("OK")
    assert re.search(r"^0\s+LSTM\s+fused\s+1\s+-$", out, flags=re.MULTILINE)
    assert cli.main(["check", "--model", str(tmp_path / "my_models.py") + ":broken", "--training"]) == 1
    out = capsys.readouterr().out
    assert "where: layer '0' (Off)" in out and out.rstrip().endswith("FAILED")
    assert cli.main(["check", "--model", "my_models:not_a_pair"]) == 2
    assert "must return (model, inputs) or (model, inputs, call_kwargs)" in capsys.readouterr().err
    assert cli.main(["check", "--model", "my_models"]) == 2
    assert "expects MODULE:FUNCTION or FILE.py:FUNCTION, got 'my_models'" in capsys.readouterr().err
    assert cli.main(["check", "--model", "my_models:absent"]) == 2
    assert "'my_models' has no function 'absent'" in capsys.readouterr().err
    assert cli.main(["check", "--training"]) == 2


def test_check_model_names_a_module_that_cannot_be_imported_from_here(tmp_path, monkeypatch, capsys):
    (tmp_path / "needs_missing.py").write_text("import a_package_nobody_has\ndef make():\n    pass\n")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "--model", "no_such_models:make"]) == 2
    err = capsys.readouterr().err
    assert "no module 'no_such_models' importable from " + str(tmp_path) in err and "FILE.py:FUNCTION" in err
    with pytest.raises(ModuleNotFoundError, match="a_package_nobody_has"):   # the user's own import error stays theirs
        cli.main(["check", "--model", "needs_missing:make"])


def test_a_failing_agreement_shows_the_callers_line_not_the_helpers_body(tmp_path):
    """Under pytest, the failure report holds the message and the test's line, not assert_paths_agree's source."""
    (tmp_path / "test_user.py").write_text(
        "import torch, kerasrnn_torch as kr\n"
        "class Off(kr.LSTM):\n"
        "    def forward(self, *a, **k):\n"
        "        out = super().forward(*a, **k)\n"
        "        return out + 1 if self.last_path == 'fused' else out\n"
        "def test_model():\n"
        "    kr.testing.assert_paths_agree(kr.Sequential([Off(3)]), torch.randn(2, 4, 3))\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=",
                             str(tmp_path / "test_user.py")], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 1, result.stdout[-2000:]
    assert "the fused and the loop path disagree" in result.stdout
    assert "_check_model(model" not in result.stdout and "snapshot.restore()" not in result.stdout
    failure = result.stdout[result.stdout.index("test_model"):result.stdout.index("short test summary")]
    assert len(failure.splitlines()) < 40, failure


@pytest.mark.parametrize("layer_class", [kr.LSTM, kr.GRU, kr.SimpleRNN])
def test_a_patched_public_weight_conversion_is_what_the_fused_path_runs(layer_class):
    """Simulating a broken kernel by patching the public `torch_weights()` changes the fused result (no
    private cache bypasses it), and assert_paths_agree reports the difference."""
    model = kr.Sequential([layer_class(4)])
    x = torch.randn(2, 5, 3)
    model.eval()
    before = model(x)
    layer = model.layers[0]
    real = layer.torch_weights

    def broken():
        weights = real()
        return [weights[0] * 1.5, *weights[1:]]
    layer.torch_weights = broken
    assert not torch.allclose(model(x), before)
    assert layer.last_path == "fused"
    with pytest.raises(AssertionError, match="disagree"):
        kr.testing.assert_paths_agree(model, x)
