"""Loading KernelBench-format problem and solution files, without running them.

The parent process only parses; everything that executes user or candidate code happens in a
sandboxed child (see `kernelwright.tools.sandbox.child`). Errors here are the user's to fix, so they
are `InputError`s with a one-line message naming the file and the fix (exit code 2).
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
from pathlib import Path

from kernelwright.tools import pyast, sizes


class InputError(Exception):
    """Bad input from the user: a missing or malformed file, a bad flag. CLI exit code 2."""


class CheckerFailure(RuntimeError):
    """The checker's own machinery failed (disk full, I/O, out of memory in the checker): neither
    bad input nor a verdict on the candidate. CLI exit code 1, with the cause."""


@dataclasses.dataclass(frozen=True)
class SourceFile:
    path: Path
    source: str
    tree: ast.Module

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Problem:
    """A reference program: `Model`, `get_inputs()`, `get_init_inputs()` and its size constants."""

    file: SourceFile
    # Module-level integer constants (`batch_size = 16`, chained and tuple assignments included).
    constants: dict[str, int]
    # The knobs (`kernelwright.tools.sizes`) that `sized_for_device` replaced; {} at shipped sizes.
    resized: dict[str, int] = dataclasses.field(default_factory=dict)
    # Where `resized` came from: "CPU_SIZES" (the file's own), "automatic" (the size model) or "".
    resized_by: str = ""

    @property
    def path(self) -> Path:
        return self.file.path

    @property
    def name(self) -> str:
        return self.file.path.stem


def read_python(path: str | Path, what: str) -> SourceFile:
    """Read and parse a Python file, or raise InputError saying what is wrong with it."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{what} file not found: {p} (give the path to a .py file)")
    try:
        source = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} file {p} cannot be read: {exc}") from exc
    try:
        tree = pyast.parse(source, filename=str(p))
    except SyntaxError as exc:
        raise InputError(f"{what} file {p} does not parse: line {exc.lineno}: {exc.msg}") from exc
    return SourceFile(path=p.resolve(), source=source, tree=tree)


def top_level_names(tree: ast.Module) -> dict[str, str]:
    """Names bound at module level, mapped to 'class', 'def' or 'value'."""
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names[node.name] = "class"
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names[node.name] = "def"
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    names[t.id] = "value"
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names[(alias.asname or alias.name).split(".")[0]] = "import"
    return names


