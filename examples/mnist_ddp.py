"""Data-parallel MNIST: one process per core (or GPU), gradients averaged with MPI or NCCL.

    mpiexec -n 2 python examples/mnist_ddp.py                     # MLP, 2 epochs, CPU
    mpiexec -n 2 python examples/mnist_ddp.py --quick             # seconds: 4,000 images, 1 epoch
    mpiexec -n 2 python examples/mnist_ddp.py --model cnn --epochs 1
    mpiexec -n 2 python examples/mnist_ddp.py --synthetic --bench # no files needed: throughput
    mpiexec -n 2 python examples/mnist_ddp.py --backend nccl --device cuda   # 2 GPUs

Reads the MNIST files from ``<data>/mnist/`` (``--data``, else ``$EMBER_DATA``, else
``~/.cache/ember``). ``--batch-size`` is per process: the global batch is that times the number
of processes, as with PyTorch's DistributedDataParallel. ``Model.fit`` does the distributed work
itself once the process group exists: each rank trains on its shard of the data, gradients are
averaged after every backward, validation metrics are combined over all ranks, and only rank 0
prints, writes the CSV log and the checkpoint. Run with one process (``python
examples/mnist_ddp.py``) for the single-process baseline.
"""

import argparse
import os
import sys
import time

import numpy as np

import _common  # noqa: F401  (makes `import ember` work from a checkout)

import ember
import ember.distributed as dist
from ember import nn


def build(kind: str) -> ember.models.Sequential:
    """The ``"mlp"`` or ``"cnn"`` network, without dropout (unlike ``ember.lab``'s)."""
    if kind == "mlp":
        return ember.models.Sequential(
            nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    return ember.models.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def load(args):
    """(x_train, y_train, x_test, y_test) as NumPy arrays; the same on every rank (each rank's
    ``fit`` takes its own shard)."""
    flat = args.model == "mlp"
    if args.synthetic:
        rng = np.random.default_rng(0)
        n = args.limit or 8192
        shape = (784,) if flat else (1, 28, 28)
        x = rng.random((n + 1000,) + shape, dtype=np.float32)
        y = rng.integers(0, 10, n + 1000)
        return x[:n], y[:n], x[n:], y[n:]
    from ember.datasets import MNIST

    train = MNIST(root=args.data, train=True)
    test = MNIST(root=args.data, train=False)
    xt, yt = (np.asarray(t) for t in train.tensors(flatten=flat))
    xv, yv = (np.asarray(t) for t in test.tensors(flatten=flat))
    if args.limit:
        xt, yt = xt[:args.limit], yt[:args.limit]
        xv, yv = xv[:max(args.limit // 6, 1)], yv[:max(args.limit // 6, 1)]
    return xt, yt, xv, yv


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64, help="per process")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--limit", type=int, default=0, help="use only this many training images")
    parser.add_argument("--quick", action="store_true", help="--limit 4000 --epochs 1")
    parser.add_argument("--synthetic", action="store_true", help="random data of MNIST's shape")
    parser.add_argument("--bench", action="store_true",
                        help="print training throughput (samples/s over all ranks)")
    parser.add_argument("--data", default=None, help="folder holding mnist/")
    parser.add_argument("--backend", choices=["mpi", "nccl"], default="mpi")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=os.path.join("runs", "mnist_ddp"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        args.limit, args.epochs = args.limit or 4000, 1

    dist.init_process_group(args.backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    ember.manual_seed(args.seed)  # rank 0's initial weights are broadcast by fit anyway
    try:
        xt, yt, xv, yv = load(args)
    except ember.datasets.DatasetFileError as e:
        if rank == 0:
            print(f"error: {e}\n(or run with --synthetic)", file=sys.stderr)
        dist.destroy_process_group()
        return 2

    model = build(args.model)
    model.to(args.device)
    model.compile(optimizer=ember.optim.Adam(model.parameters(), lr=args.lr),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    os.makedirs(args.out, exist_ok=True)
    callbacks = [ember.callbacks.CSVLogger(os.path.join(args.out, "history.csv")),
                 ember.callbacks.ModelCheckpoint(os.path.join(args.out, "best.safetensors"),
                                                 monitor="val_loss", save_best_only=True)]
    if rank == 0:
        print(f"{world} process(es), backend {args.backend}, {args.model}, "
              f"{len(xt)} training images, batch {args.batch_size} per process "
              f"(global {args.batch_size * world})")
    dist.barrier()
    start = time.perf_counter()
    model.fit(xt, yt, batch_size=args.batch_size, epochs=args.epochs,
              validation_data=(xv, yv), callbacks=callbacks, verbose=2)
    dist.barrier()
    elapsed = time.perf_counter() - start
    result = model.evaluate(xv, yv, batch_size=256, verbose=0, return_dict=True)
    if rank == 0:
        print(f"test loss {result['loss']:.4f}, accuracy {result['accuracy']:.4f}")
        if args.bench:
            # padded shards: every rank runs ceil(n / world) samples per epoch
            samples = -(-len(xt) // world) * world * args.epochs
            print(f"throughput: {samples / elapsed:.0f} samples/s ({world} process(es), "
                  f"{elapsed:.2f} s for {args.epochs} epoch(s), validation included)")
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
