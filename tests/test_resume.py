"""BackupAndRestore: an interrupted fit resumed in a new process ends bit for bit where the
uninterrupted run ends; damaged or foreign backups are refused whole; callbacks' state."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember import callbacks, nn
from ember.callbacks import BackupAndRestore, BackupError
from ember.models import Sequential

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _run(*args) -> int:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, os.path.join(HERE, "resume_run.py"), *map(str, args)],
                          env=env, capture_output=True, text=True, timeout=300)
    if proc.returncode not in (0, 17):
        raise AssertionError(f"resume_run.py {args} failed:\n{proc.stderr}")
    return proc.returncode


def _flat(state: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in state.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _content(path: str) -> dict:
    """A checkpoint's content, exactly: the structure, and each tensor's dtype, shape and bytes
    (the files' bytes may differ: safetensors orders the header's metadata per process)."""
    out = {}
    for k, v in _flat(ember.load(path)).items():
        out[k] = (str(v.dtype), tuple(v.shape), v.numpy().tobytes()) \
            if isinstance(v, ember.Tensor) else v
    return out


def _same(a, b) -> bool:
    if isinstance(a, ember.Tensor):
        return a.dtype == b.dtype and np.array_equal(a.numpy(), b.numpy())
    return a == b


def test_killed_fit_resumed_in_a_new_process_ends_bit_for_bit(tmp_path):
    work = str(tmp_path)
    assert _run("full", 0, work) == 0
    # the same run, killed (os._exit) at the start of epoch 5: epochs 0-4 are backed up
    assert _run("backup", 0, work, 5) == 17
    assert os.path.exists(os.path.join(work, "backup", "backup.safetensors"))
    best_before_resume = _content(os.path.join(work, "best-resumed.safetensors"))
    # resumed in a fresh process whose model was built from another seed
    assert _run("resume", 123, work) == 0

    full = ember.load(os.path.join(work, "result-full.safetensors"))
    resumed = ember.load(os.path.join(work, "result-resume.safetensors"))
    assert full["stopped_epoch"] > 5, "the test needs EarlyStopping to stop after the kill"
    assert resumed["stopped_epoch"] == full["stopped_epoch"]
    assert resumed["best_epoch"] == full["best_epoch"]
    assert resumed["epochs"] == full["epochs"]
    assert json.loads(resumed["history"]) == json.loads(full["history"])
    for part in ("model", "optimizer"):
        a, b = _flat(full[part]), _flat(resumed[part])
        assert a.keys() == b.keys()
        for k in a:
            assert _same(a[k], b[k]), f"{part}.{k} differs after the resume"
    best_full = _content(os.path.join(work, "best-full.safetensors"))
    best_resumed = _content(os.path.join(work, "best-resumed.safetensors"))
    assert best_resumed == best_full
    if full["best_epoch"] < 5:  # the best came before the kill: the resume never rewrote it
        assert best_resumed == best_before_resume
    # the CSV log of the resumed run holds every epoch once, as the uninterrupted run's
    with open(os.path.join(work, "log-full.csv")) as f, \
            open(os.path.join(work, "log-resumed.csv")) as g:
        assert g.read() == f.read()
    # a completed fit deletes its backup (Keras' delete_checkpoint=True)
    assert not os.path.exists(os.path.join(work, "backup", "backup.safetensors"))


# ------------------------------------------------------------------------ in-process checks


def _data(n=64):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def _model(seed=0):
    ember.manual_seed(seed)
    model = Sequential(nn.Linear(4, 8), nn.Dropout(0.2), nn.Linear(8, 2))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


class _StopAt(callbacks.Callback):
    """Raises at the start of an epoch, as a crash would."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("crash")


