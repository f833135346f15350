"""Placeholder: being written."""


def TimeDistributed(*args, **kwargs):
    raise NotImplementedError("TimeDistributed is not written yet")
