"""Write ``ember/ops/_lazy_table.py``: what the op families that ``import ember`` leaves unloaded
provide, so that their names can answer before the family is loaded.

``ember/ops/__init__.py`` names those families (``LAZY_FAMILIES``). For each one this tool loads
it in a fresh interpreter, in that order, and records its public functions (its ``__all__``) and
the ``Tensor`` attributes its ``attach(...)`` calls bind. ``ember.ops`` answers the functions by
``__getattr__`` and puts a placeholder on ``Tensor`` for each attribute (the first look-up loads the
family, whose ``attach`` replaces it).

    python tools/lazy_ops_table.py           # rewrite the table
    python tools/lazy_ops_table.py --check   # exit 1 if the table is out of date (a test runs it)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE = os.path.join(ROOT, "ember", "ops", "_lazy_table.py")

# Runs in a fresh interpreter: ``import ember`` must not have loaded any lazy family yet, so each
# family's ``attach`` calls go through the logging wrapper set here.
_PROBE = r"""
import importlib, json, sys
import ember
import ember.ops as ops
import ember.ops.common as common

loaded = [f for f in ops.LAZY_FAMILIES if "ember.ops." + f in sys.modules]
if loaded:
    raise SystemExit(f"import ember loaded lazy families {loaded}")
methods = {f: [] for f in ops.LAZY_FAMILIES}
real_attach = common.attach

def logging_attach(**named):
    family = sys._getframe(1).f_globals["__name__"].rpartition(".")[2]
    methods.setdefault(family, []).extend(named)
    real_attach(**named)

common.attach = logging_attach
functions = {}
for family in ops.LAZY_FAMILIES:
    module = importlib.import_module("ember.ops." + family)
    functions[family] = list(module.__all__)
stray = sorted(set(methods) - set(ops.LAZY_FAMILIES))
if stray:
    raise SystemExit(f"loading the lazy families loaded other families that attach: {stray}")
print(json.dumps({"functions": functions, "methods": methods}))
"""


def probe() -> dict:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, cwd=ROOT, capture_output=True,
                         text=True)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _mapping(name: str, groups: dict) -> str:
    lines = [f"{name} = {{"]
    for family, names in groups.items():
        lines.append(f"    {json.dumps(family)}: (")
        line = "       "
        for n in names:
            item = f" {json.dumps(n)},"
            if len(line) + len(item) > 99:
                lines.append(line)
                line = "       "
            line += item
        if line.strip():
            lines.append(line)
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines)


def render(found: dict) -> str:
    return "\n".join([
        '"""What the op families loaded on first use provide (see ``ember/ops/__init__.py``).',
        "",
        "Written by ``python tools/lazy_ops_table.py``; ``tests/test_lazy_ops.py`` fails when it is",
        'out of date."""',
        "",
        "# family -> its public functions (answered by ember.ops.__getattr__ and ember.__getattr__)",
        _mapping("FUNCTIONS", found["functions"]),
        "",
        "# family -> the Tensor attributes its attach() binds (placeholders until it is loaded)",
        _mapping("METHODS", found["methods"]),
        "",
    ])


def main(argv: list[str]) -> int:
    text = render(probe())
    if "--check" in argv:
        with open(TABLE) as f:
            if f.read() != text:
                print(f"{TABLE} is out of date: run python tools/lazy_ops_table.py")
                return 1
        return 0
    with open(TABLE, "w") as f:
        f.write(text)
    print(f"wrote {TABLE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
