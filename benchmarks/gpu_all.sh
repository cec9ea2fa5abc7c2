#!/usr/bin/env bash
# The GPU validation of a release in a few device calls on a 2-GPU machine (nvidia-h100-x2):
#
#   call 1:  KW_PART=1 bash benchmarks/gpu_all.sh   GPU 0: the flush benchmark, the profile
#            benchmark (ncu vs check), then GPU tests; GPU 1: the suite bench (expert policy) starts
#   call 2+: KW_PART=2 bash benchmarks/gpu_all.sh   the suite bench resumes on both GPUs
#   last:    KW_PART=3 bash benchmarks/gpu_all.sh   GPU 0: check wall-time benchmark; GPU 1: bench
#   tuning:  KW_PART=4 bash benchmarks/gpu_all.sh   GPU 0: GPU tests (KW_TESTS), then the matmul
#            tile sweep of KW_MM0; GPU 1: the tolerance floor of KW_FLOOR, the bench (KW_FILTER), the
#            tile sweep of KW_MM1
#
# Wheels in .whl (kernelwright built from HEAD, its dependencies for Python 3.12, pytest) are
# carried. The bench's home travels as $OUT/gpu-state.tgz: unpack it into .gpu-state (git-ignored)
# and carry that folder with the next call (a machine given back between calls keeps nothing).
# Everything else comes back in $OUT/results.tgz (logs, JSON, Markdown, the chart). Every part
# stops itself before the 10-minute call limit (KW_BUDGET_S). KW_TESTS overrides part 1's tests.
set -uo pipefail
OUT=${OUT:-/tmp/kw-out}
STATE=$PWD/.gpu-state
WORK=/tmp/kw-work
BUDGET_S=${KW_BUDGET_S:-540}
deadline=$(( $(date +%s) + BUDGET_S ))
left() { echo $(( deadline - $(date +%s) )); }
mkdir -p "$STATE" "$WORK"
[ -f "$STATE/gpu-state.tgz" ] && tar xzf "$STATE/gpu-state.tgz" -C "$STATE"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=index,name,driver_version --format=csv,noheader | tee "$WORK/gpus.txt"
python3 -P -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)" | tee -a "$WORK/gpus.txt"

bench() {  # the suite bench on the GPUs in CUDA_VISIBLE_DEVICES, stopping before the deadline
  KW_BENCH_BUDGET_S=$(( $(left) - 25 )) OUT="$STATE/bench" bash benchmarks/bench_gpu.sh > "$WORK/bench_part.log" 2>&1
}

case "${KW_PART:-1}" in
1)
  (
    export CUDA_VISIBLE_DEVICES=0
    timeout 120 python3 -P benchmarks/flush_effect.py > "$WORK/flush_effect.log" 2>&1
    mkdir -p "$WORK/profile"
    timeout $(( $(left) - 240 )) python3 benchmarks/profile_gpu.py --out "$WORK/profile" --home "$WORK/profile-home" \
      --only gelu_scale softmax_rows --check-args '--baselines eager' > "$WORK/profile.log" 2>&1
    echo "profile benchmark exit $?" >> "$WORK/profile.log"
    # shellcheck disable=SC2086
    timeout $(( $(left) - 15 )) python3 -P -m pytest -m gpu ${KW_TESTS:-tests/test_expert_gpu_space.py tests/test_gpu_profile.py} \
      -q -s -rP -p no:cacheprovider --durations=20 > "$WORK/gpu_tests.log" 2>&1
    echo "gpu tests exit $?" >> "$WORK/gpu_tests.log"
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
    mkdir -p "$WORK/check"
    timeout $(( $(left) - 10 )) python3 benchmarks/check_gpu.py --out "$WORK/check" --sizes small > "$WORK/check.log" 2>&1
  ) &
  CUDA_VISIBLE_DEVICES=1 bench &
  wait
  ;;
4)
  (
    export CUDA_VISIBLE_DEVICES=0
    # shellcheck disable=SC2086
    timeout $(( $(left) - 200 )) python3 -P -m pytest -m gpu ${KW_TESTS:-tests/test_expert_gpu_space.py} \
      -q -s -rP -p no:cacheprovider --durations=20 > "$WORK/gpu_tests.log" 2>&1
    echo "gpu tests exit $?" >> "$WORK/gpu_tests.log"
    # shellcheck disable=SC2086
    timeout $(( $(left) - 15 )) python3 -P benchmarks/matmul_space.py ${KW_MM0:-linear_sigmoid_bf16} --out "$WORK/mm0" > "$WORK/matmul_space0.log" 2>&1
  ) &
  (
    export CUDA_VISIBLE_DEVICES=1
    for p in ${KW_FLOOR:-}; do
      timeout 120 python3 -P benchmarks/tolerance_floor.py "examples/problems/$p.py" >> "$WORK/tolerance_floor.log" 2>&1
    done
    [ -n "${KW_FILTER:-}" ] && KW_BENCH_BUDGET_S=$(( $(left) - 260 )) OUT="$STATE/bench" bash benchmarks/bench_gpu.sh > "$WORK/bench_part.log" 2>&1
    # shellcheck disable=SC2086
    timeout $(( $(left) - 15 )) python3 -P benchmarks/matmul_space.py ${KW_MM1:-bmm_gelu_bf16} --out "$WORK/mm1" > "$WORK/matmul_space1.log" 2>&1
  ) &
  wait
  ;;
esac
tail -n 30 "$WORK/bench_part.log"
cp -a "$STATE/bench/results."* "$STATE/bench/speedups.png" "$STATE/bench/bench.log" "$WORK/" 2>/dev/null
tar czf "$OUT/gpu-state.tgz" -C "$STATE" bench
tar czf "$OUT/results.tgz" -C "$WORK" --exclude profile-home .
for f in flush_effect.log profile.log tolerance_floor.log matmul_space0.log matmul_space1.log; do [ -f "$WORK/$f" ] && tail -n 25 "$WORK/$f"; done
[ -f "$WORK/gpu_tests.log" ] && tail -n 40 "$WORK/gpu_tests.log"
ls -la "$OUT"
exit 0
