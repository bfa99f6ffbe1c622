"""How much of PyTorch's public API ember has, name by name, per namespace.

    python -m tools.api_coverage               # the table
    python -m tools.api_coverage --missing     # the table, then the missing names per namespace
    python -m tools.api_coverage --missing-to missing.txt   # missing names written to a file
    python -m tools.api_coverage --excluded    # the names left out of the count, and why

The reference is the installed PyTorch (2.13 in this project). A name counts as present when
``hasattr`` finds it on the matching ember object (lazily loaded namespaces load on the lookup).
Only existence is checked: signatures and behaviour are the business of the tests.

Left out of the counts, by the rules and lists below: quantization, sparse layouts, other
accelerators and vendor kernels (cuDNN, MIOpen, MKL-DNN, FBGEMM, XLA, IPU, Vulkan, ...), and
PyTorch internals (TorchScript and symbolic-shape helpers, aten kernels that back a public
``nn``/``F`` name, functionalization ``*_copy`` variants, functions removed in 2.x that only
raise, typing and module re-exports).
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
import types
from dataclasses import dataclass, field
from typing import Callable

# ----------------------------------------------------------------------------- exclusion rules
# Each rule: (reason, regular expression on the name). A name matching any rule is left out.

QUANTIZED = ("quantized", r"(^|_)q_|quantiz|^dequantize$|^int_repr$|^qscheme$|^fbgemm_|"
             r"^choose_qparams|fake_quant|^empty_quantized$|^Quant|^DeQuant|qat|^quantizable$")
SPARSE = ("sparse layout", r"sparse|^smm$|^hsmm$|^dsmm$|^saddmm$|^sspaddmm$|^hspmm$|^spmm$|"
          r"^(c?col|c?row|crow)_indices(_copy)?$|^indices(_copy)?$|^values(_copy)?$|"
          r"^coalesce$|^is_coalesced$|^dense_dim$|^to_dense$|^SparseAdam$|^to_mkldnn$")
ACCELERATOR = ("other accelerator", r"cudnn|miopen|mkldnn|_ipu|^ipu$|_xla|^is_xla$|vulkan|"
               r"^is_maia$|^is_mtia$|^mtia$|^is_mps$|autocast|^get_device_module$|"
               r"^record_stream$|cudagraph|^pin_memory$|^is_pinned$")
INTERNAL = ("internal", r"^sym_|_ir$|^parse_|^import_ir|type_comment|^unify_type_list$|^fork$|"
            r"^wait$|^compiled_with_cxx11_abi$|^classproperty$|^thread_safe_generator$|"
            r"^get_file_path$|^prepare_multiprocessing_environment$|^while_loop$|"
            r"(?<!^index)_copy$|^native_|^batch_norm_(backward|elemt|gather|stats|update)|"
            r"_backward|^unsafe_|^norm_except_dim$|^affine_grid_generator$|"
            r"^grid_sampler|^conv_tbc$|^constant_pad_nd$|^convolution$|^embedding_renorm_$|"
            r"^(rnn_relu|rnn_tanh|gru|lstm)(_cell)?$|^slice_inverse$|"
            r"^segment_reduce$|^is_distributed$|^hash_tensor$|"
            r"^module_load$|^reinforce$|^map2?_$|^apply_$|"
            r"^storage_type$|^const_data_ptr$|^untyped_storage$|^set_$|^is_set_to$|"
            r"^boolean_dispatch$|^handle_torch_function$|^has_torch_function|^assert_int_or_pair$|"
            r"^enforce_grad_layout_policy$|^NestedIOFunction$|^output_nr$|^volatile$|"
            r"^grad_dtype$|^swap_in_optimizer_params_and_state$|^DFIterDataPipe$|"
            r"DataPipe$|^DataChunk$|^functional_datapipe$|^guaranteed_datapipes_determinism$|"
            r"^non_deterministic$|^argument_validation$|^runtime_validation|^_DatasetKind$|"
            r"^NonDynamicallyQuantizableLinear$|^Container$")
# in the torch namespace only: aten kernels and control-flow operators whose public form lives
# elsewhere (F.feature_alpha_dropout, F.max_pool1d_with_indices, torch.linalg.cond)
TORCH_ONLY = ("internal", r"^feature_(alpha_)?dropout|^max_pool1d_with_indices$|^cond$")
REMOVED = ("removed in PyTorch 2 (only raises)", r"^(symeig|eig|lstsq|solve|matrix_rank|"
           r"triangular_solve|qr|svd|lu|slogdet|cholesky|matrix_power|matrix_exp|lu_solve)$")
RULES = [QUANTIZED, SPARSE, ACCELERATOR, INTERNAL]
# REMOVED applies to the torch namespace only where the name raises there; linalg has the real ones
REMOVED_IN_TORCH = {"symeig", "eig", "lstsq", "solve", "matrix_rank", "triangular_solve"}


def exclusion_reason(name: str, extra: tuple = ()) -> str | None:
    """Why ``name`` is left out of the count, or ``None`` when it counts."""
    for reason, pattern in (*RULES, *extra):
        if re.search(pattern, name):
            return reason
    return None


# ------------------------------------------------------------------------------ namespaces

def _public(obj) -> list[str]:
    return sorted(n for n in dir(obj) if not n.startswith("_"))


def _is_function(obj) -> bool:
    return callable(obj) and not isinstance(obj, (type, types.ModuleType))


def _from_torch(obj) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module.startswith("torch") or module == ""


@dataclass
class Namespace:
    label: str
    torch_names: Callable[[], list[str]]
    ember_object: Callable[[], object]
    extra_rules: tuple = ()
    names: list[str] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


def _torch_functions() -> list[str]:
    import torch

    out = []
    for n in _public(torch):
        obj = getattr(torch, n)
        if _is_function(obj) and _from_torch(obj):
            out.append(n)
    return out


def _tensor_members(properties: bool) -> list[str]:
    import torch

    out = []
    for n in _public(torch.Tensor):
        kind = type(inspect.getattr_static(torch.Tensor, n)).__name__
        is_prop = kind in ("getset_descriptor", "property", "member_descriptor")
        if is_prop == properties:
            out.append(n)
    return out


def _nn_modules() -> list[str]:
    import torch

    return [n for n in _public(torch.nn)
            if isinstance(getattr(torch.nn, n), type) and issubclass(getattr(torch.nn, n),
                                                                     torch.nn.Module)]


def _module_functions(module) -> list[str]:
    return [n for n in _public(module)
            if _is_function(getattr(module, n)) and _from_torch(getattr(module, n))]


def _functional() -> list[str]:
    import torch.nn.functional as F

    return _module_functions(F)


def _init() -> list[str]:
    import torch.nn.init as init

    return [n for n in _module_functions(init) if n != "Tensor"]


def _optim() -> list[str]:
    import torch.optim

    return list(torch.optim.__all__)


def _schedulers() -> list[str]:
    import torch.optim.lr_scheduler as S

    return [n for n in _public(S) if isinstance(getattr(S, n), type)
            and issubclass(getattr(S, n), S.LRScheduler)]


def _data() -> list[str]:
    import torch.utils.data

    return list(torch.utils.data.__all__)


def _autograd() -> list[str]:
    import torch.autograd

    # __all__ plus the submodules programs reach through the package
    return sorted(set(torch.autograd.__all__) - {"grad_mode", "variable"}
                  | {"functional", "graph", "forward_ad", "Variable"})


def _autograd_functional() -> list[str]:
    import torch.autograd.functional

    return list(torch.autograd.functional.__all__)


def _linalg() -> list[str]:
    import torch.linalg

    return [n for n in _public(torch.linalg) if n != "common_notes"]


def _ember(path: str) -> Callable[[], object]:
    def get():
        import importlib

        import ember

        if path == "Tensor":
            return ember.Tensor
        try:
            return importlib.import_module(f"ember.{path}") if path else ember
        except ImportError:  # a namespace ember does not have yet: nothing in it is present
            return types.SimpleNamespace()
    return get


def namespaces() -> list[Namespace]:
    removed = (("removed in PyTorch 2 (only raises)",
                "^(" + "|".join(sorted(REMOVED_IN_TORCH)) + ")$"),)
    return [
        Namespace("torch functions", _torch_functions, _ember(""), (*removed, TORCH_ONLY)),
        Namespace("Tensor methods", lambda: _tensor_members(False), _ember("Tensor"), removed),
        Namespace("Tensor properties", lambda: _tensor_members(True), _ember("Tensor")),
        Namespace("nn modules", _nn_modules, _ember("nn")),
        Namespace("nn.functional", _functional, _ember("nn.functional")),
        Namespace("nn.init", _init, _ember("nn.init")),
        Namespace("optim", _optim, _ember("optim")),
        Namespace("lr_scheduler", _schedulers, _ember("optim.lr_scheduler")),
        Namespace("utils.data", _data, _ember("utils.data")),
        Namespace("autograd", _autograd, _ember("autograd")),
        Namespace("autograd.functional", _autograd_functional, _ember("autograd.functional")),
        Namespace("linalg", _linalg, _ember("linalg")),
    ]


def measure() -> list[Namespace]:
    """Fill in each namespace's counted, excluded and missing names."""
    result = []
    for ns in namespaces():
        target = ns.ember_object()
        for name in ns.torch_names():
            reason = exclusion_reason(name, ns.extra_rules)
            if reason is not None:
                ns.excluded[name] = reason
                continue
            ns.names.append(name)
            if not hasattr(target, name):
                ns.missing.append(name)
        result.append(ns)
    return result


