"""Hypothesis settings for the property-based tests, chosen by an environment variable.

    KERASRNN_HYPOTHESIS_PROFILE=ci        (default) few examples, derandomized: the same
                                          examples on every run, well under a minute on two cores
    KERASRNN_HYPOTHESIS_PROFILE=thorough  many random examples, for a local hunt:
        KERASRNN_HYPOTHESIS_PROFILE=thorough pytest tests/layers/rnn/test_properties.py

The tests apply the chosen settings with `@PROFILE` (or `scaled(...)`) rather
than `settings.load_profile`, so other test files keep Hypothesis's defaults.
A failure prints the falsifying example and a `@reproduce_failure` blob.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

PROFILE_VARIABLE = "KERASRNN_HYPOTHESIS_PROFILE"

# In CI a failing test reports its first bug, shrunk, without the slow "explain" phase.
settings.register_profile(
    "ci", max_examples=50, deadline=None, derandomize=True, database=None, print_blob=True,
    report_multiple_bugs=False, phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "thorough", max_examples=400, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])

PROFILE_NAMES = ("ci", "thorough")


def selected_profile() -> settings:
    name = os.environ.get(PROFILE_VARIABLE, "ci")
    if name not in PROFILE_NAMES:
        raise ValueError(f"{PROFILE_VARIABLE}={name!r} is not a profile; expected one of {', '.join(PROFILE_NAMES)}")
    return settings.get_profile(name)


PROFILE = selected_profile()


def scaled(factor: float) -> settings:
    """The chosen profile with `factor` times its examples (at least one), for cheaper or costlier tests."""
    return settings(PROFILE, max_examples=max(1, round(PROFILE.max_examples * factor)))
