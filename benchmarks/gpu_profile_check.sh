#!/usr/bin/env bash
# One device call: where a GPU check spends its time, and whether the GPU tests pass.
#  1. py-spy profiles of the whole process tree (CLI, sandbox, workers) of a cold check (empty
#     home) and a warm one (the home's baselines) of gelu_scale at 64 x 1000 with its solution;
#  2. `pytest -m gpu`, six at a time (each test is one or a few checks of its own);
#  3. a py-spy profile of one KernelBench level-1 check at full size (benchmarks/kb_check_speed.py).
# Each step is time-boxed; everything lands in $OUT/profile.tar.gz (summaries by
# benchmarks/spy_summary.py beside the raw profiles) and the test log in $OUT/gpu_tests.log.
# Needs the wheels of benchmarks/gpu_wheels.sh plus py-spy in .whl, and a KernelBench copy in .kb.
set -uo pipefail
OUT=${OUT:-/tmp/kw-out}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH PYTHONUNBUFFERED=1
work=/tmp/kw-profile; mkdir -p "$work/tiny" && cd "$(dirname "$0")/.." || exit 1
{ date -u; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -P -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)"; git log --oneline -1 2>/dev/null; } | tee "$work/machine.txt"
sed -e 's/^batch_size = [0-9]*/batch_size = 64/' -e 's/^dim = [0-9]*/dim = 1000/' examples/problems/gelu_scale.py > "$work/tiny/gelu_scale.py"
spy() { name=$1; limit=$2; shift 2
  timeout "$limit" py-spy record --subprocesses --nonblocking --format raw -r 50 -o "$work/spy-$name.txt" -- "$@" > "$work/$name.out" 2> "$work/$name.err"
  echo "$name exit $?" >> "$work/$name.err"
  python3 benchmarks/spy_summary.py "$work/spy-$name.txt" --rate 50 > "$work/summary-$name.txt" 2>&1; }
for run in cold warm; do
  spy "gelu-$run" 150 python3 -P -m kernelwright check "$work/tiny/gelu_scale.py" examples/solutions/gelu_scale.py --device cuda --json --home "$work/home"
done
timeout "${KW_GPU_S:-270}" python3 -P -m pytest -m gpu -n "${KW_GPU_N:-6}" --dist loadfile -v -rfEs --tb=short -p no:cacheprovider --durations=40 ${KW_GPU_TESTS:-tests} > "$OUT/gpu_tests.log" 2>&1
echo "gpu tests exit $?" >> "$OUT/gpu_tests.log"
if [ -d .kb ] && [ "${KW_KB_S:-140}" -gt 0 ]; then
  spy kb "$(( ${KW_KB_S:-140} + 15 ))" python3 -P benchmarks/kb_check_speed.py --kernelbench .kb --problems "${KW_KB_PROBLEMS:-19}" --device cuda --budget-s "${KW_KB_S:-140}" --json "$work/kb_check_speed.json"
fi
tar -czf "$OUT/profile.tar.gz" -C "$work" --exclude home --exclude tiny .