def table(results: list[Namespace]) -> str:
    lines = [f"{'namespace':<22}{'present':>9}{'counted':>9}{'excluded':>10}{'coverage':>10}"]
    total = present_total = 0
    for ns in results:
        present = len(ns.names) - len(ns.missing)
        total += len(ns.names)
        present_total += present
        pct = 100.0 * present / len(ns.names) if ns.names else 100.0
        lines.append(f"{ns.label:<22}{present:>9}{len(ns.names):>9}{len(ns.excluded):>10}"
                     f"{pct:>9.0f}%")
    pct = 100.0 * present_total / total if total else 100.0
    lines.append(f"{'all':<22}{present_total:>9}{total:>9}{'':>10}{pct:>9.0f}%")
    return "\n".join(lines)


def missing_report(results: list[Namespace]) -> str:
    parts = []
    for ns in results:
        parts.append(f"[{ns.label}] {len(ns.missing)} missing")
        parts.append("  " + " ".join(ns.missing) if ns.missing else "  (none)")
    return "\n".join(parts)


def excluded_report(results: list[Namespace]) -> str:
    parts = []
    for ns in results:
        by_reason: dict[str, list[str]] = {}
        for name, reason in ns.excluded.items():
            by_reason.setdefault(reason, []).append(name)
        parts.append(f"[{ns.label}] {len(ns.excluded)} excluded")
        for reason, names in sorted(by_reason.items()):
            parts.append(f"  {reason}: " + " ".join(names))
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--missing", action="store_true", help="print the missing names")
    parser.add_argument("--missing-to", metavar="FILE", help="write the missing names to FILE")
    parser.add_argument("--excluded", action="store_true",
                        help="print the names left out of the count, with the reason")
    args = parser.parse_args(argv)
    import torch

    results = measure()
    print(f"PyTorch {torch.__version__}: public names present in ember")
    print(table(results))
    if args.missing:
        print()
        print(missing_report(results))
    if args.excluded:
        print()
        print(excluded_report(results))
    if args.missing_to:
        with open(args.missing_to, "w") as fh:
            fh.write(missing_report(results) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
