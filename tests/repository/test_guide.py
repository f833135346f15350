"""The user guide (docs/guide/) is on the docs site, and every page's Python snippets run and print what they promise."""
import glob
import os
import tempfile

import pytest
import yaml

from markdown_snippets import python_blocks, run_page

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGES = sorted(glob.glob(os.path.join(ROOT, "docs", "guide", "*.md")))
EXPECTED_PAGES = {"getting_started", "migrating", "functional", "training", "paths", "export", "testing",
                  "performance"}


def test_the_guide_has_its_pages_and_the_site_lists_them():
    assert {os.path.basename(page)[:-3] for page in PAGES} == EXPECTED_PAGES
    with open(os.path.join(ROOT, "mkdocs.yml"), encoding="utf-8") as file:
        config = yaml.load(file, Loader=yaml.BaseLoader)
    guide = next(entry["Guide"] for entry in config["nav"] if isinstance(entry, dict) and "Guide" in entry)
    listed = {list(item.values())[0] for item in guide}
    assert listed == {f"guide/{name}.md" for name in EXPECTED_PAGES}


# torch-internal warnings raised while the export page's example exports (errors in this suite)
@pytest.mark.filterwarnings(r"ignore:`isinstance\(treespec, LeafSpec\)` is deprecated:FutureWarning")
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf Tensor:UserWarning")
@pytest.mark.filterwarnings("ignore:_check_is_size will be removed:FutureWarning")
@pytest.mark.parametrize("page", PAGES, ids=lambda page: os.path.basename(page)[:-3])
def test_every_snippet_of_the_page_runs_and_prints_what_it_promises(page, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))     # files the snippets save land in tmp_path
    with open(page, encoding="utf-8") as file:
        text = file.read()
    if not python_blocks(text):
        pytest.fail(f"{page} has no python example")
    run_page(text, f"docs/guide/{os.path.basename(page)}")
