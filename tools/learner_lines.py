"""The lines a learner reads to understand ember's core, counted at two commits.

The core is: the Tensor (ember/tensor.py), the graph and the engine (ember/autograd/graph.py,
engine.py), the helpers every op uses (ember/ops/common.py), and five ops with their backward
helpers: add, mul, exp, tanh and sum. A helper is a function of the op's own module that the op
reaches by name (transitively) and that is private (``_name``) or a gradient op (``*_backward``,
``*_grad*``); helpers imported from another op module are not followed (common.py is counted
whole). "code" lines are those that are neither blank nor a comment (docstrings count as code).

    python tools/learner_lines.py                 # ff43d03 (before the renovation) against the tree
    python tools/learner_lines.py --before REV --after REV
"""

from __future__ import annotations

import argparse
import ast
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WHOLE_FILES = ["ember/tensor.py", "ember/autograd/graph.py", "ember/autograd/engine.py",
               "ember/ops/common.py"]
OPS = {"ember/ops/elementwise.py": ["add", "mul"], "ember/ops/unary.py": ["exp", "tanh"],
       "ember/ops/reduce.py": ["sum"]}


def read(path: str, rev: str | None) -> str:
    """``path`` at revision ``rev`` (the working tree when ``rev`` is None)."""
    if rev is None:
        return (ROOT / path).read_text()
    return subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout


def count(lines: list[str]) -> tuple[int, int]:
    """``(code lines, total lines)``: code is neither blank nor a comment."""
    code = sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))
    return code, len(lines)


def _is_helper(name: str) -> bool:
    return name.startswith("_") or "backward" in name or "_grad" in name


def op_functions(source: str, ops: list[str]) -> list[ast.FunctionDef]:
    """The module-level definitions of ``ops`` and of the helpers they reach, in file order."""
    tree = ast.parse(source)
    defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    chosen, todo = set(), list(ops)
    while todo:
        name = todo.pop()
        if name in chosen or name not in defs:
            continue
        chosen.add(name)
        for node in ast.walk(defs[name]):
            if isinstance(node, ast.Name) and node.id in defs and _is_helper(node.id):
                todo.append(node.id)
    return sorted((defs[n] for n in chosen), key=lambda d: d.lineno)


def measure(rev: str | None) -> list[tuple[str, int, int]]:
    """One row ``(what, code lines, total lines)`` per file or op group, at ``rev``."""
    rows = []
    for path in WHOLE_FILES:
        rows.append((path, *count(read(path, rev).splitlines())))
    for path, ops in OPS.items():
        source = read(path, rev)
        lines = source.splitlines()
        for fn in op_functions(source, ops):
            start = fn.lineno - 1 - len(fn.decorator_list)
            rows.append((f"{path}: {fn.name}", *count(lines[start:fn.end_lineno])))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="ff43d03")
    parser.add_argument("--after", default=None, help="a revision (default: the working tree)")
    args = parser.parse_args()
    before, after = measure(args.before), measure(args.after)
    for title, rows in ((args.before, before), (args.after or "working tree", after)):
        print(f"{title}:")
        for what, code, total in rows:
            print(f"  {what:<48} {code:>5} {total:>6}")
    print(f"\n{'':<50}{'code':>5} {'total':>6}")
    for title, rows in ((args.before, before), (args.after or "working tree", after)):
        files, ops = rows[:len(WHOLE_FILES)], rows[len(WHOLE_FILES):]
        for part, part_rows in (("the four files", files), ("the five ops and helpers", ops),
                                ("all", rows)):
            print(f"{'  ' + title + ', ' + part:<50}{sum(r[1] for r in part_rows):>5} "
                  f"{sum(r[2] for r in part_rows):>6}")


if __name__ == "__main__":
    main()
