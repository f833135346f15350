"""`kr.ops.linalg`: Keras 3's `keras.ops.linalg` functions (`norm`, `inv`, `solve`, `det`, `cholesky`, `qr`,
`svd`, `eigh`, `lstsq`, `solve_triangular`), computed with `torch.linalg` as Keras's torch backend does (and
`jvp`, which `keras.ops.linalg` also has, from `kr.ops`'s function transforms).

The matrix functions take tensors of at least 2 axes (batched over the
leading ones); the same functions are `kr.ops.inv`, `kr.ops.norm`, ...
"""
from __future__ import annotations

from typing import Any

import torch

from .core import floatx, tensor
from .operation import operation
from .transforms import jvp


def _matrix(x: Any, name: str, square: bool = True) -> torch.Tensor:
    x = tensor(x)
    if x.ndim < 2:
        raise ValueError(f"kr.ops.{name}: x must have at least 2 axes (a matrix or a batch of them), got shape "
                         f"{tuple(x.shape)}")
    if square and x.shape[-1] != x.shape[-2]:
        raise ValueError(f"kr.ops.{name}: x's last two axes must be square, got shape {tuple(x.shape)}")
    return x


def _right_side(a: torch.Tensor, b: Any, name: str) -> torch.Tensor:
    b = tensor(b)
    if b.ndim < 1 or b.shape[0 if b.ndim == 1 else -2] != a.shape[-1] and not (b.ndim == a.ndim - 1
                                                                                 and b.shape[-1] == a.shape[-1]):
        raise ValueError(f"kr.ops.{name}: b (shape {tuple(b.shape)}) does not fit a (shape {tuple(a.shape)})")
    return b


@operation("Norm", config=("ord", "axis", "keepdims"), module="linalg")
def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A002
    """The vector or matrix norm of `ord` over `axis`, as `keras.ops.norm` (ints give floats)."""
    x = tensor(x)
    dtype = floatx() if not x.dtype.is_floating_point else x.dtype
    axis = tuple(axis) if isinstance(axis, list) else axis
    return torch.linalg.norm(x.to(dtype), ord=ord, dim=axis, keepdim=keepdims)


@operation("Inv", module="linalg")
def inv(x: Any) -> torch.Tensor:
    """The matrix inverse, as `keras.ops.inv`."""
    return torch.linalg.inv(_matrix(x, "inv"))


@operation("Det", module="linalg")
def det(x: Any) -> torch.Tensor:
    """The determinant, as `keras.ops.det`."""
    return torch.det(_matrix(x, "det"))


@operation("Solve", module="linalg")
def solve(a: Any, b: Any) -> torch.Tensor:
    """The `x` with `a @ x == b`, as `keras.ops.solve`."""
    a = _matrix(a, "solve")
    return torch.linalg.solve(a, _right_side(a, b, "solve"))


@operation("SolveTriangular", config=("lower",), module="linalg")
def solve_triangular(a: Any, b: Any, lower: bool = False) -> torch.Tensor:
    """The `x` with `a @ x == b` for a triangular `a` (upper unless `lower`), as `keras.ops.solve_triangular`."""
    a = _matrix(a, "solve_triangular")
    b = _right_side(a, b, "solve_triangular")
    if b.ndim == a.ndim - 1:
        return torch.linalg.solve_triangular(a, b.unsqueeze(-1), upper=not lower).squeeze(-1)
    return torch.linalg.solve_triangular(a, b, upper=not lower)


@operation("Cholesky", config=("upper",), module="linalg")
def cholesky(x: Any, upper: bool = False) -> torch.Tensor:
    """The Cholesky factor of a positive-definite matrix (lower unless `upper`), as `keras.ops.cholesky`."""
    x = _matrix(x, "cholesky")
    try:
        return torch.linalg.cholesky(x, upper=upper)
    except RuntimeError as error:
        raise ValueError(f"kr.ops.cholesky: the decomposition failed (is x positive-definite?): {error}") from None


