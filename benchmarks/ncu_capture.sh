#!/usr/bin/env bash
# Capture Nsight Compute CSV of one Triton kernel and of the eager reference, for the profiling
# parsers' test data (issue: profiling). Usage: bash benchmarks/ncu_capture.sh OUTDIR
set -uo pipefail
OUT=${1:-/tmp}
cat > /tmp/kw_ncu_target.py <<'PY'
import sys, torch
sys.path.insert(0, "examples/problems"); sys.path.insert(0, "examples/solutions")
import importlib.util
def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m
prob = load("p", "examples/problems/softmax_rows.py"); sol = load("s", "examples/solutions/softmax_rows.py")
x = torch.randn(4096, 4096, device="cuda")
ref, new = prob.Model(*prob.get_init_inputs()).cuda(), sol.ModelNew(*prob.get_init_inputs()).cuda()
for _ in range(3):
    ref(x); new(x)
torch.cuda.synchronize()
PY
METRICS=gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,lts__t_sectors.avg.pct_of_peak_sustained_elapsed,l1tex__throughput.avg.pct_of_peak_sustained_active,sm__throughput.avg.pct_of_peak_sustained_elapsed,sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,sm__warps_active.avg.pct_of_peak_sustained_active,sm__maximum_warps_per_active_cycle_pct,launch__registers_per_thread,launch__shared_mem_per_block_static,launch__shared_mem_per_block_dynamic,smsp__inst_executed.sum,launch__occupancy_limit_registers,launch__occupancy_limit_shared_mem,launch__occupancy_limit_warps,launch__occupancy_limit_blocks
ncu --csv --metrics $METRICS --launch-count 6 python3 /tmp/kw_ncu_target.py > "$OUT/ncu_softmax_metrics.csv" 2> "$OUT/ncu_softmax_metrics.err"
echo "ncu metrics rc=$?"
ncu --csv --section WarpStateStats --section Occupancy --section SpeedOfLight --launch-count 2 -k regex:softmax python3 /tmp/kw_ncu_target.py > "$OUT/ncu_softmax_sections.csv" 2> "$OUT/ncu_softmax_sections.err"
echo "ncu sections rc=$?"
head -c 600 "$OUT/ncu_softmax_metrics.csv"
