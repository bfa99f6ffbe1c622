"""``ember.linalg``: PyTorch's ``torch.linalg`` on NumPy/CuPy arrays.

Every function takes a matrix ``(m, n)`` or a batch of them ``(*, m, n)`` in float32 or float64
and follows ``torch.linalg``'s names, argument names, defaults and errors. This package is only
the public face: the ops, their gradients and the LAPACK calls live in
:mod:`ember.ops.linalg_decomp` (decompositions, solvers, norms) and :mod:`ember.ops.linalg`
(matmul and the products).
"""

from ember.ops.linalg_decomp import (  # noqa: F401
    EighResult,
    LinAlgError,
    QRResult,
    SlogdetResult,
    SVDResult,
    cholesky,
    cond,
    cross,
    linalg_det as det,
    diagonal,
    eigh,
    eigvalsh,
    inv,
    matmul,
    matrix_norm,
    matrix_power,
    matrix_rank,
    multi_dot,
    norm,
    pinv,
    qr,
    slogdet,
    solve,
    svd,
    svdvals,
    vecdot,
    vector_norm,
)

__all__ = [
    "LinAlgError", "vector_norm", "matrix_norm", "norm", "inv", "det", "slogdet", "solve",
    "cholesky", "qr", "eigh", "eigvalsh", "svd", "svdvals", "pinv", "matrix_power",
    "matrix_rank", "cross", "multi_dot", "vecdot", "matmul", "diagonal", "cond",
]
