"""Placeholder: being written."""


def Masking(*args, **kwargs):
    raise NotImplementedError("Masking is not written yet")