def test_backup_written_each_epoch_kept_after_a_crash_and_resumed(tmp_path):
    x, y = _data()
    ref = _model()
    ref.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[_StopAt(-1)])

    model = _model()
    backup = BackupAndRestore(tmp_path / "b")
    with pytest.raises(RuntimeError, match="crash"):
        model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[backup, _StopAt(2)])
    assert os.path.exists(backup.path)
    again = _model(seed=9)
    history = again.fit(x, y, epochs=4, batch_size=8, verbose=0,
                        callbacks=[BackupAndRestore(tmp_path / "b"), _StopAt(-1)])
    assert history.epoch == [0, 1, 2, 3]
    for a, b in zip(ref.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not os.path.exists(backup.path)


def test_keyboard_interrupt_keeps_the_backup_and_delete_checkpoint_false_keeps_it(tmp_path):
    x, y = _data()

    class CtrlC(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    model = _model()
    backup = BackupAndRestore(tmp_path / "b")
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[backup, CtrlC()])
    assert history.interrupted and os.path.exists(backup.path)
    keep = BackupAndRestore(tmp_path / "b", delete_checkpoint=False)
    history = _model().fit(x, y, epochs=3, verbose=0, callbacks=[keep, callbacks.Callback()])
    assert history.epoch == [0, 1, 2] and os.path.exists(keep.path)


def test_damaged_backup_is_reported_and_nothing_is_loaded(tmp_path):
    x, y = _data()
    model = _model()
    backup = BackupAndRestore(tmp_path / "b", delete_checkpoint=False)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[backup])
    data = open(backup.path, "rb").read()
    with open(backup.path, "wb") as f:
        f.write(data[: len(data) // 2])
    fresh = _model(seed=5)
    before = fresh.get_weights()
    log = tmp_path / "log.csv"
    log.write_text("epoch,loss\n0,1.0\n")

    class Untouched(callbacks.Callback):
        def on_train_begin(self, logs=None):
            raise AssertionError("the damaged backup must stop fit before on_train_begin")

    with pytest.raises(BackupError, match="damaged"):
        fresh.fit(x, y, epochs=3, verbose=0, callbacks=[BackupAndRestore(tmp_path / "b"),
                                                        callbacks.CSVLogger(log), Untouched()])
    for a, b in zip(before, fresh.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert log.read_text() == "epoch,loss\n0,1.0\n"


def test_backup_of_another_model_or_other_callbacks_is_refused(tmp_path):
    x, y = _data()
    _model().fit(x, y, epochs=2, verbose=0,
                 callbacks=[BackupAndRestore(tmp_path / "b", delete_checkpoint=False)])
    ember.manual_seed(1)
    wider = Sequential(nn.Linear(4, 16), nn.Linear(16, 2))
    wider.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = wider.get_weights()
    with pytest.raises(BackupError, match="another model"):
        wider.fit(x, y, epochs=3, verbose=0, callbacks=[BackupAndRestore(tmp_path / "b")])
    for a, b in zip(before, wider.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(BackupError, match="callbacks"):
        _model().fit(x, y, epochs=3, verbose=0,
                     callbacks=[BackupAndRestore(tmp_path / "b"), callbacks.EarlyStopping()])


def test_failed_callback_restore_rolls_everything_back(tmp_path):
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.25,
              callbacks=[BackupAndRestore(tmp_path / "b", delete_checkpoint=False),
                         callbacks.EarlyStopping(monitor="val_loss", patience=5)])
    fresh = _model(seed=4)
    before = fresh.get_weights()
    # same kind of callback, watching another quantity: its saved state does not apply
    with pytest.raises(BackupError, match="monitor"):
        fresh.fit(x, y, epochs=3, verbose=0, validation_split=0.25,
                  callbacks=[BackupAndRestore(tmp_path / "b"),
                             callbacks.EarlyStopping(monitor="loss", patience=5)])
    for a, b in zip(before, fresh.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_backup_and_restore_arguments():
    with pytest.raises(ValueError, match="save_freq"):
        BackupAndRestore("b", save_freq=0)
    with pytest.raises(ValueError, match="backup_dir"):
        BackupAndRestore("")


class _CrashAt(callbacks.Callback):
    """Raises after training batch ``batch`` of epoch ``epoch`` (before that batch's backup)."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise RuntimeError("crash")


def _feed(kind):
    x, y = _data(72)
    if kind == "loader":
        from ember.random import Generator
        from ember.utils.data import DataLoader, TensorDataset

        loader = DataLoader(TensorDataset(ember.tensor(x), ember.tensor(y)), batch_size=8,
                            shuffle=True, generator=Generator().manual_seed(5))
        return {"x": loader}
    return {"x": x, "y": y, "batch_size": 8}


def _fit(seed, kind, steps, crash=None, backup=None, csv=None):
    ember.manual_seed(seed)
    model = Sequential(nn.Linear(4, 16), nn.Dropout(0.3), nn.Linear(16, 2))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    cbs = [callbacks.ReduceLROnPlateau(monitor="loss", patience=1, factor=0.5),
           _CrashAt(*(crash or (-1, -1)))]
    if backup is not None:
        cbs.append(backup)
    if csv is not None:
        cbs.append(callbacks.CSVLogger(csv))
    history = model.fit(**_feed(kind), epochs=5, steps_per_epoch=steps, verbose=0,
                        callbacks=cbs)
    return model, history


@pytest.mark.filterwarnings("ignore:fit. the training data ran out")
@pytest.mark.parametrize("kind, steps, save_freq, crash", [
    ("arrays", None, 4, (2, 6)),        # mid-epoch backup (batch 3 of epoch 2), redo 4..6
    ("arrays", None, 9, (3, 0)),        # the last backup is the end of epoch 2
    ("arrays", 4, "epoch", (2, 0)),     # steps_per_epoch: the pass of 9 batches spans epochs
    ("arrays", 4, 3, (3, 2)),           # ... and a backup inside an epoch inside a pass
    ("loader", None, 5, (1, 7)),        # a DataLoader shuffling from its own generator
])
def test_resume_from_any_backup_ends_bit_for_bit(tmp_path, kind, steps, save_freq, crash):
    ref_model, ref_history = _fit(0, kind, steps)
    with pytest.raises(RuntimeError, match="crash"):
        _fit(0, kind, steps, crash, BackupAndRestore(tmp_path / "b", save_freq=save_freq))
    model, history = _fit(11, kind, steps, None,
                          BackupAndRestore(tmp_path / "b", save_freq=save_freq))
    assert history.history == ref_history.history
    assert history.epoch == ref_history.epoch
    for a, b in zip(ref_model.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    for p, q in zip(ref_model.parameters(), model.parameters()):
        ref_state, state = ref_model.optimizer.state[p], model.optimizer.state[q]
        assert ref_state["step"] == state["step"]
        np.testing.assert_array_equal(ref_state["exp_avg_sq"].numpy(), state["exp_avg_sq"].numpy())
    assert not os.path.exists(os.path.join(tmp_path, "b", "backup.safetensors"))


def test_csv_log_of_a_resumed_run_has_each_epoch_once(tmp_path):
    log = tmp_path / "log.csv"
    with pytest.raises(RuntimeError):
        _fit(0, "arrays", None, (2, 1), BackupAndRestore(tmp_path / "b"), csv=log)
    assert len(log.read_text().splitlines()) == 3  # header, epochs 0 and 1
    _fit(3, "arrays", None, None, BackupAndRestore(tmp_path / "b"), csv=log)
    _fit(0, "arrays", None, None, None, csv=tmp_path / "ref.csv")
    assert log.read_text() == (tmp_path / "ref.csv").read_text()


def test_batch_level_backup_records_the_batch(tmp_path):
    with pytest.raises(RuntimeError):
        _fit(0, "arrays", None, (1, 5), BackupAndRestore(tmp_path / "b", save_freq=4))
    state = ember.load(os.path.join(tmp_path, "b", "backup.safetensors"))
    # 9 batches an epoch: the 12th batch seen is batch 2 of epoch 1
    assert (state["epoch"], state["batch"]) == (1, 2)
    assert state["running"]["count"] == 24 and len(state["metrics"]) == 1


# --------------------------------------------------------------------- callbacks' state


def test_early_stopping_state_round_trip_and_checks():
    es = callbacks.EarlyStopping(monitor="val_loss", patience=2)
    es.wait, es.best, es.best_epoch, es.stopped_epoch = 1, 0.5, 3, 0
    other = callbacks.EarlyStopping(monitor="val_loss", patience=2)
    other.load_state_dict(es.state_dict())
    assert (other.wait, other.best, other.best_epoch) == (1, 0.5, 3)
    with pytest.raises(ValueError, match="mode"):
        callbacks.EarlyStopping(monitor="val_loss", mode="max").load_state_dict(es.state_dict())
    with pytest.raises(ValueError, match="keeps no state"):
        callbacks.Callback().load_state_dict({"wait": 1})


def test_model_checkpoint_initial_value_threshold(tmp_path):
    x, y = _data()
    path = tmp_path / "best.safetensors"
    # a threshold no epoch can beat: nothing is written
    ckpt = callbacks.ModelCheckpoint(path, monitor="loss", save_best_only=True,
                                     initial_value_threshold=0.0)
    _model().fit(x, y, epochs=2, verbose=0, callbacks=[ckpt])
    assert not path.exists() and ckpt.best == 0.0
    ckpt = callbacks.ModelCheckpoint(path, monitor="loss", save_best_only=True,
                                     initial_value_threshold=100.0)
    history = _model().fit(x, y, epochs=2, verbose=0, callbacks=[ckpt])
    assert path.exists() and ckpt.best == min(history.history["loss"])


def test_scheduler_callbacks_state_round_trip():
    model = _model()
    sched = ember.optim.lr_scheduler.StepLR(model.optimizer, step_size=2, gamma=0.5)
    cb = callbacks.LearningRateScheduler(sched)
    sched.step()
    sched.step()
    state = cb.state_dict()
    model2 = _model()
    sched2 = ember.optim.lr_scheduler.StepLR(model2.optimizer, step_size=2, gamma=0.5)
    cb2 = callbacks.LearningRateScheduler(sched2)
    cb2.load_state_dict(state)
    assert sched2.last_epoch == sched.last_epoch == 2
    with pytest.raises(ValueError, match="function"):
        callbacks.LearningRateScheduler(lambda e, lr: lr).load_state_dict(state)
    plateau = callbacks.ReduceLROnPlateau(patience=3)
    plateau.best, plateau.wait, plateau.cooldown_counter = 0.3, 2, 1
    again = callbacks.ReduceLROnPlateau(patience=3)
    again.load_state_dict(plateau.state_dict())
    assert (again.best, again.wait, again.cooldown_counter) == (0.3, 2, 1)


def test_generator_state_dict_continues_draws_and_worker_seeds():
    from ember.random import Generator

    g = Generator().manual_seed(11)
    g.rng.random(5)
    g.rng.bit_generator.seed_seq.spawn(3)
    state = g.state_dict()
    expected = g.rng.random(4)
    child = g.rng.bit_generator.seed_seq.spawn(1)[0].generate_state(2)
    h = Generator().load_state_dict(state)
    np.testing.assert_array_equal(h.rng.random(4), expected)
    np.testing.assert_array_equal(h.rng.bit_generator.seed_seq.spawn(1)[0].generate_state(2),
                                  child)
    assert h.initial_seed() == 11


class _ScheduledModel(Sequential):
    """A model whose own train_step steps a scheduler every batch (not through a callback)."""

    def __init__(self):
        super().__init__(nn.Linear(4, 8), nn.Dropout(0.2), nn.Linear(8, 2))
        self.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        self.scheduler = ember.optim.lr_scheduler.ExponentialLR(self.optimizer, gamma=0.97)

    def train_step(self, batch):
        logs = super().train_step(batch)
        self.scheduler.step()
        return logs


def test_scheduler_held_by_the_model_is_backed_up(tmp_path):
    x, y = _data()
    ember.manual_seed(0)
    ref = _ScheduledModel()
    ref.fit(x, y, epochs=4, batch_size=8, verbose=0)
    ember.manual_seed(0)
    with pytest.raises(RuntimeError):
        _ScheduledModel().fit(x, y, epochs=4, batch_size=8, verbose=0,
                              callbacks=[BackupAndRestore(tmp_path / "b"), _StopAt(2)])
    ember.manual_seed(8)
    model = _ScheduledModel()
    model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[BackupAndRestore(tmp_path / "b")])
    assert model.scheduler.last_epoch == ref.scheduler.last_epoch == 32
    assert model.optimizer.param_groups[0]["lr"] == ref.optimizer.param_groups[0]["lr"]
    for a, b in zip(ref.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_plateau_scheduler_state_with_infinite_best_survives_the_file(tmp_path):
    model = _model()
    plateau = ember.optim.lr_scheduler.ReduceLROnPlateau(model.optimizer, patience=1)
    cb = callbacks.LearningRateScheduler(plateau, monitor="loss")
    path = tmp_path / "state.safetensors"
    ember.save(cb.state_dict(), path)  # best is +inf before the first step
    again = callbacks.LearningRateScheduler(
        ember.optim.lr_scheduler.ReduceLROnPlateau(_model().optimizer, patience=1), monitor="loss")
    again.load_state_dict(ember.load(path))
    assert again.schedule.best == float("inf") and again.schedule.mode_worse == float("inf")


def test_distributed_fit_resumes_bit_for_bit(tmp_path):
    """Two ranks, each with its own dropout stream and backup, and the shared shuffling seed:
    a job that crashed at epoch 3 resumes (models built from other seeds) to the end of the
    uninterrupted job exactly."""
    from test_distributed import _env, _launcher

    cmd, why = _launcher()
    if cmd is None:
        pytest.skip(why)
    script = os.path.join(HERE, "resume_run_mpi.py")

    def job(*args):
        return subprocess.run(cmd + [sys.executable, script, *map(str, args)],
                              capture_output=True, text=True, timeout=180, env=_env())

    work = str(tmp_path)
    full = job("full", 0, work)
    assert full.returncode == 0, full.stdout + full.stderr
    crashed = job("backup", 0, work, 3)
    assert crashed.returncode != 0 and "simulated crash" in crashed.stdout + crashed.stderr
    assert sorted(os.listdir(os.path.join(work, "backup"))) == [
        "backup-rank1.safetensors", "backup.safetensors"]
    resumed = job("resume", 50, work)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    a = ember.load(os.path.join(work, "result-full.safetensors"))
    b = ember.load(os.path.join(work, "result-resume.safetensors"))
    assert json.loads(a["history"]) == json.loads(b["history"])
    for part in ("model", "optimizer"):
        fa, fb = _flat(a[part]), _flat(b[part])
        assert fa.keys() == fb.keys()
        for k in fa:
            assert _same(fa[k], fb[k]), f"{part}.{k} differs after the distributed resume"
    assert os.listdir(os.path.join(work, "backup")) == []
