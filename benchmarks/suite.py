"""The measurements behind ``python -m benchmarks`` (imported only after thread settings are made).

Each benchmark returns a dict: ``name``, ``what``, ``unit``, ``ember``, ``torch``, ``ratio``
(ember / PyTorch), ``better`` (``"higher"`` or ``"lower"``), ``bar`` (the SPEC's first bar on the
ratio), ``met``, the raw per-repetition ``samples``, and ``error`` when it could not run.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback

import numpy as np
import torch

from benchmarks import workloads
from benchmarks.isolated import alternate_isolated

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMEWORKS = ("ember", "torch")


def _setup_torch(threads: int) -> None:
    torch.set_num_threads(threads)


# ------------------------------------------------------------------------------------- timing


# The clock of the timed repetitions: wall clock, or with ``--clock cpu`` the measuring process's
# CPU time (``time.process_time``), which other busy processes disturb far less; meaningful with
# one thread only (with more, it adds up the threads' time instead of measuring how long a step
# takes). The children of benchmarks/isolated.py read it from each ``run`` command.
CLOCK = {"name": "wall", "now": time.perf_counter}


def set_clock(name: str) -> None:
    """Time the benchmarks with ``"wall"`` clock or ``"cpu"`` (process CPU) time."""
    if name not in ("wall", "cpu"):
        raise ValueError(f"clock must be 'wall' or 'cpu', got {name!r}")
    CLOCK.update(name=name, now=time.perf_counter if name == "wall" else time.process_time)


def _result(name, what, unit, better, bar, ember_v, torch_v, samples=None, note="", info=False):
    ratio = ember_v / torch_v if torch_v else float("nan")
    if better == "higher":
        met = ratio >= bar
    else:
        met = ratio <= bar
    return {"name": name, "what": what, "unit": unit, "better": better, "bar": bar,
            "ember": ember_v, "torch": torch_v, "ratio": ratio, "met": bool(met),
            "samples": samples or {}, "note": note, "error": None, "info": info}


# --------------------------------------------------------------------------------- benchmarks


def _alternate_processes(workload: str, kwargs: dict, repeats: int, target_s: float,
                         warmup: int, env: dict | None = None) -> dict:
    """Median seconds per call of each framework's ``workload`` step, each framework in a process
    of its own, over alternating repetitions (benchmarks/isolated.py)."""
    return alternate_isolated(workload, kwargs, FRAMEWORKS, repeats, target_s, warmup,
                              CLOCK["name"], env)


# glibc's environment spelling of the malloc settings ``import ember`` makes (ember/_malloc.py).
EMBER_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(64 << 20)}


def bench_cnn_same_malloc(repeats: int, quick: bool) -> dict:
    """The CNN benchmark with PyTorch's process given ember's malloc settings: how much of the
    ratio is the allocator's."""
    batch = workloads.CNN_BATCH
    res = _alternate_processes("cnn", {}, repeats, target_s=0.03 if quick else 0.4,
                               warmup=1 if quick else 5, env={"torch": EMBER_MALLOC_ENV})
    return _result("cnn_malloc", "CNN train, PyTorch given ember's malloc thresholds",
                   "samples/s", "higher", 0.5, batch / res["ember"][0], batch / res["torch"][0],
                   {fw: [batch / t for t in res[fw][1]] for fw in FRAMEWORKS}, info=True)


def bench_train(kind: str, repeats: int, quick: bool) -> dict:
    batch = workloads.MLP_BATCH if kind == "mlp" else workloads.CNN_BATCH
    res = _alternate_processes(kind, {}, repeats, target_s=0.03 if quick else 0.4,
                               warmup=1 if quick else 5)
    per_s = {fw: batch / res[fw][0] for fw in FRAMEWORKS}
    what = ("MLP 784-512-256-10 train, batch 128" if kind == "mlp"
            else "CNN c32-p-c64-p-fc128-fc10 train, batch 64")
    return _result(kind, what, "samples/s", "higher", 1.0 if kind == "mlp" else 0.5,
                   per_s["ember"], per_s["torch"],
                   {fw: [batch / t for t in res[fw][1]] for fw in FRAMEWORKS})


