#!/usr/bin/env bash
# One device call: the GPU tests (each test's verdict printed as it ends, failures' tracebacks at
# the end), then how long a check takes cold and warm (benchmarks/check_speed.py), then one
# KernelBench level-1 check at full size (benchmarks/kb_check_speed.py). Each step time-boxed;
# files land in $OUT. Needs the wheels of benchmarks/gpu_wheels.sh in .whl and .kb (carried).
set -uo pipefail
OUT=${OUT:-/tmp/kw-out}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH PYTHONUNBUFFERED=1
{ date -u; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -P -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)"; } | tee "$OUT/machine.txt"
timeout "${KW_GPU_S:-220}" python3 -P -m pytest -m gpu -n "${KW_GPU_N:-8}" --dist loadfile -v -rfE --tb=short -p no:cacheprovider ${KW_GPU_TESTS:-tests} > "$OUT/gpu_tests.log" 2>&1
echo "gpu tests exit $?" >> "$OUT/gpu_tests.log"
# timeout stops pytest's main process only: its xdist workers would go on using the GPU beside the
# timings below (the 15:19 call's check_speed was slowed so).
pkill -9 -f "pytest" 2>/dev/null; sleep 2
if [ "${KW_SPEED_S:-110}" -gt 0 ]; then  # a box of 0 skips the step (timeout 0 would not limit it)
  timeout "${KW_SPEED_S:-110}" python3 -P benchmarks/check_speed.py --device cuda --warm 3 --json "$OUT/check_speed_gpu.json" > "$OUT/check_speed.log" 2>&1
  echo "check_speed exit $?" >> "$OUT/check_speed.log"
fi
if [ -d .kb ] && [ "${KW_KB_S:-100}" -gt 0 ]; then
  timeout "$(( ${KW_KB_S:-100} + 15 ))" python3 -P benchmarks/kb_check_speed.py --kernelbench .kb --problems "${KW_KB_PROBLEMS:-19}" --device cuda \
    --budget-s "${KW_KB_S:-100}" --json "$OUT/kb_check_speed.json" > "$OUT/kb_check_speed.log" 2>&1
  echo "kb check speed exit $?" >> "$OUT/kb_check_speed.log"
fi
