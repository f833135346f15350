"""Tests of the pooling layers."""
