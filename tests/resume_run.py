"""One run of the resume test (tests/test_resume.py), in its own process.

usage: python resume_run.py MODE SEED WORKDIR [KILL_AT]
MODE is ``full`` (no backup), ``backup`` (with BackupAndRestore; with KILL_AT the process dies
with os._exit at the start of that 0-based epoch) or ``resume``. The final weights, optimizer
state, history and EarlyStopping's epochs are written to WORKDIR/result-MODE.safetensors.
"""

import json
import os
import sys

import numpy as np

import ember
from ember import callbacks, nn
from ember.models import Sequential
from ember.optim.lr_scheduler import StepLR


def data():
    rng = np.random.default_rng(7)  # the data never depend on ember's seed
    x = rng.normal(size=(240, 6)).astype(np.float32)
    w = rng.normal(size=(6, 3))
    y = np.argmax(x @ w + 1.5 * rng.normal(size=(240, 3)), axis=1).astype(np.int64)
    return x, y


def main(mode: str, seed: int, workdir: str, kill_at: int | None) -> None:
    ember.manual_seed(seed)
    model = Sequential(nn.Linear(6, 48), nn.ReLU(), nn.Dropout(0.3), nn.Linear(48, 3))
    model.compile(optimizer=ember.optim.Adam(model.parameters(), lr=0.02),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    def maybe_die(epoch, logs=None):
        if kill_at is not None and epoch == kill_at:
            os._exit(17)  # a kill: no clean-up, no on_train_end

    early = callbacks.EarlyStopping(patience=4, restore_best_weights=True)
    cbs = [
        callbacks.LearningRateScheduler(StepLR(model.optimizer, step_size=4, gamma=0.7)),
        callbacks.ReduceLROnPlateau(factor=0.5, patience=2, min_delta=0.0),
        early,
        callbacks.ModelCheckpoint(os.path.join(workdir, "best-full.safetensors" if mode == "full"
                                               else "best-resumed.safetensors"),
                                  save_best_only=True, save_weights_only=False),
        callbacks.CSVLogger(os.path.join(workdir, "log-full.csv" if mode == "full"
                                         else "log-resumed.csv")),
        callbacks.LambdaCallback(on_epoch_begin=maybe_die),
    ]
    if mode != "full":
        cbs.insert(2, callbacks.BackupAndRestore(os.path.join(workdir, "backup")))
    x, y = data()
    history = model.fit(x, y, batch_size=16, epochs=60, validation_split=0.25, callbacks=cbs,
                        verbose=0)
    ember.save({"model": model.state_dict(), "optimizer": model.optimizer.state_dict(),
                "history": json.dumps(history.history), "epochs": history.epoch,
                "stopped_epoch": early.stopped_epoch, "best_epoch": early.best_epoch},
               os.path.join(workdir, f"result-{mode}.safetensors"))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3],
         int(sys.argv[4]) if len(sys.argv) > 4 else None)
