"""Scenarios run under ``mpiexec -n 2`` by tests/test_distributed.py.

``python worker.py CASE OUTDIR``. Each case checks its own results (asserts) on every rank and
rank 0 prints ``CASE OK`` at the end; a failed assert aborts the job through the exception hook
that ``init_process_group`` installs, so the test sees a non-zero exit code and the traceback.
Reference results for "one process with the same global batch" are computed inside each rank on
the full global batch, with a plain copy of the model.
"""

from __future__ import annotations

import copy
import json
import os
import sys
import time

import numpy as np

import ember
import ember.distributed as dist
from ember import nn
from ember.nn.parallel import DistributedDataParallel as DDP


def mlp(seed: int) -> nn.Module:
    ember.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))


def data(n: int = 96):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((n, 6)).astype(np.float32)
    y = rng.integers(0, 3, n).astype(np.int64)
    return x, y


def flat_params(model) -> np.ndarray:
    return np.concatenate([np.array(p.detach()).ravel() for p in model.parameters()])


def flat_grads(model) -> np.ndarray:
    return np.concatenate([np.array(p.grad).ravel() for p in model.parameters()])


def same_on_all_ranks(arr: np.ndarray) -> bool:
    gathered = [ember.zeros(arr.shape, dtype=ember.float32) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, ember.tensor(arr, dtype=ember.float32))
    return all(np.array_equal(np.array(g), gathered[0].numpy()) for g in gathered)


# ------------------------------------------------------------------------------------- cases


def case_collectives(outdir):
    r, n = dist.get_rank(), dist.get_world_size()
    base = np.array([1.5, -2.0, 3.0], dtype=np.float32)
    vals = [base * (k + 1) for k in range(n)]
    expect = {
        dist.ReduceOp.SUM: sum(vals), dist.ReduceOp.AVG: sum(vals) / n,
        dist.ReduceOp.MAX: np.max(vals, axis=0), dist.ReduceOp.MIN: np.min(vals, axis=0),
        dist.ReduceOp.PRODUCT: np.prod(vals, axis=0),
    }
    for op, want in expect.items():
        t = ember.tensor(vals[r])
        assert dist.all_reduce(t, op=op) is None
        np.testing.assert_allclose(t.numpy(), want, rtol=1e-6, err_msg=str(op))
    # integers, float64, a non-contiguous view (written back in place), a 0-d tensor, bools
    t = ember.arange(6).reshape(2, 3) * (r + 1)
    dist.all_reduce(t)
    assert t.dtype == ember.int64 and t.tolist() == (np.arange(6).reshape(2, 3) * 3).tolist()
    d = ember.tensor([0.1, 0.2], dtype=ember.float64) * (r + 1)
    dist.all_reduce(d)
    np.testing.assert_allclose(d.numpy(), [0.3, 0.6], rtol=1e-15)
    base2 = ember.zeros(3, 4)
    view = base2.t()
    view += float(r + 1)
    dist.all_reduce(view)
    assert np.all(base2.numpy() == 3.0)
    s = ember.tensor(float(r))
    dist.all_reduce(s, dist.ReduceOp.MAX)
    assert s.item() == n - 1
    b = ember.tensor([r == 0, False])
    dist.all_reduce(b, dist.ReduceOp.MAX)
    assert b.tolist() == [True, False]
    h = ember.tensor([1.0, 2.0], dtype=ember.float16)
    dist.all_reduce(h)
    assert h.dtype == ember.float16 and h.tolist() == [2.0, 4.0]
    try:
        dist.all_reduce(ember.tensor([1, 2]), dist.ReduceOp.AVG)
        raise AssertionError("AVG on integers should raise")
    except TypeError:
        pass
    # broadcast from every source
    for src in range(n):
        t = ember.full((2, 2), float(r))
        dist.broadcast(t, src)
        assert np.all(t.numpy() == src)
    # reduce into one rank
    t = ember.tensor([float(r + 1)])
    dist.reduce(t, dst=1, op=dist.ReduceOp.SUM)
    assert t.item() == (3.0 if r == 1 else 1.0)
    # all_gather, also of a non-contiguous tensor
    out = [ember.zeros(2, 3) for _ in range(n)]
    dist.all_gather(out, (ember.arange(6).reshape(3, 2).t().float() + 10 * r))
    for k in range(n):
        np.testing.assert_array_equal(out[k].numpy(), np.arange(6).reshape(3, 2).T + 10 * k)
    objs = [None] * n
    dist.all_gather_object(objs, {"rank": r, "x": [r] * r})
    assert objs == [{"rank": k, "x": [k] * k} for k in range(n)]
    lst = [r, "hello" if r == 0 else "other"]
    dist.broadcast_object_list(lst, src=0)
    assert lst == [0, "hello"]
    dist.barrier()
    assert dist.is_initialized() and dist.get_backend() == "mpi"


