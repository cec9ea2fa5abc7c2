#!/usr/bin/env bash
# Wall seconds of three CLI checks of an example problem with its shipped solution on the CPU, for
# before/after comparisons of the judge's cost: run it once per checkout, each with its own venv.
#   bash benchmarks/cpu_check_time.sh VENV CHECKOUT PROBLEM [ROUNDS]
set -euo pipefail
venv=$1 checkout=$2 problem=$3 rounds=${4:-3}
. "$venv/bin/activate"
cd "$checkout"
home=$(mktemp -d)
for _ in $(seq "$rounds"); do
  /usr/bin/time -f "%e" kernelwright check "examples/problems/$problem.py" "examples/solutions/$problem.py" \
    --device cpu --home "$home" --json 2>&1 >/dev/null | tail -1
done
rm -rf "$home"
