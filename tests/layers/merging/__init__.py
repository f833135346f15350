"""Tests of the merging layers."""
