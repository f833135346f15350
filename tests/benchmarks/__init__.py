"""Tests of the benchmark tool."""
