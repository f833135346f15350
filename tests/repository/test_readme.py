"""README.md's Python snippets run as written, and print what the comment under each print says."""
import os
import tempfile

import kerasrnn_torch.__main__ as cli
from markdown_snippets import python_blocks, run_page

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as readme_file:
    README = readme_file.read()
BLOCKS = python_blocks(README)


def test_readme_is_short_with_contents_and_links_to_every_guide_page():
    assert len(README.splitlines()) < 200
    assert "**Contents:**" in README
    for page in os.listdir(os.path.join(ROOT, "docs", "guide")):
        assert f"(docs/guide/{page})" in README, page


def test_readme_has_the_snippets_it_should():
    assert len(BLOCKS) >= 3
    assert any("set_weights(keras_model.get_weights())" in block for block in BLOCKS)


def test_every_python_snippet_runs_in_order_and_prints_what_it_promises(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))     # files the snippets save land in tmp_path
    run_page(README, "README.md")                  # the snippets build on each other, as a reader runs them


def test_readme_lists_every_example_and_the_bench_defaults():
    for name in os.listdir(os.path.join(ROOT, "examples")):
        if name.endswith(".py"):
            assert f"`examples/{name}`" in README, name
    assert f"`{' '.join(cli.BENCH_DEFAULTS)}`" in README
    assert "(docs/benchmarks.md)" in README
