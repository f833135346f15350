"""The package's metadata: one version source, a license file, the console script, the extras."""
import importlib
import importlib.metadata
import os
import tomllib

import kerasrnn_torch as kr

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def project():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as file:
        return tomllib.load(file)


def test_the_version_is_written_once():
    config = project()
    assert "version" not in config["project"] and "version" in config["project"]["dynamic"]
    assert config["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "kerasrnn_torch._version.__version__"}
    assert importlib.metadata.version("kerasrnn_torch") == kr.__version__


def test_license_and_classifiers():
    config = project()["project"]
    assert config["license"] == "Apache-2.0" and config["license-files"] == ["LICENSE"]
    with open(os.path.join(ROOT, "LICENSE"), encoding="utf-8") as file:
        assert "Apache License" in file.read(300)
    assert any(c.startswith("Programming Language :: Python :: 3.11") for c in config["classifiers"])


def test_the_console_script_runs_the_command_line():
    module, function = project()["project"]["scripts"]["kerasrnn-torch"].split(":")
    assert callable(getattr(importlib.import_module(module), function))


def test_plotting_has_an_extra():
    assert project()["project"]["optional-dependencies"]["plot"] == ["matplotlib"]


def test_the_sdist_carries_what_its_tests_need(tmp_path):
    # Its test suite passes unpacked (PYTHONPATH=. python -m pytest): the tests, their conftest files,
    # the docs and mkdocs.yml the site test builds, the examples mypy checks, the type marker.
    import subprocess
    import sys
    import tarfile
    build = f"from setuptools import build_meta; build_meta.build_sdist({str(tmp_path)!r})"
    subprocess.run([sys.executable, "-c", build], cwd=ROOT, check=True, capture_output=True)
    (archive,) = tmp_path.glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    needed = {"conftest.py", "tests/conftest.py", "tests/reference.py", "mkdocs.yml", "docs/index.md",
              "docs/api/recurrent.md", "kerasrnn_torch/py.typed", "examples/sentiment_bilstm.py", "CHANGELOG.md", "LICENSE", "pyproject.toml"}
    assert needed <= names, f"missing from the sdist: {sorted(needed - names)}"
