"""The layers, one subpackage per family (as in Keras 3's `keras/src/layers/`)."""
