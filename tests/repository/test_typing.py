"""The package ships type information (py.typed), and mypy passes on the package and the examples."""
import os
import subprocess
import sys

import kerasrnn_torch as kr

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_package_is_marked_typed():
    assert os.path.isfile(os.path.join(os.path.dirname(kr.__file__), "py.typed"))


def test_mypy_passes_on_the_package_and_the_examples():
    # mypy is in the `test` extra, which CI installs.
    result = subprocess.run([sys.executable, "-m", "mypy", "kerasrnn_torch", "examples"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"mypy found problems:\n{result.stdout}{result.stderr}"


def _annotation_report():
    import importlib.util
    spec = importlib.util.spec_from_file_location("annotation_coverage",
                                                  os.path.join(ROOT, "scripts", "annotation_coverage.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, module.report()


def test_the_public_api_is_annotated():
    _, found = _annotation_report()
    assert not found, "\n".join(f"{k}: {', '.join(v)}" for k, v in sorted(found.items()))