def bench_chain(shape, repeats: int, quick: bool) -> dict:
    length = workloads.CHAIN_LENGTH
    res = _alternate_processes("chain", {"shape": list(shape), "length": length}, repeats,
                               target_s=0.02 if quick else 0.25, warmup=1 if quick else 3)
    per_op = {fw: res[fw][0] / length * 1e6 for fw in FRAMEWORKS}
    name = "chain" + "x".join(str(s) for s in shape)
    return _result(name, f"small-op fwd+bwd, chain of {length}, shape {tuple(shape)}",
                   "us/op", "lower", 1.0, per_op["ember"], per_op["torch"],
                   {fw: [t / length * 1e6 for t in res[fw][1]] for fw in FRAMEWORKS})


def _child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def bench_import(repeats: int, quick: bool) -> dict:
    code = ("import time; t = time.perf_counter(); import {m}; "
            "print(time.perf_counter() - t)")
    samples = {fw: [] for fw in FRAMEWORKS}
    env = _child_env()
    for r in range(repeats):
        for fw in (FRAMEWORKS if r % 2 == 0 else FRAMEWORKS[::-1]):
            out = subprocess.run([sys.executable, "-c", code.format(m=fw)], env=env, cwd=ROOT,
                                 capture_output=True, text=True, check=True)
            samples[fw].append(float(out.stdout.strip().splitlines()[-1]) * 1e3)
    med = {fw: statistics.median(s) for fw, s in samples.items()}
    return _result("import", "import time (fresh process)", "ms", "lower", 1.0,
                   med["ember"], med["torch"], samples)


