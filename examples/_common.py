"""Helpers shared by the examples: make ``import ember`` work from a source checkout."""

import os
import sys

# Running `python examples/X.py` from a checkout that was not pip-installed: put the repository
# root on the path so `import ember` finds the package next to this folder.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def report_lab(results, out: str, quick: bool) -> None:
    """Write the lab's curves and histories to ``out``, then print the results table and each
    model's verdict (what ``lab_iris.py`` and ``lab_mnist.py`` end with)."""
    from ember import lab

    written = lab.save_artifacts(results, out)
    print()
    print(lab.format_table(results, quick=quick))
    for r in results:
        print(f"\n{lab.MODEL_TITLES[r.model]}: {r.diagnosis.verdict}")
    print(f"\nwrote {len(written)} files to {out}")