@operation("Qr", config=("mode",), module="linalg")
def qr(x: Any, mode: str = "reduced") -> Any:
    """The QR decomposition (`mode` "reduced" or "complete"), as `keras.ops.qr`."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"kr.ops.qr: `mode` must be 'reduced' or 'complete', got {mode!r}")
    return torch.linalg.qr(_matrix(x, "qr", square=False), mode=mode)


@operation("SVD", config=("full_matrices", "compute_uv"), module="linalg")
def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """The singular value decomposition (u, s, vh), or the singular values alone, as `keras.ops.svd`."""
    x = _matrix(x, "svd", square=False)
    if not compute_uv:
        return torch.linalg.svdvals(x)
    return torch.linalg.svd(x, full_matrices=full_matrices)


@operation("Eigh", module="linalg")
def eigh(x: Any) -> Any:
    """The eigenvalues (ascending) and eigenvectors of a symmetric matrix, as `keras.ops.eigh`."""
    return torch.linalg.eigh(_matrix(x, "eigh"))


@operation("Lstsq", config=("rcond",), module="linalg")
def lstsq(a: Any, b: Any, rcond: float | None = None) -> torch.Tensor:
    """The least-squares `x` minimizing `|a @ x - b|`, as `keras.ops.lstsq`."""
    a, b = tensor(a), tensor(b)
    if a.ndim != 2:
        raise ValueError(f"kr.ops.lstsq: a must be a matrix (2 axes), got shape {tuple(a.shape)}")
    if rcond is not None:
        return torch.linalg.lstsq(a, b, rcond=rcond, driver="gelsd")[0]
    return torch.linalg.lstsq(a, b)[0]


@operation("Pinv", config=("rcond",), module="linalg")
def pinv(x: Any, rcond: float | None = None) -> torch.Tensor:
    """The Moore-Penrose pseudo-inverse (singular values below `rcond` times the largest dropped), as
    `keras.ops.pinv`."""
    return torch.linalg.pinv(_matrix(x, "pinv", square=False), rtol=rcond)


@operation("MatrixRank", config=("tol",), module="linalg")
def matrix_rank(x: Any, tol: float | None = None) -> torch.Tensor:
    """The number of singular values above `tol` (torch's default: None), int32, as `keras.ops.matrix_rank`."""
    return torch.linalg.matrix_rank(_matrix(x, "matrix_rank", square=False), atol=tol).to(torch.int32)


@operation("Eig", module="linalg")
def eig(x: Any) -> Any:
    """The (complex) eigenvalues and eigenvectors of a square matrix, as `keras.ops.eig`."""
    return torch.linalg.eig(_matrix(x, "eig"))


@operation("LuFactor", module="linalg")
def lu_factor(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """The packed LU factors and the 0-based pivots, as `keras.ops.lu_factor`."""
    factors, pivots = torch.linalg.lu_factor(_matrix(x, "lu_factor", square=False))
    return factors, pivots - 1


@operation("CholeskyInverse", config=("upper",), module="linalg")
def cholesky_inverse(x: Any, upper: bool = False) -> torch.Tensor:
    """The inverse of the matrix whose Cholesky factor is `x` (lower unless `upper`), as
    `keras.ops.cholesky_inverse`."""
    return torch.cholesky_inverse(_matrix(x, "cholesky_inverse"), upper=upper)


@operation("Logdet", module="math")
def logdet(x: Any) -> torch.Tensor:
    """The natural log of the determinant, as `keras.ops.logdet` (NaN for a negative determinant)."""
    return torch.logdet(_matrix(x, "logdet"))


@operation("Slogdet")
def slogdet(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """The sign and the log of the absolute value of the determinant, as `keras.ops.slogdet`."""
    sign, log_abs = torch.linalg.slogdet(_matrix(x, "slogdet"))
    return sign, log_abs


__all__ = ["cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "lstsq", "lu_factor", "matrix_rank", "norm",
           "pinv", "qr", "solve", "solve_triangular", "svd", "jvp"]
# `logdet` and `slogdet` are keras.ops's (not keras.ops.linalg's); kr.ops imports them from here.
