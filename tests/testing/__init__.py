"""Tests of kr.testing."""
