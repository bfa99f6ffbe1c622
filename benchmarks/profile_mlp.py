"""Where the time of one MLP training step goes, phase by phase, in ember and in PyTorch.

    python -m benchmarks.profile_mlp [--threads 1] [--steps 30] [--batch 128] [--optimizer adam]
    python -m benchmarks.profile_mlp --gemms [--threads 2] [--batch 128] [--clock cpu]

The model is the ``mlp`` benchmark's (784-512-256-10 with ReLU, batch 128, cross-entropy); the
step and the way each phase is timed are :mod:`benchmarks.profile_cnn`'s: forward layer by layer,
backward node by node (``torch.profiler`` for PyTorch), then the optimizer's step.

``--gemms`` times instead the step's eight matrix products one by one, ember's as its ops compute
them (NumPy's BLAS) and PyTorch's on its own, alternating: the part of the gap that is the BLAS's.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from benchmarks import profile_cnn


def _layers(fw):
    nn = fw.nn
    return [
        ("fc1 forward", nn.Linear(784, 512)), ("relu1 forward", nn.ReLU()),
        ("fc2 forward", nn.Linear(512, 256)), ("relu2 forward", nn.ReLU()),
        ("fc3 forward", nn.Linear(256, 10)),
    ]


def _data(fw, batch):
    import numpy as np

    rng = np.random.default_rng(0)
    x = fw.from_numpy(rng.standard_normal((batch, 784), dtype=np.float32))
    y = fw.from_numpy(rng.integers(0, 10, size=batch).astype(np.int64))
    return x, y


def _products(batch: int):
    """``{name: (ember_fn, torch_fn)}``: each product of one training step, with its operands,
    as ember's ``linear`` and its gradient ops compute them (NumPy's BLAS, row-major results)."""
    import numpy as np
    import torch

    rng = np.random.default_rng(0)
    sizes = (784, 512, 256, 10)
    ws = [rng.standard_normal((o, i), dtype=np.float32) for i, o in zip(sizes[:-1], sizes[1:])]
    acts = [rng.standard_normal((batch, 784), dtype=np.float32)]
    for w in ws:
        acts.append(acts[-1] @ w.T)
    grads = [None, None, None, rng.standard_normal((batch, 10), dtype=np.float32)]
    for k in (3, 2):  # the gradient reaching layer k-1's output
        grads[k - 1] = grads[k] @ ws[k - 1]
    t = torch.from_numpy
    tw, ta = [t(w) for w in ws], [t(a) for a in acts]
    tg = [None] + [t(g) for g in grads[1:]]
    out = {}
    for k in (1, 2, 3):
        w, a, g = ws[k - 1], acts[k - 1], grads[k]
        out[f"fc{k} forward  x @ W{k}.T"] = (
            lambda a=a, w=w: a @ w.T,
            lambda a=ta[k - 1], w=tw[k - 1]: torch.nn.functional.linear(a, w))
        out[f"fc{k} grad W  g.T @ x"] = (lambda g=g, a=a: g.T @ a,
                                          lambda g=tg[k], a=ta[k - 1]: g.t() @ a)
        if k > 1:
            out[f"fc{k} grad x  g @ W{k}"] = (lambda g=g, w=w: g @ w,
                                              lambda g=tg[k], w=tw[k - 1]: g @ w)
    return out


def _time(fn, now, target_s: float = 0.02) -> float:
    fn()
    t0 = time.perf_counter()
    fn()
    inner = max(1, int(target_s / max(time.perf_counter() - t0, 1e-7)))
    t0 = now()
    for _ in range(inner):
        fn()
    return (now() - t0) / inner


def gemms(threads: int, batch: int, clock: str = "wall", repeats: int = 15) -> int:
    """Print the median time of each product of the step in ember (NumPy's BLAS) and PyTorch,
    by wall clock or (``clock="cpu"``, meaningful with one thread) this process's CPU time."""
    now = time.process_time if clock == "cpu" else time.perf_counter
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    import torch

    torch.set_num_threads(threads)
    products = _products(batch)
    print(f"MLP step's matrix products, batch {batch}, {threads} thread(s), median us of "
          f"{repeats} alternating repetitions ({clock} clock); load average {os.getloadavg()[0]:.2f}")
    print(f"{'product':<28} {'ember us':>9} {'torch us':>9} {'ratio':>6}")
    totals = [0.0, 0.0]
    for name, (e_fn, t_fn) in products.items():
        samples = ([], [])
        for r in range(repeats):
            for i in ((0, 1) if r % 2 == 0 else (1, 0)):
                samples[i].append(_time((e_fn, t_fn)[i], now))
        e, t = (statistics.median(s) * 1e6 for s in samples)
        totals[0] += e
        totals[1] += t
        print(f"{name:<28} {e:9.1f} {t:9.1f} {e / t:6.2f}")
    print(f"{'all products':<28} {totals[0]:9.1f} {totals[1]:9.1f} {totals[0] / totals[1]:6.2f}")
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--gemms" in argv:
        argv.remove("--gemms")
        args = profile_cnn._parse(argv)
        return gemms(args.threads, args.batch or 128, args.clock)
    return profile_cnn.main(argv, model="MLP 784-512-256-10", layers=_layers, data=_data,
                            default_batch=128)


if __name__ == "__main__":
    sys.exit(main())
