"""Tests of the recurrent engine: dispatch, the loops, the hand-written backward, masks and layouts."""
