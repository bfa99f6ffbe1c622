"""Every public function and Tensor method ember shares with PyTorch takes PyTorch's parameters:
the same positional names in the same order, and every keyword PyTorch documents.

PyTorch's builtins mostly have no ``inspect.signature``; their docstrings open with it instead
("sum(input, dim, keepdim=False, *, dtype=None) -> Tensor"), one line per overload, so those
lines are parsed here. The differences ember keeps on purpose are listed in ``ALLOWED`` with why.
"""

from __future__ import annotations

import inspect
import re

import pytest
import torch

import ember
import ember.nn.functional as F

# (namespace, name) -> why ember's signature may differ from PyTorch's there.
ONE_FUNCTION_FOR_TWO_NAMES = (
    "ember's function and Tensor method are one function: the second parameter keeps "
    "torch.<name>'s name, which PyTorch's Tensor method calls differently")
OVERLOADS = ("PyTorch's overloads name this position differently (for example max(input, dim) "
             "and max(input, other)); ember keeps one name and accepts both by position")
ALLOWED = {
    **{("Tensor", n): ONE_FUNCTION_FOR_TWO_NAMES for n in (
        "mul", "multiply", "div", "divide", "true_divide", "floor_divide", "fmod", "remainder",
        "dot", "matmul", "bmm", "type_as", "take", "where", "hsplit", "vsplit", "dsplit",
        "narrow", "narrow_copy", "uniform_", "random_", "index_copy", "orgqr", "ormqr",
        "masked_scatter")},
    **{("Tensor", n): "PyTorch's method docstring repeats the function's line (with input)"
       for n in ("frexp", "histogram", "put")},
    **{("torch", n): OVERLOADS for n in (
        "max", "min", "tensor_split", "searchsorted", "repeat_interleave", "result_type",
        "norm",
        "normal", "true_divide", "pow")},
    ("torch", "from_numpy"): "takes its array positionally only in PyTorch (ndarray)",
    ("torch", "set_num_threads"): "PyTorch's doc line names the type (int), not a parameter; "
                                  "the argument is positional-only there",
    ("torch", "set_num_interop_threads"): "PyTorch's doc line names the type (int), not a "
                                          "parameter; the argument is positional-only there",
    ("torch", "save"): "pickle_module/pickle_protocol: ember writes safetensors, never pickles",
}
# Whole families of keywords ember accepts nowhere, with why.
IGNORED_KEYWORDS = {
    "out_dtype": "mixed-precision output of CUDA kernels",
}


def _split_params(text: str) -> list[str]:
    """``"a, b=(1, 2), *, c=None"`` -> ``["a", "b=(1, 2)", "*", "c=None"]``."""
    out, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def _doc_signatures(doc: str, name: str) -> list[str]:
    """The parameter text of every ``name(...)`` line that opens a line of ``doc`` (one per
    overload; a signature may wrap onto the next lines)."""
    found = []
    pattern = r"^\s*(?:\.\. function:: )?(?:linalg\.)?" + re.escape(name) + r"\("
    for m in re.finditer(pattern, doc, re.M):
        depth, i = 1, m.end()
        while i < len(doc) and depth:
            depth += doc[i] == "("
            depth -= doc[i] == ")"
            i += 1
        tail = doc[i:i + 40]
        if depth == 0 and (tail.startswith(" ->") or tail.startswith(":") or not tail.strip()
                           or tail.startswith("\n")):
            found.append(doc[m.end():i - 1])
    return found


def torch_overloads(obj, name: str, method: bool):
    """``[(positional names, has varargs, keyword names)]`` for each PyTorch overload."""
    try:
        params = list(inspect.signature(obj).parameters.values())
    except (TypeError, ValueError):
        params = None
    if params is not None and not all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        if method and params and params[0].name == "self":
            params = params[1:]
        pos = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        kw = [p.name for p in params if p.kind == p.KEYWORD_ONLY]
        var = any(p.kind == p.VAR_POSITIONAL for p in params)
        return [(pos, var, kw)]
    result = []
    for text in _doc_signatures(obj.__doc__ or "", name):
        pos, kw, var, star = [], [], False, False
        for p in _split_params(text.replace("\n", " ")):
            pname = p.split("=")[0].split(":")[0].strip()
            if pname == "*":
                star = True
            elif pname.startswith("**") or not pname:
                continue
            elif pname.startswith("*"):
                var, star = True, True
            elif not pname.isidentifier():
                break  # not a parameter list after all (an example call in the text)
            else:
                (kw if star else pos).append(pname)
        else:
            result.append((pos, var, kw))
    return result