_MEM_WRAPPER = (
    "import resource, subprocess, sys\n"
    "subprocess.run([sys.executable, '-m', 'benchmarks.memchild'] + sys.argv[1:], check=True)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def bench_memory(repeats: int, quick: bool) -> dict:
    steps = 5 if quick else 100
    samples = {fw: [] for fw in FRAMEWORKS}
    env = _child_env()
    for r in range(repeats):
        for fw in (FRAMEWORKS if r % 2 == 0 else FRAMEWORKS[::-1]):
            out = subprocess.run([sys.executable, "-c", _MEM_WRAPPER, fw, str(steps)], env=env,
                                 cwd=ROOT, capture_output=True, text=True)
            if out.returncode:
                raise RuntimeError(f"memory child for {fw} failed:\n{out.stderr[-2000:]}")
            samples[fw].append(int(out.stdout.strip().splitlines()[-1]) / 1024)  # KiB -> MiB
    med = {fw: statistics.median(s) for fw, s in samples.items()}
    return _result("memory", f"peak RSS, {steps} MLP train steps", "MiB", "lower", 1.0,
                   med["ember"], med["torch"], samples)


def matmul_peak(quick: bool) -> float:
    """The machine's float32 matmul rate (FLOP/s) with NumPy's BLAS, median of several runs."""
    n = 512 if quick else 2048
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty((n, n), dtype=np.float32)
    np.matmul(a, b, out=c)
    times = []
    for _ in range(3 if quick else 7):
        t0 = time.perf_counter()
        np.matmul(a, b, out=c)
        times.append(time.perf_counter() - t0)
    return 2 * n ** 3 / statistics.median(times)


def bench_flops(mlp: dict | None, repeats: int, quick: bool) -> dict:
    if mlp is None or mlp.get("error"):
        mlp = bench_train("mlp", repeats, quick)
    peak = matmul_peak(quick)
    per_sample = workloads.mlp_flops_per_step() / workloads.MLP_BATCH
    frac = {fw: mlp[fw] * per_sample / peak for fw in FRAMEWORKS}
    return _result("flops", "MLP matmul FLOP/s / NumPy fp32 matmul peak", "fraction", "higher", 1.0,
                   frac["ember"], frac["torch"], info=True,
                   note=f"peak {peak / 1e9:.1f} GFLOP/s; MLP step = "
                        f"{workloads.mlp_flops_per_step() / 1e6:.0f} MFLOP")


def bench_gemm(repeats: int, quick: bool) -> dict:
    """The MLP's largest matrix product alone (``workloads.build_gemm``), each framework in its own
    process: how fast each framework's BLAS is here, apart from everything ember does."""
    res = _alternate_processes("gemm", {}, repeats, target_s=0.02 if quick else 0.2,
                               warmup=1 if quick else 5)
    us = {fw: res[fw][0] * 1e6 for fw in FRAMEWORKS}
    return _result("gemm", "GEMM 128x784 @ 784x512 alone (BLAS)", "us", "lower", 1.0,
                   us["ember"], us["torch"], {fw: [t * 1e6 for t in res[fw][1]] for fw in FRAMEWORKS},
                   info=True)


def bench_mlp_numpy(repeats: int, quick: bool) -> dict:
    """The MLP step written directly in NumPy, against PyTorch's, each in its own process: the
    ceiling of any NumPy-based framework on this machine (what is left of the MLP gap once
    framework code is out)."""
    res = _alternate_processes("mlp_numpy", {}, repeats, target_s=0.03 if quick else 0.4,
                               warmup=1 if quick else 5)
    batch = workloads.MLP_BATCH
    per_s = {fw: batch / res[fw][0] for fw in FRAMEWORKS}
    return _result("mlp_numpy", "MLP train step in raw NumPy (no framework) vs PyTorch",
                   "samples/s", "higher", 1.0, per_s["ember"], per_s["torch"],
                   {fw: [batch / t for t in res[fw][1]] for fw in FRAMEWORKS}, info=True)


# ---------------------------------------------------------------------------------- the suite


# A benchmark during which other processes used more than this many cores (on average) is
# marked as taken on a busy machine: its ratio is not a measurement of ember against PyTorch.
BUSY_CORES = 0.25


def _busy_cpus() -> float:
    """Runnable processes other than this one, from /proc/loadavg (``nan`` where unknown)."""
    try:
        with open("/proc/loadavg") as f:
            running = int(f.read().split()[3].split("/")[0])
        return float(running - 1)
    except (OSError, ValueError, IndexError):
        return float("nan")


class CpuMeter:
    """How many cores processes other than this one (and its children) kept busy since the meter
    was started: all CPU time from /proc/stat (steal included) minus this process's own."""

    def __init__(self):
        self.start = self._sample()

    @staticmethod
    def _sample():
        t = os.times()
        own = t.user + t.system + t.children_user + t.children_system
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:9]]
            # user nice system idle iowait irq softirq steal: all but idle and iowait are busy
            machine = (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            machine = float("nan")
        return time.perf_counter(), own, machine

    def other_cores(self) -> float:
        wall0, own0, machine0 = self.start
        wall, own, machine = self._sample()
        if wall - wall0 <= 0:
            return float("nan")
        return max(0.0, ((machine - machine0) - (own - own0)) / (wall - wall0))


def run_all(names, threads: int, quick: bool, repeats: int | None = None) -> list:
    _setup_torch(threads)
    busy = _busy_cpus()
    if busy >= 1:
        collapse = (f"with {threads} threads both BLAS libraries slow down many times over; "
                    if threads >= (os.cpu_count() or 1) else "")
        print(f"warning: {busy:.0f} other process(es) running on {os.cpu_count()} cores: {collapse}"
              "results taken while others use the CPU are marked BUSY and are not measurements "
              "(try again when the machine is idle)", file=sys.stderr)
    reps = repeats or (2 if quick else 9)
    results = []
    by_name = {}
    for name in names:
        t0 = time.perf_counter()
        meter = CpuMeter()
        try:
            if name in ("mlp", "cnn"):
                r = bench_train(name, reps, quick)
            elif name == "chain8":
                r = bench_chain((8,), reps, quick)
            elif name == "chain1":
                r = bench_chain((1,), reps, quick)
            elif name == "import":
                r = bench_import(max(reps, 3) if not quick else 1, quick)
            elif name == "memory":
                r = bench_memory(3 if not quick else 1, quick)
            elif name == "flops":
                r = bench_flops(by_name.get("mlp"), reps, quick)
            elif name == "gemm":
                r = bench_gemm(reps, quick)
            elif name == "mlp_numpy":
                r = bench_mlp_numpy(reps, quick)
            elif name == "cnn_malloc":
                r = bench_cnn_same_malloc(reps, quick)
            else:
                raise ValueError(name)
        except Exception as e:  # report and carry on: the other benchmarks still say something
            r = {"name": name, "error": f"{type(e).__name__}: {e}",
                 "traceback": traceback.format_exc()}
        r["seconds"] = time.perf_counter() - t0
        r["other_cores"] = meter.other_cores()
        r["busy"] = not r["other_cores"] <= BUSY_CORES  # nan (unknown) counts as busy
        by_name[name] = r
        results.append(r)
        print(f"  [{name}: {r['seconds']:.1f}s{' ERROR' if r.get('error') else ''}]",
              file=sys.stderr, flush=True)
    return results


def _fmt(v: float) -> str:
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def format_table(results, threads: int, quick: bool) -> str:
    rows = [("benchmark", "unit", "ember", "PyTorch", "ember/PyTorch", "first bar", "met")]
    for r in results:
        if r.get("error"):
            rows.append((r["name"], "", "error", "", "", "", r["error"][:60]))
            continue
        op = ">=" if r["better"] == "higher" else "<="
        bar = f"{op} {r['bar']:g}" if not r.get("info") else "(info)"
        met = ("yes" if r["met"] else "NO") if not r.get("info") else ""
        if r.get("busy"):
            met = f"BUSY ({r['other_cores']:.1f} cores used by others)"
        rows.append((r["what"], r["unit"], _fmt(r["ember"]), _fmt(r["torch"]),
                     f"{r['ratio']:.2f}", bar, met))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
        if k == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    notes = [f"- {r['name']}: {r['note']}" for r in results if r.get("note")]
    head = (f"ember vs PyTorch {torch.__version__} (CPU), {threads} thread(s), "
            f"medians of alternating repetitions{' [QUICK: not a measurement]' if quick else ''}")
    if CLOCK["name"] == "cpu":
        head += "; timings in CPU time (--clock cpu), not wall clock"
    if any_busy(results):
        head += ("\n\nWARNING: other processes used the CPU during the rows marked BUSY; their "
                 "ratios are unreliable and must not be quoted (rerun on an idle machine).")
    return "\n".join([head, ""] + lines + ([""] + notes if notes else []))


def any_busy(results) -> bool:
    """Whether any benchmark that ran was taken while other processes used the CPU."""
    return any(r.get("busy") and not r.get("error") for r in results)


def machine_info(threads: int) -> dict:
    cpu = platform.processor()
    features = []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    features = [x for x in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile")
                                if x in flags]
                    break
    except OSError:
        pass
    if features:
        cpu += f" ({', '.join(features)})"
    blas = ""
    try:
        cfg = np.show_config(mode="dicts")
        b = cfg["Build Dependencies"]["blas"]
        blas = f"{b.get('name')} {b.get('version')}"
    except Exception:
        pass
    pools = []
    try:
        from threadpoolctl import threadpool_info

        pools = [{k: p.get(k) for k in ("user_api", "internal_api", "version", "architecture",
                                        "threading_layer", "num_threads", "filepath")}
                 for p in threadpool_info()]
    except ImportError:
        pass
    kernels = [f"{p['internal_api']} {p['version'] or ''} ({p['architecture']} kernels, "
               f"{p['num_threads']} threads, {os.path.basename(p['filepath'] or '')})".replace("  ", " ")
               for p in pools if p["user_api"] == "blas"]
    return {"cpu": cpu, "cores": os.cpu_count(), "threads": threads, "clock": CLOCK["name"],
            "blas_kernels": "; ".join(kernels) or "unknown", "thread_pools": pools,
            "loadavg_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
            "python": platform.python_version(),
            "numpy": np.__version__, "numpy_blas": blas, "torch": torch.__version__,
            "platform": platform.platform(), "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


_MD_START, _MD_END = "<!-- results:start -->", "<!-- results:end -->"


def results_markdown(results, threads: int, quick: bool, command: str) -> str:
    """The generated part of BENCHMARKS.md: machine, command, date and the table."""
    m = machine_info(threads)
    return "\n".join([
        f"Measured {m['date']} with `{command}`.",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} cores; {m['threads']} thread(s) for both frameworks",
        f"- Python {m['python']}, NumPy {m['numpy']} (BLAS: {m['numpy_blas']}), "
        f"PyTorch {m['torch']} (CPU build)",
        f"- BLAS libraries loaded (threadpoolctl): {m['blas_kernels']}",
        f"- {m['platform']}"
        + (f"; 1-minute load average at the end of the run: {m['loadavg_1min']:.2f}"
           if m["loadavg_1min"] is not None else ""),
        "",
        format_table(results, threads, quick),
    ])


def update_markdown(path: str, results, threads: int, quick: bool, command: str) -> None:
    """Replace the generated block of ``path`` (between the results markers), keeping the prose."""
    block = _MD_START + "\n" + results_markdown(results, threads, quick, command) + "\n" + _MD_END
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = "# ember benchmarks\n\n" + _MD_START + "\n" + _MD_END + "\n"
    if _MD_START in text and _MD_END in text:
        head, rest = text.split(_MD_START, 1)
        tail = rest.split(_MD_END, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(text)


def write_json(path: str, results, threads: int, quick: bool) -> None:
    with open(path, "w") as f:
        json.dump({"machine": machine_info(threads), "quick": quick, "results": results}, f,
                  indent=2, default=float)
