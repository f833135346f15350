"""Tests of the normalization layers."""
