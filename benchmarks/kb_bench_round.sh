#!/usr/bin/env bash
# One device call of a KernelBench bench at full size (the expert policy, one round), resumable
# across calls, then KernelBench's own harness on the kernels it accepted (benchmarks/kb_agreement.py):
#   KW_LEVEL=1 KW_PROBLEMS=1-20 KW_BENCH_S=400 KW_AGREE_S=120 OUT=$OUT bash benchmarks/kb_bench_round.sh
# KW_SPEED_PROBLEMS (e.g. 19) first times single checks (benchmarks/kb_check_speed.py, KW_SPEED_S).
# A call may return 8 files: the bench's home and reports come back packed in $OUT/kb-state.tgz;
# unpack it here into .device/ (`tar xzf kb-state.tgz -C .device`) and carry .device/kb-home on the
# next call: the same bench id (KW_ID, default kb-lLEVEL) then continues with the unfinished problems.
# KW_CONFIG (default benchmarks/kb_bench.yaml) is the bench's config.
# Needs the wheels of benchmarks/gpu_wheels.sh in .whl and a KernelBench copy in .kb (both carried).
set -uo pipefail
OUT=${OUT:-/tmp/kw-out}
if [ "${KW_INSTALL:-1}" = 1 ]; then  # KW_INSTALL=0 KW_DEVICE=cpu: a dry run of this script where kernelwright is installed
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH
fi
export PYTHONUNBUFFERED=1
{ date -u; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -P -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)"; git log --oneline -1; } | tee "$OUT/machine.txt"
work=/tmp/kw-round; mkdir -p "$work"
if [ -n "${KW_SPEED_PROBLEMS:-}" ]; then
  timeout "$(( ${KW_SPEED_S:-150} + 15 ))" python3 -P benchmarks/kb_check_speed.py --kernelbench "${KW_KB:-.kb}" --level "${KW_LEVEL:-1}" \
    --problems "$KW_SPEED_PROBLEMS" --device "${KW_DEVICE:-cuda}" --budget-s "${KW_SPEED_S:-150}" --json "$OUT/kb_check_speed.json" > "$work/kb_check_speed.log" 2>&1
  echo "kb check speed exit $?" >> "$work/kb_check_speed.log"
fi
home="$work/kb-home"; id="${KW_ID:-kb-l${KW_LEVEL:-1}}"
if [ -d .device/kb-home ]; then cp -r .device/kb-home "$home"; else mkdir -p "$home"; fi
if [ -d "$home/bench/$id" ]; then
  args=(--resume "$id")
else
  args=("--kernelbench" "${KW_KB:-.kb}" --level "${KW_LEVEL:-1}" --problems "${KW_PROBLEMS:-1-100}" --id "$id")
fi
# SIGINT: the bench stops cleanly and keeps every finished problem (exit 130). KW_BENCH_S=0: no bench.
[ "${KW_BENCH_S:-400}" -gt 0 ] && timeout -s INT -k 30 "${KW_BENCH_S:-400}" python3 -P -m kernelwright bench "${args[@]}" --policy expert --max-iters 1 --config "${KW_CONFIG:-benchmarks/kb_bench.yaml}" \
  --device "${KW_DEVICE:-cuda}" --home "$home" --out "$work/report" --json > "$OUT/bench.json" 2> "$work/bench.log"
echo "bench exit $?" >> "$work/bench.log"
if [ "${KW_AGREE_S:-0}" -gt 0 ] && [ -d "$home/bench/$id/kernelbench" ]; then
  # Only the kernels this bench accepted (KernelBench's harness on our rejections says little).
  accepted=$(python3 -P -c "import json,sys; d=json.load(open(sys.argv[1])); print(','.join(k for k,v in d.items() if v and v[0].get('correctness')))" \
    "$home/bench/$id/kernelbench/eval_results.json")
  if [ -n "$accepted" ]; then
    PYTHONPATH="${PYTHONPATH:-}:$PWD/${KW_KB:-.kb}/src" timeout "$(( KW_AGREE_S + 15 ))" python3 -P benchmarks/kb_agreement.py --kernelbench "${KW_KB:-.kb}" \
      --run "$home/bench/$id/kernelbench" --problems "$accepted" --budget-s "$KW_AGREE_S" --json "$OUT/kb_agreement.json" > "$work/kb_agreement.log" 2>&1
    echo "agreement exit $?" >> "$work/kb_agreement.log"
  fi
fi
# Compiler caches stay behind (a fresh machine rebuilds them); a file comes back only under 16 MiB.
logs=$(cd "$work" && ls ./*.log)
tar czf "$OUT/kb-state.tgz" -C "$work" --exclude=cache --exclude=work kb-home report $logs
if [ "$(stat -c %s "$OUT/kb-state.tgz")" -gt 15000000 ]; then
  tar czf "$OUT/kb-state.tgz" -C "$work" --exclude=cache --exclude=work --exclude=traces.db --exclude=checkpoints.db kb-home report $logs
fi
ls -la "$OUT"
