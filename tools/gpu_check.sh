#!/usr/bin/env bash
# The GPU check, run on a machine with an NVIDIA GPU and CuPy (the device tool's machine):
#   OUT=/some/dir bash tools/gpu_check.sh [pytest args for the full-suite step, e.g. -n 12]
# 1. ember sees the GPU; 2. tests/test_cuda.py with CUDA mandatory; 3. the GPU benchmark;
# 4. the whole suite with EMBER_TEST_CUDA=1, so every op comparison runs on CUDA too.
# Logs and JUnit XML go to $OUT (default ./gpu_out). Each step has its own time limit so that
# one hang cannot eat the whole lease.
set -u
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 EMBER_TEST_CUDA=1
PY=${PY:-python3}
T_CUDA=${T_CUDA:-120} T_BENCH=${T_BENCH:-90} T_SUITE=${T_SUITE:-240}
{
  nvidia-smi -L
  $PY -c "import sys, numpy, cupy, torch, ember; print(sys.version.split()[0], 'numpy', numpy.__version__, 'cupy', cupy.__version__, 'torch', torch.__version__, 'torch cuda', torch.cuda.is_available()); print('ember sees GPU:', ember.cuda.is_available(), ember.cuda.get_device_name() if ember.cuda.is_available() else '')"
} 2>&1 | tee "$OUT/env.txt"
echo "== tests/test_cuda.py"
timeout "$T_CUDA" $PY -m pytest -q -p no:cacheprovider -rfE --tb=short --durations=5 \
  --junitxml="$OUT/junit_cuda.xml" tests/test_cuda.py > "$OUT/test_cuda.log" 2>&1
echo "rc=$?"; tail -n 25 "$OUT/test_cuda.log"
echo "== benchmarks.gpu"
timeout "$T_BENCH" $PY -m benchmarks.gpu --repeats 5 --seconds 0.5 > "$OUT/bench_gpu.log" 2>&1
echo "rc=$?"; tail -n 12 "$OUT/bench_gpu.log"
echo "== whole suite, EMBER_TEST_CUDA=1"
timeout "$T_SUITE" $PY -m pytest -q -p no:cacheprovider -rfE --tb=short "$@" \
  --junitxml="$OUT/junit_suite.xml" tests > "$OUT/suite.log" 2>&1
echo "rc=$?"; grep -E "^(FAILED|ERROR)" "$OUT/suite.log" | cut -c1-220 | head -60; tail -n 3 "$OUT/suite.log"
