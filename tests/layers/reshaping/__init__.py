"""Tests of the reshaping layers."""
