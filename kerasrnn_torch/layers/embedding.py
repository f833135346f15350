"""Placeholder: being written."""


def Embedding(*args, **kwargs):
    raise NotImplementedError("Embedding is not written yet")
