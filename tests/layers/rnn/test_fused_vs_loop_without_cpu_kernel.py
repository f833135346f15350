"""The fused-versus-loop comparisons again with the package's CPU kernel off: PyTorch's own kernels against
the plain cell loop, as on a machine without a compiler (with the kernel on, it serves both paths of GRU
and of the loop-only configurations on the CPU, and tests/layers/rnn/engine/test_cpu_kernel.py compares
it with the plain loop)."""
import pytest

from tests.layers.rnn.test_fused_vs_loop import *  # noqa: F401,F403  (every test of that module, collected here once more)

pytestmark = pytest.mark.usefixtures("pytorch_kernels_only")
