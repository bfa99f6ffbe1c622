"""The diagnosis against a corpus of real runs whose verdict is known by construction
(``benchmarks/diagnosis_corpus.py`` trains them; the histories are stored as JSON)."""

import os

import numpy as np
import pytest

from benchmarks import diagnosis_corpus as corpus
from ember.callbacks.diagnosis import VERDICTS

STORED = [run for run in corpus.RUNS if os.path.exists(corpus.path_of(run.name))]


def test_the_corpus_is_complete_and_covers_every_verdict():
    assert len(STORED) == len(corpus.RUNS) >= 16
    kinds = [run.kind for run in corpus.RUNS]
    for verdict in VERDICTS:
        assert kinds.count(verdict) >= 4, verdict
    sources = " ".join(run.how for run in corpus.RUNS)
    for data in ("Iris", "MNIST", "moons", "circles", "spirals"):
        assert data in sources


@pytest.mark.parametrize("run", STORED, ids=[run.name for run in STORED])
def test_diagnosis_of_every_stored_run(run):
    data, history = corpus.load(run.name)
    assert data["kind"] == run.kind and data["settings"]["epochs"] >= len(history.epoch)
    d = history.diagnose()
    assert d.verdict == run.kind, f"{run.name} ({run.how}):\n{d}"


@pytest.mark.parametrize("name", ["iris_mlp16_adam1e-3_50ep", "xor_linear", "random_labels_mlp256"])
def test_stored_runs_are_what_the_script_trains(name):
    """Re-train a few runs: the stored curves are the script's real output, not edited."""
    run = next(r for r in corpus.RUNS if r.name == name)
    _, stored = corpus.load(name)
    fresh = run.train()
    assert fresh.epoch == stored.epoch
    for key, values in stored.history.items():
        np.testing.assert_allclose(fresh.history[key], values, rtol=2e-3, atol=2e-4, err_msg=key)
    assert fresh.settings == stored.settings
    assert fresh.diagnose().verdict == run.kind
