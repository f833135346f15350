"""Placeholder: being written."""


def Bidirectional(*args, **kwargs):
    raise NotImplementedError("Bidirectional is not written yet")
