"""Helpers shared by the examples: make ``import ember`` work from a source checkout."""

import os
import sys

# Running `python examples/X.py` from a checkout that was not pip-installed: put the repository
# root on the path so `import ember` finds the package next to this folder.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
