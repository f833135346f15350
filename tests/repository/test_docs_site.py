"""The API reference site (mkdocs + mkdocstrings over the docstrings) builds with warnings as errors and covers kr.__all__."""
import glob
import os
import re
import subprocess
import sys

import kerasrnn_torch as kr

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def documented_names():
    names = set()
    for page in glob.glob(os.path.join(ROOT, "docs", "api", "*.md")):
        with open(page, encoding="utf-8") as file:
            names.update(re.findall(r"^::: kerasrnn_torch\.(\w+)$", file.read(), flags=re.MULTILINE))
    return names


def test_every_public_name_has_a_reference_entry():
    missing = sorted(set(kr.__all__) - documented_names())
    assert not missing, f"names in kr.__all__ with no '::: kerasrnn_torch.NAME' in docs/api/: {missing}"
    unknown = sorted(documented_names() - set(kr.__all__))
    assert not unknown, f"docs/api/ documents names that kr.__all__ does not have: {unknown}"


def test_the_site_builds_with_warnings_as_errors(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    with open(tmp_path / "site" / "api" / "recurrent" / "index.html", encoding="utf-8") as file:
        page = file.read()
    # The docstrings made it in: LSTM's summary line and its call's arguments.
    assert "Long short-term memory layer" in page and "initial_state" in page
