#!/usr/bin/env bash
# One device-machine call: install the carried wheels (.whl: kernelwright built here, pytest),
# run the GPU tests, then the check benchmark. Results land in $OUT.
# A device call may last 10 minutes: split the work with the switches below, e.g.
#   KW_NCU=0 KW_BENCH=0 bash benchmarks/gpu_session.sh                               # GPU tests
#   KW_TESTS=0 KW_NCU=0 KW_BENCH_ARGS="--sizes small" bash benchmarks/gpu_session.sh  # check wall time
#   KW_TESTS=0 KW_NCU=0 KW_BENCH_ARGS="--sizes large" bash benchmarks/gpu_session.sh  # GPU-sized problems
set -uo pipefail
OUT=${OUT:-/tmp/kw-out}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)"
if [ "${KW_TESTS:-1}" = 1 ]; then
  python3 -P -m pytest -m gpu tests/test_gpu_check.py -q -p no:cacheprovider --durations=10 ${KW_PYTEST_ARGS:-} 2>&1 | tee "$OUT/gpu_tests.log"
fi
if [ "${KW_NCU:-1}" = 1 ]; then
  bash benchmarks/ncu_capture.sh "$OUT"
fi
if [ "${KW_BENCH:-1}" = 1 ]; then
  python3 benchmarks/check_gpu.py --out "$OUT" ${KW_BENCH_ARGS:-} 2>&1 | tee "$OUT/bench.log"
fi
