"""Tests of Keras files in and out."""
