"""ember's benchmark suite, measured side by side with PyTorch. Run ``python -m benchmarks``.

This package must not import NumPy or PyTorch at import time: the runner sets the thread-count
environment variables first.
"""
