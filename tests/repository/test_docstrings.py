"""Every public class documents itself: a summary line, its arguments and a working example."""
import doctest
import inspect

import pytest
import torch

import kerasrnn_torch as kr

PUBLIC_CLASSES = [name for name in kr.__all__ if inspect.isclass(getattr(kr, name))]


def test_the_public_classes_are_found():
    assert {"LSTM", "GRU", "SimpleRNN", "RNN", "Bidirectional", "Sequential", "Layer"} <= set(PUBLIC_CLASSES)


@pytest.mark.parametrize("name", PUBLIC_CLASSES)
def test_docstring_has_summary_arguments_and_example(name):
    docstring = inspect.getdoc(getattr(kr, name)) or ""
    summary = docstring.splitlines()[0] if docstring else ""
    assert summary.endswith(".") and len(summary) > 20, f"{name}: summary line {summary!r}"
    assert "Args:" in docstring, f"{name}: no Args: section"
    assert ">>> " in docstring, f"{name}: no example"


@pytest.mark.parametrize("name", PUBLIC_CLASSES)
def test_docstring_example_runs(name):
    namespace = {"torch": torch, "kr": kr, **{n: getattr(kr, n) for n in kr.__all__}}
    tests = doctest.DocTestFinder(recurse=False).find(getattr(kr, name), name, globs=namespace)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in tests:
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.attempted > 0 and results.failed == 0, f"{name}: {results}"


def test_help_of_every_layer_constructor_gives_its_own_arguments_not_torchs_text():
    import inspect

    import torch

    for name in kr.__all__:
        value = getattr(kr, name)
        if isinstance(value, type) and issubclass(value, torch.nn.Module):
            doc = inspect.getdoc(value.__init__) or ""
            assert doc and "Initialize internal Module state" not in doc, name
    assert inspect.getdoc(kr.LSTM.__init__).startswith("Make a LSTM; its arguments")
    assert "units:" in inspect.getdoc(kr.LSTM.__init__)
