"""``ember.linalg``: PyTorch's ``torch.linalg`` on NumPy/CuPy arrays.

Every function takes a matrix ``(m, n)`` or a batch of them ``(*, m, n)`` in float32 or float64
and follows ``torch.linalg``'s names, argument names, defaults and errors. This package is only
the public face: the ops, their gradients and the LAPACK calls live in
:mod:`ember.ops.linalg_decomp` (decompositions, solvers, norms) and :mod:`ember.ops.linalg`
(matmul and the products).
"""

from ember.ops.linalg_decomp import (  # noqa: F401
    CholeskyExResult,
    EighResult,
    InvExResult,
    LinAlgError,
    LstsqResult,
    LUFactorExResult,
    LUFactorResult,
    LUResult,
    SolveExResult,
    QRResult,
    SlogdetResult,
    SVDResult,
    cholesky,
    cholesky_ex,
    cond,
    cross,
    det,
    diagonal,
    eigh,
    eigvalsh,
    householder_product,
    inv,
    inv_ex,
    linalg_vander as vander,
    lstsq,
    lu,
    lu_factor,
    lu_factor_ex,
    lu_solve,
    matmul,
    matrix_exp,
    matrix_norm,
    matrix_power,
    matrix_rank,
    multi_dot,
    norm,
    pinv,
    qr,
    slogdet,
    solve,
    solve_ex,
    solve_triangular,
    svd,
    svdvals,
    tensorinv,
    tensorsolve,
    vecdot,
    vector_norm,
)

__all__ = [
    "LinAlgError", "vector_norm", "matrix_norm", "norm", "inv", "det", "slogdet", "solve",
    "cholesky", "qr", "eigh", "eigvalsh", "svd", "svdvals", "pinv", "matrix_power",
    "matrix_rank", "cross", "multi_dot", "vecdot", "matmul", "diagonal", "cond",
    "cholesky_ex", "inv_ex", "solve_ex", "solve_triangular", "lu", "lu_factor", "lu_factor_ex",
    "lu_solve", "lstsq", "matrix_exp", "vander", "householder_product", "tensorinv",
    "tensorsolve",
]