def _simple_assignments(tree: ast.Module):
    """(target, value) of each module-level `NAME = value` / `NAME: T = value`."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            yield node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            yield node.target, node.value


def int_constants(tree: ast.Module) -> dict[str, int]:
    """Module-level integer constants: `NAME = 16`, `N = 2048 * 2`, chained `h = w = 128` and
    tuple assignments `D, H, W = 16, 32, 32` (bools excluded), name -> value."""
    out: dict[str, int] = {}
    for knob in sizes.read_knobs(ast.unparse(tree)).knobs:
        if knob.is_int:
            for name in knob.binds:
                if not knob.name.startswith(f"{name}["):
                    out[name] = knob.value
    return out


def load_problem(path: str | Path) -> Problem:
    f = read_python(path, "problem")
    names = top_level_names(f.tree)
    missing = [
        n
        for n, kind in (("Model", "class"), ("get_inputs", "def"), ("get_init_inputs", "def"))
        if names.get(n) != kind
    ]
    if missing:
        raise InputError(
            f"problem file {f.path} lacks {', '.join(missing)}: a KernelBench problem defines "
            "class Model(nn.Module), get_inputs() and get_init_inputs()"
        )
    constants = int_constants(f.tree)
    cpu_sizes(f.tree, f.path, constants)  # a malformed CPU_SIZES is the user's to fix, now
    return Problem(file=f, constants=constants)


def load_solution(path: str | Path) -> SourceFile:
    f = read_python(path, "solution")
    if top_level_names(f.tree).get("ModelNew") != "class":
        raise InputError(
            f"solution file {f.path} lacks class ModelNew: a solution defines "
            "class ModelNew(nn.Module) with the same constructor as the problem's Model"
        )
    return f


def variant_sizes(constants: dict[str, int]) -> dict[str, int]:
    """New values for the size constants of a shape variant, or {} if none can be varied.

    Sizes below 8 are left alone: they are usually axes, kernel sizes or layer counts whose
    change would alter the function rather than its size. The new value is smaller and odd,
    so it is neither a multiple of the shipped size nor a power of two.
    """
    changed: dict[str, int] = {}
    for name, value in constants.items():
        if value < 8:
            continue
        new = max(3, (value * 5) // 8)
        if new % 2 == 0:
            new -= 1
        changed[name] = new
    return changed


def with_constants(source: str, overrides: dict[str, int]) -> str:
    """The problem source with module-level integer constants replaced (line-preserving)."""
    if not overrides:
        return source
    lines = source.splitlines(keepends=True)
    for target, value in _simple_assignments(pyast.parse(source)):
        if isinstance(target, ast.Name) and target.id in overrides and isinstance(value, ast.Constant):
            row = value.lineno - 1
            line = lines[row]
            lines[row] = line[: value.col_offset] + str(overrides[target.id]) + line[value.end_col_offset :]
    return "".join(lines)


CPU_SIZES_NAME = "CPU_SIZES"


def cpu_sizes(tree: ast.Module, path: Path, constants: dict[str, int]) -> dict[str, int]:
    """The problem's `CPU_SIZES = {"batch_size": 16, ...}`: smaller values of its size constants
    for the CPU (Triton's interpreter), read from the literal without running the file; {} if absent."""
    node = next((v for t, v in _simple_assignments(tree) if isinstance(t, ast.Name) and t.id == CPU_SIZES_NAME), None)
    if node is None:
        return {}
    fix = f'write it as a literal dict of size-constant names to positive ints, e.g. {CPU_SIZES_NAME} = {{"batch_size": 16}}'
    try:
        sizes = ast.literal_eval(node)
    except ValueError:
        raise InputError(f"problem file {path}: {CPU_SIZES_NAME} is not a literal: {fix}") from None
    if not isinstance(sizes, dict) or not all(isinstance(k, str) and type(v) is int and v > 0 for k, v in sizes.items()):
        raise InputError(f"problem file {path}: {CPU_SIZES_NAME} must map names to positive ints: {fix}")
    unknown = sorted(set(sizes) - set(constants))
    if unknown:
        raise InputError(
            f"problem file {path}: {CPU_SIZES_NAME} names {', '.join(unknown)}, which are not module-level int "
            f"constants of the file; {fix}"
        )
    return sizes


def cpu_size_alternatives(problem: Problem) -> tuple[list[dict[str, int]], str]:
    """The knob values to run the problem at on the CPU, in the order to try them, and where they
    come from: the file's CPU_SIZES, else the size model's automatic reduction (and milder ones,
    should the reference fail at it), else [] (small enough as written)."""
    declared = cpu_sizes(problem.file.tree, problem.path, problem.constants)
    if declared:
        knobs = sizes.read_knobs(problem.file.source)
        by_binding = {name: k.name for k in knobs.knobs for name in k.binds}
        return [{by_binding[name]: value for name, value in declared.items()}], CPU_SIZES_NAME
    reductions = sizes.cpu_reductions(sizes.read_knobs(problem.file.source))
    return reductions, ("automatic" if reductions else "")


def sized_for_device(problem: Problem, device: str, full: bool = False) -> Problem:
    """The problem at the sizes a check runs it at on `device`: on the CPU its CPU_SIZES if it
    declares them, else the size model's automatic reduction (`kernelwright.tools.sizes`); on a
    GPU, or with `full`, unchanged. Shape variants derive from the result."""
    if device != "cpu" or full:
        return problem
    alternatives, source_of = cpu_size_alternatives(problem)
    if not alternatives:
        return problem
    return resized(problem, alternatives[0], source_of)


def resized(problem: Problem, values: dict[str, int], resized_by: str) -> Problem:
    """The problem with knobs (`kernelwright.tools.sizes`) set to `values`."""
    source = sizes.apply(sizes.read_knobs(problem.file.source), values)
    tree = pyast.parse(source, filename=str(problem.path))
    return Problem(file=SourceFile(path=problem.path, source=source, tree=tree), constants=int_constants(tree), resized=values,
                   resized_by=resized_by)
