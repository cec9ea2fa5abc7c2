#!/usr/bin/env bash
# One device call: the OS sandbox on the GPU machine. What this machine's kernel lets bubblewrap do
# (doctor), the escape tests, the GPU check and profile tests inside the sandbox, and the sandbox's
# overhead on a timed check. Needs the wheels of benchmarks/gpu_wheels.sh in .whl (carried).
set -uo pipefail
OUT=${OUT:-/tmp/kw-out}
BUDGET_S=${KW_BUDGET_S:-560}
deadline=$(( $(date +%s) + BUDGET_S ))
left() { echo $(( deadline - $(date +%s) )); }
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH PYTHONUNBUFFERED=1
{ date -u; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; uname -r
  cat /proc/sys/user/max_user_namespaces; python3 -P -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)"; } | tee "$OUT/machine.txt"
timeout 120 python3 -P -m kernelwright doctor --json > "$OUT/doctor.json" 2> "$OUT/doctor.err"; echo "doctor exit $?" >> "$OUT/doctor.err"
timeout 240 python3 -P -m pytest tests/test_sandbox.py tests/test_sandbox_check.py tests/test_warm_worker.py -q -p no:cacheprovider -rs ${KW_SANDBOX_TESTS:-} > "$OUT/sandbox_tests.log" 2>&1
echo "sandbox tests exit $?" >> "$OUT/sandbox_tests.log"
timeout 220 python3 -P -m pytest -m gpu ${KW_GPU_TESTS:-tests/test_gpu_check.py tests/test_gpu_profile.py} -q -p no:cacheprovider -rs --durations=20 > "$OUT/gpu_tests.log" 2>&1
echo "gpu tests exit $?" >> "$OUT/gpu_tests.log"
timeout $(( $(left) - 10 )) python3 -P benchmarks/sandbox_overhead.py --device cuda --rounds ${KW_ROUNDS:-3} --json "$OUT/sandbox_overhead_gpu.json" > "$OUT/sandbox_overhead.log" 2>&1
echo "overhead exit $?" >> "$OUT/sandbox_overhead.log"
