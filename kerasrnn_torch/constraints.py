"""Keras weight constraints (placeholder: resolved by name or callable)."""
from __future__ import annotations


def get(identifier):
    if identifier is None:
        return None
    if callable(identifier):
        return identifier
    raise ValueError(f"Unknown constraint {identifier!r}")
