"""Paths shared by the tests (tests/ is on sys.path under pytest's default import mode)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "examples" / "problems"
SOLUTIONS = ROOT / "examples" / "solutions"
CANDIDATES = ROOT / "tests" / "integrity" / "candidates"
TESTS = ROOT / "tests"
TEST_PROBLEMS = ROOT / "tests" / "data" / "problems"  # KernelBench-shaped problems of the tests' own
