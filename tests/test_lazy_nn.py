"""``import ember.nn`` leaves the rarely used layer modules and the functional forms' op families
unloaded (ember/nn/modules/_lazy_names.py, ``_LAZY_FAMILIES`` in ember/nn/functional.py), yet
every name answers as if they were loaded. Each check runs in a fresh interpreter."""

from helpers import run_fresh


def test_import_ember_nn_loads_no_lazy_layer_module_nor_lazy_op_family():
    out = run_fresh(
        "import sys, ember.nn, ember.nn.functional as F\n"
        "from ember.nn.modules._lazy_names import LAZY_LAYER_MODULES\n"
        "lazy = {'ember.nn.modules.' + m for m in LAZY_LAYER_MODULES}\n"
        "lazy |= {'ember.ops.' + f for f in F._LAZY_FAMILIES}\n"
        "print(sorted(lazy & set(sys.modules)))\n")
    assert out.strip() == "[]"


def test_the_table_lists_each_lazy_modules_public_names():
    out = run_fresh(
        "import importlib\n"
        "from ember.nn.modules._lazy_names import LAZY_LAYER_MODULES\n"
        "for m, names in LAZY_LAYER_MODULES.items():\n"
        "    real = importlib.import_module('ember.nn.modules.' + m).__all__\n"
        "    assert sorted(names) == sorted(real), (m, set(names) ^ set(real))\n"
        "print(len(LAZY_LAYER_MODULES))\n")
    assert int(out) >= 10


def test_every_lazy_layer_answers_from_nn_and_nn_modules():
    out = run_fresh(
        "import importlib, ember.nn as nn, ember.nn.modules as modules\n"
        "from ember.nn.modules._lazy_names import LAZY_LAYER_NAMES\n"
        "for name, m in LAZY_LAYER_NAMES.items():\n"
        "    assert name in nn.__all__, name\n"
        "    real = getattr(importlib.import_module('ember.nn.modules.' + m), name)\n"
        "    assert getattr(nn, name) is real and getattr(modules, name) is real, name\n"
        "from ember.nn import *\n"
        "print(Conv3d.__module__, TransformerEncoderLayer.__module__)\n")
    assert out.split() == ["ember.nn.modules.conv3d", "ember.nn.modules.transformer"]


def test_every_lazy_functional_name_answers_from_its_op_family():
    out = run_fresh(
        "import importlib, ember.nn.functional as F\n"
        "for name, family in F._LAZY.items():\n"
        "    assert name in F.__all__, name\n"
        "    real = getattr(importlib.import_module('ember.ops.' + family), name)\n"
        "    assert getattr(F, name) is real, name\n"
        "from ember.nn.functional import max_pool2d, interpolate\n"
        "print(len(F._LAZY), len(F.__all__) == len(set(F.__all__)))\n")
    count, unique = out.split()
    assert int(count) > 60 and unique == "True"


def test_dir_lists_the_lazy_names_before_they_load():
    """dir() (and so tab completion) shows what a PyTorch user looks for, loaded or not."""
    out = run_fresh(
        "import sys, ember.nn as nn, ember.nn.functional as F, ember.nn.modules as modules\n"
        "print('TransformerEncoderLayer' in dir(nn), 'Sequential' in dir(nn),\n"
        "      'CTCLoss' in dir(modules), 'interpolate' in dir(F), 'max_pool2d' in dir(F),\n"
        "      'ember.nn.modules.transformer' in sys.modules)\n")
    assert out.split() == ["True"] * 5 + ["False"]


def test_an_unknown_name_is_still_an_attribute_error():
    out = run_fresh(
        "import ember.nn as nn, ember.nn.functional as F, ember.nn.modules as modules\n"
        "for mod in (nn, F, modules):\n"
        "    try:\n"
        "        mod.NoSuchLayer\n"
        "    except AttributeError as e:\n"
        "        print(type(e).__name__)\n")
    assert out.split() == ["AttributeError"] * 3
