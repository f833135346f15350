"""The recurrent engine: which path runs (fused kernel or cell loop), the loops, masks and weight layouts."""
