"""Where the time of one CNN training step goes, phase by phase, in ember and in PyTorch.

    python -m benchmarks.profile_cnn [--threads 1] [--steps 30] [--batch 64]

The model and step are the ``cnn`` benchmark's (``benchmarks/workloads.py``): c32-p-c64-p-fc128-fc10,
SGD with momentum, batch 64. Forward phases are timed layer by layer around each module's call.
Backward phases: in ember every node's backward closure is wrapped with a timer (keyed by the op's
name); in PyTorch ``torch.profiler`` reports the time of each autograd node. Figures are medians of
milliseconds per step over ``--steps`` steps (after warm-up), so the columns add up only roughly.
Both frameworks run in this one process, so PyTorch runs with the malloc thresholds ``import
ember`` sets (ember/_malloc.py), and its profiler adds its own cost: compare phases within a
column; ``python -m benchmarks`` gives the ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict

# Wall-clock by default; ``--clock cpu`` uses this process's CPU time, which other busy processes
# on a shared machine disturb far less (meaningful with one thread).
_now = time.perf_counter


def _parse(argv):
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile_cnn", description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads for both frameworks")
    p.add_argument("--steps", type=int, default=30, help="timed steps per framework")
    p.add_argument("--batch", type=int, default=None, help="64 for the CNN, 128 for the MLP")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall-clock time, or this process's CPU time (for a busy machine, 1 thread)")
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="sgd",
                   help="the update rule of the step (the benchmark's is SGD with momentum)")
    return p.parse_args(argv)


# The optimizers a profile may step with, built the same way in both frameworks.
OPTIMIZERS = {
    "sgd": lambda fw, params: fw.optim.SGD(params, lr=0.01, momentum=0.9),
    "adam": lambda fw, params: fw.optim.Adam(params, lr=1e-3),
    "adamw": lambda fw, params: fw.optim.AdamW(params, lr=1e-3),
    "rmsprop": lambda fw, params: fw.optim.RMSprop(params, lr=1e-3),
}


def _layers(fw):
    nn = fw.nn
    return [
        ("conv1 forward", nn.Conv2d(1, 32, 3)), ("relu1 forward", nn.ReLU()),
        ("pool1 forward", nn.MaxPool2d(2)),
        ("conv2 forward", nn.Conv2d(32, 64, 3)), ("relu2 forward", nn.ReLU()),
        ("pool2 forward", nn.MaxPool2d(2)),
        ("flatten forward", nn.Flatten()),
        ("fc1 forward", nn.Linear(1600, 128)), ("relu3 forward", nn.ReLU()),
        ("fc2 forward", nn.Linear(128, 10)),
    ]


def _data(fw, batch):
    import numpy as np

    rng = np.random.default_rng(0)
    x = fw.from_numpy(rng.standard_normal((batch, 1, 28, 28), dtype=np.float32))
    y = fw.from_numpy(rng.integers(0, 10, size=batch).astype(np.int64))
    return x, y


def _wrap_ember_graph(root, times):
    """Wrap every node's backward reachable from ``root`` with a timer accumulating into ``times``."""
    from ember.autograd.graph import Node

    seen = set()
    stack = [root._node]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen or type(node) is not Node:
            continue
        seen.add(id(node))
        fn, name = node.backward, node.name

        def timed(g, needs, _fn=fn, _name=name):
            t0 = _now()
            out = _fn(g, needs)
            times[_name + " backward"] += _now() - t0
            return out

        def timed_old(g, _fn=fn, _name=name):  # a closure still on the one-argument contract
            t0 = _now()
            out = _fn(g)
            times[_name + " backward"] += _now() - t0
            return out

        code = getattr(fn, "__code__", None)
        one_arg = code is not None and code.co_argcount - len(fn.__defaults__ or ()) == 1
        node.backward = timed_old if one_arg else timed
        stack.extend(node.inputs)


def _ember_step(layers, x, y, optimizer="sgd"):
    import ember

    params = [p for _, m in layers for p in m.parameters()]
    opt = OPTIMIZERS[optimizer](ember, params)
    loss_fn = ember.nn.CrossEntropyLoss()

    def step():
        times = defaultdict(float)
        t_start = _now()
        h = x
        for name, m in layers:
            t0 = _now()
            h = m(h)
            times[name] += _now() - t0
        t0 = _now()
        loss = loss_fn(h, y)
        times["cross-entropy forward"] += _now() - t0
        _wrap_ember_graph(loss, times)
        t0 = _now()
        loss.backward()
        times["backward (total)"] += _now() - t0
        t0 = _now()
        opt.step()
        opt.zero_grad()
        times["optimizer step + zero_grad"] += _now() - t0
        times["step (total)"] = _now() - t_start
        return times

    return step


