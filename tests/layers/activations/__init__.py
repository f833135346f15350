"""Tests of the Activation layer (and Lambda)."""
