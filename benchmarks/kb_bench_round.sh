#!/usr/bin/env bash
# One device call of a KernelBench bench at full size (the expert policy, one round), resumable
# across calls: the bench's home is written under $OUT/home and comes back; carry it as
# .device/kb-home on the next call and the same bench id continues with the unfinished problems.
#   KW_LEVEL=1 KW_PROBLEMS=1-20 KW_BENCH_S=500 OUT=$OUT bash benchmarks/kb_bench_round.sh
# KW_CONFIG (default benchmarks/kb_bench.yaml) is the bench's config; KW_ID names the bench
# (default kb-lLEVEL); KW_HOME_BACK=0 leaves the home (and so --resume) on the device machine.
# Needs the wheels of benchmarks/gpu_wheels.sh in .whl and a KernelBench copy in .kb (both carried).
set -uo pipefail
OUT=${OUT:-/tmp/kw-out}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH PYTHONUNBUFFERED=1
{ date -u; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -P -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)"; git log --oneline -1; } | tee "$OUT/machine.txt"
home="$OUT/home"; id="${KW_ID:-kb-l${KW_LEVEL:-1}}"
[ "${KW_HOME_BACK:-1}" = 0 ] && home=/tmp/kw-home
if [ -d .device/kb-home ]; then cp -r .device/kb-home "$home"; else mkdir -p "$home"; fi
if [ -d "$home/bench/$id" ]; then
  args=(--resume "$id")
else
  args=("--kernelbench" "${KW_KB:-.kb}" --level "${KW_LEVEL:-1}" --problems "${KW_PROBLEMS:-1-100}" --id "$id")
fi
# SIGINT: the bench stops cleanly and keeps every finished problem (exit 130).
timeout -s INT "${KW_BENCH_S:-500}" python3 -P -m kernelwright bench "${args[@]}" --policy expert --max-iters 1 --config "${KW_CONFIG:-benchmarks/kb_bench.yaml}" \
  --device cuda --home "$home" --out "$OUT/report" --json > "$OUT/bench.json" 2> "$OUT/bench.log"
echo "bench exit $?" >> "$OUT/bench.log"
