"""Throughput of data-parallel training, for docs/distributed.md (not run by the test suite).

    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 python tests/distributed/bench_ddp.py        # 1 x 2
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 mpiexec -n 2 python tests/distributed/bench_ddp.py

Times SGD steps of the MLP 784-512-256-10 (and optionally the MNIST CNN) with a fixed global
batch, split across the processes, then times the gradient all-reduce alone (the model's
gradients as one flat float32 buffer) to separate computing from communicating.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

import ember  # noqa: E402
import ember.distributed as dist  # noqa: E402
from ember import nn  # noqa: E402
from ember.nn.parallel import DistributedDataParallel as DDP  # noqa: E402


def build(kind: str):
    if kind == "mlp":
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                             nn.Linear(256, 10)), (784,)
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(),
                         nn.Linear(128, 10)), (1, 28, 28)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    ap.add_argument("--global-batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args()

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    ember.manual_seed(0)
    model, shape = build(args.model)
    ddp = DDP(model)
    opt = ember.optim.SGD(ddp.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    per = args.global_batch // world
    rng = np.random.default_rng(rank)
    x = ember.tensor(rng.random((per,) + shape, dtype=np.float32))
    y = ember.tensor(rng.integers(0, 10, per))

    def step():
        loss_fn(ddp(x), y).backward()
        opt.step()
        opt.zero_grad()

    for _ in range(args.warmup):
        step()
    dist.barrier()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    dist.barrier()
    step_s = (time.perf_counter() - t0) / args.steps

    nparams = sum(p.numel() for p in model.parameters())
    flat = ember.zeros(nparams)
    for _ in range(3):
        dist.all_reduce(flat)
    dist.barrier()
    t0 = time.perf_counter()
    reps = 50
    for _ in range(reps):
        dist.all_reduce(flat, dist.ReduceOp.AVG)
    ar_s = (time.perf_counter() - t0) / reps

    if rank == 0:
        threads = os.environ.get("OMP_NUM_THREADS", "?")
        print(f"{args.model}: {world} process(es) x {threads} thread(s), global batch "
              f"{args.global_batch}: {step_s * 1e3:.2f} ms/step, "
              f"{args.global_batch / step_s:.0f} samples/s; {nparams} params "
              f"({nparams * 4 / 2**20:.2f} MiB), {len(ddp.reducer.buckets)} bucket(s); "
              f"all-reduce of all gradients alone: {ar_s * 1e3:.3f} ms")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
