#!/usr/bin/env bash
# One device-machine call: install the carried wheels (.whl: kernelwright built here, pytest),
# run the GPU tests, then the check benchmark. Results land in $OUT.
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
