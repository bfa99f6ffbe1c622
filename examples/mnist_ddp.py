"""Data-parallel MNIST: one process per core (or GPU), gradients averaged with MPI or NCCL.

    mpiexec -n 2 python examples/mnist_ddp.py                     # MLP, 2 epochs, CPU
    mpiexec -n 2 python examples/mnist_ddp.py --quick             # seconds: 4,000 images, 1 epoch
    mpiexec -n 2 python examples/mnist_ddp.py --model cnn --epochs 1
    mpiexec -n 2 python examples/mnist_ddp.py --synthetic --bench # no files needed: throughput
    mpiexec -n 2 python examples/mnist_ddp.py --backend nccl --device cuda   # 2 GPUs

Reads the MNIST files from ``<data>/mnist/`` (``--data``, else ``$EMBER_DATA``, else
``~/.cache/ember``), downloading them (checksummed) when they are missing. Validates after
every epoch on 5,000 training images held out from training; the test set is evaluated once,
at the end. ``--batch-size`` is per process: the global batch is that times the number
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
    """``(x_train, y_train), (x_val, y_val), (x_test, y_test)`` as NumPy arrays, the same on
    every rank (each rank's ``fit`` takes its own shard). The validation images are held out
    from the training set (its last 5,000, as the lab does); the test set is used once, at
    the end."""
    flat = args.model == "mlp"
    if args.synthetic:
        rng = np.random.default_rng(0)
        n = args.limit or 8192
        shape = (784,) if flat else (1, 28, 28)
        x = rng.random((n + 2000,) + shape, dtype=np.float32)
        y = rng.integers(0, 10, n + 2000)
        return (x[:n], y[:n]), (x[n:n + 1000], y[n:n + 1000]), (x[n + 1000:], y[n + 1000:])
    from ember.datasets import MNIST

    # --data, then $EMBER_DATA, then the cache; downloaded (checksummed) when missing. Rank 0
    # alone fetches (two ranks must not download the same file) and tells the others where
    # the files are, or why there are none, so that every rank stops alike.
    found = [None]
    if dist.get_rank() == 0:
        try:
            found[0] = ("ok", str(MNIST.fetch(args.data, option="--data DIR")))
        except ember.datasets.DatasetFileError as e:
            found[0] = ("error", str(e))
    dist.broadcast_object_list(found, src=0)
    status, root = found[0]
    if status == "error":
        raise ember.datasets.DatasetFileError(root)
    x, y = (np.asarray(t) for t in MNIST(root=root, train=True).tensors(flatten=flat))
    xt, yt = (np.asarray(t) for t in MNIST(root=root, train=False).tensors(flatten=flat))
    held_out = 5000
    if args.limit:
        held_out = max(args.limit // 6, 1)
        x, y = np.concatenate([x[:args.limit], x[-held_out:]]), np.concatenate(
            [y[:args.limit], y[-held_out:]])
        xt, yt = xt[:held_out], yt[:held_out]
    cut = len(x) - held_out
    return (x[:cut], y[:cut]), (x[cut:], y[cut:]), (xt, yt)


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

    try:
        dist.init_process_group(args.backend)
    except ImportError as e:  # no mpi4py: the one thing this example needs
        print(f"error: {e}", file=sys.stderr)
        return 2
    rank, world = dist.get_rank(), dist.get_world_size()
    ember.manual_seed(args.seed)  # rank 0's initial weights are broadcast by fit anyway
    try:
        (xt, yt), (xv, yv), (x_test, y_test) = load(args)
    except ember.datasets.DatasetFileError as e:
        if rank == 0:
            print(f"error: {e} (or run with --synthetic)", file=sys.stderr)
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
              f"{len(xt)} training / {len(xv)} held-out validation / {len(x_test)} test images, "
              f"batch {args.batch_size} per process "
              f"(global {args.batch_size * world})")
    dist.barrier()
    start = time.perf_counter()
    model.fit(xt, yt, batch_size=args.batch_size, epochs=args.epochs,
              validation_data=(xv, yv), callbacks=callbacks, verbose=2)
    dist.barrier()
    elapsed = time.perf_counter() - start
    result = model.evaluate(x_test, y_test, batch_size=256, verbose=0, return_dict=True)
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
