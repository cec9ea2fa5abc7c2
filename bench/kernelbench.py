"""KernelBench's folder and file conventions, read and written as its own scripts expect.

- a checkout: `KernelBench/level{N}/{ID}_{Name}.py` (the problems, used unchanged);
- a run folder: `level_{L}_problem_{ID}_sample_{S}_kernel.py` (one `ModelNew` each) and
  `eval_results.json` ({"ID": [{"sample_id", "compiled", "correctness", "metadata", "runtime",
  "runtime_stats"}]}), which its scripts/benchmark_eval_analysis.py reads.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

from kernelwright.bench.records import BenchResult
from kernelwright.tools.problem import InputError

KERNEL_FILE = re.compile(r"^level_(\d+)_problem_(\d+)_sample_(\d+)_kernel\.py$")
PROBLEM_FILE = re.compile(r"^(\d+)_.+\.py$")


def level_folder(checkout: str | Path, level: int) -> Path:
    """The folder of level `level`'s problems, given a KernelBench checkout (or its KernelBench/ folder)."""
    root = Path(checkout).expanduser()
    if level < 1:
        raise InputError(f"--level {level}: KernelBench levels start at 1")
    for candidate in (root / "KernelBench" / f"level{level}", root / f"level{level}"):
        if candidate.is_dir():
            return candidate.resolve()
    raise InputError(f"--kernelbench {checkout}: no KernelBench/level{level} folder there "
                     "(give the root of a KernelBench checkout: git clone https://github.com/ScalingIntelligence/KernelBench)")


def problem_number(path: Path) -> int | None:
    match = PROBLEM_FILE.match(path.name)
    return int(match.group(1)) if match else None


def parse_ids(spec: str) -> list[int]:
    """'1-20,23' -> [1, ..., 20, 23]; bad input names the flag and the expected form."""
    ids: set[int] = set()
    for part in (p.strip() for p in spec.split(",")):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match or (match.group(2) and int(match.group(2)) < int(match.group(1))):
            raise InputError(f"--problems {spec}: expected problem numbers and ranges such as 1-20,23")
        first = int(match.group(1))
        ids.update(range(first, int(match.group(2) or first) + 1))
    return sorted(ids)


def filters_for(ids: list[int]) -> list[str]:
    """Name globs that select exactly these problem numbers (`19_*` does not match `119_...`)."""
    return [f"{i}_*" for i in ids]


def problem_file(folder: Path, number: int) -> Path | None:
    matches = sorted(folder.glob(f"{number}_*.py"))
    return matches[0] if matches else None


@dataclasses.dataclass(frozen=True)
class KernelFile:
    """One kernel of a KernelBench run folder, named by its level, problem and sample."""
    path: Path
    level: int
    problem: int
    sample: int


def kernel_files(run_folder: Path) -> list[KernelFile]:
    found = []
    for path in sorted(run_folder.glob("level_*_problem_*_sample_*_kernel.py")):
        match = KERNEL_FILE.match(path.name)
        if match:
            found.append(KernelFile(path, int(match.group(1)), int(match.group(2)), int(match.group(3))))
    return sorted(found, key=lambda k: (k.level, k.problem, k.sample))


@dataclasses.dataclass(frozen=True)
class Claim:
    """What an eval_results.json entry says of one kernel. Times as KernelBench records them."""
    compiled: bool | None = None
    correct: bool | None = None
    runtime: float | None = None
    ref_runtime: float | None = None

    @property
    def speedup(self) -> float | None:
        if self.runtime and self.ref_runtime and self.runtime > 0 and self.ref_runtime > 0:
            return self.ref_runtime / self.runtime
        return None


def read_claims(run_folder: Path) -> dict[tuple[int, int], Claim]:
    """(problem, sample) -> Claim from the folder's eval_results.json (empty when it has none)."""
    path = run_folder / "eval_results.json"
    if not path.is_file():
        return {}
    try:
        # Free-form JSON from another tool: read field by field, tolerating what is absent.
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not readable JSON ({exc}); fix or remove it") from None
    claims = {}
    for key, entries in (raw.items() if isinstance(raw, dict) else []):
        for entry in entries if isinstance(entries, list) else [entries]:
            if not isinstance(entry, dict) or not str(key).isdigit():
                continue
            claims[(int(key), int(entry.get("sample_id") or 0))] = Claim(
                compiled=entry.get("compiled"), correct=entry.get("correctness"),
                runtime=_positive(entry.get("runtime")), ref_runtime=_positive(entry.get("ref_runtime")))
    return claims


def _positive(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and value > 0 else None


def export_run(results: list[BenchResult], level: int, dest: Path) -> Path:
    """A KernelBench-style run folder from bench results: each problem's accepted (else last
    checked) kernel as level_L_problem_ID_sample_0_kernel.py, and eval_results.json."""
    dest.mkdir(parents=True, exist_ok=True)
    evals: dict[str, list[dict]] = {}
    for result in results:
        number = problem_number(Path(result.path or ""))
        if number is None:
            continue
        solution = Path(result.run_dir) / "solution.py" if result.run_dir else None
        if solution is not None and solution.is_file():
            (dest / f"level_{level}_problem_{number}_sample_0_kernel.py").write_text(solution.read_text())
        speedup = result.speedup or {}
        median = result.median_ms
        eager = speedup.get("eager")
        evals[str(number)] = [{
            "sample_id": 0,
            "compiled": result.verdict not in (None, "compile_error"),
            "correctness": result.accepted,
            "metadata": {"kernelwright_verdict": result.verdict, "device": result.device,
                         "speedup": speedup, "run_id": result.run_id},
            # KernelBench's runtime and ref_runtime share one unit; ours are milliseconds.
            "runtime": median if median is not None else -1.0,
            "runtime_stats": {"median": median} if median is not None else {},
            "ref_runtime": median * eager if median is not None and eager else -1.0,
        }]
    ordered = dict(sorted(evals.items(), key=lambda item: int(item[0])))
    (dest / "eval_results.json").write_text(json.dumps(ordered, indent=2))
    return dest
