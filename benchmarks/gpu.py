"""GPU training throughput, ember on CuPy against PyTorch CUDA: ``python -m benchmarks.gpu``.

The workloads are the CPU suite's (:mod:`benchmarks.workloads`: the 784-512-256-10 MLP at batch
128 and the conv32-pool-conv64-pool-fc128-fc10 CNN at batch 64, SGD with momentum, one resident
batch); this file only puts their data and model on the GPU. Each repetition runs both frameworks
(order flipping every repetition) for about ``--seconds`` each, with the GPU synchronized before
the clock starts and before it stops, since GPU work is asynchronous. The table shows the medians
in training samples/s and the ratio ember / PyTorch (SPEC: first bar 0.8, goal 1.0).

Exits with status 2 and a message when there is no GPU (or torch has no CUDA).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import statistics
import sys
import time

if __package__ in (None, ""):  # run as a script: python benchmarks/gpu.py
    sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.dirname(
        __import__("os").path.abspath(__file__))))

from benchmarks import workloads  # noqa: E402

BARS = {"mlp": 0.8, "cnn": 0.8}
BATCH = {"mlp": workloads.MLP_BATCH, "cnn": workloads.CNN_BATCH}


@contextlib.contextmanager
def _on_device(device: str):
    """Make the CPU suite's builders put their data and model on the GPU.

    The builders wrap NumPy data with ``workloads._as_tensor`` and hand the model to
    ``workloads._train_step``; both are swapped for the duration, so the model definitions stay
    in one place.
    """
    as_tensor, train_step = workloads._as_tensor, workloads._train_step

    def gpu_tensor(fw, array):
        return as_tensor(fw, array).to(device)

    def gpu_train_step(fw, model, x, y, lr):
        return train_step(fw, model.to(device), x, y, lr)

    workloads._as_tensor, workloads._train_step = gpu_tensor, gpu_train_step
    try:
        yield
    finally:
        workloads._as_tensor, workloads._train_step = as_tensor, train_step


def _syncs(device: str):
    import torch

    import ember

    if device == "cpu":  # the --device cpu dry run of the plumbing
        return {"ember": lambda: None, "torch": lambda: None}
    return {"ember": ember.cuda.synchronize, "torch": torch.cuda.synchronize}


def _time(step, sync, inner: int) -> float:
    sync()
    t0 = time.perf_counter()
    for _ in range(inner):
        step()
    sync()
    return (time.perf_counter() - t0) / inner


def measure(kind: str, repeats: int, seconds: float, warmup: int = 5, device: str = "cuda") -> dict:
    """Median seconds per training step of ember and torch for workload ``kind``."""
    steps = {}
    for fw in ("ember", "torch"):
        with _on_device(device):
            steps[fw] = workloads.BUILDERS[kind](fw)
    syncs = _syncs(device)
    inner = {}
    for fw, step in steps.items():
        for _ in range(warmup):
            step()
        t = _time(step, syncs[fw], 3)
        inner[fw] = max(3, int(round(seconds / max(t, 1e-9))))
    samples = {fw: [] for fw in steps}
    order = list(steps)
    for r in range(repeats):
        for fw in (order if r % 2 == 0 else order[::-1]):
            gc.collect()
            samples[fw].append(_time(steps[fw], syncs[fw], inner[fw]))
    return {fw: statistics.median(s) for fw, s in samples.items()} | {"samples": samples}


def _table(rows) -> str:
    head = ("benchmark", "ember samples/s", "PyTorch samples/s", "ember/PyTorch", "first bar", "met")
    lines = [head] + rows
    widths = [max(len(r[i]) for r in lines) for i in range(len(head))]
    out = []
    for k, r in enumerate(lines):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
        if k == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7, help="alternating repetitions (median taken)")
    p.add_argument("--seconds", type=float, default=1.0, help="seconds per repetition and framework")
    p.add_argument("--quick", action="store_true", help="3 short repetitions: a smoke run, not a measurement")
    p.add_argument("--only", choices=("mlp", "cnn"), action="append", help="run only these")
    p.add_argument("--device", default="cuda",
                   help="'cuda' (default); 'cpu' only dry-runs this script's plumbing without a GPU")
    args = p.parse_args(argv)
    if args.quick:
        args.repeats, args.seconds = 3, 0.1

    import ember

    if args.device == "cpu":
        for kind in args.only or ("mlp", "cnn"):
            res = measure(kind, 1, 0.01, warmup=1, device="cpu")
            e, t = BATCH[kind] / res["ember"], BATCH[kind] / res["torch"]
            print(f"{kind}: plumbing ok (CPU dry run, not a GPU measurement): "
                  f"ember {e:,.0f}, torch {t:,.0f} samples/s")
        return 0
    if not ember.cuda.is_available():
        print("benchmarks.gpu: no GPU for ember. Install CuPy (pip install -e \".[cuda]\") on a "
              "machine with an NVIDIA GPU and driver.", file=sys.stderr)
        return 2
    import torch

    if not torch.cuda.is_available():
        print(f"benchmarks.gpu: this torch ({torch.__version__}) has no CUDA; install a CUDA build "
              "of PyTorch to compare against.", file=sys.stderr)
        return 2
    torch.backends.cudnn.benchmark = True  # torch at its best: picks the fastest conv algorithms

    rows = []
    for kind in args.only or ("mlp", "cnn"):
        res = measure(kind, args.repeats, args.seconds, device=args.device)
        e, t = BATCH[kind] / res["ember"], BATCH[kind] / res["torch"]
        ratio = e / t
        rows.append((f"{kind.upper()} training, batch {BATCH[kind]}", f"{e:,.0f}", f"{t:,.0f}",
                     f"{ratio:.2f}", f">= {BARS[kind]}", "yes" if ratio >= BARS[kind] else "NO"))
    cp = ember.backend.cupy_module()
    print(f"ember (CuPy {cp.__version__}) vs PyTorch {torch.__version__} on "
          f"{ember.cuda.get_device_name()}, float32, medians of {args.repeats} alternating "
          f"repetitions{' [QUICK: not a measurement]' if args.quick else ''}\n")
    print(_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
