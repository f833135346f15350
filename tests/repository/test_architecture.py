"""The package's parts depend one way (core <- layers <- models <- io), as docs/architecture.md draws them."""
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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
    edges = {"kerasrnn_torch.layers.rnn.engine.loop": [("kerasrnn_torch.layers.rnn.cell", False)],
             "kerasrnn_torch.core.config": [("kerasrnn_torch", True)]}
    assert script.violations(edges) == ["kerasrnn_torch.layers.rnn.engine.loop -> kerasrnn_torch.layers.rnn.cell"]


def test_the_checker_sees_the_framework_import_a_layer():
    script = load_script()
    edges = {"kerasrnn_torch.core.layer": [("kerasrnn_torch.layers.rnn.lstm", False)],
             "kerasrnn_torch.layers.rnn.lstm": [("kerasrnn_torch.core.layer", False),
                                                ("kerasrnn_torch.layers.rnn.engine.fused", False)]}
    assert script.violations(edges) == ["kerasrnn_torch.core.layer -> kerasrnn_torch.layers.rnn.lstm"]


def private_reach(path):
    """`other._name` attribute reads in a file, where `other` is not `self`, `cls` or a module of torch's."""
    import ast
    with open(path, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    allowed_owners = {"self", "cls", "torch", "pytree", "nn", "_VF", "super"}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = node.value
            name = owner.id if isinstance(owner, ast.Name) else None
            if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
                continue
            if name not in allowed_owners and node.attr not in ("_modules", "_parameters"):
                found.append(f"{os.path.basename(path)}:{node.lineno} .{node.attr}")
    return found


def test_wrappers_and_containers_use_only_public_members_of_other_classes():
    package = os.path.join(ROOT, "kerasrnn_torch")
    files = [os.path.join(package, *name.split("/")) for name in ("layers/rnn/bidirectional.py",
                                                                  "layers/rnn/time_distributed.py", "core/dry_run.py")]
    files += [os.path.join(package, "models", name) for name in os.listdir(os.path.join(package, "models"))
              if name.endswith(".py")]
    assert [reach for path in files for reach in private_reach(path)] == []
