"""Placeholder: being written."""


def summary(*args, **kwargs):
    raise NotImplementedError("summary is not written yet")
