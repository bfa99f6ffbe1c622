"""Runs corpus programs in this process, one after the other, and prints a JSON report.

    python tests/programs/_driver.py torch|ember PROGRAM.py [PROGRAM.py ...]

With ``ember``, an import hook first makes ``import torch`` (and ``torch.nn``, ``torch.optim``,
``torch.utils.data``, ...) import ember's modules of the same names, so the programs run
unchanged. Each program's stdout (or the traceback that stopped it) goes into the report; the
default dtype is reset between programs. Imports of this file stay free of torch and ember until
the framework is chosen.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.util
import io
import json
import runpy
import sys
import time
import traceback


class EmberAsTorch(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``torch`` and ``torch.X.Y`` are ``ember`` and ``ember.X.Y``."""

    def find_spec(self, fullname, path, target=None):
        if fullname == "torch" or fullname.startswith("torch."):
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module("ember" + spec.name[len("torch"):])

    def exec_module(self, module):
        pass  # ember's module is already executed


def main(argv):
    framework, programs = argv[0], argv[1:]
    if framework == "ember":
        sys.meta_path.insert(0, EmberAsTorch())
    import torch  # the real one, or ember under its name

    # one BLAS thread each: the machines that run the tests are shared, and extra threads only
    # contend there (it also keeps float32 summation orders fixed from run to run)
    torch.set_num_threads(1)

    report = {}
    for path in programs:
        out = io.StringIO()
        error = None
        start = time.perf_counter()
        try:
            with contextlib.redirect_stdout(out):
                runpy.run_path(path, run_name="__main__")
        except BaseException:  # noqa: B036 - a program's SystemExit is reported too
            error = traceback.format_exc()
        finally:
            torch.set_default_dtype(torch.float32)
        report[path] = {"stdout": out.getvalue(), "error": error,
                        "seconds": time.perf_counter() - start}
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1:])
