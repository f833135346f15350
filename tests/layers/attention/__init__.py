"""Tests of the attention layers."""
