"""`pytest --doctest-modules kerasrnn_torch`: the docstrings' examples see the names a user imports."""
import pytest


@pytest.fixture(autouse=True, scope="session")
def _doctest_names(doctest_namespace):
    import torch

    import kerasrnn_torch as kr
    doctest_namespace.update({"torch": torch, "kr": kr, **{name: getattr(kr, name) for name in kr.__all__}})
