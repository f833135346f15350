"""Tests of Sequential, the functional Model and summary()."""
