"""README.md's Python snippets run as written, and print what the comment under each print says."""
import contextlib
import io
import os
import re
import tempfile

import kerasrnn_torch.__main__ as cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as readme_file:
    README = readme_file.read()
BLOCKS = re.findall(r"^```python\n(.*?)^```$", README, flags=re.MULTILINE | re.DOTALL)


def promised_outputs(block):
    """The comment lines right under a `print(...)` line: the output the README promises, in order."""
    lines = block.splitlines()
    return [following[2:] for line, following in zip(lines, lines[1:])
            if line.startswith("print(") and following.startswith("# ")]


def test_readme_has_the_snippets_it_should():
    assert len(BLOCKS) >= 4
    assert any("set_weights(keras_model.get_weights())" in block for block in BLOCKS)


def test_every_python_snippet_runs_in_order_and_prints_what_it_promises(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))     # files the snippets save land in tmp_path
    namespace = {"__name__": "readme"}            # the snippets build on each other, as a reader runs them
    for number, block in enumerate(BLOCKS, 1):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(block, f"README.md python block {number}", "exec"), namespace)
        lines = printed.getvalue().splitlines()
        for promise in promised_outputs(block):
            assert promise in lines, f"block {number}: README promises {promise!r}, the snippet printed {lines}"


def test_readme_lists_every_example_and_the_bench_defaults():
    for name in os.listdir(os.path.join(ROOT, "examples")):
        if name.endswith(".py"):
            assert f"`examples/{name}`" in README, name
    assert f"`{' '.join(cli.BENCH_DEFAULTS)}`" in README
    assert "(docs/benchmarks.md)" in README