def _torch_step(layers, x, y, optimizer="sgd"):
    import torch

    params = [p for _, m in layers for p in m.parameters()]
    opt = OPTIMIZERS[optimizer](torch, params)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        times = defaultdict(float)
        t_start = _now()
        h = x
        for name, m in layers:
            t0 = _now()
            h = m(h)
            times[name] += _now() - t0
        t0 = _now()
        loss = loss_fn(h, y)
        times["cross-entropy forward"] += _now() - t0
        t0 = _now()
        loss.backward()
        times["backward (total)"] += _now() - t0
        t0 = _now()
        opt.step()
        opt.zero_grad()
        times["optimizer step + zero_grad"] += _now() - t0
        times["step (total)"] = _now() - t_start
        return times

    return step


def _torch_node_times(layers, x, y, steps):
    """Milliseconds per step of each PyTorch autograd node, from ``torch.profiler``."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    loss_fn = torch.nn.CrossEntropyLoss()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            h = x
            for _, m in layers:
                h = m(h)
            loss_fn(h, y).backward()
    prefix = "autograd::engine::evaluate_function: "
    return {ev.key[len(prefix):] + " backward": ev.cpu_time_total / 1e6 / steps
            for ev in prof.key_averages() if ev.key.startswith(prefix)}


def run(steps: int, batch: int, optimizer: str = "sgd", layers=None, data=None):
    """Per-step phase times of both frameworks, alternating one step of each (after warm-up).

    ``layers(fw)`` and ``data(fw, batch)`` default to the CNN's (another model's profile passes
    its own)."""
    import torch

    import ember

    layers, data = layers or _layers, data or _data
    ember.manual_seed(0)
    torch.manual_seed(0)
    e_layers, t_layers = layers(ember), layers(torch)
    e_step = _ember_step(e_layers, *data(ember, batch), optimizer)
    t_step = _torch_step(t_layers, *data(torch, batch), optimizer)
    for _ in range(3):
        e_step()
        t_step()
    e_times, t_times = [], []
    for i in range(steps):
        for fw in (("e", "t") if i % 2 == 0 else ("t", "e")):
            (e_times if fw == "e" else t_times).append(e_step() if fw == "e" else t_step())
    t_nodes = _torch_node_times(t_layers, *data(torch, batch), max(5, steps // 3))
    return e_layers, e_times, t_times, t_nodes


def _median(per_step, key):
    return statistics.median(t.get(key, 0.0) for t in per_step) * 1e3


def main(argv=None, model: str = "CNN", layers=None, data=None, default_batch: int = 64) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    if args.batch is None:
        args.batch = default_batch
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    if args.clock == "cpu":
        global _now
        _now = time.process_time
    e_layers, e_steps, t_steps, t_nodes = run(args.steps, args.batch, args.optimizer, layers, data)

    fwd = [name for name, _ in e_layers] + ["cross-entropy forward"]
    rows = [(k, _median(e_steps, k), _median(t_steps, k)) for k in fwd]
    e_bwd = sorted({k for t in e_steps for k in t if k.endswith(" backward")},
                   key=lambda k: -_median(e_steps, k))
    rows += [(k, _median(e_steps, k), None) for k in e_bwd]
    rows += [(k, None, v * 1e3) for k, v in sorted(t_nodes.items(), key=lambda kv: -kv[1])]
    rows += [(k, _median(e_steps, k), _median(t_steps, k))
             for k in ("backward (total)", "optimizer step + zero_grad", "step (total)")]
    uptime = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{model} training step, batch {args.batch}, {args.optimizer}, {args.threads} thread(s), "
          f"median {args.clock} ms over {args.steps} steps; load average {uptime:.2f}")
    print(f"{'phase':<44} {'ember ms':>9} {'torch ms':>9}")
    for name, e, t in rows:
        es = f"{e:9.3f}" if e is not None else " " * 9
        ts = f"{t:9.3f}" if t is not None else " " * 9
        print(f"{name:<44} {es} {ts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
