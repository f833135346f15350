"""Placeholder: conversion to and from torch.nn recurrent modules is being written."""


def to_torch(layer):
    raise NotImplementedError("to_torch is not written yet")


def from_torch(cls, module, **kwargs):
    raise NotImplementedError("from_torch is not written yet")
