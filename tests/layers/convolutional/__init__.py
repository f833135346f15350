"""Tests of the convolution layers."""
