"""The distributed run of tests/test_resume.py, under ``mpiexec -n 2``.

usage: python resume_run_mpi.py MODE SEED WORKDIR [CRASH_AT]
MODE ``full`` runs without a backup; ``backup`` backs up every epoch (and with CRASH_AT every
rank raises at the start of that epoch, which ends the job); ``resume`` resumes. Rank 0 writes
the final weights, optimizer state and history to WORKDIR/result-MODE.safetensors.
"""

import json
import os
import sys

import numpy as np

import ember
import ember.distributed as dist
from ember import callbacks, nn
from ember.models import Sequential


def main(mode: str, seed: int, workdir: str, crash_at: int | None) -> None:
    dist.init_process_group("mpi", timeout=60)
    ember.manual_seed(seed + dist.get_rank())  # each rank its own dropout stream
    model = Sequential(nn.Linear(5, 24), nn.ReLU(), nn.Dropout(0.25), nn.Linear(24, 3))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(4)
    x = rng.normal(size=(96, 5)).astype(np.float32)
    y = np.argmax(x[:, :3] + rng.normal(size=(96, 3)), axis=1).astype(np.int64)

    def crash(epoch, logs=None):
        if crash_at is not None and epoch == crash_at:
            raise RuntimeError("simulated crash")

    cbs = [callbacks.EarlyStopping(monitor="loss", patience=2),
           callbacks.LambdaCallback(on_epoch_begin=crash)]
    if mode != "full":
        cbs.append(callbacks.BackupAndRestore(os.path.join(workdir, "backup"), save_freq=5))
    history = model.fit(x, y, batch_size=8, epochs=7, verbose=0, callbacks=cbs)
    if dist.get_rank() == 0:
        ember.save({"model": model.state_dict(), "optimizer": model.optimizer.state_dict(),
                    "history": json.dumps(history.history)},
                   os.path.join(workdir, f"result-{mode}.safetensors"))
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3],
         int(sys.argv[4]) if len(sys.argv) > 4 else None)
