#!/usr/bin/env bash
# `kernelwright bench` of the whole suite (examples/problems) with the expert policy on the GPU
# machine, in one device call or several: the bench stops itself before the call's limit, and the
# next call resumes it from the home directory that the previous call left in $OUT.
#
#   call 1:  bash benchmarks/bench_gpu.sh
#   call 2+: copy the previous call's $OUT/home to .device/bench-home (carry it), then
#            KW_BENCH_STATE=.device/bench-home bash benchmarks/bench_gpu.sh
#
# Read: $OUT/results.md (table + fast_p), $OUT/results.json, $OUT/speedups.png, $OUT/bench.log.
# Knobs: KW_BENCH_BUDGET_S (seconds before the bench stops itself, default 510), KW_MAX_ITERS
# (rounds per problem, default 1), KW_FILTER (comma-separated name globs, for a subset),
# KW_BENCH_ID (default suite-gpu), KW_DEVICE (default cuda: every visible GPU, one run per GPU).
set -uo pipefail
OUT=${OUT:-/tmp/kw-out}
BENCH_ID=${KW_BENCH_ID:-suite-gpu}
BUDGET_S=${KW_BENCH_BUDGET_S:-510}
HOME_DIR="$OUT/home"
mkdir -p "$OUT"
started=$(date +%s)

python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=index,name,driver_version --format=csv,noheader | tee "$OUT/gpus.txt"
python3 -P -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)" | tee -a "$OUT/gpus.txt"

# The run's profile node would spend 20 s (timeline) to 4 minutes (ncu) on each accepted problem,
# and a one-round run has no later round to read it: the bench's figures come from the check.
# KW_BENCH_NCU=1 lets it use ncu.
profile_config="profile: {tier: off}"
[ "${KW_BENCH_NCU:-0}" = 1 ] && profile_config=""

mkdir -p "$HOME_DIR"
if [ -n "${KW_BENCH_STATE:-}" ]; then
  [ -d "$KW_BENCH_STATE" ] || { echo "KW_BENCH_STATE=$KW_BENCH_STATE is not a folder" >&2; exit 2; }
  cp -a "$KW_BENCH_STATE/." "$HOME_DIR/"
fi

# Time eager and torch.compile (default) only: max-autotune costs minutes of compiling per problem
# (ignored by a build whose check has no compile_baselines option).
cat > "$OUT/bench-config.yaml" <<EOF
check:
  compile_baselines: [compile]
$profile_config
EOF

if [ -f "$HOME_DIR/bench/$BENCH_ID/bench.json" ]; then
  args=(examples/problems --resume "$BENCH_ID")
else
  args=(examples/problems --id "$BENCH_ID" --policy expert --max-iters "${KW_MAX_ITERS:-1}" --config "$OUT/bench-config.yaml")
  [ -n "${KW_FILTER:-}" ] && args+=(--filter "$KW_FILTER")
fi
left=$(( BUDGET_S - ($(date +%s) - started) ))
[ "$left" -lt 60 ] && left=60
# -P: the repository root (this folder) holds a kernelwright/ that would shadow the installed one.
# On timeout the bench gets SIGTERM, stops its runs and writes the reports of what finished.
timeout -s TERM "$left" python3 -P -m kernelwright bench "${args[@]}" --device "${KW_DEVICE:-cuda}" --home "$HOME_DIR" \
  --out "$OUT" --json > "$OUT/bench.json" 2> "$OUT/bench.log"
rc=$?
grep -v '^bench \[' "$OUT/bench.log" | tail -n 80
echo "bench exit $rc (0: done, some accepted; 1: done, none accepted; 124/130: stopped at the budget, resume with the next call)"
done_count=$(ls "$HOME_DIR/bench/$BENCH_ID/problems"/*/result.json 2>/dev/null | wc -l)
echo "finished problems: $done_count; home size: $(du -sh "$HOME_DIR" | cut -f1)"
[ -f "$OUT/results.md" ] && sed -n '/^## Summary/,$p' "$OUT/results.md"
exit 0
