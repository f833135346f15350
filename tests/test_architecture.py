"""The package's parts depend one way (engine <- layers <- models <- io), as docs/architecture.md draws them."""
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_script():
    spec = importlib.util.spec_from_file_location("import_graph", os.path.join(ROOT, "scripts", "import_graph.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_import_goes_against_the_parts_order():
    script = load_script()
    assert script.violations(script.graph()) == []


def test_the_checker_sees_an_import_against_the_order():
    script = load_script()
    edges = {"kerasrnn_torch.engine.loop": [("kerasrnn_torch.layers.cell", False)],
             "kerasrnn_torch.layers.config": [("kerasrnn_torch", True)]}
    assert script.violations(edges) == ["kerasrnn_torch.engine.loop -> kerasrnn_torch.layers.cell"]
