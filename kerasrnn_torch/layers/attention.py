"""Placeholder: being written."""


def Attention(*args, **kwargs):
    raise NotImplementedError("Attention is not written yet")
