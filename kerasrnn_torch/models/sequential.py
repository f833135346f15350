"""Placeholder: being written."""


def Sequential(*args, **kwargs):
    raise NotImplementedError("Sequential is not written yet")