def case_ddp(outdir):
    r, n = dist.get_rank(), dist.get_world_size()
    x, y = data()
    per_rank = 8
    g = per_rank * n
    loss_fn = nn.CrossEntropyLoss()

    model = mlp(seed=100 + r)  # different on each rank: DDP must broadcast rank 0's weights
    ddp = DDP(model, bucket_cap_mb=300 / 2**20)  # ~300 bytes: several buckets
    assert same_on_all_ranks(flat_params(model))
    ref = copy.deepcopy(mlp(seed=100))  # what rank 0 built
    assert np.array_equal(flat_params(ref), flat_params(model))
    reducer = ddp.reducer
    nparams = len(list(model.parameters()))
    assert 1 < len(reducer.buckets) < nparams, len(reducer.buckets)

    # one step: the averaged gradient equals the gradient of the whole global batch
    gx, gy = x[:g], y[:g]
    lx, ly = gx[r * per_rank:(r + 1) * per_rank], gy[r * per_rank:(r + 1) * per_rank]
    loss_fn(ddp(ember.tensor(lx)), ember.tensor(ly)).backward()
    assert reducer.num_collectives == len(reducer.buckets)  # one all-reduce per bucket
    loss_fn(ref(ember.tensor(gx)), ember.tensor(gy)).backward()
    np.testing.assert_allclose(flat_grads(model), flat_grads(ref), rtol=1e-5, atol=1e-6)
    assert same_on_all_ranks(flat_grads(model))

    # 20 SGD steps with momentum: parameters stay equal across ranks and to the reference
    opt = ember.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    ref_opt = ember.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    opt.zero_grad()
    ref_opt.zero_grad()
    steps_per_epoch = len(x) // g
    for step in range(20):
        k = step % steps_per_epoch
        gx, gy = x[k * g:(k + 1) * g], y[k * g:(k + 1) * g]
        lx, ly = gx[r * per_rank:(r + 1) * per_rank], gy[r * per_rank:(r + 1) * per_rank]
        loss_fn(ddp(ember.tensor(lx)), ember.tensor(ly)).backward()
        opt.step()
        opt.zero_grad()
        loss_fn(ref(ember.tensor(gx)), ember.tensor(gy)).backward()
        ref_opt.step()
        ref_opt.zero_grad()
    assert same_on_all_ranks(flat_params(model)), "replicas diverged"
    np.testing.assert_allclose(flat_params(model), flat_params(ref), rtol=1e-5, atol=1e-5)
    assert reducer.num_collectives == 21 * len(reducer.buckets)

    # no_sync: two micro-batches accumulate locally, the second backward averages the sum
    gx, gy = x[:g], y[:g]
    gx2, gy2 = x[g:2 * g], y[g:2 * g]
    sl = slice(r * per_rank, (r + 1) * per_rank)
    before = reducer.num_collectives
    with ddp.no_sync():
        loss_fn(ddp(ember.tensor(gx[sl])), ember.tensor(gy[sl])).backward()
    assert reducer.num_collectives == before
    loss_fn(ddp(ember.tensor(gx2[sl])), ember.tensor(gy2[sl])).backward()
    loss_fn(ref(ember.tensor(gx)), ember.tensor(gy)).backward()
    loss_fn(ref(ember.tensor(gx2)), ember.tensor(gy2)).backward()
    np.testing.assert_allclose(flat_grads(model), flat_grads(ref), rtol=1e-5, atol=1e-6)
    opt.zero_grad()

    # state_dict keys carry torch's "module." prefix
    assert all(k.startswith("module.") for k in ddp.state_dict())

    # a parameter that gets no gradient: error at the next forward without
    # find_unused_parameters, correct averaging with it
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(6, 3)
            self.unused = nn.Linear(6, 3)

        def forward(self, t):
            return self.a(t)

    ember.manual_seed(3)
    m2 = Branchy()
    ref2 = copy.deepcopy(m2)  # before wrapping: a wrapped module refuses to be deep-copied
    d2 = DDP(m2, find_unused_parameters=True)
    loss_fn(d2(ember.tensor(x[sl])), ember.tensor(y[sl])).backward()
    loss_fn(ref2(ember.tensor(x[:g])), ember.tensor(y[:g])).backward()
    np.testing.assert_allclose(np.array(m2.a.weight.grad), np.array(ref2.a.weight.grad),
                               rtol=1e-5, atol=1e-6)
    assert m2.unused.weight.grad is None
    m3 = Branchy()
    d3 = DDP(m3)
    loss_fn(d3(ember.tensor(x[sl])), ember.tensor(y[sl])).backward()
    try:
        d3(ember.tensor(x[sl]))
        raise AssertionError("an unfinished reduction should be reported")
    except RuntimeError as e:
        assert "unused.weight" in str(e) and "find_unused_parameters" in str(e), e