def differences(tobj, eobj, name: str, method: bool) -> list[str]:
    """What ember's ``eobj`` lacks of PyTorch's ``tobj``'s parameters."""
    params = list(inspect.signature(eobj).parameters.values())
    if method:
        params = params[1:]
    epos = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    ekw = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    evar = any(p.kind == p.VAR_POSITIONAL for p in params)
    evarkw = any(p.kind == p.VAR_KEYWORD for p in params)
    problems = set()
    for tpos, tvar, tkw in torch_overloads(tobj, name, method):
        for i, pname in enumerate(tpos):
            if pname in IGNORED_KEYWORDS:
                continue
            if i >= len(epos):
                if not evar and pname not in ekw and not evarkw:
                    problems.add(f"positional {i} {pname!r} missing")
                break
            if epos[i] != pname:
                problems.add(f"positional {i} is {epos[i]!r}, PyTorch's {pname!r}")
        if tvar and not evar:
            problems.add("PyTorch takes varargs here, ember does not")
        for pname in tkw:
            if pname not in ekw and not evarkw and pname not in IGNORED_KEYWORDS:
                problems.add(f"keyword {pname!r} missing")
    return sorted(problems)


def _shared(tmod, emod):
    for name in sorted(dir(tmod)):
        if name.startswith("_") or not hasattr(emod, name):
            continue
        t, e = getattr(tmod, name), getattr(emod, name)
        if callable(t) and callable(e) and not isinstance(t, type) and not isinstance(e, type):
            yield name, t, e


NAMESPACES = {
    "torch": (torch, ember, False),
    "Tensor": (torch.Tensor, ember.Tensor, True),
    "nn.functional": (torch.nn.functional, F, False),
    "autograd": (torch.autograd, ember.autograd, False),
    "linalg": (torch.linalg, ember.linalg, False),
}
# At least this many signatures are compared per namespace (guards the doc-line parser).
MIN_COMPARED = {"torch": 250, "Tensor": 300, "nn.functional": 60, "autograd": 4, "linalg": 15}


@pytest.mark.parametrize("namespace", sorted(NAMESPACES))
def test_signatures_match_pytorch(namespace):
    tmod, emod, method = NAMESPACES[namespace]
    compared, wrong = 0, []
    for name, t, e in _shared(tmod, emod):
        try:
            inspect.signature(e)
        except (TypeError, ValueError):
            continue  # a builtin of ember's own (none today)
        if not torch_overloads(t, name, method):
            continue  # PyTorch documents no signature to compare with
        compared += 1
        probs = differences(t, e, name, method)
        if probs and (namespace, name) not in ALLOWED:
            wrong.append(f"{namespace}.{name}: " + "; ".join(probs))
    assert compared >= MIN_COMPARED[namespace], (
        f"only {compared} signatures compared in {namespace}: doc-line parser broken?")
    assert not wrong, "signatures differ from PyTorch's:\n" + "\n".join(wrong)


def test_allowed_differences_are_still_differences():
    """An entry of ALLOWED that no longer differs is stale: remove it."""
    stale = []
    for (namespace, name) in ALLOWED:
        tmod, emod, method = NAMESPACES[namespace]
        if not hasattr(emod, name):
            continue
        if not differences(getattr(tmod, name), getattr(emod, name), name, method):
            stale.append(f"{namespace}.{name}")
    assert not stale, f"no longer differ (remove from ALLOWED): {stale}"


def test_doc_line_parser():
    assert torch_overloads(torch.sum, "sum", False)[0] == (["input"], False, ["dtype"])
    assert (["input", "dim", "keepdim"], False, ["dtype"]) in torch_overloads(torch.sum, "sum", False)
    assert torch_overloads(torch.zeros, "zeros", False)[0][1] is True
    sdpa = torch_overloads(torch.nn.functional.scaled_dot_product_attention,
                           "scaled_dot_product_attention", False)
    assert "enable_gqa" in sdpa[0][0]
