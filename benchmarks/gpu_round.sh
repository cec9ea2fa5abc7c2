#!/usr/bin/env bash
# One device call for this round (card, date and versions land in $OUT/machine.txt): the sandbox
# on the GPU machine (doctor, warm-worker isolation tests), how long a check takes cold and warm
# (benchmarks/check_speed.py), and the GPU tests of the judge. Every step is time-boxed and writes
# its own file under $OUT as it ends, so a call cut short still returns what finished.
# Needs the wheels of benchmarks/gpu_wheels.sh in .whl (carried).
set -uo pipefail
OUT=${OUT:-/tmp/kw-out}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH PYTHONUNBUFFERED=1
{ date -u; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; uname -r
  python3 -P -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)"; git log --oneline -1; } | tee "$OUT/machine.txt"
timeout 60 python3 -P -m kernelwright doctor --json > "$OUT/doctor.json" 2> "$OUT/doctor.err"; echo "doctor exit $?" >> "$OUT/doctor.err"
timeout ${KW_SPEED_S:-200} python3 -P benchmarks/check_speed.py --device cuda --warm ${KW_WARM_N:-3} --json "$OUT/check_speed_gpu.json" > "$OUT/check_speed.log" 2>&1
echo "check_speed exit $?" >> "$OUT/check_speed.log"
timeout ${KW_WARM_S:-80} python3 -P -m pytest tests/test_warm_worker.py -q -p no:cacheprovider -rs -x ${KW_WARM_TESTS:-} > "$OUT/warm_tests.log" 2>&1
echo "warm tests exit $?" >> "$OUT/warm_tests.log"
timeout ${KW_GPU_S:-170} python3 -P -m pytest -m gpu ${KW_GPU_TESTS:-tests/test_gpu_check.py} -q -p no:cacheprovider -rs --durations=15 > "$OUT/gpu_tests.log" 2>&1
echo "gpu tests exit $?" >> "$OUT/gpu_tests.log"
# What the OS sandbox adds per check on the GPU (bubblewrap against KERNELWRIGHT_BWRAP=off, interleaved).
if [ "${KW_OVERHEAD_S:-0}" -gt 0 ]; then
  timeout ${KW_OVERHEAD_S} python3 -P benchmarks/sandbox_overhead.py --device cuda --rounds ${KW_OVERHEAD_ROUNDS:-2} \
    --json "$OUT/sandbox_overhead_gpu.json" > "$OUT/sandbox_overhead.log" 2>&1
  echo "overhead exit $?" >> "$OUT/sandbox_overhead.log"
fi
# KernelBench level-1 problems at full size (a checkout, or the few files copied to .kb/, carried).
if [ -d "${KW_KB:-.kb}" ] && [ "${KW_KB_S:-170}" -gt 0 ]; then
  timeout $(( ${KW_KB_S:-170} + 20 )) python3 -P benchmarks/kb_check_speed.py --kernelbench "${KW_KB:-.kb}" --problems "${KW_KB_PROBLEMS:-19,23,1,36}" \
    --device cuda --budget-s ${KW_KB_S:-170} --json "$OUT/kb_check_speed.json" > "$OUT/kb_check_speed.log" 2>&1
  echo "kb check speed exit $?" >> "$OUT/kb_check_speed.log"
fi
