"""The benchmark suite runs end to end (quick mode, one tiny benchmark). Nothing here is timed:
speed is reported by ``python -m benchmarks``, never asserted in the test suite."""

import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_quick_small_op_benchmark_writes_json(tmp_path):
    out = tmp_path / "results.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--threads", "1", "--only", "chain1",
         "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ember/PyTorch" in proc.stdout
    data = json.loads(out.read_text())
    assert data["quick"] is True
    assert data["machine"]["threads"] == 1
    (result,) = data["results"]
    assert result["name"] == "chain1" and result["error"] is None
    assert result["ember"] > 0 and result["torch"] > 0


def test_unknown_benchmark_name_is_refused():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--only", "nonsense"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "unknown benchmark" in proc.stderr
