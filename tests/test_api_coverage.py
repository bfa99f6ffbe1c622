"""The name-coverage script (tools/api_coverage.py) runs and counts what it should."""

from __future__ import annotations

import pytest

from tools import api_coverage


@pytest.fixture(scope="module")
def results():
    return {ns.label: ns for ns in api_coverage.measure()}


def test_every_namespace_is_measured(results):
    assert list(results) == ["torch functions", "Tensor methods", "Tensor properties",
                             "nn modules", "nn.functional", "nn.init", "optim", "lr_scheduler",
                             "utils.data", "autograd", "autograd.functional", "linalg"]
    for ns in results.values():
        assert ns.names, ns.label
        assert set(ns.missing) <= set(ns.names)
        assert not set(ns.excluded) & set(ns.names)


def test_namespaces_this_branch_completed(results):
    for label in ("lr_scheduler", "autograd.functional"):
        assert results[label].missing == [], label
    optim = results["optim"]
    assert len(optim.missing) / len(optim.names) <= 0.3
    for name in ("NAdam", "RAdam", "Adamax", "ASGD", "Rprop", "LBFGS"):
        assert name in optim.names and name not in optim.missing
    assert "detect_anomaly" in results["autograd"].names
    assert "detect_anomaly" not in results["autograd"].missing


def test_exclusion_rules_leave_public_names_in():
    reason = api_coverage.exclusion_reason
    for public in ("index_copy", "matmul", "conv2d", "softmax", "is_xpu", "to", "layer_norm"):
        assert reason(public) is None, public
    assert reason("quantize_per_tensor") == "quantized"
    assert reason("sparse_coo_tensor") == "sparse layout"
    assert reason("cudnn_convolution") == "other accelerator"
    assert reason("view_copy") == "internal"


def test_missing_names_are_really_missing(results):
    import ember

    ns = results["Tensor methods"]
    for name in ns.missing[:20]:
        assert not hasattr(ember.Tensor, name)
    for name in [n for n in ns.names if n not in ns.missing][:20]:
        assert hasattr(ember.Tensor, name)


def test_command_line_prints_table_and_missing(tmp_path, capsys):
    out_file = tmp_path / "missing.txt"
    assert api_coverage.main(["--missing", "--excluded", "--missing-to", str(out_file)]) == 0
    text = capsys.readouterr().out
    assert "lr_scheduler" in text and "100%" in text
    assert "[nn modules]" in text and "excluded" in text
    assert "[linalg]" in out_file.read_text()
