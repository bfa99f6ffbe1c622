"""Every Python block in README.md runs, as written, without a warning from ember."""

import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.S | re.M)


def test_readme_has_python_blocks():
    assert BLOCKS, "README.md has no ```python block"


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i + 1}" for i in range(len(BLOCKS))])
def test_readme_python_block_runs(code, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # blocks may write files (curves.png)
    with warnings.catch_warnings():
        # a misleading example (say, validation_split over class-ordered data) warns: fail on it
        warnings.simplefilter("error", UserWarning)
        exec(compile(code, str(README), "exec"), {"__name__": "__readme__"})
    printed = capsys.readouterr().out
    if "print(history.diagnose())" in code:
        assert printed.startswith("Diagnosis: ")
    if 'plot("curves.png")' in code:
        assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