def _compiled(seed):
    ember.manual_seed(seed)
    model = ember.models.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))
    model.compile(optimizer=ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy", "f1"])
    return model


def _reference_metrics(model, xv, yv):
    with ember.no_grad():
        out = model(ember.tensor(xv))
        loss = float(nn.functional.cross_entropy(out, ember.tensor(yv)).item())
    acc = float((np.array(out).argmax(1) == yv).mean())
    return loss, acc


def case_fit(outdir):
    r, n = dist.get_rank(), dist.get_world_size()
    x, y = data(96)
    xt, yt = x[:64], y[:64]
    xv, yv = x[64:87], y[64:87]  # 23 validation samples: shards of 12 and 11, last batches 4 and 3
    per_rank = 8
    model = _compiled(seed=50 + r)  # unequal on purpose: fit broadcasts rank 0's weights
    ref = _compiled(seed=50)
    csv = ember.callbacks.CSVLogger(os.path.join(outdir, f"log_rank{r}.csv"))
    ckpt = ember.callbacks.ModelCheckpoint(os.path.join(outdir, f"ckpt_rank{r}.safetensors"))
    stop = ember.callbacks.EarlyStopping(monitor="val_loss", patience=1, min_delta=10.0)
    hist = model.fit(xt, yt, batch_size=per_rank, epochs=4, shuffle=False, verbose=0,
                     validation_data=(xv, yv), callbacks=[csv, ckpt, stop])
    # EarlyStopping with an impossible min_delta stops after epoch 2 on every rank alike
    assert len(hist.epoch) == 2, hist.epoch

    # reference: plain loop over global batches of per_rank * n samples, same order
    g = per_rank * n
    loss_fn = nn.CrossEntropyLoss()
    opt = ref.optimizer
    for _ in range(2):
        for k in range(len(xt) // g):
            loss_fn(ref(ember.tensor(xt[k * g:(k + 1) * g])), ember.tensor(yt[k * g:(k + 1) * g])).backward()
            opt.step()
            opt.zero_grad()
    np.testing.assert_allclose(flat_params(model), flat_params(ref), rtol=1e-5, atol=1e-5)
    assert same_on_all_ranks(flat_params(model))

    # validation metrics over all 23 samples exactly (sample-weighted, uneven last batches)
    vloss, vacc = _reference_metrics(ref, xv, yv)
    np.testing.assert_allclose(hist.history["val_loss"][-1], vloss, rtol=1e-5)
    np.testing.assert_allclose(hist.history["val_accuracy"][-1], vacc, rtol=1e-6)
    ev = model.evaluate(xv, yv, batch_size=5, verbose=0, return_dict=True)
    np.testing.assert_allclose(ev["loss"], vloss, rtol=1e-5)
    np.testing.assert_allclose(ev["accuracy"], vacc, rtol=1e-6)
    # the macro F1 comes from the merged confusion matrix, as on one process
    from ember.metrics import F1Score

    f1 = F1Score()
    with ember.no_grad():
        f1.update(ref(ember.tensor(xv)), ember.tensor(yv))
    np.testing.assert_allclose(ev["f1"], f1.result(), rtol=1e-6)
    # the training loss of the last epoch is the sample-weighted mean over both ranks' batches
    all_logs = [None] * n
    dist.all_gather_object(all_logs, hist.history)
    assert all(h == all_logs[0] for h in all_logs), "ranks saw different logs"

    # only rank 0 wrote the log and the checkpoint
    dist.barrier()
    if r == 0:
        files = sorted(os.listdir(outdir))
        assert files == ["ckpt_rank0.safetensors", "log_rank0.csv"], files
    # after fit the model trains locally again (hooks removed)
    assert model.__dict__.get("_ddp_reducer") is None


def case_fail(outdir):
    """Rank 1 raises during fit; rank 0 is inside a collective and must not hang."""
    r = dist.get_rank()
    x, y = data(64)
    model = _compiled(seed=1)

    class Boom(ember.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if r == 1 and batch == 2:
                raise RuntimeError("simulated failure on this rank")

    model.fit(x, y, batch_size=8, epochs=50, verbose=0, callbacks=[Boom()])


def case_skip_collective(outdir):
    """Rank 1 stays alive but never joins the all_reduce rank 0 waits in (a hung or diverged
    rank); rank 0's watchdog must end the job. Rank 1 sleeps well past the test's time limit so
    that only the watchdog can end the job in time."""
    if dist.get_rank() == 1:
        time.sleep(50)
        sys.exit(0)
    t = ember.ones(4)
    dist.all_reduce(t)


def _left_now(how: str) -> None:
    """Tell the test when this rank leaves (it times the job's end from here, not from a start
    that may be slow on a loaded machine)."""
    print(f"LEFT_AT {time.time():.3f} {how}", flush=True)


def _fit_that_leaves(leave) -> None:
    r = dist.get_rank()
    x, y = data(64)
    model = _compiled(seed=1)

    class Leave(ember.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if r == 1 and batch == 2:
                leave()

    model.fit(x, y, batch_size=8, epochs=10_000, verbose=0, callbacks=[Leave()])


def case_exit_in_fit(outdir):
    """Rank 1 calls sys.exit(3) in the middle of fit; rank 0 goes on to its next collective."""
    def leave():
        _left_now("sys.exit")
        sys.exit(3)
    _fit_that_leaves(leave)


def case_interrupt_in_fit(outdir):
    """Ctrl-C (SIGINT) reaches rank 1 only, in the middle of fit, where fit alone would stop
    that rank's training and leave the other waiting."""
    import signal

    def leave():
        _left_now("SIGINT")
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)  # the handler runs at the next bytecode
    _fit_that_leaves(leave)


def case_os_exit_in_fit(outdir):
    """Rank 1 ends with os._exit(0): no exception, no atexit, no MPI_Finalize."""
    def leave():
        _left_now("os._exit")
        os._exit(0)
    _fit_that_leaves(leave)


def case_vanished_unnoticed_by_launcher(outdir):
    """Rank 1 stands for a rank that vanished where the launcher does not end the job: its
    monitor's report (the job's marker file) appears, and it never joins the next collective.
    Rank 0, waiting in all_reduce, must end the job itself, well before the collective timeout."""
    from ember.distributed import process_group

    dist.barrier()
    if dist.get_rank() == 1:
        _left_now("vanished")
        marker = process_group._GROUP.marker
        os.close(os.open(marker, os.O_CREAT | os.O_WRONLY, 0o600))
        time.sleep(120)
    else:
        dist.all_reduce(ember.ones(1))


def case_sigint_in_collective(outdir):
    """Rank 0 is blocked in all_reduce (rank 1 never joins) when Ctrl-C (SIGINT) reaches it:
    Python cannot raise KeyboardInterrupt there, the watchdog must end the job."""
    import signal

    pids = [None] * dist.get_world_size()
    dist.all_gather_object(pids, os.getpid())
    if dist.get_rank() == 1:
        time.sleep(1.0)
        _left_now("SIGINT to rank 0")
        os.kill(pids[0], signal.SIGINT)
        time.sleep(100)
        sys.exit(0)
    dist.all_reduce(ember.ones(4))


def case_no_destroy(outdir):
    """Every rank ends its script normally without destroy_process_group, right after a
    collective: nothing may be aborted (the last collective is one every rank joined)."""
    for _ in range(20):
        t = ember.ones(3)
        dist.all_reduce(t)
    if dist.get_rank() == 1:
        time.sleep(0.5)  # rank 0 leaves first, while rank 1 is still busy
    dist.all_reduce(t)
    print(f"no_destroy OK rank {dist.get_rank()}", flush=True)
    sys.exit(0)


CASES = {"collectives": case_collectives, "ddp": case_ddp, "fit": case_fit, "fail": case_fail,
         "skip_collective": case_skip_collective, "exit_in_fit": case_exit_in_fit,
         "interrupt_in_fit": case_interrupt_in_fit, "os_exit_in_fit": case_os_exit_in_fit,
         "vanished_unnoticed_by_launcher": case_vanished_unnoticed_by_launcher,
         "sigint_in_collective": case_sigint_in_collective, "no_destroy": case_no_destroy}

if __name__ == "__main__":
    case, outdir = sys.argv[1], sys.argv[2]
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
    dist.init_process_group("mpi", timeout=timeout)
    CASES[case](outdir)
    dist.barrier()
    if dist.get_rank() == 0:
        print(f"{case} OK", json.dumps({"world_size": dist.get_world_size()}))
    dist.destroy_process_group()
