#!/usr/bin/env bash
# The GPU validation of a release in a few device calls on a 2-GPU machine (nvidia-h100-x2):
#
#   call 1:  KW_PART=1 bash benchmarks/gpu_all.sh   GPU 0: GPU tests (check, profile), then the
#            profile benchmark (ncu vs check); GPU 1: the suite bench (expert policy) starts
#   call 2+: KW_PART=2 bash benchmarks/gpu_all.sh   the suite bench resumes on both GPUs
#   last:    KW_PART=3 bash benchmarks/gpu_all.sh   GPU 0: check wall-time benchmark; GPU 1: bench
#
# Wheels in .whl (kernelwright built from HEAD, its dependencies for Python 3.12, pytest) are
# carried. The bench's home lives in .gpu-state (git-ignored), which stays on the machine while
# it is warm; if the machine was given back, carry the previous call's $OUT/gpu-state back as
# .gpu-state. Every part stops itself before the 10-minute call limit (KW_BUDGET_S).
set -uo pipefail
OUT=${OUT:-/tmp/kw-out}
STATE=$PWD/.gpu-state
BUDGET_S=${KW_BUDGET_S:-540}
deadline=$(( $(date +%s) + BUDGET_S ))
left() { echo $(( deadline - $(date +%s) )); }
mkdir -p "$STATE"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=index,name,driver_version --format=csv,noheader | tee "$OUT/gpus.txt"

bench() {  # the suite bench on the GPUs in CUDA_VISIBLE_DEVICES, stopping before the deadline
  KW_BENCH_BUDGET_S=$(( $(left) - 20 )) OUT="$STATE/bench" bash benchmarks/bench_gpu.sh > "$OUT/bench_part.log" 2>&1
}

case "${KW_PART:-1}" in
1)
  (
    export CUDA_VISIBLE_DEVICES=0
    timeout $(( $(left) - 200 )) python3 -P -m pytest -m gpu tests/test_gpu_check.py tests/test_gpu_profile.py \
      -q -rP -p no:cacheprovider --durations=20 > "$OUT/gpu_tests.log" 2>&1
    echo "gpu tests exit $?" >> "$OUT/gpu_tests.log"
    mkdir -p "$OUT/profile"
    timeout $(( $(left) - 10 )) python3 benchmarks/profile_gpu.py --out "$OUT/profile" --home "$STATE/profile-home" \
      --only gelu_scale softmax_rows --check-args '--baselines eager' > "$OUT/profile.log" 2>&1
    echo "profile benchmark exit $?" >> "$OUT/profile.log"
  ) &
  CUDA_VISIBLE_DEVICES=1 bench &
  wait
  ;;
2)
  bench
  ;;
3)
  (
    export CUDA_VISIBLE_DEVICES=0
    mkdir -p "$OUT/check"
    timeout $(( $(left) - 10 )) python3 benchmarks/check_gpu.py --out "$OUT/check" --sizes small > "$OUT/check.log" 2>&1
  ) &
  CUDA_VISIBLE_DEVICES=1 bench &
  wait
  ;;
esac
tail -n 30 "$OUT/bench_part.log"
mkdir -p "$OUT/gpu-state"
cp -a "$STATE/bench" "$OUT/gpu-state/" 2>/dev/null
[ -f "$OUT/gpu_tests.log" ] && tail -n 40 "$OUT/gpu_tests.log"
[ -f "$OUT/profile.log" ] && tail -n 25 "$OUT/profile.log"
exit 0
