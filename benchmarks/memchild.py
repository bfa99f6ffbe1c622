"""Subprocess for the peak-memory benchmark: N MLP training steps with ONE framework loaded.

    python -m benchmarks.memchild ember 200
"""

import os
import sys


def main() -> None:
    fw, steps = sys.argv[1], int(sys.argv[2])
    from benchmarks import workloads

    if fw == "torch":
        import torch

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1)))
    step = workloads.build_mlp(fw)
    for _ in range(steps):
        step()


if __name__ == "__main__":
    main()
